"""The one place where the `kubernetes` client's failures become ShipErrors.

Every API call of the adapter, the ledger and the lock runs inside `kube_errors`, so no
`ApiException`, urllib3 error or pydantic error ever crosses a port. Messages are one
line, name the context or the workload, and say what to do; they never carry the token
(the client keeps it in a header, and the messages here are built from the status, the
server's Status message and the API host only).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shipper.errors import (
    PlatformAuthError,
    PlatformNotFound,
    PlatformRejected,
    PlatformUnavailable,
)


class KubeUnavailable(PlatformUnavailable):
    """The API server could not be reached or answered 429/5xx (retryable)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class KubeConflict(PlatformRejected):
    """409: somebody else changed (or created) the object first."""


class KubeGone(PlatformRejected):
    """410: a watch or list asked for history the server no longer keeps."""


@dataclass(frozen=True)
class Where:
    """What an error message names: the kubeconfig context, the namespace, the host."""

    context: str
    namespace: str
    host: str = ""


def server_message(body: object) -> str:
    """The `message` of a Status body, on one line and short."""
    text = ""
    if isinstance(body, (str, bytes)):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            text = str(parsed.get("message") or parsed.get("reason") or "")
        else:
            text = body.decode(errors="replace") if isinstance(body, bytes) else body
    return " ".join(text.split())[:300]


def _retry_after(headers: object) -> float | None:
    try:
        value = headers.get("Retry-After") if headers is not None else None  # type: ignore[attr-defined]
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


@contextmanager
def kube_errors(action: str, where: Where, *, subject: str = "") -> Iterator[None]:
    """Re-raise the client's failures of `action` as ShipErrors.

    `subject` names the object (`deployment/web`) so a 404 says which one is missing.
    """
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError as Urllib3Error

    try:
        yield
    except ApiException as exc:
        raise translate(exc, action, where, subject=subject) from None
    except Urllib3Error as exc:
        detail = "connection refused" if "refused" in str(exc).lower() else type(exc).__name__
        raise KubeUnavailable(
            f"could not reach the Kubernetes API {where.host} (context {where.context}) "
            f"to {action}: {detail}; check the cluster is reachable"
        ) from None
    except (ConnectionError, TimeoutError) as exc:
        raise KubeUnavailable(
            f"could not reach the Kubernetes API {where.host} (context {where.context}) "
            f"to {action}: {type(exc).__name__}"
        ) from None


def translate(exc: object, action: str, where: Where, *, subject: str = "") -> Exception:
    """The ShipError for one `ApiException` (status, body and headers are read)."""
    status = int(getattr(exc, "status", 0) or 0)
    message = server_message(getattr(exc, "body", None)) or str(getattr(exc, "reason", ""))
    what = subject or "the object"
    if status in (401, 403):
        verb = "refused" if status == 403 else "did not accept the credentials"
        return PlatformAuthError(
            f"Kubernetes {verb} to {action} in namespace {where.namespace} (context "
            f"{where.context}, HTTP {status}); check the kubeconfig user and its RBAC rights"
        )
    if status == 404:
        return PlatformNotFound(
            f"{what} not found in namespace {where.namespace} (context {where.context}); "
            "check kubernetes.workloads and kubernetes.namespace in the pipeline"
        )
    if status == 409:
        return KubeConflict(
            f"{what} was changed by someone else while ship tried to {action}: {message}"
        )
    if status == 410:
        return KubeGone(f"Kubernetes no longer has the history needed to {action}: {message}")
    if status == 422:
        return PlatformRejected(f"Kubernetes rejected {action} of {what}: {message}")
    if status == 429 or status >= 500 or status == 0:
        headers = getattr(exc, "headers", None)
        return KubeUnavailable(
            f"Kubernetes answered {status or 'nothing'} to {action} (context {where.context}): "
            f"{message}; try again later",
            retry_after=_retry_after(headers),
        )
    return PlatformRejected(f"Kubernetes refused to {action} of {what} (HTTP {status}): {message}")
