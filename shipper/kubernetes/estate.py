"""What the preflight lessons read from Kubernetes: each workload's replicas, surge,
autoscaler, and per container its resources and the NAMES of its environment.

Read-only, and two round trips whatever the number of workloads: one namespace-wide list
per kind (the workloads' kinds and the autoscalers) and one access review for Secrets,
sent together, instead of a GET per workload; then the ConfigMaps and Secrets `envFrom`
names, together. Names come from `env` and `envFrom` (a ConfigMap's keys; a Secret's keys
only when ship may read Secrets, else the finding says it could not: a refused read of a
Secret is what an audit alerts on, so it is never tried). Secret values are
dropped as soon as the keys are taken; env values are read only for the counts the
pipeline names (`RAILS_MAX_THREADS`), and only as numbers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shipper.core.estate import Container, Workload
from shipper.errors import PlatformNotFound, PlatformRejected
from shipper.kubernetes.access import Access
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.workloads import Workload as Ref

READ_SECRETS = Access("get", "", "secrets", why="read Secret key names for env parity")


class EstateReader:
    """Reads the pipeline's workloads for the preflight lessons."""

    def __init__(self, api: KubeApi, refs: Sequence[Ref]) -> None:
        self.api = api
        self.refs = list(refs)
        self._configmaps: dict[str, frozenset[str] | None] = {}
        self._secrets: dict[str, frozenset[str] | None] = {}
        self._may_read_secrets: bool | None = None

    def read(self, numbers: Collection[str] = ()) -> list[Workload]:
        """Every pipeline workload, in pipeline order; PlatformNotFound for one the
        namespace doesn't have.

        Two round trips whatever the workloads refer to: the lists, the autoscalers and
        the access review for Secrets together; then every ConfigMap and Secret the
        templates' `envFrom` name, together. Read one after another, a namespace with a
        ConfigMap and a Secret kept the release waiting three more round trips."""
        kinds = list(dict.fromkeys(ref.kind for ref in self.refs))
        with ThreadPoolExecutor(max_workers=2 + len(kinds), thread_name_prefix="estate") as pool:
            hpas = pool.submit(self._hpas)
            secrets = pool.submit(self._secrets_readable)
            lists = list(pool.map(lambda kind: self.api.list(kind)[0], kinds))
            listed = {
                (kind, str((o.get("metadata") or {}).get("name") or "")): o
                for kind, items in zip(kinds, lists, strict=True)
                for o in items
            }
            sources = self._env_sources(listed)
            if any(kind == "secret" for kind, _ in sources):
                secrets.result()
            list(pool.map(lambda source: self._keys(*source), sources))
        return [self._workload(ref, listed, hpas.result(), numbers) for ref in self.refs]

    def _env_sources(self, listed: Mapping[tuple[str, str], Obj]) -> list[tuple[str, str]]:
        """Every (kind, name) of a ConfigMap or Secret the workloads' containers take
        their environment from, once each."""
        out: dict[tuple[str, str], None] = {}
        for ref in self.refs:
            obj = listed.get((ref.kind, ref.name))
            pod = (ref.template(obj).get("spec") or {}) if obj is not None else {}
            for c in (pod.get("containers") or []) + (pod.get("initContainers") or []):
                for source in c.get("envFrom") or []:
                    named = _env_source(source)
                    if named is not None:
                        out[named] = None
        return list(out)

    def _hpas(self) -> dict[str, tuple[int | None, int | None]]:
        try:
            items, _ = self.api.list("horizontalpodautoscaler")
        except (PlatformNotFound, PlatformRejected):
            return {}  # no autoscaling API, or no right to list it: counted at replicas
        out = {}
        for hpa in items:
            spec = hpa.get("spec") or {}
            target = spec.get("scaleTargetRef") or {}
            key = f"{str(target.get('kind', '')).lower()}/{target.get('name', '')}"
            out[key] = (spec.get("minReplicas"), spec.get("maxReplicas"))
        return out

    def _workload(
        self,
        ref: Ref,
        listed: Mapping[tuple[str, str], Obj],
        hpas: Mapping[str, tuple[int | None, int | None]],
        numbers: Collection[str],
    ) -> Workload:
        obj = listed.get((ref.kind, ref.name))
        if obj is None:
            where = self.api.where
            raise PlatformNotFound(
                f"{ref.ref} not found in namespace {where.namespace} (context {where.context}); "
                "check kubernetes.workloads and kubernetes.namespace in the pipeline"
            )
        spec = obj.get("spec") or {}
        strategy, surge = "RollingUpdate", None
        if ref.kind == "deployment":
            strategy = str((spec.get("strategy") or {}).get("type") or "RollingUpdate")
            surge = ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge")
        elif ref.kind == "statefulset":
            strategy = str((spec.get("updateStrategy") or {}).get("type") or "RollingUpdate")
        chosen, _ = ref.selected(obj)
        pod = ref.template(obj).get("spec") or {}
        containers = [
            self._container(c, init=True, ships=c.get("name") in chosen, numbers=numbers)
            for c in pod.get("initContainers") or []
            if c.get("restartPolicy") != "Always"
        ]
        containers += [
            self._container(c, init=False, ships=c.get("name") in chosen, numbers=numbers)
            for c in (pod.get("containers") or [])
            + [c for c in pod.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
        ]
        hpa_min, hpa_max = hpas.get(f"{ref.kind}/{ref.name}", (None, None))
        replicas = int(spec.get("replicas", 1) or 0) if ref.kind != "cronjob" else 1
        return Workload(
            f"{ref.kind}/{ref.name}",
            replicas,
            strategy,
            surge,
            hpa_min,
            hpa_max,
            tuple(containers),
        )

    def _container(
        self, c: Mapping[str, Any], *, init: bool, ships: bool, numbers: Collection[str]
    ) -> Container:
        resources = c.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        names: set[str] = set()
        counts: dict[str, int] = {}
        for e in c.get("env") or []:
            name = str(e.get("name"))
            names.add(name)
            value = e.get("value")
            if name in numbers and isinstance(value, str) and value.strip().isdigit():
                counts[name] = int(value.strip())
        unread: list[str] = []
        for source in c.get("envFrom") or []:
            named = _env_source(source)
            if named is None:
                continue
            keys = self._keys(*named)
            if keys is None:
                unread.append(f"{named[0]} {named[1]} (no right to read it, or it does not exist)")
            else:
                names |= {str(source.get("prefix") or "") + k for k in keys}
        return Container(
            str(c.get("name")),
            init=init,
            ships=ships,
            cpu_request=_quantity(requests.get("cpu")),
            memory_request=_quantity(requests.get("memory")),
            cpu_limit=_quantity(limits.get("cpu")),
            memory_limit=_quantity(limits.get("memory")),
            env_names=frozenset(names),
            numbers=counts,
            unread=tuple(unread),
        )

    def _keys(self, kind: str, name: str) -> frozenset[str] | None:
        """The keys of a ConfigMap or Secret, or None when they can't be read."""
        cache = self._configmaps if kind == "configmap" else self._secrets
        if name in cache:
            return cache[name]
        keys: frozenset[str] | None = None
        if kind == "secret" and not self._secrets_readable():
            cache[name] = None
            return None
        try:
            obj = self.api.find(kind, name)
            if obj is not None:
                keys = frozenset(str(k) for k in (obj.get("data") or {})) | frozenset(
                    str(k) for k in (obj.get("binaryData") or obj.get("stringData") or {})
                )
            del obj  # a Secret's values stop here
        except PlatformRejected:
            keys = None
        cache[name] = keys
        return keys

    def _secrets_readable(self) -> bool:
        if self._may_read_secrets is None:
            try:
                self._may_read_secrets = self.api.may(READ_SECRETS)
            except PlatformRejected:
                self._may_read_secrets = False
        return self._may_read_secrets


def _env_source(source: Mapping[str, Any]) -> tuple[str, str] | None:
    """The ("configmap" | "secret", name) an `envFrom` entry takes its variables from."""
    if source.get("configMapRef"):
        return "configmap", str(source["configMapRef"].get("name"))
    if source.get("secretRef"):
        return "secret", str(source["secretRef"].get("name"))
    return None


def _quantity(raw: Any) -> str | None:
    return None if raw is None else str(raw)
