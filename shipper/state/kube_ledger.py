"""The release ledger in the cluster: one ConfigMap per release, the way Helm keeps its
release history, so CI runners and on-call laptops share one history.

Each release is a ConfigMap named `ship.release.v1.<pipeline>.r<number>` in the
pipeline's namespace (or `ledger.namespace`), labelled `owner=ship`, `name=<pipeline>`,
`version=<number>`, `status=<state>`, `kind=<kind>` and `createdAt`/`modifiedAt`, so
`ship history` is one list by label. The record and its event log are JSON under `data`;
once they grow past `COMPRESS_ABOVE` they move, gzipped, to `binaryData`. A record that
would still exceed the API server's 1 MiB ConfigMap limit is refused here with a clear
message, before the server refuses it less clearly.

Creating by name is the uniqueness guard (409: release N exists); every update is a
read-modify-write guarded by resourceVersion and retried on 409, so two writers never
lose each other's entries.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shipper.core.model import JSON, LedgerEntry, Release, ReleaseNo
from shipper.errors import LedgerError, PipelineError, PlatformError
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.errors import KubeConflict
from shipper.pipeline import Pipeline

MAX_BYTES = 1024 * 1024
COMPRESS_ABOVE = 64 * 1024
_CONFLICT_RETRIES = 20


def record_name(pipeline: str, number: int) -> str:
    return f"ship.release.v1.{pipeline}.r{number}"


def _encode(payload: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """`data` and `binaryData` for these documents, gzipped when large."""
    size = sum(len(v.encode()) for v in payload.values())
    if size <= COMPRESS_ABOVE:
        return dict(payload), {}
    binary = {
        f"{k}.gz": base64.b64encode(gzip.compress(v.encode(), compresslevel=9)).decode()
        for k, v in payload.items()
    }
    return {}, binary


def _decode(obj: Obj, key: str) -> str | None:
    data = obj.get("data") or {}
    if key in data:
        return str(data[key])
    binary = obj.get("binaryData") or {}
    packed = binary.get(f"{key}.gz")
    if packed is None:
        return None
    raw = base64.b64decode(packed)
    # Accept an uncompressed value too (detected by the gzip magic), as Helm does.
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()


def _stored_size(data: Mapping[str, str], binary: Mapping[str, str]) -> int:
    return sum(len(v.encode()) for v in data.values()) + sum(
        len(base64.b64decode(v)) for v in binary.values()
    )


class KubernetesLedger:
    """The `Ledger` port over ConfigMaps. Thread-safe within a process; 409-safe across."""

    def __init__(
        self, api: KubeApi, pipeline: str, *, now: Callable[[], int] | None = None
    ) -> None:
        self.api = api
        self.pipeline = pipeline
        self._local = threading.Lock()
        self._now = now or (lambda: int(time.time()))

    def _fail(self, doing: str, exc: PlatformError) -> LedgerError:
        return LedgerError(
            f"the ledger (ConfigMaps in namespace {self.api.namespace}) could not {doing}: {exc}"
        )

    def _selector(self) -> str:
        return f"owner=ship,name={self.pipeline}"

    def _labels(self, release: Release, created: str | None) -> dict[str, str]:
        now = str(self._now())
        return {
            "owner": "ship",
            "name": self.pipeline,
            "version": str(release.number),
            "status": release.state.value,
            "kind": release.kind.value,
            "createdAt": created or now,
            "modifiedAt": now,
        }

    def _body(self, release: Release, entries: list[LedgerEntry], meta: Obj | None) -> Obj:
        payload = {
            "release": json.dumps(release.to_json(), separators=(",", ":")),
            "entries": json.dumps([e.to_json() for e in entries], separators=(",", ":")),
        }
        data, binary = _encode(payload)
        size = _stored_size(data, binary)
        if size > MAX_BYTES:
            raise LedgerError(
                f"release {release.number} of {self.pipeline} needs {size} bytes, over the "
                f"1 MiB ConfigMap limit; keep less output in the event log or use the sqlite ledger"
            )
        old = meta or {}
        created = (old.get("labels") or {}).get("createdAt")
        metadata: Obj = {
            "name": record_name(self.pipeline, release.number),
            "labels": self._labels(release, created),
        }
        if old.get("resourceVersion"):
            metadata["resourceVersion"] = old["resourceVersion"]
        body: Obj = {"metadata": metadata}
        if data:
            body["data"] = data
        if binary:
            body["binaryData"] = binary
        return body

    # --- the port --------------------------------------------------------------------

    def next_number(self) -> ReleaseNo:
        numbers = [self._number(obj) for obj in self._list()]
        return ReleaseNo(max(numbers, default=0) + 1)

    def create(self, release: Release) -> Release:
        body = self._body(release, [], None)
        try:
            self.api.create("configmap", body, subject=f"release {release.number}")
        except KubeConflict:
            raise LedgerError(
                f"release {release.number} of {self.pipeline} already exists in the ledger; "
                "another ship run took that number: run again"
            ) from None
        except PlatformError as exc:
            raise self._fail(f"write release {release.number}", exc) from None
        return release

    def save(self, release: Release) -> None:
        self._update(release.number, lambda _old, entries: (release, entries))

    def append(self, number: ReleaseNo, entry: LedgerEntry) -> None:
        self._update(number, lambda old, entries: (old, [*entries, entry]))

    def save_with(self, release: Release, entries: Sequence[LedgerEntry]) -> None:
        """The release and new lines of its log in one ConfigMap update."""
        self._update(release.number, lambda _old, logged: (release, [*logged, *entries]))

    def get(self, number: ReleaseNo) -> Release | None:
        obj = self._read(number)
        return self._release(obj) if obj is not None else None

    def entries(self, number: ReleaseNo) -> list[LedgerEntry]:
        obj = self._read(number)
        return self._entries(obj) if obj is not None else []

    def releases(self, limit: int | None = None) -> list[Release]:
        found = sorted(self._list(), key=self._number, reverse=True)
        if limit is not None:
            found = found[:limit]
        return [self._release(obj) for obj in found]

    # --- reading and writing ---------------------------------------------------------

    def _update(
        self,
        number: int,
        change: Callable[[Release, list[LedgerEntry]], tuple[Release, list[LedgerEntry]]],
    ) -> None:
        with self._local:
            for attempt in range(_CONFLICT_RETRIES):
                if attempt:  # jittered backoff, so two busy writers stop colliding
                    self.api.clock.sleep(random.uniform(0, min(0.5, 0.005 * 2**attempt)))
                obj = self._read(number)
                if obj is None:
                    raise LedgerError(
                        f"release {number} of {self.pipeline} is not in the ledger; "
                        "it cannot be updated (was its ConfigMap deleted?)"
                    )
                release, entries = change(self._release(obj), self._entries(obj))
                body = self._body(release, entries, obj.get("metadata"))
                try:
                    self.api.replace("configmap", body["metadata"]["name"], body)
                    return
                except KubeConflict:
                    continue  # someone wrote in between: read again and reapply
                except PlatformError as exc:
                    raise self._fail(f"write release {number}", exc) from None
        raise LedgerError(
            f"release {number} of {self.pipeline} kept changing under ship "
            f"({_CONFLICT_RETRIES} conflicts in a row); run again"
        )

    def _read(self, number: int) -> Obj | None:
        try:
            return self.api.find("configmap", record_name(self.pipeline, number))
        except PlatformError as exc:
            raise self._fail(f"read release {number}", exc) from None

    def _list(self) -> list[Obj]:
        try:
            items, _ = self.api.list("configmap", label_selector=self._selector())
        except PlatformError as exc:
            raise self._fail("list releases", exc) from None
        return items

    def _number(self, obj: Obj) -> int:
        try:
            return int(((obj.get("metadata") or {}).get("labels") or {}).get("version") or 0)
        except ValueError:
            return 0

    def _json(self, obj: Obj, key: str) -> JSON:
        name = (obj.get("metadata") or {}).get("name")
        try:
            text = _decode(obj, key)
            return json.loads(text) if text is not None else None
        except (ValueError, OSError, EOFError):
            raise LedgerError(
                f"the ledger ConfigMap {name} holds a damaged {key}; it is never reset "
                "silently: inspect it with kubectl"
            ) from None

    def _release(self, obj: Obj) -> Release:
        raw = self._json(obj, "release")
        if not isinstance(raw, dict):
            raise LedgerError(f"the ledger ConfigMap {obj['metadata'].get('name')} has no release")
        try:
            return Release.from_json(raw)
        except (KeyError, ValueError) as exc:
            raise LedgerError(
                f"the ledger ConfigMap {obj['metadata'].get('name')} holds a release ship "
                f"cannot read ({exc})"
            ) from None

    def _entries(self, obj: Obj) -> list[LedgerEntry]:
        raw: Any = self._json(obj, "entries") or []
        return [LedgerEntry.from_json(e) for e in raw if isinstance(e, dict)]


def build_kube_ledger(pipeline: Pipeline, *, env: Mapping[str, str]) -> KubernetesLedger:
    """The ConfigMap ledger of `pipeline`, in `ledger.namespace` or the kubernetes namespace."""
    from shipper.core.clock import SystemClock
    from shipper.kubernetes.factory import build_kube_api

    if pipeline.kubernetes is None:
        raise PipelineError("ledger.backend kubernetes needs a kubernetes section (the cluster)")
    api = build_kube_api(
        pipeline, clock=SystemClock(), env=env, namespace=pipeline.ledger.namespace
    )
    return KubernetesLedger(api, pipeline.name)
