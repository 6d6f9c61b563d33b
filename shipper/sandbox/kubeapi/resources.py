"""The resource types the fake API server knows, with the defaulting and validation of a
real API server.

Defaulting matters to ship: a snapshot records the pod template exactly as the server
returns it, defaults included, and a rollback writes it back. Validation matters too: the
adapter must see a 422 with the server's message when it sends something invalid.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_CONFIGMAP_BYTES = 1024 * 1024
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")
# MicroTime as the API server parses it: six fractional digits and a zone.
_MICROTIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)")


@dataclass(frozen=True)
class Resource:
    """One REST resource: where it lives and what its objects are called."""

    plural: str
    group: str  # "" for the core group
    version: str
    kind: str
    has_status: bool = False  # a /status subresource; the main resource ignores status
    has_generation: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """`deployments.apps`, as the API server names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES: dict[str, Resource] = {
    r.plural: r
    for r in (
        Resource("pods", "", "v1", "Pod", has_status=True),
        Resource("configmaps", "", "v1", "ConfigMap"),
        Resource("secrets", "", "v1", "Secret"),
        Resource("events", "", "v1", "Event"),
        Resource("deployments", "apps", "v1", "Deployment", True, True),
        Resource("replicasets", "apps", "v1", "ReplicaSet", True, True),
        Resource("statefulsets", "apps", "v1", "StatefulSet", True, True),
        Resource("controllerrevisions", "apps", "v1", "ControllerRevision"),
        Resource("jobs", "batch", "v1", "Job", True, True),
        Resource("cronjobs", "batch", "v1", "CronJob", True, True),
        Resource("leases", "coordination.k8s.io", "v1", "Lease"),
        Resource("horizontalpodautoscalers", "autoscaling", "v2", "HorizontalPodAutoscaler"),
    )
}


def resource_for(group: str, version: str, plural: str) -> Resource | None:
    found = RESOURCES.get(plural)
    if found is None or found.group != group or found.version != version:
        return None
    return found


class Invalid(ValueError):
    """A 422: `field` is the JSON path the server names, `detail` what is wrong with it."""

    def __init__(self, field: str, detail: str, reason: str = "FieldValueInvalid") -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail
        self.reason = reason


class BadRequest(ValueError):
    """A 400: the body cannot be decoded into the type."""


# --- defaulting ------------------------------------------------------------------------


def default(resource: Resource, obj: dict[str, Any]) -> None:
    """Fill in what a real API server defaults, in place."""
    spec = obj.get("spec")
    if resource.plural == "deployments" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type") == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {"maxUnavailable": "25%", "maxSurge": "25%"})
        _default_template(spec.get("template"))
    elif resource.plural == "replicasets" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        _default_template(spec.get("template"))
    elif resource.plural == "statefulsets" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("revisionHistoryLimit", 10)
        strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        if strategy.get("type") == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {"partition": 0})
        _default_template(spec.get("template"))
    elif resource.plural == "jobs" and isinstance(spec, dict):
        _default_job_spec(spec)
    elif resource.plural == "cronjobs" and isinstance(spec, dict):
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job_template = spec.get("jobTemplate")
        if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
            _default_job_spec(job_template["spec"])
    elif resource.plural == "pods" and isinstance(spec, dict):
        _default_pod_spec(spec)


def _default_job_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    _default_template(spec.get("template"))


def _default_template(template: Any) -> None:
    if not isinstance(template, dict):
        return
    template.setdefault("metadata", {})
    if isinstance(template.get("spec"), dict):
        _default_pod_spec(template["spec"])


def _default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            image = str(container.get("image") or "")
            tag = image_tag(image)
            policy = "Always" if tag in ("", "latest") and "@" not in image else "IfNotPresent"
            container.setdefault("imagePullPolicy", policy)
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})


def image_tag(image: str) -> str:
    """The tag of an image reference (`ghcr.io:443/acme/web:v2` -> `v2`), or ""."""
    last = image.rsplit("/", 1)[-1]
    return last.split("@")[0].rpartition(":")[2] if ":" in last.split("@")[0] else ""


# --- validation ------------------------------------------------------------------------


