"""The fake API server's pure parts: selectors and the three patch flavours."""

from __future__ import annotations

import pytest

from shipper.sandbox.kubeapi.patch import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    PatchError,
    apply_patch,
)
from shipper.sandbox.kubeapi.selectors import field_matcher, label_matcher

LABELS = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("app=web", True),
        ("app==web,tier=back", False),
        ("app!=api", True),
        ("tier in (front,back)", True),
        ("tier notin (front)", False),
        ("app", True),
        ("!canary", True),
        ("!app", False),
    ],
)
def test_label_selectors(selector: str, matches: bool) -> None:
    """Equality, inequality, set-based and existence terms read as the API server reads them."""
    assert label_matcher(selector)(LABELS) is matches


def test_field_selector_reads_dotted_paths() -> None:
    """metadata.name=web matches by the object's dotted path."""
    assert field_matcher("metadata.name=web")({"metadata": {"name": "web"}})
    assert not field_matcher("metadata.name=web")({"metadata": {"name": "api"}})


def test_strategic_merge_replace_directive() -> None:
    """`$patch: replace` swaps a whole object, as a ControllerRevision's data does."""
    target = {"spec": {"template": {"metadata": {"labels": {"a": "1"}}, "spec": {"x": 1}}}}
    patch = {"spec": {"template": {"spec": {"y": 2}, "$patch": "replace"}}}
    assert apply_patch(STRATEGIC_MERGE_PATCH, target, patch) == {
        "spec": {"template": {"spec": {"y": 2}}}
    }


def test_strategic_merge_deletes_a_keyed_entry() -> None:
    """`$patch: delete` in a keyed list removes that entry only."""
    target = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    patch = {"env": [{"name": "A", "$patch": "delete"}]}
    assert apply_patch(STRATEGIC_MERGE_PATCH, target, patch) == {
        "env": [{"name": "B", "value": "2"}]
    }


def test_merge_patch_null_deletes() -> None:
    """In a JSON merge patch, null removes the key."""
    assert apply_patch(MERGE_PATCH, {"a": 1, "b": 2}, {"a": None}) == {"b": 2}


def test_json_patch_failed_test_is_refused_whole() -> None:
    """A failing `test` operation rejects the patch (422) and nothing is applied."""
    target = {"metadata": {"resourceVersion": "5"}, "spec": {"x": 1}}
    ops = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "4"},
        {"op": "replace", "path": "/spec/x", "value": 2},
    ]
    with pytest.raises(PatchError) as caught:
        apply_patch(JSON_PATCH, target, ops)
    assert caught.value.status == 422
    assert target["spec"] == {"x": 1}


def test_json_patch_escapes_pointer_tokens() -> None:
    """`~1` in a JSON pointer is a slash: annotations with slashes can be set."""
    target: dict[str, object] = {"metadata": {"annotations": {}}}
    ops = [{"op": "add", "path": "/metadata/annotations/kubernetes.io~1change-cause", "value": "x"}]
    assert apply_patch(JSON_PATCH, target, ops)["metadata"] == {
        "annotations": {"kubernetes.io/change-cause": "x"}
    }


def test_unknown_patch_type_is_415() -> None:
    """A patch content type the server does not know is answered 415."""
    with pytest.raises(PatchError) as caught:
        apply_patch("application/apply-patch+yaml", {}, {})
    assert caught.value.status == 415
