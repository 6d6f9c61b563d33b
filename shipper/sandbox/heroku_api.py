"""The Heroku Platform API stand-in: the HTTP face of `HerokuWorld`.

It answers as api.heroku.com does for the calls a release makes, with bodies shaped by
the official schema: `Accept: application/vnd.heroku+json; version=3` required (406
without it), `Authorization: Bearer` required (401 without the right token), a
`Request-Id` and `RateLimit-Remaining` on every answer, an `ETag` on every GET (304 on
`If-None-Match`), Range pagination on lists (206 and `Next-Range` when a page leaves
items out) and `{id, message}` error bodies. Build and release-phase output is served at
capability URLs that need no token, 404 until the command has started, as on Heroku.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from shipper.sandbox.faults import Fault, FaultPlan
from shipper.sandbox.heroku_world import (
    STACK,
    USER,
    App,
    Build,
    Formation,
    HerokuWorld,
    Release,
    WorldError,
    _iso,
)
from shipper.sandbox.ranges import RangeError, paginate, parse_range
from shipper.sandbox.web import Answer, Request

ACCEPT = "application/vnd.heroku+json"
BUCKET_SIZE = 4500
REFILL_PER_SECOND = 4500 / 3600

Route = tuple[str, re.Pattern[str], str]

_ROUTES: list[Route] = [
    (m, re.compile(f"^{p}$"), name)
    for m, p, name in [
        ("GET", r"/account", "account"),
        ("GET", r"/account/rate-limits", "rate_limits"),
        ("GET", r"/apps", "apps"),
        ("GET", r"/apps/(?P<app>[^/]+)", "app"),
        ("GET", r"/apps/(?P<app>[^/]+)/builds", "builds"),
        ("POST", r"/apps/(?P<app>[^/]+)/builds", "create_build"),
        ("GET", r"/apps/(?P<app>[^/]+)/builds/(?P<ident>[^/]+)", "build"),
        ("DELETE", r"/apps/(?P<app>[^/]+)/builds/(?P<ident>[^/]+)", "cancel_build"),
        ("GET", r"/apps/(?P<app>[^/]+)/slugs/(?P<ident>[^/]+)", "slug"),
        ("GET", r"/apps/(?P<app>[^/]+)/releases", "releases"),
        ("POST", r"/apps/(?P<app>[^/]+)/releases", "create_release"),
        ("GET", r"/apps/(?P<app>[^/]+)/releases/(?P<ident>[^/]+)", "release"),
        ("GET", r"/apps/(?P<app>[^/]+)/releases/(?P<ident>[^/]+)/config-vars", "release_config"),
        ("GET", r"/apps/(?P<app>[^/]+)/config-vars", "config"),
        ("GET", r"/apps/(?P<app>[^/]+)/formation", "formations"),
        ("PATCH", r"/apps/(?P<app>[^/]+)/formation", "update_formations"),
        ("GET", r"/apps/(?P<app>[^/]+)/formation/(?P<kind>[^/]+)", "formation"),
        ("PATCH", r"/apps/(?P<app>[^/]+)/formation/(?P<kind>[^/]+)", "update_formation"),
        ("GET", r"/apps/(?P<app>[^/]+)/dynos", "dynos"),
        ("GET", r"/apps/(?P<app>[^/]+)/dynos/(?P<ident>[^/]+)", "dyno"),
        ("GET", r"/apps/(?P<app>[^/]+)/features", "features"),
        ("GET", r"/apps/(?P<app>[^/]+)/features/(?P<ident>[^/]+)", "feature"),
    ]
]

STREAM_HOLD = 120.0  # the longest a stream stays open before it ends anyway
STREAM_LOOK = 0.02  # how often an open stream looks whether its command has ended
_STREAM = re.compile(r"^/streams/(?P<kind>builds|releases)/(?P<ident>[0-9a-f-]+)\.log$")
_ARTIFACT = re.compile(r"^/artifacts/(?P<version>[A-Za-z0-9._+@-]+)\.tar\.gz$")


class HerokuApi:
    """The Platform API over one `HerokuWorld`, for one account and its token."""

    def __init__(
        self, world: HerokuWorld, token: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.world = world
        self._token = token
        self.faults = FaultPlan()
        self.calls: Counter[str] = Counter()  # "GET releases" -> n: API calls made
        self._clock = clock
        self._bucket_lock = threading.Lock()
        self.bucket_size = BUCKET_SIZE
        self._tokens = float(BUCKET_SIZE)
        self._filled_at = clock()

    # --- transport conventions ---------------------------------------------------------

    def handle(self, request: Request) -> Answer:
        headers = {"Request-Id": str(uuid.uuid4())}
        answer = self._route(request, headers)
        answer.headers.update(headers)
        return answer

    def fault_answer(self, fault: Fault) -> Answer:
        headers = {"Request-Id": str(uuid.uuid4())}
        if fault.status == 429:
            headers["RateLimit-Remaining"] = "0"
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            return _error(429, "rate_limit", _RATE_LIMIT_MESSAGE, headers)
        if fault.status >= 500:
            return _error(fault.status, "internal_server_error", "Internal server error.", headers)
        return _error(fault.status, "bad_request", "Scripted refusal.", headers)

    def _route(self, request: Request, headers: dict[str, str]) -> Answer:
        stream = _STREAM.match(request.path)
        if stream and request.method == "GET":
            return self._stream(stream["kind"], stream["ident"], request)
        artifact = _ARTIFACT.match(request.path)
        if artifact and request.method in ("GET", "HEAD"):
            return _tarball(artifact["version"])
        accept = request.header("Accept") or ""
        if ACCEPT not in accept or "version=3" not in accept:
            return _error(406, "not_acceptable", f"Accept: {ACCEPT}; version=3 is required.")
        auth = request.header("Authorization") or ""
        if auth != f"Bearer {self._token}":
            return _error(401, "unauthorized", "Invalid credentials provided.")
        for method, pattern, name in _ROUTES:
            match = pattern.match(request.path)
            if match is None:
                continue
            if method != request.method:
                continue
            free = name == "rate_limits"
            remaining = self._spend(0 if free else 1)
            headers["RateLimit-Remaining"] = str(remaining)
            if remaining < 0:
                headers["RateLimit-Remaining"] = "0"
                return _error(429, "rate_limit", _RATE_LIMIT_MESSAGE)
            self.calls[f"{request.method} {name}"] += 1
            try:
                answer: Answer = getattr(self, f"_{name}")(request, **match.groupdict())
            except WorldError as exc:
                return _error(exc.status, exc.error_id, exc.message)
            except RangeError as exc:
                return _error(416, "requested_range_not_satisfiable", str(exc))
            except ValueError:
                return _error(400, "bad_request", "Request body is not valid JSON.")
            return _conditional(request, answer)
        return _error(404, "not_found", "The requested API endpoint was not found.")

    def _spend(self, cost: int) -> int:
        """Take `cost` tokens from the account's bucket; negative when it was empty."""
        with self._bucket_lock:
            now = self._clock()
            refill = (now - self._filled_at) * REFILL_PER_SECOND
            self._tokens = min(float(self.bucket_size), self._tokens + refill)
            self._filled_at = now
            if self._tokens < cost:
                return -1
            self._tokens -= cost
            return int(self._tokens)

    def set_bucket(self, size: int, tokens: int | None = None) -> None:
        with self._bucket_lock:
            self.bucket_size = size
            self._tokens = float(size if tokens is None else tokens)
            self._filled_at = self._clock()

    # --- account and apps --------------------------------------------------------------

    def _account(self, request: Request) -> Answer:
        return Answer.of_json(200, {**USER, "name": "ship sandbox", "verified": True})

    def _rate_limits(self, request: Request) -> Answer:
        return Answer.of_json(200, {"remaining": max(self._spend(0), 0)})

    def _apps(self, request: Request) -> Answer:
        with self.world.lock:
            apps = list(self.world.apps.values())
            return self._list(request, apps, ("id", "name"), "id", self._app_json)

    def _app(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            return Answer.of_json(200, self._app_json(self.world.app(app)))

    def _app_json(self, app: App) -> dict[str, Any]:
        current = self.world.current(app)
        return {
            "acm": False,
            "archived_at": None,
            "buildpack_provided_description": "Python",
            "build_stack": dict(STACK),
            "created_at": _iso(app.created_at),
            "generation": {"id": "cedar-0000-4000-8000-000000000000", "name": "cedar"},
            "git_url": f"https://git.heroku.com/{app.name}.git",
            "id": app.id,
            "internal_routing": None,
            "maintenance": False,
            "name": app.name,
            "owner": dict(USER),
            "organization": None,
            "team": None,
            "region": {"id": "59accabd-516d-4f0e-83e6-6e3757701145", "name": "us"},
            "released_at": _iso(current.updated_at) if current else None,
            "repo_size": None,
            "slug_size": 2048,
            "space": None,
            "stack": dict(STACK),
            "updated_at": _iso(app.created_at),
            "web_url": f"https://{app.name}.herokuapp.com/",
        }

    # --- builds and slugs --------------------------------------------------------------

    def _builds(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            found = self.world.app(app)
            return self._list(
                request,
                found.builds,
                ("id", "created_at"),
                "created_at",
                lambda b: self._build_json(b, request),
            )

    def _create_build(self, request: Request, app: str) -> Answer:
        build = self.world.create_build(app, request.json())
        with self.world.lock:
            return Answer.of_json(201, self._build_json(build, request))

    def _build(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            return Answer.of_json(
                200, self._build_json(self.world.build(self.world.app(app), ident), request)
            )

    def _cancel_build(self, request: Request, app: str, ident: str) -> Answer:
        build = self.world.cancel_build(app, ident)
        with self.world.lock:
            return Answer.of_json(200, self._build_json(build, request))

    def _build_json(self, build: Build, request: Request) -> dict[str, Any]:
        app = self.world.app(build.app)
        return {
            "app": {"id": app.id},
            "buildpacks": [{"url": "heroku/python", "name": "heroku/python"}],
            "created_at": _iso(build.created_at),
            "generation": "cedar",
            "id": build.id,
            "output_stream_url": f"{_base(request)}/streams/builds/{build.id}.log",
            "release": {"id": build.release_id} if build.release_id else None,
            "slug": {"id": build.slug_id} if build.slug_id else None,
            "source_blob": dict(build.source),
            "stack": STACK["name"],
            "status": build.status,
            "updated_at": _iso(build.updated_at),
            "user": dict(USER),
        }

    def _slug(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            self.world.app(app)
            return Answer.of_json(200, self.world.slug(ident).to_json())

    # --- releases ----------------------------------------------------------------------

    def _releases(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            found = self.world.app(app)
            return self._list(
                request,
                found.releases,
                ("id", "version"),
                "version",
                lambda r: self._release_json(r, found, request),
            )

    def _create_release(self, request: Request, app: str) -> Answer:
        rel = self.world.create_release(app, request.json())
        with self.world.lock:
            return Answer.of_json(201, self._release_json(rel, self.world.app(app), request))

    def _release(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            found = self.world.app(app)
            return Answer.of_json(
                200, self._release_json(self.world.release(found, ident), found, request)
            )

    def _release_config(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            self.world.release(found, ident)
            return Answer.of_json(200, dict(found.config))

    def _config(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            return Answer.of_json(200, dict(self.world.app(app).config))

    def _release_json(self, rel: Release, app: App, request: Request) -> dict[str, Any]:
        slug = {"id": rel.slug_id} if rel.slug_id else None
        stream = None
        if rel.has_phase:
            stream = f"{_base(request)}/streams/releases/{rel.id}.log"
        return {
            "addon_plan_names": ["heroku-postgresql:essential-0"],
            "artifacts": [{"type": "slug", "id": rel.slug_id}] if rel.slug_id else [],
            "app": {"id": app.id, "name": app.name},
            "created_at": _iso(rel.created_at),
            "description": rel.description,
            "id": rel.id,
            "updated_at": _iso(rel.updated_at),
            "slug": slug,
            "status": rel.status,
            "user": dict(USER),
            "version": rel.number,
            "current": rel.id == app.current,
            "output_stream_url": stream,
            "eligible_for_rollback": rel.status == "succeeded" and rel.slug_id is not None,
        }

    # --- formation and dynos -----------------------------------------------------------

    def _formations(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            forms = list(found.formation.values())
            return self._list(
                request, forms, ("id", "type"), "type", lambda f: _formation_json(f, found)
            )

    def _update_formations(self, request: Request, app: str) -> Answer:
        body = request.json()
        updates = body.get("updates") if isinstance(body, dict) else None
        docker = "docker-releases" in (request.header("Accept") or "")
        forms = self.world.update_formation(app, updates, docker)
        with self.world.lock:
            found = self.world.app(app)
            return Answer.of_json(200, [_formation_json(f, found) for f in forms])

    def _formation(self, request: Request, app: str, kind: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            form = found.formation.get(kind)
            if form is None:
                raise WorldError(404, "not_found", "Couldn't find that formation.")
            return Answer.of_json(200, _formation_json(form, found))

    def _update_formation(self, request: Request, app: str, kind: str) -> Answer:
        body = request.json()
        update = {"type": kind, **(body if isinstance(body, dict) else {})}
        forms = self.world.update_formation(app, [update], docker=False)
        with self.world.lock:
            found = self.world.app(app)
            form = next(f for f in forms if f.type == kind)
            return Answer.of_json(200, _formation_json(form, found))

    def _dynos(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            dynos = self.world.dynos(self.world.app(app))
            return self._list(request, dynos, ("id", "name"), "name", lambda d: d)

    def _dyno(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            for dyno in self.world.dynos(self.world.app(app)):
                if ident in (dyno["id"], dyno["name"]):
                    return Answer.of_json(200, dyno)
            raise WorldError(404, "not_found", "Couldn't find that dyno.")

    # --- features ---------------------------------------------------------------------

    def _features(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            return Answer.of_json(200, [_feature_json(found, n) for n in sorted(found.features)])

    def _feature(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            if ident not in found.features:
                raise WorldError(404, "not_found", "Couldn't find that feature.")
            return Answer.of_json(200, _feature_json(found, ident))

    # --- lists, streams ----------------------------------------------------------------

    def _list(
        self,
        request: Request,
        items: list[Any],
        fields: tuple[str, ...],
        default: str,
        render: Callable[[Any], dict[str, Any]],
    ) -> Answer:
        wanted = parse_range(request.header("Range"), fields, default)
        page, following = paginate(items, wanted, _range_key)
        body = [render(item) for item in page]
        headers = {"Accept-Ranges": ", ".join(fields)}
        if page:
            first, last = _range_key(page[0], wanted.field), _range_key(page[-1], wanted.field)
            headers["Content-Range"] = f"{wanted.field} {first}..{last}"
        if following is None:
            return Answer.of_json(200, body, headers)
        headers["Next-Range"] = following.render()
        return Answer.of_json(206, body, headers)

    def _stream(self, kind: str, ident: str, request: Request) -> Answer:
        """The build or release-phase log: 404 until the command has started, then open
        for as long as the command runs (its output comes when it ends), as Heroku's
        output streams stay open while a build or release command runs."""
        with self.world.lock:
            found = self._streamed(kind, ident)
            if found is None:
                return Answer.of_text(404, "stream not found\n")
            if self.world.clock() < found.created_at + self.world.timings.stream_start:
                return Answer.of_text(404, "stream not started\n")
            pending = found.status == "pending"
            text = _log_text(found)
        skip = _byte_offset(request.header("Range"))
        status = 206 if skip else 200
        content_type = "text/plain; charset=utf-8"
        if not pending:
            return Answer(status, text.encode()[skip:], content_type)
        return Answer(status, b"", content_type, more=self._rest_of(kind, ident, skip))

    def _streamed(self, kind: str, ident: str) -> Build | Release | None:
        self.world.settle()
        found: Build | Release | None = None
        for app in self.world.apps.values():
            pool: list[Any] = app.builds if kind == "builds" else app.releases
            found = next((x for x in pool if x.id == ident), found)
        if found is None or (isinstance(found, Release) and not found.has_phase):
            return None
        return found

    def _rest_of(self, kind: str, ident: str, skip: int) -> Iterator[bytes]:
        """The output once the command has ended; after STREAM_HOLD seconds the stream
        ends anyway (the client then looks at the resource and reconnects or polls)."""
        until = time.monotonic() + STREAM_HOLD
        while time.monotonic() < until:
            time.sleep(STREAM_LOOK)
            with self.world.lock:
                found = self._streamed(kind, ident)
                if found is None or found.status != "pending":
                    text = _log_text(found) if found is not None else ""
                    yield text.encode()[skip:]
                    return


def _log_text(found: Build | Release) -> str:
    lines = list(found.log) or ["-----> Running..."]
    if found.status == "pending":
        return ""  # a running command's output arrives when it ends
    return "\n".join(lines) + "\n"


_RATE_LIMIT_MESSAGE = (
    "Your account reached the API rate limit. Please wait a few minutes before making new requests"
)


def _error(
    status: int, error_id: str, message: str, headers: dict[str, str] | None = None
) -> Answer:
    body: dict[str, Any] = {"id": error_id, "message": message}
    if error_id == "rate_limit":
        body["url"] = "https://devcenter.heroku.com/articles/platform-api-reference#rate-limits"
    return Answer.of_json(status, body, headers)


def _conditional(request: Request, answer: Answer) -> Answer:
    """ETag on every successful GET; 304 with no body when the client already has it."""
    if request.method != "GET" or answer.status not in (200, 206):
        return answer
    tag = '"' + hashlib.sha1(answer.body, usedforsecurity=False).hexdigest() + '"'
    answer.headers["ETag"] = tag
    if request.header("If-None-Match") == tag:
        return Answer(304, b"", answer.content_type, answer.headers)
    return answer


def _range_key(item: Any, field: str) -> str | int:
    if isinstance(item, dict):
        value = item[field]
    elif field == "version":
        value = item.number
    elif field == "created_at":
        value = _iso(item.created_at)
    else:
        value = getattr(item, field)
    return value if isinstance(value, int) else str(value)


def _feature_json(app: App, name: str) -> dict[str, Any]:
    """An app feature in the schema's shape (`preboot` is the one ship reads)."""
    return {
        "created_at": _iso(app.created_at),
        "description": "Provide seamless web dyno deploys" if name == "preboot" else name,
        "display_name": name,
        "doc_url": f"https://devcenter.heroku.com/articles/{name}",
        "enabled": bool(app.features.get(name)),
        "feedback_email": "",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"feature:{app.id}:{name}")),
        "name": name,
        "state": "general",
        "updated_at": _iso(app.created_at),
    }


def _formation_json(form: Formation, app: App) -> dict[str, Any]:
    return {
        "app": {"id": app.id, "name": app.name},
        "command": f"bin/{form.type}",
        "created_at": _iso(form.created_at),
        "dyno_size": {"id": "e6e2f3e3-3b0a-4b8f-8c1e-3d5f2b0e6a11", "name": form.size},
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"formation:{app.name}:{form.type}")),
        "quantity": form.quantity,
        "size": form.size,
        "type": form.type,
        "updated_at": _iso(form.updated_at),
    }


def _base(request: Request) -> str:
    return f"http://{request.header('Host') or '127.0.0.1'}"


def _byte_offset(header: str | None) -> int:
    match = re.fullmatch(r"bytes=(\d+)-", (header or "").strip())
    return int(match.group(1)) if match else 0


def _tarball(version: str) -> Answer:
    """A small, real source tarball for `version`, as a source_blob.url would serve."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in (
            ("Procfile", "web: bin/web\nworker: bin/worker\nrelease: bin/release\n"),
            ("VERSION", f"{version}\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(f"app-{version}/{name}")
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return Answer(200, gzip.compress(buffer.getvalue(), mtime=0), "application/gzip")
