"""Scripted failures of the fake cluster, chosen by words in an image tag.

The words are shared with the sandbox (`shipper.sandbox.scenarios`) and must not change:

| tag contains    | what the fake cluster does                                              |
| --------------- | ----------------------------------------------------------------------- |
| `crashloop`     | the container exits 1 at once, over and over: CrashLoopBackOff          |
| `oom`           | the container is OOMKilled (exit 137), over and over: CrashLoopBackOff  |
| `nopull`        | ErrImagePull ("not found"), then ImagePullBackOff                       |
| `unschedulable` | the pod stays Pending, PodScheduled=False reason Unschedulable          |
| `notready`      | the container runs but never becomes ready (no restarts)                |
| `configerror`   | CreateContainerConfigError (a ConfigMap the pod needs is missing)       |
| `badmigrate`    | a Job's container exits 1 after printing a migration error              |
| `slowmigrate`   | a Job's container takes `slow_job_seconds` (5 simulated seconds)        |
| `biglog`        | a Job's container prints about 400 KiB of log                           |
"""

from __future__ import annotations

from shipper.sandbox.kubeapi.resources import image_tag

CRASHLOOP = "crashloop"
OOM = "oom"
NOPULL = "nopull"
UNSCHEDULABLE = "unschedulable"
NOT_READY = "notready"
CONFIG_ERROR = "configerror"
BAD_MIGRATE = "badmigrate"
SLOW_MIGRATE = "slowmigrate"
BIG_LOG = "biglog"
OK = "ok"

# The order decides when a tag holds two words.
WORDS = (
    UNSCHEDULABLE,
    NOPULL,
    CONFIG_ERROR,
    CRASHLOOP,
    OOM,
    NOT_READY,
    BAD_MIGRATE,
    SLOW_MIGRATE,
    BIG_LOG,
)


def scenario(image: str) -> str:
    """The scripted behaviour of a container running `image` (OK when none applies)."""
    tag = image_tag(image).lower()
    return next((w for w in WORDS if w in tag), OK)
