"""Whether a rollout is still ship's own. Pure.

A rollout that completes proves nothing if the template it rolled out is no longer the
one ship wrote: a GitOps controller with self-heal reverts the image moments after the
patch, its rollout completes, and counting that as success would report a version that
never ran. So every look at the workload during a rollout first checks that the
containers ship changed still carry the images it set, and names whoever changed them
(from `managedFields`) when they don't.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipper.kubernetes.preflight import last_spec_manager
from shipper.kubernetes.workloads import Workload

FIELD_MANAGER = "ship"  # the fieldManager of every write ship makes


def changed_by_someone(
    w: Workload, obj: Mapping[str, Any], expected: Mapping[str, str]
) -> str | None:
    """Why `obj` is no longer the template ship wrote (None while it is): the containers
    whose image differs from `expected`, and the manager that changed them."""
    images = w.images(obj)
    changed = [
        f"{c}={images.get(c, 'removed')}"
        for c, want in sorted(expected.items())
        if images.get(c) != want
    ]
    if not changed:
        return None
    manager = last_spec_manager(obj, excluding=FIELD_MANAGER) or "someone else"
    return f"the template was changed by {manager} during the rollout ({', '.join(changed)})"