def validate(resource: Resource, obj: dict[str, Any]) -> None:
    """Raise Invalid (422) or BadRequest (400) as a real API server would."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise Invalid("metadata", "Required value", "FieldValueRequired")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise Invalid("metadata.name", "Required value: name or generateName is required")
    if len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        raise Invalid(
            "metadata.name",
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
            "case alphanumeric characters, '-' or '.'",
        )
    for key, value in (meta.get("labels") or {}).items():
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            raise Invalid(
                f"metadata.labels[{key}]",
                f'Invalid value: "{value}": a valid label must be 63 characters or less, '
                "beginning and ending with an alphanumeric character",
            )
    annotations = meta.get("annotations") or {}
    if sum(len(k) + len(str(v)) for k, v in annotations.items()) > 256 * 1024:
        raise Invalid("metadata.annotations", "Too long: must have at most 262144 bytes")
    check = _VALIDATORS.get(resource.plural)
    if check is not None:
        check(obj)


def _validate_workload(obj: dict[str, Any]) -> None:
    spec = _need_dict(obj, "spec", "spec")
    selector = _need_dict(spec, "selector", "spec.selector")
    template = _need_dict(spec, "template", "spec.template")
    labels = (template.get("metadata") or {}).get("labels") or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        raise Invalid(
            "spec.template.metadata.labels",
            f"Invalid value: {json.dumps(labels)}: `selector` does not match template `labels`",
        )
    _validate_pod_spec(template.get("spec"), "spec.template.spec")
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 0:
        raise Invalid("spec.replicas", f"Invalid value: {replicas}: must be >= 0")


def _validate_pod_spec(spec: Any, where: str, restart: tuple[str, ...] = ()) -> None:
    if not isinstance(spec, dict):
        raise Invalid(where, "Required value", "FieldValueRequired")
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        raise Invalid(f"{where}.containers", "Required value", "FieldValueRequired")
    names: set[str] = set()
    for i, container in enumerate(containers):
        if not isinstance(container, dict) or not container.get("name"):
            raise Invalid(f"{where}.containers[{i}].name", "Required value", "FieldValueRequired")
        if not container.get("image"):
            raise Invalid(f"{where}.containers[{i}].image", "Required value", "FieldValueRequired")
        if container["name"] in names:
            raise Invalid(
                f"{where}.containers[{i}].name",
                f'Duplicate value: "{container["name"]}"',
                "FieldValueDuplicate",
            )
        names.add(container["name"])
    if restart and spec.get("restartPolicy") not in restart:
        raise Invalid(
            f"{where}.restartPolicy",
            f'Unsupported value: "{spec.get("restartPolicy")}": supported values: '
            + ", ".join(f'"{r}"' for r in restart),
            "FieldValueNotSupported",
        )


def _validate_job(obj: dict[str, Any]) -> None:
    spec = _need_dict(obj, "spec", "spec")
    template = _need_dict(spec, "template", "spec.template")
    _validate_pod_spec(template.get("spec"), "spec.template.spec", ("Never", "OnFailure"))


def _validate_cronjob(obj: dict[str, Any]) -> None:
    spec = _need_dict(obj, "spec", "spec")
    if not spec.get("schedule"):
        raise Invalid("spec.schedule", "Required value", "FieldValueRequired")
    job = _need_dict(_need_dict(spec, "jobTemplate", "spec.jobTemplate"), "spec", "spec")
    template = _need_dict(job, "template", "spec.jobTemplate.spec.template")
    _validate_pod_spec(
        template.get("spec"), "spec.jobTemplate.spec.template.spec", ("Never", "OnFailure")
    )


def _validate_configmap(obj: dict[str, Any]) -> None:
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    for key in [*data, *binary]:
        if not _CONFIG_KEY.fullmatch(key):
            raise Invalid(f"data[{key}]", f'Invalid value: "{key}": a valid config key')
    size = sum(len(str(v).encode()) for v in data.values())
    size += sum(len(base64.b64decode(str(v))) for v in binary.values())
    if size > MAX_CONFIGMAP_BYTES:
        raise Invalid(
            "[]", f"Too long: must have at most {MAX_CONFIGMAP_BYTES} bytes", "FieldValueTooLong"
        )


def _validate_secret(obj: dict[str, Any]) -> None:
    data = obj.get("data") or {}
    try:
        size = sum(len(base64.b64decode(str(v))) for v in data.values())
    except ValueError:
        raise BadRequest("Secret data values must be base64") from None
    size += sum(len(str(v).encode()) for v in (obj.get("stringData") or {}).values())
    if size > MAX_CONFIGMAP_BYTES:
        raise Invalid(
            "data", f"Too long: must have at most {MAX_CONFIGMAP_BYTES} bytes", "FieldValueTooLong"
        )


def _validate_lease(obj: dict[str, Any]) -> None:
    spec = obj.get("spec") or {}
    for key in ("acquireTime", "renewTime"):
        value = spec.get(key)
        if value is not None and not (isinstance(value, str) and _MICROTIME.fullmatch(value)):
            raise BadRequest(
                f'Lease in version "v1" cannot be handled as a Lease: parsing time "{value}" '
                f'as "2006-01-02T15:04:05.000000Z07:00": cannot parse'
            )
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and (not isinstance(duration, int) or duration <= 0):
        raise Invalid("spec.leaseDurationSeconds", f"Invalid value: {duration}: must be > 0")


def _need_dict(obj: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise Invalid(where, "Required value", "FieldValueRequired")
    return value


_VALIDATORS = {
    "deployments": _validate_workload,
    "replicasets": _validate_workload,
    "statefulsets": _validate_workload,
    "jobs": _validate_job,
    "cronjobs": _validate_cronjob,
    "configmaps": _validate_configmap,
    "secrets": _validate_secret,
    "leases": _validate_lease,
}


def status_body(
    code: int,
    reason: str,
    message: str,
    *,
    name: str | None = None,
    resource: Resource | None = None,
    causes: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A `Status` object, the body of every error answer."""
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if resource is not None:
        details["group"] = resource.group
        details["kind"] = resource.plural if code != 422 else resource.kind
    if causes:
        details["causes"] = causes
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure" if code >= 300 else "Success",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body
