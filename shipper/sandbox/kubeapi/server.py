"""A fake Kubernetes API server that the real `kubernetes` client talks to over HTTP.

It serves the REST subset ship uses (namespaced Deployments, ReplicaSets, StatefulSets,
ControllerRevisions, Jobs, CronJobs, Pods and their logs, ConfigMaps, Secrets, Events and
Leases) with real object shapes, watch streams, Status errors and optimistic concurrency,
while a controller thread moves rollouts forward. It binds loopback only: it has no
authentication worth the name and must never be reachable from another machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from shipper.sandbox.kubeapi.controller import Controller, Timing, template_hash
from shipper.sandbox.kubeapi.faults import Faults
from shipper.sandbox.kubeapi.patch import PATCH_TYPES, PatchError, apply_patch
from shipper.sandbox.kubeapi.resources import (
    BadRequest,
    Invalid,
    Resource,
    resource_for,
    status_body,
)
from shipper.sandbox.kubeapi.selectors import SelectorError, field_matcher, label_matcher
from shipper.sandbox.kubeapi.store import Obj, Store, StoreError, WatchEvent

log = logging.getLogger(__name__)

_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$"
)
DEFAULT_WATCH_SECONDS = 300


class _ApiError(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.body = body


def _error(code: int, reason: str, message: str, **kw: Any) -> _ApiError:
    return _ApiError(status_body(code, reason, message, **kw))


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: FakeKubeApiServer) -> None:
        self.api = api
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.server.api._track(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.api._track(self.connection, False)

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
            raise _error(
                400, "BadRequest", "the body of the request could not be decoded as JSON"
            ) from None

    def _handle(self, method: str) -> None:
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
                api._count(method, parts.path, query)
                raise _error(401, "Unauthorized", "Unauthorized")
            api._count(method, parts.path, query)
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
            self._route(method, parts.path, query, body)
        except _ApiError as exc:
            self._send_json(int(exc.body["code"]), exc.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        api = self.server.api
        if path == "/version" and method == "GET":
            self._send_json(
                200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-ship-sandbox"}
            )
            return
        match = _PATH.match(path)
        res = None
        if match:
            group = match["group"] or ""
            version = match["core"] or match["version"]
            res = resource_for(group, version, match["plural"])
        if match is None or res is None:
            raise _error(404, "NotFound", "the server could not find the requested resource")
        ns, name, sub = match["ns"], match["name"], match["sub"] or ""
        if sub not in ("", "status", "log") or (sub == "log" and res.plural != "pods"):
            raise _error(404, "NotFound", "the server could not find the requested resource")
        dry_run = query.get("dryRun") == "All"
        try:
            if name is None:
                if method == "GET" and query.get("watch") in ("true", "1"):
                    self._watch(res, ns, query)
                elif method == "GET":
                    self._send_json(200, api._list(res, ns, query))
                elif method == "POST":
                    self._send_json(201, api._create(res, ns, body, dry_run))
                else:
                    raise _error(405, "MethodNotAllowed", f"{method} is not supported here")
            elif sub == "log":
                if method != "GET":
                    raise _error(405, "MethodNotAllowed", f"{method} is not supported here")
                self._send_text(200, api._pod_log(ns, name, query))
            elif method == "GET":
                found = api.store.get(res.plural, ns, name)
                if found is None:
                    raise StoreError(404, "NotFound", f'{res.qualified} "{name}" not found')
                self._send_json(200, found)
            elif method == "PUT":
                self._send_json(200, api._replace(res, ns, name, body, sub, dry_run))
            elif method == "PATCH":
                content_type = self.headers.get("Content-Type", "")
                self._send_json(200, api._patch(res, ns, name, content_type, body, sub, dry_run))
            elif method == "DELETE":
                self._send_json(200, api._delete(res, ns, name, body, query))
            else:
                raise _error(405, "MethodNotAllowed", f"{method} is not supported here")
        except StoreError as exc:
            raise _error(exc.code, exc.reason, exc.message, name=name, resource=res) from None
        except Invalid as exc:
            group = f".{res.group}" if res.group else ""
            who = name or (body or {}).get("metadata", {}).get("name", "")
            raise _error(
                422,
                "Invalid",
                f'{res.kind}{group} "{who}" is invalid: {exc.field}: {exc.detail}',
                name=who,
                resource=res,
                causes=[{"reason": exc.reason, "message": exc.detail, "field": exc.field}],
            ) from None
        except BadRequest as exc:
            raise _error(400, "BadRequest", str(exc)) from None
        except PatchError as exc:
            reason = {415: "UnsupportedMediaType", 400: "BadRequest"}.get(exc.status, "Invalid")
            raise _error(exc.status, reason, str(exc)) from None
        except SelectorError as exc:
            raise _error(400, "BadRequest", str(exc)) from None

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
            raise _error(410, "Expired", "too old resource version (injected)")

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
                    raise _error(400, "BadRequest", f"invalid resourceVersion {rv!r}") from None
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0

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
            while not api._stopping.is_set() and (max_events is None or sent < max_events):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with api.store.changed:
                    try:
                        events: list[WatchEvent] = api.store.events_after(cursor)
                    except StoreError as exc:
                        send("ERROR", status_body(410, "Expired", exc.message))
                        break
                    if not events:
                        api.store.changed.wait(min(remaining, 0.25))
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
            if bookmarks and not api._stopping.is_set():
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


class FakeKubeApiServer:
    """The fake API server, its store, its controller and its fault hooks.

    `speed` is how many times faster than the wall clock the fake cluster runs: pods
    take one simulated second to start, migration Jobs one (`slowmigrate`: five), and
    progress deadlines and Job deadlines count simulated seconds too.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        speed: float = 1.0,
        token: str | None = None,
        timing: Timing | None = None,
        tick: float | None = None,
        history_limit: int = 20000,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the fake API server binds loopback only, not {host!r}")
        self.host = host
        self.port = port
        self.token = token
        self.store = Store(history_limit=history_limit)
        self.controller = Controller(self.store, speed=speed, timing=timing or Timing(), tick=tick)
        self.faults = Faults()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._calls_lock = threading.Lock()
        self._stopping = threading.Event()
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start serving and the controller; returns the base URL."""
        self._stopping.clear()
        self._serve()
        self.controller.start()
        return self.url

    def _serve(self) -> None:
        self._http = _HttpServer((self.host, self.port), self)
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()
        self.controller.stop()
        self._close_listener()

    def __enter__(self) -> FakeKubeApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close_listener(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def refuse_connections(self) -> None:
        """Stop listening (new connections are refused) and drop open ones."""
        self._close_listener()

    def accept_connections(self) -> None:
        """Listen again on the same port after `refuse_connections`."""
        if self._http is None:
            self._serve()

    def _track(self, conn: socket.socket, open_: bool) -> None:
        with self._conns_lock:
            if open_:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    # --- configuration for clients -------------------------------------------------

    def write_kubeconfig(
        self,
        path: str | Path,
        context: str = "sandbox",
        namespace: str = "default",
        token: str | None = None,
    ) -> Path:
        """Write a kubeconfig whose `context` points at this server."""
        target = Path(path)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {"token": token or self.token or "sandbox"}}],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": context, "user": context, "namespace": namespace},
                }
            ],
            "current-context": context,
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(config, sort_keys=False))
        target.chmod(0o600)
        return target

    # --- API calls, counted --------------------------------------------------------

    def _count(self, method: str, path: str, query: Mapping[str, str]) -> None:
        match = _PATH.match(path)
        plural = match["plural"] if match else path
        if match and match["sub"]:
            plural = f"{plural}/{match['sub']}"
        if method == "GET":
            if match and match["name"]:
                verb = "get"
            else:
                verb = "watch" if query.get("watch") in ("true", "1") else "list"
        else:
            verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
        with self._calls_lock:
            self._calls[(verb, plural)] += 1

    @property
    def api_calls(self) -> Counter[tuple[str, str]]:
        """Requests so far by (verb, resource): `("patch", "deployments")`."""
        with self._calls_lock:
            return Counter(self._calls)

    def call_count(self, verb: str | None = None, resource: str | None = None) -> int:
        with self._calls_lock:
            return sum(
                n
                for (v, r), n in self._calls.items()
                if (verb is None or v == verb) and (resource is None or r == resource)
            )

    def reset_calls(self) -> None:
        with self._calls_lock:
            self._calls.clear()

    # --- request handling (called by the handler) ----------------------------------

    def _list(self, res: Resource, ns: str, query: Mapping[str, str]) -> Obj:
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"))
        items, rv = self.store.list(
            res.plural,
            ns,
            lambda o: labels((o.get("metadata") or {}).get("labels") or {}) and fields(o),
        )
        return {
            "apiVersion": res.api_version,
            "kind": f"{res.kind}List",
            "metadata": {"resourceVersion": str(rv)},
            "items": items,
        }

    def _create(self, res: Resource, ns: str, body: Any, dry_run: bool) -> Obj:
        if not isinstance(body, dict):
            raise BadRequest("the body of the request must be an object")
        meta = body.get("metadata") or {}
        if meta.get("namespace") not in (None, "", ns):
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent "
                "on the request"
            )
        if body.get("kind") not in (None, res.kind):
            raise BadRequest(f"a {body.get('kind')} cannot be created as {res.plural}")
        return self.store.create(res.plural, ns, body, dry_run=dry_run)

    def _replace(
        self, res: Resource, ns: str, name: str, body: Any, sub: str, dry_run: bool
    ) -> Obj:
        if not isinstance(body, dict):
            raise BadRequest("the body of the request must be an object")
        return self.store.update(
            res.plural, ns, name, lambda _cur: body, subresource=sub, dry_run=dry_run
        )

    def _patch(
        self,
        res: Resource,
        ns: str,
        name: str,
        content_type: str,
        body: Any,
        sub: str,
        dry_run: bool,
    ) -> Obj:
        kind = content_type.split(";")[0].strip()
        if kind not in PATCH_TYPES:
            raise PatchError(f"the body of the request was in an unknown format - {kind}", 415)
        return self.store.update(
            res.plural,
            ns,
            name,
            lambda cur: apply_patch(kind, cur, body),
            subresource=sub,
            dry_run=dry_run,
        )

    def _delete(
        self, res: Resource, ns: str, name: str, body: Any, query: Mapping[str, str]
    ) -> Obj:
        precondition = None
        if isinstance(body, dict):
            precondition = (body.get("preconditions") or {}).get("resourceVersion")
        gone = self.store.delete(res.plural, ns, name, precondition_rv=precondition)
        if res.plural == "pods":  # a graceful delete answers with the pod itself
            gone["metadata"]["deletionTimestamp"] = gone["metadata"]["creationTimestamp"]
            gone["metadata"]["deletionGracePeriodSeconds"] = 0
            return gone
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": res.group,
                "kind": res.plural,
                "uid": gone["metadata"]["uid"],
            },
        }

    def _pod_log(self, ns: str, name: str, query: Mapping[str, str]) -> str:
        pod = self.store.get("pods", ns, name)
        if pod is None:
            raise StoreError(404, "NotFound", f'pods "{name}" not found')
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container")
        if container is None:
            if len(names) > 1:
                raise BadRequest(
                    f"a container name must be specified for pod {name}, "
                    f"choose one of: [{' '.join(names)}]"
                )
            container = names[0]
        if container not in names:
            raise BadRequest(f"container {container} is not valid for pod {name}")
        key = (ns, name, container)
        logs = (
            self.controller.previous_logs
            if query.get("previous") == "true"
            else self.controller.logs
        )
        if key not in logs:
            if query.get("previous") == "true":
                raise BadRequest(
                    f'previous terminated container "{container}" in pod "{name}" not found'
                )
            raise BadRequest(
                f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            )
        text = logs[key]
        tail = query.get("tailLines")
        if tail is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail) :]) if int(tail) > 0 else ""
        return text

    # --- seeding and reading, for tests and the sandbox -----------------------------

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        """A copy of one stored object (`resource` is the plural: "deployments")."""
        return self.store.get(resource, namespace, name)

    def objects(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Copies of every stored object of a resource."""
        return self.store.list(resource, namespace)[0]

    def put(self, resource: str, namespace: str, obj: Obj) -> Obj:
        """Create an object directly (no API call counted)."""
        return self.store.create(resource, namespace, obj)

    def seed_deployment(
        self,
        namespace: str,
        name: str,
        image: str,
        replicas: int = 2,
        containers: Sequence[str] | Mapping[str, str] | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        progress_deadline_seconds: int = 600,
        wait: bool = True,
    ) -> Obj:
        """A Deployment already rolled out (its pods ready at once) unless `wait` is False.

        `containers`: names that all run `image`, or a name -> image mapping. Default:
        one container named like the Deployment.
        """
        template = _template(name, image, containers, labels)
        spec = {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template,
            "progressDeadlineSeconds": progress_deadline_seconds,
        }
        return self._seed("deployments", namespace, name, spec, wait)

    def seed_statefulset(
        self,
        namespace: str,
        name: str,
        image: str,
        replicas: int = 2,
        containers: Sequence[str] | Mapping[str, str] | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> Obj:
        """A StatefulSet already rolled out, like `seed_deployment`."""
        template = _template(name, image, containers, labels)
        spec = {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": template,
        }
        return self._seed("statefulsets", namespace, name, spec, wait)

    def seed_cronjob(
        self,
        namespace: str,
        name: str,
        image: str,
        schedule: str = "0 3 * * *",
        containers: Sequence[str] | Mapping[str, str] | None = None,
    ) -> Obj:
        """A CronJob (no controller runs it: ship only changes its job template)."""
        template = _template(name, image, containers, None)
        template["spec"]["restartPolicy"] = "OnFailure"
        spec = {"schedule": schedule, "jobTemplate": {"spec": {"template": template}}}
        return self.store.create("cronjobs", namespace, {"metadata": {"name": name}, "spec": spec})

    def _seed(self, resource: str, namespace: str, name: str, spec: Obj, wait: bool) -> Obj:
        created = self.store.create(resource, namespace, {"metadata": {"name": name}, "spec": spec})
        if wait:
            self.controller.make_instant(created["spec"]["template"])
            self.settle(resource, namespace, name)
        return self.store.get(resource, namespace, name) or created

    def settle(self, resource: str, namespace: str, name: str, timeout: float = 5.0) -> None:
        """Run the controller until the workload is rolled out (or `timeout` passes)."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            self.controller.reconcile()
            obj = self.store.get(resource, namespace, name)
            if obj is not None and _rolled_out(obj):
                return
            time.sleep(0.005)
        raise TimeoutError(f"{resource}/{name} did not roll out within {timeout}s")


def _template(
    name: str,
    image: str,
    containers: Sequence[str] | Mapping[str, str] | None,
    labels: Mapping[str, str] | None,
) -> Obj:
    if containers is None:
        pairs = [(name, image)]
    elif isinstance(containers, Mapping):
        pairs = list(containers.items())
    else:
        pairs = [(c, image) for c in containers]
    return {
        "metadata": {"labels": {"app": name, **(labels or {})}},
        "spec": {"containers": [{"name": n, "image": i} for n, i in pairs]},
    }


def _rolled_out(obj: Obj) -> bool:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = int(spec.get("replicas", 1))
    if int(status.get("observedGeneration") or 0) < int(obj["metadata"].get("generation", 1)):
        return False
    if obj["kind"] == "StatefulSet":
        return (
            int(status.get("readyReplicas") or 0) == want
            and int(status.get("updatedReplicas") or 0) == want
            and status.get("currentRevision") == status.get("updateRevision")
        )
    return (
        int(status.get("updatedReplicas") or 0) == want
        and int(status.get("availableReplicas") or 0) == want
        and int(status.get("replicas") or 0) == want
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["FakeKubeApiServer", "Timing", "template_hash"]
