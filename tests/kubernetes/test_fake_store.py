"""The fake API server's store: its owner index and the wake-ups of open watches."""

from __future__ import annotations

from typing import Any

from shipper.sandbox.kubeapi.store import Obj, Store, controller_uid


def _owned_by(uid: str, name: str) -> Obj:
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": uid, "controller": True}
    return {"metadata": {"name": name, "ownerReferences": [ref]}, "data": {}}


def test_owned_follows_owner_references_through_writes_and_deletes() -> None:
    """`owned` gives what a scan by controlling owner gives, in the same order."""
    store = Store()
    for name in ("c", "a", "b"):
        store.create("configmaps", "ns", _owned_by("u1", name))
    store.create("configmaps", "other", _owned_by("u1", "a"))
    store.create("configmaps", "ns", _owned_by("u2", "d"))

    def names(uid: str) -> list[str]:
        return [o["metadata"]["name"] for o in store.owned("configmaps", "ns", uid)]

    def scan(uid: str) -> list[str]:
        items = store.list("configmaps", "ns", lambda o: controller_uid(o) == uid)[0]
        return [o["metadata"]["name"] for o in items]

    assert names("u1") == scan("u1") == ["a", "b", "c"]

    def adopt(cur: Obj) -> Obj:
        cur["metadata"]["ownerReferences"][0]["uid"] = "u2"
        return cur

    store.update("configmaps", "ns", "b", adopt)
    store.delete("configmaps", "ns", "c")
    assert names("u1") == scan("u1") == ["a"]
    assert names("u2") == scan("u2") == ["b", "d"]
    assert [o["metadata"]["name"] for o in store.orphans("configmaps", {"u2"})] == ["a", "a"]


def test_a_watch_is_woken_only_by_writes_it_would_send() -> None:
    """A write notifies the watches it concerns, not every open watch."""
    store = Store()
    sub = store.subscribe("configmaps", "ns", lambda o: o["metadata"]["name"] == "mine")
    woken: list[Any] = []
    sub.wake.notify_all = lambda: woken.append(1)  # type: ignore[method-assign]
    store.create("configmaps", "ns", {"metadata": {"name": "theirs"}})
    store.create("configmaps", "elsewhere", {"metadata": {"name": "mine"}})
    store.create("secrets", "ns", {"metadata": {"name": "mine"}})
    assert woken == []
    store.create("configmaps", "ns", {"metadata": {"name": "mine"}})
    assert len(woken) == 1
    store.compact()  # compaction concerns every watch: it may have to end in 410
    assert len(woken) == 2
    store.unsubscribe(sub)
    store.create("configmaps", "ns", {"metadata": {"name": "mine2"}})
    store.compact()
    assert len(woken) == 2
