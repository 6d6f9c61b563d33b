"""The Heroku Platform API stand-in: the HTTP face of `HerokuWorld`.

It answers as api.heroku.com does for the calls a release makes, with bodies shaped by
the official schema (`heroku_json`): `Accept: application/vnd.heroku+json; version=3`
required (406 without it), `Authorization: Bearer` required (401 without the right
token), a `Request-Id` and `RateLimit-Remaining` on every answer, an `ETag` on every GET
(304 on `If-None-Match`), Range pagination on lists (206 and `Next-Range` when a page
leaves items out) and `{id, message}` error bodies (`heroku_wire`). Build and
release-phase output and source tarballs are served at capability URLs that need no
token (`heroku_streams`).

Every API call is counted by route (`calls`) and kept in order (`journal`), so a test
can hold the adapter to the exact calls a release makes.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from shipper.sandbox.faults import Fault, FaultPlan
from shipper.sandbox.heroku_json import (
    app_json,
    build_json,
    feature_json,
    formation_json,
    release_json,
)
from shipper.sandbox.heroku_records import USER
from shipper.sandbox.heroku_streams import ARTIFACT, STREAM, OutputStreams, tarball
from shipper.sandbox.heroku_wire import (
    RATE_LIMIT_MESSAGE,
    RateBucket,
    answer_list,
    conditional,
    error,
)
from shipper.sandbox.heroku_world import HerokuWorld, WorldError
from shipper.sandbox.ranges import RangeError
from shipper.sandbox.web import Answer, Request

ACCEPT = "application/vnd.heroku+json"
JOURNAL_SIZE = 10_000

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


class HerokuApi:
    """The Platform API over one `HerokuWorld`, for one account and its token."""

    def __init__(
        self, world: HerokuWorld, token: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.world = world
        self._token = token
        self.faults = FaultPlan()
        self.calls: Counter[str] = Counter()  # "GET releases" -> n: API calls made
        # "GET /apps/shop-web/releases 200", in the order they came (304s included)
        self.journal: deque[str] = deque(maxlen=JOURNAL_SIZE)
        self._journal_guard = threading.Lock()
        self.bucket = RateBucket(clock)
        self._streams = OutputStreams(world)

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
            return error(429, "rate_limit", RATE_LIMIT_MESSAGE, headers)
        if fault.status >= 500:
            return error(fault.status, "internal_server_error", "Internal server error.", headers)
        return error(fault.status, "bad_request", "Scripted refusal.", headers)

    def set_bucket(self, size: int, tokens: int | None = None) -> None:
        self.bucket.set(size, tokens)

    def calls_since(self, mark: int = 0) -> list[str]:
        """The journal's entries after the first `mark` ("GET /apps/a/dynos 200")."""
        with self._journal_guard:
            return list(self.journal)[mark:]

    def _route(self, request: Request, headers: dict[str, str]) -> Answer:
        stream = STREAM.match(request.path)
        if stream and request.method == "GET":
            return self._streams.answer(stream["kind"], stream["ident"], request)
        artifact = ARTIFACT.match(request.path)
        if artifact and request.method in ("GET", "HEAD"):
            return tarball(artifact["version"])
        accept = request.header("Accept") or ""
        if ACCEPT not in accept or "version=3" not in accept:
            return error(406, "not_acceptable", f"Accept: {ACCEPT}; version=3 is required.")
        auth = request.header("Authorization") or ""
        if auth != f"Bearer {self._token}":
            return error(401, "unauthorized", "Invalid credentials provided.")
        for method, pattern, name in _ROUTES:
            match = pattern.match(request.path)
            if match is None or method != request.method:
                continue
            remaining = self.bucket.spend(0 if name == "rate_limits" else 1)
            headers["RateLimit-Remaining"] = str(max(remaining, 0))
            if remaining < 0:
                return self._noted(request, error(429, "rate_limit", RATE_LIMIT_MESSAGE))
            self.calls[f"{request.method} {name}"] += 1
            try:
                answer: Answer = getattr(self, f"_{name}")(request, **match.groupdict())
            except WorldError as exc:
                answer = error(exc.status, exc.error_id, exc.message)
            except RangeError as exc:
                answer = error(416, "requested_range_not_satisfiable", str(exc))
            except ValueError:
                answer = error(400, "bad_request", "Request body is not valid JSON.")
            return self._noted(request, conditional(request, answer))
        return error(404, "not_found", "The requested API endpoint was not found.")

    def _noted(self, request: Request, answer: Answer) -> Answer:
        with self._journal_guard:
            self.journal.append(f"{request.method} {request.path} {answer.status}")
        return answer

    # --- account and apps --------------------------------------------------------------

    def _account(self, request: Request) -> Answer:
        return Answer.of_json(200, {**USER, "name": "ship sandbox", "verified": True})

    def _rate_limits(self, request: Request) -> Answer:
        return Answer.of_json(200, {"remaining": max(self.bucket.spend(0), 0)})

    def _apps(self, request: Request) -> Answer:
        with self.world.lock:
            apps = list(self.world.apps.values())
            return answer_list(
                request, apps, ("id", "name"), "id", lambda a: app_json(a, self.world.current(a))
            )

    def _app(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            return Answer.of_json(200, app_json(found, self.world.current(found)))

    # --- builds and slugs --------------------------------------------------------------

    def _builds(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            found = self.world.app(app)
            return answer_list(
                request,
                found.builds,
                ("id", "created_at"),
                "created_at",
                lambda b: build_json(b, found, request),
            )

    def _create_build(self, request: Request, app: str) -> Answer:
        build = self.world.create_build(app, request.json())
        with self.world.lock:
            return Answer.of_json(201, build_json(build, self.world.app(app), request))

    def _build(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            found = self.world.app(app)
            return Answer.of_json(200, build_json(self.world.build(found, ident), found, request))

    def _cancel_build(self, request: Request, app: str, ident: str) -> Answer:
        build = self.world.cancel_build(app, ident)
        with self.world.lock:
            return Answer.of_json(200, build_json(build, self.world.app(app), request))

    def _slug(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            self.world.app(app)
            return Answer.of_json(200, self.world.slug(ident).to_json())

    # --- releases and config vars ------------------------------------------------------

    def _releases(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            found = self.world.app(app)
            return answer_list(
                request,
                found.releases,
                ("id", "version"),
                "version",
                lambda r: release_json(r, found, request),
            )

    def _create_release(self, request: Request, app: str) -> Answer:
        rel = self.world.create_release(app, request.json())
        with self.world.lock:
            return Answer.of_json(201, release_json(rel, self.world.app(app), request))

    def _release(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            found = self.world.app(app)
            rel = self.world.release(found, ident)
            return Answer.of_json(200, release_json(rel, found, request))

    def _release_config(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            self.world.release(found, ident)
            return Answer.of_json(200, dict(found.config))

    def _config(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            return Answer.of_json(200, dict(self.world.app(app).config))

    # --- formation and dynos -----------------------------------------------------------

    def _formations(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            forms = list(found.formation.values())
            return answer_list(
                request, forms, ("id", "type"), "type", lambda f: formation_json(f, found)
            )

    def _update_formations(self, request: Request, app: str) -> Answer:
        body = request.json()
        updates = body.get("updates") if isinstance(body, dict) else None
        docker = "docker-releases" in (request.header("Accept") or "")
        forms = self.world.update_formation(app, updates, docker)
        with self.world.lock:
            found = self.world.app(app)
            return Answer.of_json(200, [formation_json(f, found) for f in forms])

    def _formation(self, request: Request, app: str, kind: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            form = found.formation.get(kind)
            if form is None:
                raise WorldError(404, "not_found", "Couldn't find that formation.")
            return Answer.of_json(200, formation_json(form, found))

    def _update_formation(self, request: Request, app: str, kind: str) -> Answer:
        body = request.json()
        update = {"type": kind, **(body if isinstance(body, dict) else {})}
        forms = self.world.update_formation(app, [update], docker=False)
        with self.world.lock:
            found = self.world.app(app)
            form = next(f for f in forms if f.type == kind)
            return Answer.of_json(200, formation_json(form, found))

    def _dynos(self, request: Request, app: str) -> Answer:
        with self.world.lock:
            self.world.settle()
            dynos: list[Any] = self.world.dynos(self.world.app(app))
            return answer_list(request, dynos, ("id", "name"), "name", lambda d: d)

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
            return Answer.of_json(200, [feature_json(found, n) for n in sorted(found.features)])

    def _feature(self, request: Request, app: str, ident: str) -> Answer:
        with self.world.lock:
            found = self.world.app(app)
            if ident not in found.features:
                raise WorldError(404, "not_found", "Couldn't find that feature.")
            return Answer.of_json(200, feature_json(found, ident))
