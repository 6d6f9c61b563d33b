"""The HTTP side of the fake API server: routing, Status errors, chunked streams.

The handler speaks HTTP/1.1 with keep-alive, as the client's urllib3 pool expects;
bodies without a Content-Type are JSON (the client sends none on POST, PUT and DELETE);
a watch is a chunked stream of one JSON event per line that ends after `timeoutSeconds`
(or early, when a fault says so) and reports 410 Gone as an ERROR event. A followed pod
log (`follow=true`) is a chunked text stream that ends when its container has stopped
running, as the kubelet ends `kubectl logs -f`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from shipper.sandbox import arrival
from shipper.sandbox.kubeapi.managed import manager_of
from shipper.sandbox.kubeapi.patch import PatchError
from shipper.sandbox.kubeapi.rbac import forbidden_message, resource_rules
from shipper.sandbox.kubeapi.resources import (
    RESOURCES,
    BadRequest,
    Invalid,
    Resource,
    resource_for,
    status_body,
)
from shipper.sandbox.kubeapi.selectors import SelectorError, field_matcher, label_matcher
from shipper.sandbox.kubeapi.store import Obj, Store, StoreError, Subscription, WatchEvent

if TYPE_CHECKING:
    from shipper.sandbox.kubeapi.server import FakeKubeApiServer

log = logging.getLogger(__name__)

PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$"
)
DEFAULT_WATCH_SECONDS = 300
SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SSRR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"


class ApiError(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.body = body


def api_error(code: int, reason: str, message: str, **kw: Any) -> ApiError:
    return ApiError(status_body(code, reason, message, **kw))


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A real API server listens with the kernel's backlog; socketserver's default of 5
    # drops the connections of a client that opens dozens at once (one per watched
    # workload), and each dropped SYN costs that client a 1 s retransmission.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, address: tuple[str, int], api: FakeKubeApiServer) -> None:
        self.api = api
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: HttpServer

    def setup(self) -> None:
        super().setup()
        self.server.api.track_connection(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.api.track_connection(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("kubeapi: " + format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- plumbing ------------------------------------------------------------------

    def _send_json(self, code: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise api_error(
                400, "BadRequest", "the body of the request could not be decoded as JSON"
            ) from None

    def _handle(self, method: str) -> None:
        arrival.mark()
        api = self.server.api
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            body = self._body() if method in ("POST", "PUT", "PATCH", "DELETE") else None
            if api.faults.latency:
                time.sleep(api.faults.latency)
            if api.token is not None and (
                self.headers.get("Authorization") != f"Bearer {api.token}"
            ):
                api.count_call(method, parts.path, query)
                raise api_error(401, "Unauthorized", "Unauthorized")
            api.count_call(method, parts.path, query)
            rule = api.faults.take_failure(method, parts.path)
            if rule is not None:
                headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after else None
                reasons = {429: "TooManyRequests", 403: "Forbidden", 503: "ServiceUnavailable"}
                reason = reasons.get(rule.status, "InternalError")
                self._send_json(
                    rule.status,
                    status_body(rule.status, reason, f"injected failure ({rule.status})"),
                    headers,
                )
                return
            if parts.path == SSAR_PATH:
                self._access_review(method, body)
                return
            if parts.path == SSRR_PATH:
                self._rules_review(method, body)
                return
            self._authorize(method, parts.path, query)
            self._route(method, parts.path, query, body)
        except ApiError as exc:
            self._send_json(int(exc.body["code"]), exc.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _authorize(self, method: str, path: str, query: dict[str, str]) -> None:
        """A 403 Status, as the real authorizer words it, for a denied verb."""
        from shipper.sandbox.kubeapi.server import request_verb

        match = PATH.match(path)
        if match is None:
            return
        verb, plural, sub = request_verb(method, path, query)
        if not self.server.api.rbac.allowed(verb, plural, sub):
            group = match["group"] or ""
            raise api_error(
                403,
                "Forbidden",
                forbidden_message(verb, plural, sub, group, match["ns"]),
                name=match["name"] or None,
                resource=resource_for(group, match["core"] or match["version"], plural),
            )

    def _rules_review(self, method: str, body: Any) -> None:
        """A SelfSubjectRulesReview: every rule this user has in the namespace asked
        about, complete (the sandbox has one authorizer, which can list its rules)."""
        if method != "POST":
            raise api_error(405, "MethodNotAllowed", f"{method} is not supported here")
        spec = (body or {}).get("spec") if isinstance(body, dict) else None
        if not isinstance(spec, dict) or not spec.get("namespace"):
            raise api_error(
                422,
                "Invalid",
                "SelfSubjectRulesReview.authorization.k8s.io is invalid: "
                "spec.namespace: Required value: no namespace on request",
            )
        served = [
            (r.group, r.plural, ("log",) * (r.plural == "pods") + ("status",) * r.has_status)
            for r in RESOURCES.values()
        ]
        self._send_json(
            201,
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectRulesReview",
                "metadata": {"creationTimestamp": None},
                "spec": spec,
                "status": {
                    "resourceRules": resource_rules(self.server.api.rbac, served),
                    "nonResourceRules": [
                        {
                            "verbs": ["get"],
                            "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*"],
                        }
                    ],
                    "incomplete": False,
                },
            },
        )

    def _access_review(self, method: str, body: Any) -> None:
        """A SelfSubjectAccessReview: whether this user may do what it asks about."""
        if method != "POST":
            raise api_error(405, "MethodNotAllowed", f"{method} is not supported here")
        spec = (body or {}).get("spec") if isinstance(body, dict) else None
        attrs = (spec or {}).get("resourceAttributes")
        if not isinstance(attrs, dict):
            raise api_error(
                422,
                "Invalid",
                "SelfSubjectAccessReview.authorization.k8s.io is invalid: "
                "spec.resourceAttributes: Required value",
            )
        allowed = self.server.api.rbac.allowed(
            str(attrs.get("verb") or ""),
            str(attrs.get("resource") or ""),
            str(attrs.get("subresource") or ""),
        )
        status: dict[str, Any] = {"allowed": allowed}
        if allowed:
            status["reason"] = "allowed by the sandbox's role"
        self._send_json(
            201,
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "metadata": {"creationTimestamp": None},
                "spec": spec,
                "status": status,
            },
        )

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        api = self.server.api
        manager = manager_of(query, self.headers.get("User-Agent"))
        if path == "/version" and method == "GET":
            self._send_json(
                200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-ship-sandbox"}
            )
            return
        match = PATH.match(path)
        res = None
        if match:
            group = match["group"] or ""
            version = match["core"] or match["version"]
            res = resource_for(group, version, match["plural"])
        if match is None or res is None:
            raise api_error(404, "NotFound", "the server could not find the requested resource")
        ns, name, sub = match["ns"], match["name"], match["sub"] or ""
        if (
            sub not in ("", "status", "log", "scale")
            or (sub == "log" and res.plural != "pods")
            or (sub == "scale" and res.plural not in ("deployments", "statefulsets", "replicasets"))
        ):
            raise api_error(404, "NotFound", "the server could not find the requested resource")
        dry_run = query.get("dryRun") == "All"
        try:
            if name is None:
                if method == "GET" and query.get("watch") in ("true", "1"):
                    self._watch(res, ns, query)
                elif method == "GET":
                    self._send_json(200, api.rest_list(res, ns, query))
                elif method == "POST":
                    self._send_json(201, api.rest_create(res, ns, body, dry_run, manager))
                else:
                    raise api_error(405, "MethodNotAllowed", f"{method} is not supported here")
            elif sub == "scale":
                if method == "GET":
                    self._send_json(200, api.rest_scale(res, ns, name))
                elif method in ("PUT", "PATCH"):
                    content_type = self.headers.get("Content-Type", "")
                    self._send_json(
                        200, api.rest_scale_write(res, ns, name, method, content_type, body)
                    )
                else:
                    raise api_error(405, "MethodNotAllowed", f"{method} is not supported here")
            elif sub == "log":
                if method != "GET":
                    raise api_error(405, "MethodNotAllowed", f"{method} is not supported here")
                if query.get("follow") in ("true", "1"):
                    self._follow_log(ns, name, query)
                else:
                    self._send_text(200, api.rest_pod_log(ns, name, query))
            elif method == "GET":
                found = api.store.get(res.plural, ns, name)
                if found is None:
                    raise StoreError(404, "NotFound", f'{res.qualified} "{name}" not found')
                self._send_json(200, found)
            elif method == "PUT":
                self._send_json(200, api.rest_replace(res, ns, name, body, sub, dry_run, manager))
            elif method == "PATCH":
                content_type = self.headers.get("Content-Type", "")
                self._send_json(
                    200, api.rest_patch(res, ns, name, content_type, body, sub, dry_run, manager)
                )
            elif method == "DELETE":
                self._send_json(200, api.rest_delete(res, ns, name, body, query))
            else:
                raise api_error(405, "MethodNotAllowed", f"{method} is not supported here")
        except StoreError as exc:
            raise api_error(exc.code, exc.reason, exc.message, name=name, resource=res) from None
        except Invalid as exc:
            group = f".{res.group}" if res.group else ""
            who = name or (body or {}).get("metadata", {}).get("name", "")
            raise api_error(
                422,
                "Invalid",
                f'{res.kind}{group} "{who}" is invalid: {exc.field}: {exc.detail}',
                name=who,
                resource=res,
                causes=[{"reason": exc.reason, "message": exc.detail, "field": exc.field}],
            ) from None
        except BadRequest as exc:
            raise api_error(400, "BadRequest", str(exc)) from None
        except PatchError as exc:
            reason = {415: "UnsupportedMediaType", 400: "BadRequest"}.get(exc.status, "Invalid")
            raise api_error(exc.status, reason, str(exc)) from None
        except SelectorError as exc:
            raise api_error(400, "BadRequest", str(exc)) from None

    # --- followed logs ---------------------------------------------------------------

    def _follow_log(self, ns: str, name: str, query: dict[str, str]) -> None:
        """`GET .../log?follow=true`: what the log holds, then what the container adds, in
        chunks as it writes them; the stream ends cleanly once the container no longer
        runs (it exited, or its pod is gone). Refusals are those of a plain read (400 for
        a container that is waiting to start), answered before the stream begins. Like
        a watch, the request waits on a subscription to its pod, which the kubelet
        also wakes when the log grows."""
        api = self.server.api
        previous = query.get("previous") == "true"
        logs = api.controller.previous_logs if previous else api.controller.logs
        with api.store.lock:
            first = api.rest_pod_log(ns, name, query)
            key = (ns, name, query.get("container") or _only_container(api.store, ns, name))
            offset = len(logs.get(key, ""))
            sub = api.store.subscribe("pods", ns, lambda o: o["metadata"]["name"] == name)
            stop_following = api.controller.follow_log(key, sub.wake)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if first:
                self._chunk(first.encode())
            while not api.stopping.is_set():
                with sub.wake:
                    text = logs.get(key, "")
                    new, offset = text[offset:], max(offset, len(text))
                    ended = previous or not _runs(api.store.get("pods", ns, name), key[2])
                    if not new and not ended:
                        sub.wake.wait(0.25)
                        continue
                if new:
                    self._chunk(new.encode())
                if ended:
                    self._chunk(b"")  # the clean end: the container has stopped
                    return
            self.close_connection = True  # shutting down: cut, not ended
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            stop_following()
            api.store.unsubscribe(sub)

    # --- watch ---------------------------------------------------------------------

    def _watch(self, res: Resource, ns: str, query: dict[str, str]) -> None:
        api = self.server.api
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"))
        bookmarks = query.get("allowWatchBookmarks") == "true"
        timeout = float(query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        if api.faults.watch_max_seconds is not None:
            timeout = min(timeout, api.faults.watch_max_seconds)
        max_events = api.faults.watch_max_events
        gone = api.faults.take_gone()
        if gone is False:
            raise api_error(410, "Expired", "too old resource version (injected)")

        def matches(obj: Obj) -> bool:
            return labels((obj.get("metadata") or {}).get("labels") or {}) and fields(obj)

        rv = query.get("resourceVersion")
        initial: list[Obj] = []
        expired: str | None = "too old resource version (injected)" if gone else None
        with api.store.lock:
            cursor = api.store.resource_version
            if not rv or rv == "0":
                initial = [o for o in api.store.list(res.plural, ns)[0] if matches(o)]
            elif expired is None:
                try:
                    api.store.events_after(int(rv))
                    cursor = int(rv)
                except StoreError as exc:
                    expired = exc.message
                except ValueError:
                    raise api_error(400, "BadRequest", f"invalid resourceVersion {rv!r}") from None
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        sub = api.store.subscribe(res.plural, ns, matches)

        def send(kind: str, obj: Obj) -> None:
            self._chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")

        try:
            if expired is not None:
                send("ERROR", status_body(410, "Expired", expired))
                self._chunk(b"")
                return
            for obj in initial:
                send("ADDED", obj)
                sent += 1
            deadline = time.monotonic() + timeout
            while not api.stopping.is_set() and (max_events is None or sent < max_events):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    cursor = _caught_up(api.store, sub, cursor)
                    break
                with sub.wake:
                    try:
                        events: list[WatchEvent] = api.store.events_after(cursor)
                    except StoreError as exc:
                        send("ERROR", status_body(410, "Expired", exc.message))
                        break
                    if not events:
                        sub.wake.wait(min(remaining, 0.25))
                        continue
                for event in events:
                    cursor = event.rv
                    if event.resource != res.plural or event.namespace != ns:
                        continue
                    if not matches(event.obj):
                        continue
                    send(event.type, event.obj)
                    sent += 1
                    if max_events is not None and sent >= max_events:
                        break
            if bookmarks and not api.stopping.is_set():
                send(
                    "BOOKMARK",
                    {
                        "apiVersion": res.api_version,
                        "kind": res.kind,
                        "metadata": {"resourceVersion": str(cursor)},
                    },
                )
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            api.store.unsubscribe(sub)


def _only_container(store: Store, ns: str, name: str) -> str:
    """The pod's one container, which a log request without `container` means."""
    pod = store.get("pods", ns, name) or {}
    return str(((pod.get("spec") or {}).get("containers") or [{}])[0].get("name") or "")


def _runs(pod: Obj | None, container: str) -> bool:
    """Whether `container` of `pod` is running now (a pod gone runs nothing)."""
    status = (pod or {}).get("status") or {}
    for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if s.get("name") == container:
            return "running" in (s.get("state") or {})
    return False


def _caught_up(store: Store, sub: Subscription, cursor: int) -> int:
    """The cursor moved past the events the watch was not woken for (they are not its
    to send), as far as the first one it was: where it would stand had every write
    woken it."""
    with store.lock:
        try:
            events = store.events_after(cursor)
        except StoreError:
            return cursor
        for event in events:
            if sub.concerns(event):
                break
            cursor = event.rv
        return cursor
