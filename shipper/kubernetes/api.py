"""A small typed facade over the `kubernetes` client: plain dicts in and out.

Responses are deserialised by the client (so its models validate what the server sent)
and turned back into the API's own JSON shape (`camelCase` dicts), which is what the pure
rollout reading in `rollout.py` and the ledger take. Every call is counted, runs inside
`kube_errors`, and is retried only when its `RetryPolicy` says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from kubernetes import client, watch

from shipper.kubernetes.errors import Where, kube_errors
from shipper.kubernetes.retry import NO_RETRY, RetryPolicy, retrying
from shipper.ports import Clock

Obj = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class _Kind:
    api: str  # attribute of KubeApi holding the API group object
    suffix: str  # `namespaced_deployment` in `read_namespaced_deployment`


KINDS: dict[str, _Kind] = {
    "deployment": _Kind("apps", "namespaced_deployment"),
    "statefulset": _Kind("apps", "namespaced_stateful_set"),
    "replicaset": _Kind("apps", "namespaced_replica_set"),
    "controllerrevision": _Kind("apps", "namespaced_controller_revision"),
    "cronjob": _Kind("batch", "namespaced_cron_job"),
    "job": _Kind("batch", "namespaced_job"),
    "pod": _Kind("core", "namespaced_pod"),
    "configmap": _Kind("core", "namespaced_config_map"),
    "lease": _Kind("coordination", "namespaced_lease"),
}

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


# What the client would otherwise load on the first call that needs it: the API groups,
# then the models a release deserialises first.
_WARM = (
    "AppsV1Api",
    "BatchV1Api",
    "CoreV1Api",
    "CoordinationV1Api",
    "V1DeploymentList",
    "V1StatefulSetList",
    "V1CronJobList",
    "V1ReplicaSetList",
    "V1PodList",
    "V1Job",
    "V1Deployment",
)
_warming: list[threading.Thread] = []
_warming_lock = threading.Lock()


def _warm_up() -> None:
    """Load the client's modules in a background thread, once per process.

    It overlaps the lock, the gate and the Heroku calls, which mostly wait on the network.
    The thread is not a daemon: an interpreter that exits in the middle of an import can
    crash, so exit waits for it (half a second at most, and only for a command that ends
    before it has used the client)."""
    with _warming_lock:
        if _warming:
            return
        thread = threading.Thread(target=_load, name="kube-warm-up")
        _warming.append(thread)
    thread.start()


def _load() -> None:
    for name in _WARM:
        getattr(client, name, None)


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    object: Obj
    resource_version: str | None


class KubeApi:
    """One cluster, one namespace. Thread-safe: the client's connection pool is shared."""

    def __init__(
        self,
        api_client: client.ApiClient,
        where: Where,
        clock: Clock,
        *,
        reads: RetryPolicy | None = None,
    ) -> None:
        self.client = api_client
        self.where = where
        self.namespace = where.namespace
        self.clock = clock
        self.reads = reads or RetryPolicy()
        self._calls = 0
        self._calls_lock = threading.Lock()
        _warm_up()

    # The client loads each API group's module, and each model, on first use: CoreV1Api
    # alone takes about 0.3 s and the four groups about 0.5 s, which used to be spent
    # while `ship` starts, before the lock is even taken. They are built on first use
    # instead, and `_warm_up` loads them in the background meanwhile.

    @cached_property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.client)

    @cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.client)

    @cached_property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.client)

    @cached_property
    def coordination(self) -> client.CoordinationV1Api:
        return client.CoordinationV1Api(self.client)

    # --- counting and error handling -------------------------------------------------

    @property
    def calls(self) -> int:
        """API requests made so far (each retry and each watch request counts)."""
        with self._calls_lock:
            return self._calls

    def _count(self) -> None:
        with self._calls_lock:
            self._calls += 1

    def _call(
        self, action: str, subject: str, fn: Callable[[], T], policy: RetryPolicy = NO_RETRY
    ) -> T:
        for attempt in retrying(policy, self.clock):
            with attempt:
                self._count()
                with kube_errors(action, self.where, subject=subject):
                    return fn()
        raise AssertionError("unreachable: tenacity re-raises")  # pragma: no cover

    def _method(self, verb: str, kind: str) -> Callable[..., Any]:
        spec = KINDS[kind]
        return getattr(getattr(self, spec.api), f"{verb}_{spec.suffix}")  # type: ignore[no-any-return]

    def plain(self, model: Any) -> Obj:
        """A client model as the API's JSON (camelCase keys, ISO times)."""
        out = self.client.sanitize_for_serialization(model)  # type: ignore[no-untyped-call]
        return out if isinstance(out, dict) else {}

    # --- calls -------------------------------------------------------------------------

    def read(self, kind: str, name: str, *, subject: str = "") -> Obj:
        method = self._method("read", kind)
        return self.plain(
            self._call(
                f"read {kind} {name}",
                subject or f"{kind}/{name}",
                lambda: method(name, self.namespace),
                self.reads,
            )
        )

    def find(self, kind: str, name: str) -> Obj | None:
        """`read`, with None for a 404."""
        from shipper.errors import PlatformNotFound

        try:
            return self.read(kind, name)
        except PlatformNotFound:
            return None

    def list(
        self, kind: str, *, label_selector: str | None = None, field_selector: str | None = None
    ) -> tuple[list[Obj], str]:
        """Items and the list's resourceVersion (to watch from)."""
        method = self._method("list", kind)
        kwargs: dict[str, Any] = {}
        if label_selector:
            kwargs["label_selector"] = label_selector
        if field_selector:
            kwargs["field_selector"] = field_selector
        result = self._call(
            f"list {kind}s", f"{kind}s", lambda: method(self.namespace, **kwargs), self.reads
        )
        plain = self.plain(result)
        return list(plain.get("items") or []), str(
            (plain.get("metadata") or {}).get("resourceVersion") or ""
        )

    def patch(
        self,
        kind: str,
        name: str,
        body: Any,
        *,
        content_type: str,
        policy: RetryPolicy = NO_RETRY,
        subject: str = "",
    ) -> Obj:
        method = self._method("patch", kind)
        return self.plain(
            self._call(
                f"patch {kind} {name}",
                subject or f"{kind}/{name}",
                lambda: method(
                    name, self.namespace, body, field_manager="ship", _content_type=content_type
                ),
                policy,
            )
        )

    def create(self, kind: str, body: Obj, *, subject: str = "") -> Obj:
        method = self._method("create", kind)
        name = str((body.get("metadata") or {}).get("name") or "")
        return self.plain(
            self._call(
                f"create {kind} {name}",
                subject or f"{kind}/{name}",
                lambda: method(self.namespace, body, field_manager="ship"),
            )
        )

    def replace(self, kind: str, name: str, body: Obj, *, subject: str = "") -> Obj:
        method = self._method("replace", kind)
        return self.plain(
            self._call(
                f"replace {kind} {name}",
                subject or f"{kind}/{name}",
                lambda: method(name, self.namespace, body, field_manager="ship"),
            )
        )

    def delete(
        self,
        kind: str,
        name: str,
        *,
        resource_version: str | None = None,
        propagation: str | None = "Background",
        subject: str = "",
    ) -> None:
        method = self._method("delete", kind)
        options = client.V1DeleteOptions(
            propagation_policy=propagation,
            preconditions=client.V1Preconditions(resource_version=resource_version)
            if resource_version
            else None,
        )
        self._call(
            f"delete {kind} {name}",
            subject or f"{kind}/{name}",
            lambda: method(name, self.namespace, body=options),
        )

    def pod_log(
        self, name: str, container: str, *, tail: int | None = None, previous: bool = False
    ) -> str:
        kwargs: dict[str, Any] = {"container": container}
        if tail is not None:
            kwargs["tail_lines"] = tail
        if previous:
            kwargs["previous"] = True
        text = self._call(
            f"read the log of pod {name}",
            f"pod/{name}",
            lambda: self.core.read_namespaced_pod_log(name, self.namespace, **kwargs),
            self.reads,
        )
        return str(text or "")

    def watch(
        self,
        kind: str,
        *,
        resource_version: str,
        timeout: int,
        field_selector: str | None = None,
        label_selector: str | None = None,
        subject: str = "",
    ) -> Iterator[WatchEvent]:
        """One watch request: events until the server ends it after `timeout` seconds.

        Raises KubeGone (410) when `resource_version` is too old: the caller lists again.
        """
        method = self._method("list", kind)
        kwargs: dict[str, Any] = {
            "resource_version": resource_version,
            "timeout_seconds": max(1, int(timeout)),
            "allow_watch_bookmarks": True,
            "_request_timeout": max(1, int(timeout)) + 10,
        }
        if field_selector:
            kwargs["field_selector"] = field_selector
        if label_selector:
            kwargs["label_selector"] = label_selector
        self._count()
        w = watch.Watch()  # type: ignore[no-untyped-call]
        with kube_errors(f"watch {kind}s", self.where, subject=subject or f"{kind}s"):
            try:
                for event in w.stream(method, self.namespace, **kwargs):  # type: ignore[no-untyped-call]
                    kind_of = str(event.get("type"))
                    raw = event.get("object")
                    obj = raw if isinstance(raw, dict) else self.plain(raw)
                    yield WatchEvent(kind_of, obj, w.resource_version)
            finally:
                w.stop()  # type: ignore[no-untyped-call]
