"""A small typed facade over the `kubernetes` client: plain dicts in and out.

Requests go through the official client's `ApiClient` (its kubeconfig, auth, TLS, proxy
and connection pool) the way the client's own `DynamicClient` makes them: a resource
path, `param_serialize`, `call_api`, and the client's own error for any non-2xx answer.
The generated per-group classes (`AppsV1Api`, `CoreV1Api`) are not used: loading them
took 0.5 s of CPU at every start (0.18 s and 0.25 s for those two), and their models
were turned straight back into the API's JSON, which is what the pure rollout reading in
`rollout.py` and the ledger take. Every call is counted, runs inside `kube_errors`, and
is retried only when its `RetryPolicy` says so.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from shipper.errors import MalformedAnswer
from shipper.kubernetes.errors import Where, kube_errors
from shipper.kubernetes.retry import NO_RETRY, RetryPolicy, retrying
from shipper.kubernetes.shared_reads import SharedReads
from shipper.ports import Clock

Obj = dict[str, Any]
T = TypeVar("T")
Query = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class _Kind:
    group: str  # the API group's path prefix
    plural: str


KINDS: dict[str, _Kind] = {
    "deployment": _Kind("/apis/apps/v1", "deployments"),
    "statefulset": _Kind("/apis/apps/v1", "statefulsets"),
    "replicaset": _Kind("/apis/apps/v1", "replicasets"),
    "controllerrevision": _Kind("/apis/apps/v1", "controllerrevisions"),
    "cronjob": _Kind("/apis/batch/v1", "cronjobs"),
    "job": _Kind("/apis/batch/v1", "jobs"),
    "pod": _Kind("/api/v1", "pods"),
    "configmap": _Kind("/api/v1", "configmaps"),
    "secret": _Kind("/api/v1", "secrets"),
    "horizontalpodautoscaler": _Kind("/apis/autoscaling/v2", "horizontalpodautoscalers"),
    "lease": _Kind("/apis/coordination.k8s.io/v1", "leases"),
}

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


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
        self._lists: SharedReads[Obj] = SharedReads()  # see `list`

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

    def _path(self, kind: str, name: str | None = None, sub: str | None = None) -> str:
        spec = KINDS[kind]
        path = f"{spec.group}/namespaces/{quote(self.namespace, safe='')}/{spec.plural}"
        if name is not None:
            path += f"/{quote(name, safe='')}"
        if sub is not None:
            path += f"/{sub}"
        return path

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: Any = None,
        content_type: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        accept: str = "application/json",
    ) -> Any:
        """One request through the official client; the client's ApiException for any
        answer outside 2xx. Returns its response, unread."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        request = self.client.param_serialize(
            method,
            path,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.client.call_api(*request, _request_timeout=timeout)
        if not 200 <= response.status <= 299:
            response.read()  # type: ignore[no-untyped-call]
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response

    def _json(self, method: str, path: str, action: str, **kw: Any) -> Obj:
        data = self._send(method, path, **kw).read()
        try:
            out = json.loads(data) if data else {}
        except ValueError:
            out = None
        if not isinstance(out, dict):
            raise MalformedAnswer(
                f"the Kubernetes API answered something ship cannot read to {action} "
                "(not a JSON object); check the API server"
            )
        return out

    # --- calls -------------------------------------------------------------------------

    def read(self, kind: str, name: str, *, subject: str = "") -> Obj:
        action = f"read {kind} {name}"
        return self._call(
            action,
            subject or f"{kind}/{name}",
            lambda: self._json("GET", self._path(kind, name), action),
            self.reads,
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
        query = _selectors(label_selector, field_selector)
        action = f"list {kind}s"
        # The snapshot, the preflight and its estate list the same kinds at the same
        # moment: one request serves them all (`shared_reads`).
        plain = self._lists.read(
            (kind, tuple(query)),
            lambda: self._call(
                action,
                f"{kind}s",
                lambda: self._json("GET", self._path(kind), action, query=query),
                self.reads,
            ),
        )
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
        action = f"patch {kind} {name}"
        return self._call(
            action,
            subject or f"{kind}/{name}",
            lambda: self._json(
                "PATCH",
                self._path(kind, name),
                action,
                query=[("fieldManager", "ship")],
                body=body,
                content_type=content_type,
            ),
            policy,
        )

    def create(self, kind: str, body: Obj, *, subject: str = "") -> Obj:
        name = str((body.get("metadata") or {}).get("name") or "")
        action = f"create {kind} {name}"
        return self._call(
            action,
            subject or f"{kind}/{name}",
            lambda: self._json(
                "POST", self._path(kind), action, query=[("fieldManager", "ship")], body=body
            ),
        )

    def replace(self, kind: str, name: str, body: Obj, *, subject: str = "") -> Obj:
        action = f"replace {kind} {name}"
        return self._call(
            action,
            subject or f"{kind}/{name}",
            lambda: self._json(
                "PUT",
                self._path(kind, name),
                action,
                query=[("fieldManager", "ship")],
                body=body,
            ),
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
        options: Obj = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation:
            options["propagationPolicy"] = propagation
        if resource_version:
            options["preconditions"] = {"resourceVersion": resource_version}
        action = f"delete {kind} {name}"
        self._call(
            action,
            subject or f"{kind}/{name}",
            lambda: self._json("DELETE", self._path(kind, name), action, body=options),
        )

    def may(self, right: Any) -> bool:
        """Whether the caller may do `right` (an `access.Access`) in this namespace: one
        SelfSubjectAccessReview, which every authenticated user may create."""
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": right.attributes(self.namespace)},
        }
        action = f"review the right to {right.shown}"
        answer = self._call(
            action,
            "selfsubjectaccessreviews",
            lambda: self._json(
                "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", action, body=body
            ),
            self.reads,
        )
        return bool((answer.get("status") or {}).get("allowed"))

    def rules(self) -> tuple[Sequence[Obj], bool]:
        """The caller's resource rules in this namespace and whether the list is
        incomplete (an authorizer that can't list its rules): one SelfSubjectRulesReview."""
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": self.namespace},
        }
        action = "list ship's rights (SelfSubjectRulesReview)"
        answer = self._call(
            action,
            "selfsubjectrulesreviews",
            lambda: self._json(
                "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", action, body=body
            ),
            self.reads,
        )
        status = answer.get("status") or {}
        rules = [r for r in status.get("resourceRules") or [] if isinstance(r, dict)]
        return rules, bool(status.get("incomplete"))

    def pod_log(
        self, name: str, container: str, *, tail: int | None = None, previous: bool = False
    ) -> str:
        query = [("container", container)]
        if tail is not None:
            query.append(("tailLines", str(tail)))
        if previous:
            query.append(("previous", "true"))

        def read() -> str:
            response = self._send(
                "GET", self._path("pod", name, "log"), query=query, accept="text/plain"
            )
            return bytes(response.read() or b"").decode("utf-8", errors="replace")

        return self._call(f"read the log of pod {name}", f"pod/{name}", read, self.reads)

    def follow_pod_log(
        self, name: str, container: str, *, read_timeout: float, connect_timeout: float = 10.0
    ) -> Iterator[bytes]:
        """One follow request, as `kubectl logs -f` makes it: the log's bytes as the
        container writes them (what it wrote before comes first), until the server ends
        the stream because the container has exited. A stream that ends without that
        clean end (the connection broke, or stayed silent past `read_timeout`) raises
        KubeUnavailable; a refusal raises what `pod_log` raises (400 for a container
        still waiting to start). Not retried: a caller that loses the stream reads the
        whole log instead, which a retry would have to do anyway."""
        action = f"follow the log of pod {name}"
        query = [("container", container), ("follow", "true")]
        self._count()
        with kube_errors(action, self.where, subject=f"pod/{name}"):
            response = self._send(
                "GET",
                self._path("pod", name, "log"),
                query=query,
                accept="text/plain",
                timeout=(connect_timeout, read_timeout),
            )
            raw = response.response
            try:
                # a chunked answer is handed out chunk by chunk, as the server flushes it
                for chunk in raw.stream(8192, decode_content=True):
                    if chunk:
                        yield bytes(chunk)
            finally:
                raw.close()  # a stream left early must not hand a half-read connection back
                raw.release_conn()

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
        seconds = max(1, int(timeout))
        query = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", str(seconds)),
            ("allowWatchBookmarks", "true"),
            *_selectors(label_selector, field_selector),
        ]
        self._count()
        with kube_errors(f"watch {kind}s", self.where, subject=subject or f"{kind}s"):
            response = self._send("GET", self._path(kind), query=query, timeout=seconds + 10)
            raw = response.response
            try:
                for line in _lines(raw):
                    event = _event(line, kind)
                    kind_of = str(event.get("type"))
                    obj = event.get("object")
                    obj = obj if isinstance(obj, dict) else {}
                    if kind_of == "ERROR":
                        raise ApiException(
                            status=int(obj.get("code") or 500),
                            reason=f"{obj.get('reason')}: {obj.get('message')}",
                        )
                    version = (obj.get("metadata") or {}).get("resourceVersion")
                    yield WatchEvent(kind_of, obj, str(version) if version else None)
            finally:
                raw.close()  # a watch left early must not hand a half-read connection back
                raw.release_conn()


def _event(line: bytes, kind: str) -> Obj:
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise MalformedAnswer(
            f"the Kubernetes API sent a watch event of {kind}s ship cannot read "
            "(not a JSON object); check the API server"
        )
    return event


def _selectors(label: str | None, field: str | None) -> list[tuple[str, str]]:
    query = []
    if label:
        query.append(("labelSelector", label))
    if field:
        query.append(("fieldSelector", field))
    return query


def _lines(raw: Any) -> Iterator[bytes]:
    """The newline-delimited JSON events of a watch, as they arrive."""
    pending = b""
    for chunk in raw.stream(8192, decode_content=True):
        pending += chunk
        *whole, pending = pending.split(b"\n")
        yield from (line for line in whole if line.strip())
    if pending.strip():
        yield pending
