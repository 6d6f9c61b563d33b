"""The fake API server's object store: every object, its resourceVersion, and the event
history that watches read from.

It behaves like the API server over etcd in the ways ship depends on: one store-wide
resourceVersion counter bumped by every write, optimistic concurrency on it (409),
`metadata.generation` bumped only by spec changes, and a bounded event history, so a
watch from a version that has been compacted away gets 410 Gone.
"""

from __future__ import annotations

import bisect
import builtins
import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from shipper.sandbox.kubeapi.resources import RESOURCES, Invalid, Resource, default, validate

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)


class StoreError(Exception):
    """A refusal the server turns into a Status answer."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: str
    namespace: str
    obj: Obj


class Subscription:
    """One open watch's interest: `wake` (a condition on the store lock) is notified by
    the writes the watch would send, not by every write, as a real API server hands each
    event to the watchers it concerns; compaction and shutdown notify every watch."""

    def __init__(
        self, lock: threading.RLock, resource: str, namespace: str, wants: Callable[[Obj], bool]
    ) -> None:
        self.resource = resource
        self.namespace = namespace
        self.wants = wants
        self.wake = threading.Condition(lock)

    def concerns(self, event: WatchEvent) -> bool:
        if event.resource != self.resource or event.namespace != self.namespace:
            return False
        try:
            return self.wants(event.obj)
        except Exception:
            return True  # let the watch itself meet the error


def controller_uid(obj: Obj) -> str | None:
    """The uid of the object's controlling owner, if it has one."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


_T = TypeVar("_T")
_ATOMS = frozenset({str, int, float, bool, type(None)})


