"""The pipeline lock as a `coordination.k8s.io/v1` Lease, shared by everyone who can
reach the cluster.

The Lease `ship-lock-<pipeline>` carries client-go's fields (holder identity, duration,
acquire and renew times, `leaseTransitions` bumped whenever the holder changes) plus
ship's own in annotations: the reason, the holder's host and pid, whether it is a manual
freeze, the exact TTL, and the fencing token, which grows with every acquisition.
Every write is a PUT carrying the resourceVersion last read, so of two processes racing
for the Lease exactly one wins and the other gets 409. Staleness follows the rule every
backend shares (`shipper.state.stale`): renewTime + TTL passed, or a holder process on
this host that is gone. `verify` is the fence: it re-reads the Lease and raises LockLost
once the holder or the token is no longer ours.

Times are written as timezone-aware datetimes with a non-zero microsecond: the client
re-serialises models with `isoformat()`, which drops a zero fraction, and the API server
refuses a MicroTime without six fractional digits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from shipper.core.model import Holder, LockInfo, LockLease
from shipper.errors import LockHeld, LockLost, PipelineError, PlatformNotFound
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.errors import KubeConflict
from shipper.pipeline import Pipeline
from shipper.ports import Clock
from shipper.state.liveness import process_exists, this_host
from shipper.state.stale import held_message, stale_reason

_A = "ship.dev/"
_RACES = 3


def lease_name(pipeline: str) -> str:
    return f"ship-lock-{pipeline}"


def micro_time(when: datetime) -> datetime:
    """`when` in UTC with a microsecond the client cannot drop when it serialises."""
    moment = when.astimezone(UTC)
    return moment if moment.microsecond else moment.replace(microsecond=1)


def _when(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


class LeaseLock:
    """The `Lock` port over one Lease per pipeline."""

    def __init__(
        self,
        api: KubeApi,
        pipeline: str,
        clock: Clock,
        *,
        host: str | None = None,
        is_alive: Any = process_exists,
    ) -> None:
        self.api = api
        self.pipeline = pipeline
        self.clock = clock
        self.name = lease_name(pipeline)
        self._host = host or this_host()
        self._is_alive = is_alive

    # --- reading ---------------------------------------------------------------------

    def _get(self) -> Obj | None:
        return self.api.find("lease", self.name)

    def _info(self, lease: Obj) -> LockInfo | None:
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        if not holder:
            return None
        notes = (lease.get("metadata") or {}).get("annotations") or {}
        pid = notes.get(_A + "pid")
        ttl = notes.get(_A + "ttl")
        acquired = _when(spec.get("acquireTime")) or self.clock.now()
        return LockInfo(
            pipeline=self.pipeline,
            holder=Holder(holder, notes.get(_A + "host", ""), int(pid) if pid else None),
            reason=notes.get(_A + "reason", ""),
            acquired_at=acquired,
            renewed_at=_when(spec.get("renewTime")) or acquired,
            ttl_seconds=float(ttl) if ttl else None,
            token=_token(lease),
            manual=notes.get(_A + "manual") == "true",
        )

    # --- writing ---------------------------------------------------------------------

    def _body(
        self,
        old: Obj | None,
        holder: Holder,
        reason: str,
        ttl: float | None,
        manual: bool,
        now: datetime,
    ) -> Obj:
        prev_spec = (old or {}).get("spec") or {}
        transitions = int(prev_spec.get("leaseTransitions") or 0)
        if old is not None and prev_spec.get("holderIdentity") != holder.name:
            transitions += 1
        annotations = {
            _A + "reason": reason,
            _A + "host": holder.host,
            _A + "manual": "true" if manual else "false",
            _A + "token": str(_token(old) + 1 if old is not None else 1),
        }
        if holder.pid is not None:
            annotations[_A + "pid"] = str(holder.pid)
        if ttl is not None:
            annotations[_A + "ttl"] = repr(float(ttl))
        spec: dict[str, Any] = {
            "holderIdentity": holder.name,
            "acquireTime": micro_time(now),
            "renewTime": micro_time(now),
            "leaseTransitions": transitions,
        }
        if ttl is not None:
            spec["leaseDurationSeconds"] = max(1, math.ceil(ttl))
        metadata: dict[str, Any] = {"name": self.name, "annotations": annotations}
        if old is not None:
            metadata["resourceVersion"] = old["metadata"]["resourceVersion"]
            labels = old["metadata"].get("labels")
            if labels:
                metadata["labels"] = labels
        else:
            metadata["labels"] = {"owner": "ship", "name": self.pipeline}
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": spec,
        }

    def acquire(
        self,
        holder: Holder,
        reason: str,
        ttl_seconds: float | None,
        *,
        force: bool = False,
        manual: bool = False,
    ) -> LockLease:
        for _ in range(_RACES):
            now = self.clock.now()
            lease = self._get()
            current = self._info(lease) if lease is not None else None
            why = ""
            if current is not None:
                why = stale_reason(current, now=now, host=self._host, is_alive=self._is_alive)
                if not why and not force:
                    raise LockHeld(held_message(current, now))
                why = why or "forced with --force-lock"
            body = self._body(lease, holder, reason, ttl_seconds, manual, now)
            try:
                if lease is None:
                    written = self.api.create("lease", body, subject=f"lease {self.name}")
                else:
                    written = self.api.replace(
                        "lease", self.name, body, subject=f"lease {self.name}"
                    )
            except (KubeConflict, PlatformNotFound):
                continue  # someone else wrote first (or deleted it): look again
            info = self._info(written)
            if info is None:  # pragma: no cover - we just wrote a holder
                continue
            return LockLease(info=info, took_over=current, takeover_reason=why)
        lease = self._get()
        current = self._info(lease) if lease is not None else None
        if current is not None:
            raise LockHeld(held_message(current, self.clock.now()))
        raise LockHeld(f"lock for {self.pipeline} is contended; try again")

    def renew(self, lease: LockLease) -> LockLease:
        for _ in range(_RACES):
            now = self.clock.now()
            live = self._ours(lease)
            spec = _times(live.get("spec") or {})
            spec["renewTime"] = micro_time(now)
            body = {**live, "spec": spec}
            body.pop("status", None)
            try:
                self.api.replace("lease", self.name, body, subject=f"lease {self.name}")
            except KubeConflict:
                continue
            return replace(lease, info=replace(lease.info, renewed_at=micro_time(now)))
        raise LockLost(self._lost(None))

    def verify(self, lease: LockLease) -> None:
        self._ours(lease)

    def release(self, lease: LockLease) -> None:
        for _ in range(_RACES):
            try:
                live = self._ours(lease)
            except LockLost:
                return  # not ours any more: never release from under the new holder
            if self._clear(live):
                return

    def show(self) -> LockInfo | None:
        lease = self._get()
        return self._info(lease) if lease is not None else None

    def release_any(self) -> LockInfo | None:
        for _ in range(_RACES):
            lease = self._get()
            current = self._info(lease) if lease is not None else None
            if lease is None or current is None:
                return None
            if self._clear(lease):
                return current
        raise LockHeld(f"lock for {self.pipeline} kept changing; try ship lock release again")

    # --- helpers ---------------------------------------------------------------------

    def _ours(self, lease: LockLease) -> Obj:
        """The live Lease if `lease` still holds it; LockLost otherwise (the fence)."""
        live = self._get()
        info = self._info(live) if live is not None else None
        if (
            live is None
            or info is None
            or info.holder.name != lease.info.holder.name
            or info.token != lease.info.token
        ):
            raise LockLost(self._lost(info))
        return live

    def _clear(self, live: Obj) -> bool:
        """Empty the holder (kept object: the token and transitions carry on)."""
        spec = _times(live.get("spec") or {})
        spec.update(
            holderIdentity="", leaseDurationSeconds=1, renewTime=micro_time(self.clock.now())
        )
        body = {**live, "spec": spec}
        try:
            self.api.replace("lease", self.name, body, subject=f"lease {self.name}")
        except KubeConflict:
            return False
        except PlatformNotFound:
            return True
        return True

    def _lost(self, now_held: LockInfo | None) -> str:
        who = f"{now_held.holder} holds it now" if now_held else "nobody holds it now"
        return (
            f"lost the lock for {self.pipeline} (Lease {self.name} in namespace "
            f"{self.api.namespace}): {who}; ship stopped changing things"
        )


def _token(lease: Obj | None) -> int:
    if lease is None:
        return 0
    raw = ((lease.get("metadata") or {}).get("annotations") or {}).get(_A + "token")
    try:
        return int(raw) if raw else int((lease.get("spec") or {}).get("leaseTransitions") or 0) + 1
    except ValueError:
        return 0


def _times(spec: dict[str, Any]) -> dict[str, Any]:
    """A Lease spec whose MicroTimes survive the client's re-serialisation."""
    out = dict(spec)
    for key in ("acquireTime", "renewTime"):
        when = _when(out.get(key)) if isinstance(out.get(key), str) else out.get(key)
        if isinstance(when, datetime):
            out[key] = micro_time(when)
    return out


def build_kube_lock(pipeline: Pipeline, *, env: Mapping[str, str], clock: Clock) -> LeaseLock:
    """The Lease lock of `pipeline`, in `lock.namespace` or the kubernetes namespace."""
    from shipper.kubernetes.factory import build_kube_api

    if pipeline.kubernetes is None:
        raise PipelineError("lock.backend kubernetes needs a kubernetes section (the cluster)")
    api = build_kube_api(pipeline, clock=clock, env=env, namespace=pipeline.lock.namespace)
    return LeaseLock(api, pipeline.name, clock)
