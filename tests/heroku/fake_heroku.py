"""A scripted Heroku Platform API behind respx, for the adapter's tests.

It keeps builds, releases and dynos per app, moves builds and release phase forward on
the test's FakeClock, answers lists with Range / 206 / Next-Range and GETs with ETags,
and checks every request against the official schema (`schema.py`) and the headers
ship must send. Failures are scripted per route: `fail(method, path_regex, responses)`
queues answers (or exceptions) served before the normal handling.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fakes.clock import FakeClock
from tests.heroku.schema import PlatformSchema

API = "https://api.heroku.com"
STREAMS = "https://build-output.heroku.com"
_RANGE = re.compile(
    r"^(?P<field>\w+) (?P<start>\]?[^.]*)\.\.(?P<end>[^;]*)"
    r"(?:; max=(?P<max>\d+))?(?:, order=(?P<order>asc|desc))?$"
)

Scripted = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def _uuid() -> str:
    return str(uuid.uuid4())


@dataclass
class App:
    name: str
    id: str = field(default_factory=_uuid)
    releases: list[dict[str, Any]] = field(default_factory=list)
    builds: list[dict[str, Any]] = field(default_factory=list)
    dynos: list[dict[str, Any]] = field(default_factory=list)
    release_phase: bool = True
    preboot: bool = False  # the old release's web dyno serves on for `preboot_seconds`


class FakeHeroku:
    """The state of a few Heroku apps and the rules that move it forward."""

    def __init__(self, apps: list[str], clock: FakeClock, token: str) -> None:
        self.clock = clock
        self.token = token
        self.schema = PlatformSchema()
        self.apps = {name: App(name) for name in apps}
        self.requests: list[httpx.Request] = []
        self.build_seconds = 60.0
        self.release_seconds = 30.0
        self.build_outcome: dict[str, str] = {}  # app -> "failed"
        self.release_outcome: dict[str, str] = {}  # app -> "failed"
        self.build_log: str | None = "-----> Building\nERROR: could not compile\n"  # None: no log
        self.release_log = "Running release command...\nmigration failed: relation exists\n"
        self.builds_range_ok = True
        self.cancelled: list[str] = []
        self.rate_limit_remaining: int | None = None
        self._scripts: list[tuple[str, re.Pattern[str], list[Scripted]]] = []
        self.streams: dict[str, str | None] = {}
        self.stream_requests: list[httpx.Request] = []
        self._guard = threading.RLock()
        self.hold_streams = False  # streams of running commands stay open until they end
        self.stream_hook: Callable[[httpx.Request], httpx.Response] | None = None
        self.router: Any = None  # the respx router serving this fake, for extra routes
        self.slugs: dict[str, dict[str, Any]] = {}  # id -> the slug's body
        self.preboot_seconds = 90.0
        for app in self.apps.values():
            self.seed_release(app.name, "v41")

    # --- scripting ----------------------------------------------------------------

    def fail(self, method: str, path: str, *answers: Scripted) -> None:
        self._scripts.append((method, re.compile(path), list(answers)))

    def expect_together(self, waiting: str, other: str) -> list[bool]:
        """Script the next GET of `waiting` (a path regex) to wait up to 2 s for a GET of
        `other` to be asked: it sees it only when both are in flight at once. The list
        returned gets True (they overlapped) or False per wait."""
        asked = threading.Event()
        overlapped: list[bool] = []

        def wait_for_other(request: httpx.Request) -> httpx.Response:
            overlapped.append(asked.wait(timeout=2))
            return self._route(request)

        def other_asked(request: httpx.Request) -> httpx.Response:
            asked.set()
            return self._route(request)

        self.fail("GET", waiting, wait_for_other)
        self.fail("GET", other, other_asked)
        return overlapped

    def seed_release(
        self,
        app: str,
        label: str,
        *,
        by_build: bool = True,
        commit: str | None = "",
        description: str | None = None,
    ) -> dict[str, Any]:
        """A finished, current release of `label` (made by a build of that version).

        Its slug's `commit` is `label` (as the Build API records `source_blob.version`)
        unless `commit` says otherwise (None: the slug records none)."""
        state = self.apps[app]
        slug = self.new_slug(label if commit == "" else commit)
        release = self._new_release(
            state, slug, description or f"Deploy {label}", status="succeeded"
        )
        if by_build:
            state.builds.append(self._build_body(state, label, "succeeded", release["id"], slug))
        self._make_current(state, release)
        state.dynos = [self._dyno(state, "web.1", "up", release)]
        return release

    def new_slug(self, commit: str | None) -> str:
        slug = _uuid()
        self.slugs[slug] = {
            "id": slug,
            "commit": commit,
            "commit_description": None,
            "blob": {"method": "get", "url": f"https://slugs.example.com/{slug}.tgz"},
            "buildpack_provided_description": "Ruby/Rack",
            "checksum": None,
            "process_types": {"web": "bin/web"},
            "size": 1024,
            "stack": {"id": _uuid(), "name": "heroku-24"},
            "created_at": "2026-11-26T12:00:00Z",
            "updated_at": "2026-11-26T12:00:00Z",
        }
        return slug

    def release_config(self, app: str, description: str) -> dict[str, Any]:
        """A config-var (or add-on) release: the current slug released again, as Heroku
        does when a config var changes. Current at once (no release phase)."""
        state = self.apps[app]
        live = self.current(app)
        slug = live["slug"]["id"] if live.get("slug") else None
        release = self._new_release(state, slug, description, status="succeeded")
        self._make_current(state, release)
        state.dynos = [self._dyno(state, "web.1", "up", release)]
        return release

    def cli_rollback(self, app: str, number: int) -> dict[str, Any]:
        """What `heroku rollback vN` leaves: a finished, current "Rollback to vN" release
        of that release's slug."""
        state = self.apps[app]
        target = next(r for r in state.releases if r["version"] == number)
        slug = target["slug"]["id"] if target.get("slug") else None
        release = self._new_release(state, slug, f"Rollback to v{number}", status="succeeded")
        self._make_current(state, release)
        state.dynos = [self._dyno(state, "web.1", "up", release)]
        return release

    def calls(self, method: str, path_regex: str) -> list[httpx.Request]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r.method == method and pattern.search(r.url.path)]

    # --- the HTTP side ------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers.get("Authorization") == f"Bearer {self.token}", "no bearer"
        assert request.headers.get("User-Agent", "").startswith("ship/")
        assert request.headers.get("Request-Id")
        self.schema.link_for(request)
        for method, pattern, answers in self._scripts:
            if method == request.method and pattern.search(request.url.path) and answers:
                answer = answers.pop(0)
                if isinstance(answer, Exception):
                    raise answer
                if callable(answer) and not isinstance(answer, httpx.Response):
                    return answer(request)
                return answer
        with self._guard:  # one request at a time, as one consistent platform
            self._advance()
            response = self._route(request)
        if self.rate_limit_remaining is not None:
            response.headers["RateLimit-Remaining"] = str(self.rate_limit_remaining)
        return response

    def stream(self, request: httpx.Request) -> httpx.Response:
        """An output stream. A finished command's output; for a command still running,
        with `hold_streams` the stream stays open until it ends (on the fake clock: the
        clock moves to its end), else the stream ends at once, empty (ship then looks at
        the resource and goes back to polling)."""
        assert "Authorization" not in request.headers, "a stream URL got the token"
        self.stream_requests.append(request)
        if self.stream_hook is not None:
            return self.stream_hook(request)
        with self._guard:
            return self._stream(request)

    def _stream(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        running = self._running_with_stream(path)
        if running is not None:
            if not self.hold_streams:
                return httpx.Response(200, text="", headers={"Content-Type": "text/plain"})
            self.clock.advance(max(0.0, running["_finish_at"] - self.clock.monotonic()))
            self._advance()
        text: str | None
        if path in self.streams:  # a test's output (None: a stream that never starts)
            text = self.streams[path]
        else:
            text = "-----> Done\n" if self._with_stream(path) is not None else None
        if text is None:
            return httpx.Response(404, json={"id": "not_found", "message": "not started"})
        return httpx.Response(200, text=text, headers={"Content-Type": "text/plain"})

    def _running_with_stream(self, path: str) -> dict[str, Any] | None:
        item = self._with_stream(path)
        return item if item is not None and item["status"] == "pending" else None

    def _with_stream(self, path: str) -> dict[str, Any] | None:
        for app in self.apps.values():
            for item in [*app.builds, *app.releases]:
                url = item.get("output_stream_url")
                if url and _path(url) == path:
                    return item
        return None

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body: Any = json.loads(request.content) if request.content else None
        m = re.fullmatch(
            r"/apps/([^/]+)/(builds|releases|dynos|formation|slugs|features)(?:/([^/]+))?", path
        )
        if not m or m.group(1) not in self.apps:
            return httpx.Response(
                404, json={"id": "not_found", "message": "Couldn't find that app."}
            )
        app, kind, ident = self.apps[m.group(1)], m.group(2), m.group(3)
        match (request.method, kind, ident):
            case ("GET", "releases", None):
                return self._list(request, app.releases, "version")
            case ("GET", "builds", None):
                if self.builds_range_ok:
                    return self._list(request, app.builds, "created_at")
                if request.headers.get("Range", "id").startswith("id"):
                    return self._list(request, app.builds, "id")
                return httpx.Response(
                    416, json={"id": "requested_range_not_satisfiable", "message": "bad range"}
                )
            case ("GET", "releases", str()):
                found = next(
                    (r for r in app.releases if ident in (r["id"], str(r["version"]))), None
                )
                return self._one(request, found)
            case ("GET", "builds", str()):
                return self._one(request, next((b for b in app.builds if b["id"] == ident), None))
            case ("GET", "slugs", str()):
                return self._one(request, self.slugs.get(ident))
            case ("GET", "features", "preboot"):
                return httpx.Response(200, json={"name": "preboot", "enabled": app.preboot})
            case ("GET", "dynos", None):
                now = self.clock.monotonic()
                app.dynos = [d for d in app.dynos if d.get("_until", now + 1) > now]
                return httpx.Response(200, json=[_public(d) for d in app.dynos])
            case ("DELETE", "builds", str()):
                build = next((b for b in app.builds if b["id"] == ident), None)
                if build is not None and build["status"] == "pending":
                    build["status"] = "failed"
                    self.cancelled.append(ident)
                return self._one(request, build)
            case ("POST", "builds", None):
                blob = body["source_blob"]
                started = self._build_body(app, blob.get("version"), "pending", None, None)
                started["source_blob"]["url"] = blob["url"]
                started["_finish_at"] = self.clock.monotonic() + self.build_seconds
                app.builds.append(started)
                return httpx.Response(201, json=_public(started))
            case ("POST", "releases", None):
                if "release" in body:
                    target = next(r for r in app.releases if r["id"] == body["release"])
                    release = self._new_release(
                        app, target["slug"]["id"], f"Rollback to v{target['version']}"
                    )
                else:
                    release = self._new_release(
                        app, body["slug"], body.get("description") or "Deploy"
                    )
                return httpx.Response(201, json=_public(release))
            case ("PATCH", "formation", None):
                digest = body["updates"][0]["docker_image"]
                self._new_release(app, None, f"Deployed web ({digest[7:19]})")
                return httpx.Response(200, json=[])
        return httpx.Response(404, json={"id": "not_found", "message": "no such route"})

    def _one(self, request: httpx.Request, item: dict[str, Any] | None) -> httpx.Response:
        if item is None:
            return httpx.Response(404, json={"id": "not_found", "message": "Couldn't find that."})
        body = _public(item)
        etag = '"' + hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, json=body, headers={"ETag": etag})

    def _list(
        self, request: httpx.Request, items: list[dict[str, Any]], key: str
    ) -> httpx.Response:
        raw = request.headers.get("Range")
        ordered = sorted(items, key=lambda i: i[key])
        limit = 200
        if raw:
            m = _RANGE.match(raw)
            assert m and m.group("field") == key, f"bad Range {raw!r}"
            limit = int(m.group("max") or 200)
            if m.group("order") == "desc":
                ordered.reverse()
            start = m.group("start")
            if start.startswith("]"):
                after = start[1:]
                idx = next(i for i, item in enumerate(ordered) if str(item[key]) == after)
                ordered = ordered[idx + 1 :]
        page = [_public(i) for i in ordered[:limit]]
        if len(ordered) > limit:
            order = m.group("order") if raw and m else "asc"
            nxt = f"{key} ]{ordered[limit - 1][key]}..; max={limit}, order={order}"
            return httpx.Response(206, json=page, headers={"Next-Range": nxt})
        return httpx.Response(200, json=page)

    # --- the platform's rules -----------------------------------------------------

    def _advance(self) -> None:
        now = self.clock.monotonic()
        for app in self.apps.values():
            for build in app.builds:
                if build["status"] == "pending" and now >= build["_finish_at"]:
                    self._finish_build(app, build)
            for release in app.releases:
                if release["status"] == "pending" and now >= release["_finish_at"]:
                    outcome = self.release_outcome.get(app.name, "succeeded")
                    release["status"] = outcome
                    if outcome == "succeeded":
                        self._go_live(app, release)
                    else:
                        self.streams[_path(release["output_stream_url"])] = self.release_log

    def _finish_build(self, app: App, build: dict[str, Any]) -> None:
        if self.build_outcome.get(app.name) == "failed":
            build["status"] = "failed"
            self.streams[_path(build["output_stream_url"])] = self.build_log
            return
        slug = self.new_slug(build["source_blob"]["version"])
        release = self._new_release(app, slug, f"Deploy {build['source_blob']['version']}")
        build.update(status="succeeded", slug={"id": slug}, release={"id": release["id"]})

    def _new_release(
        self, app: App, slug: str | None, description: str, status: str | None = None
    ) -> dict[str, Any]:
        version = max((r["version"] for r in app.releases), default=0) + 1
        release_id = _uuid()
        pending = status is None and app.release_phase
        release = {
            "id": release_id,
            "version": version,
            "status": status or ("pending" if pending else "succeeded"),
            "current": False,
            "description": description,
            "eligible_for_rollback": True,
            "slug": {"id": slug} if slug else None,
            "output_stream_url": f"{STREAMS}/streams/{release_id}.log?X-Amz-Signature=s3cr3t"
            if pending
            else None,
            "app": {"id": app.id, "name": app.name},
            "created_at": f"2026-11-26T12:{len(app.releases):02d}:00Z",
            "_finish_at": self.clock.monotonic() + self.release_seconds,
        }
        app.releases.append(release)
        if release["status"] == "succeeded" and status is None:
            self._go_live(app, release)
        return release

    def _make_current(self, app: App, release: dict[str, Any]) -> None:
        for other in app.releases:
            other["current"] = other is release

    def _go_live(self, app: App, release: dict[str, Any]) -> None:
        """`release` becomes current and its dyno replaces the old ones; under preboot the
        old web dynos serve on for `preboot_seconds`."""
        self._make_current(app, release)
        now = self.clock.monotonic()
        old = [
            d | {"_until": now + self.preboot_seconds}
            for d in app.dynos
            if app.preboot and d["type"] == "web"
        ]
        app.dynos = [*old, self._dyno(app, "web.1", "up", release)]

    def _build_body(
        self, app: App, version: str | None, status: str, release: str | None, slug: str | None
    ) -> dict[str, Any]:
        build_id = _uuid()
        return {
            "id": build_id,
            "app": {"id": app.id},
            "status": status,
            "source_blob": {
                "url": "https://codeload.example.com/x.tgz",
                "version": version,
                "checksum": None,
                "version_description": None,
            },
            "release": {"id": release} if release else None,
            "slug": {"id": slug} if slug else None,
            "output_stream_url": f"{STREAMS}/streams/{build_id}.log?X-Amz-Signature=s3cr3t",
            "created_at": f"2026-11-26T12:{len(app.builds):02d}:30Z",
            "stack": "heroku-24",
        }

    def _dyno(self, app: App, name: str, state: str, release: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _uuid(),
            "name": name,
            "type": name.split(".")[0],
            "state": state,
            "command": "bin/web",
            "release": {"id": release["id"], "version": release["version"]},
            "app": {"id": app.id, "name": app.name},
        }

    # --- views for assertions -----------------------------------------------------

    def current(self, app: str) -> dict[str, Any]:
        return next(r for r in self.apps[app].releases if r["current"])

    def builds_of(self, app: str, version: str) -> list[dict[str, Any]]:
        return [b for b in self.apps[app].builds if b["source_blob"]["version"] == version]


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _path(url: str) -> str:
    return httpx.URL(url).path