def _clone(value: _T) -> _T:
    """A deep copy of a JSON-shaped value, several times faster than `copy.deepcopy`
    (which the controller's passes would otherwise spend most of their time in)."""
    return cast(_T, _copy(value))


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _ATOMS else _copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else _copy(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """Thread-safe objects plus history. Every method copies: callers never share state."""

    def __init__(self, history_limit: int = 20000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._rv = 1000
        self._objects: dict[str, dict[Key, Obj]] = {plural: {} for plural in RESOURCES}
        # plural -> controlling owner's uid -> keys of the objects it owns, so that a
        # controller finds what an owner owns without scanning every object
        self._by_owner: dict[str, dict[str, set[Key]]] = {plural: {} for plural in RESOURCES}
        self._history: list[WatchEvent] = []
        self._history_limit = history_limit
        self._compacted_rv = self._rv  # watches from before this get 410
        self.on_write: list[Callable[[str, str, Obj | None], None]] = []
        self._subscriptions: dict[Key, set[Subscription]] = {}  # (plural, namespace) ->

    # --- reads ---------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        with self.lock:
            return self._rv

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        with self.lock:
            found = self._objects[resource].get((namespace, name))
            return _clone(found) if found is not None else None

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        where: Callable[[Obj], bool] | None = None,
    ) -> tuple[list[Obj], int]:
        with self.lock:
            items = [
                _clone(obj)
                for (ns, _), obj in sorted(self._objects[resource].items())
                if (namespace is None or ns == namespace) and (where is None or where(obj))
            ]
            return items, self._rv

    def owned(self, resource: str, namespace: str, uid: str) -> builtins.list[Obj]:
        """Copies of the objects in `namespace` whose controlling owner is `uid`, in the
        order `list` gives them."""
        with self.lock:
            objects = self._objects[resource]
            keys = sorted(k for k in self._by_owner[resource].get(uid, ()) if k[0] == namespace)
            return [_clone(objects[k]) for k in keys]

    def uids(self, resources: tuple[str, ...]) -> set[str]:
        """The uids of every object of these resources."""
        with self.lock:
            return {
                obj["metadata"]["uid"]
                for plural in resources
                for obj in self._objects[plural].values()
            }

    def orphans(self, resource: str, alive: set[str]) -> builtins.list[Obj]:
        """Copies of the objects whose controlling owner's uid is not in `alive`, in the
        order `list` gives them."""
        with self.lock:
            objects = self._objects[resource]
            keys = sorted(
                key
                for uid, keys in self._by_owner[resource].items()
                if uid not in alive
                for key in keys
            )
            return [_clone(objects[k]) for k in keys]

    def events_after(self, rv: int) -> builtins.list[WatchEvent]:
        """History after `rv`; StoreError 410 when `rv` is older than what is kept."""
        with self.lock:
            oldest = self._history[0].rv - 1 if self._history else self._rv
            if rv < max(oldest, self._compacted_rv):
                raise StoreError(410, "Expired", f"too old resource version: {rv} ({self._rv})")
            return self._history[bisect.bisect_right(self._history, rv, key=lambda e: e.rv) :]

    # --- watch wake-ups -------------------------------------------------------------

    def subscribe(
        self, resource: str, namespace: str, wants: Callable[[Obj], bool]
    ) -> Subscription:
        with self.lock:
            sub = Subscription(self.lock, resource, namespace, wants)
            self._subscriptions.setdefault((resource, namespace), set()).add(sub)
            return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self.lock:
            subs = self._subscriptions.get((sub.resource, sub.namespace), set())
            subs.discard(sub)
            if not subs:
                self._subscriptions.pop((sub.resource, sub.namespace), None)

    def wake_all(self) -> None:
        """Notify every waiter (shutdown, compaction)."""
        with self.lock:
            self.changed.notify_all()
            for subs in self._subscriptions.values():
                for sub in subs:
                    sub.wake.notify_all()

    # --- writes --------------------------------------------------------------------

    def _bump(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _put(self, resource: str, key: Key, obj: Obj | None) -> None:
        """Store (or, with None, remove) one object, keeping the owner index current."""
        objects, index = self._objects[resource], self._by_owner[resource]
        old = objects.get(key)
        before = controller_uid(old) if old is not None else None
        after = controller_uid(obj) if obj is not None else None
        if before is not None and before != after:
            keys = index[before]
            keys.discard(key)
            if not keys:
                del index[before]
        if after is not None:
            index.setdefault(after, set()).add(key)
        if obj is None:
            del objects[key]
        else:
            objects[key] = obj

    def _record(self, kind: str, res: Resource, namespace: str, obj: Obj) -> None:
        event_obj = _clone(obj)
        event = WatchEvent(self._rv, kind, res.plural, namespace, event_obj)
        self._history.append(event)
        if len(self._history) > self._history_limit:
            del self._history[: len(self._history) // 2]
            self._compacted_rv = self._history[0].rv - 1
            self.wake_all()
        else:
            self.changed.notify_all()
            for sub in self._subscriptions.get((res.plural, namespace), ()):
                if sub.concerns(event):
                    sub.wake.notify_all()
        for hook in self.on_write:
            hook(res.plural, kind, event_obj)

    def create(self, resource: str, namespace: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        res = RESOURCES[resource]
        obj = _clone(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        meta["namespace"] = namespace
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        default(res, obj)
        validate(res, obj)
        with self.lock:
            name = meta["name"]
            if (namespace, name) in self._objects[resource]:
                raise StoreError(409, "AlreadyExists", f'{res.qualified} "{name}" already exists')
            meta.pop("resourceVersion", None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_iso()
            if res.has_generation:
                meta["generation"] = 1
            if dry_run:
                meta["resourceVersion"] = str(self._rv)
                return obj
            meta["resourceVersion"] = self._bump()
            self._put(resource, (namespace, name), obj)
            self._record("ADDED", res, namespace, obj)
            return _clone(obj)

    def update(
        self,
        resource: str,
        namespace: str,
        name: str,
        change: Callable[[Obj], Obj],
        *,
        subresource: str = "",
        dry_run: bool = False,
        require_rv: bool = False,
    ) -> Obj:
        """Replace an object with `change(current copy)`, enforcing the object's rules.

        The changed object's `metadata.resourceVersion`, when present, is a precondition:
        a stale one is a 409 Conflict, which is what makes a PUT (or a patch that
        carries it) safe against a concurrent writer.
        """
        res = RESOURCES[resource]
        with self.lock:
            current = self._objects[resource].get((namespace, name))
            if current is None:
                raise StoreError(404, "NotFound", f'{res.qualified} "{name}" not found')
            new = change(_clone(current))
            meta = new.setdefault("metadata", {})
            sent_rv = meta.get("resourceVersion")
            if (
                sent_rv not in (None, "") and sent_rv != current["metadata"]["resourceVersion"]
            ) or (require_rv and not sent_rv):
                raise StoreError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {res.qualified} "{name}": the object has '
                    "been modified; please apply your changes to the latest version and try again",
                )
            if meta.get("name", name) != name:
                raise StoreError(400, "BadRequest", "the name of the object does not match the URL")
            # What a write may not change: identity, and the other half of spec/status.
            for key in ("uid", "creationTimestamp", "generation", "namespace", "name"):
                if key in current["metadata"]:
                    meta[key] = current["metadata"][key]
            new["apiVersion"], new["kind"] = res.api_version, res.kind
            if res.has_status:
                if subresource == "status":
                    new = {**new, "spec": _clone(current.get("spec"))}
                    new["metadata"] = {
                        **_clone(current["metadata"]),
                        "resourceVersion": current["metadata"]["resourceVersion"],
                    }
                elif "status" in current:
                    new["status"] = _clone(current["status"])
                else:
                    new.pop("status", None)
            default(res, new)
            validate(res, new)
            if resource == "jobs" and new["spec"].get("template") != current["spec"].get(
                "template"
            ):
                raise Invalid("spec.template", "Invalid value: field is immutable")
            if res.has_generation and new.get("spec") != current.get("spec"):
                new["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
            new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if new == current:
                return _clone(current)  # no change: no new resourceVersion
            if dry_run:
                return new
            new["metadata"]["resourceVersion"] = self._bump()
            self._put(resource, (namespace, name), new)
            self._record("MODIFIED", res, namespace, new)
            return _clone(new)

    def delete(
        self, resource: str, namespace: str, name: str, *, precondition_rv: str | None = None
    ) -> Obj:
        res = RESOURCES[resource]
        with self.lock:
            current = self._objects[resource].get((namespace, name))
            if current is None:
                raise StoreError(404, "NotFound", f'{res.qualified} "{name}" not found')
            if precondition_rv and precondition_rv != current["metadata"]["resourceVersion"]:
                raise StoreError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {res.qualified} "{name}": '
                    "Precondition failed: ResourceVersion in precondition: "
                    f"{precondition_rv}, ResourceVersion in object meta: "
                    f"{current['metadata']['resourceVersion']}",
                )
            self._put(resource, (namespace, name), None)
            self._bump()
            gone = _clone(current)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._record("DELETED", res, namespace, gone)
            return gone

    def compact(self) -> None:
        """Forget all history, as etcd compaction does: older watches get 410."""
        with self.lock:
            self._history.clear()
            self._compacted_rv = self._rv
            self.wake_all()
