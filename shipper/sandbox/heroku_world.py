"""The Heroku stand-in's state: apps, builds, slugs, releases, formation and dynos.

Time moves the way Heroku's does, but lazily: a build or a release phase carries the
moment it will finish, and every read first settles whatever has finished by then
(`settle`). There are no timer threads, so the state is the same whichever request
looks first, and a test can drive it with its own clock.

What `ship` sent is counted here (`received`, `journal`): the reliability suite and the
end-to-end tests assert on it (never two builds of one version on one app, the
migration before any build, ...).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from shipper.sandbox import arrival, scenarios
from shipper.sandbox.heroku_estate import seed_app
from shipper.sandbox.heroku_records import (
    PROCESS_TYPES,
    STACK,
    USER,
    App,
    Build,
    Formation,
    Release,
    Slug,
    Timings,
    WorldError,
    _iso,
    _uuid,
)

__all__ = [
    "PROCESS_TYPES",
    "STACK",
    "USER",
    "App",
    "Build",
    "Formation",
    "HerokuWorld",
    "Release",
    "Slug",
    "Timings",
    "WorldError",
    "_iso",
]


class HerokuWorld:
    """All apps of the stand-in's one account, behind one lock."""

    def __init__(
        self,
        apps: tuple[str, ...],
        seed_version: str = "v1",
        timings: Timings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.timings = timings or Timings()
        self.clock = clock
        self.lock = threading.RLock()
        self.apps: dict[str, App] = {}
        self.slugs: dict[str, Slug] = {}
        self.received: dict[str, Counter[str]] = {
            "builds": Counter(),
            "releases": Counter(),
            "rollbacks": Counter(),
            "formation": Counter(),
            "cancels": Counter(),
        }
        self.journal: list[dict[str, Any]] = []
        for shape, name in enumerate(apps):
            seed_app(self, name, seed_version, shape)

    # --- seeding -----------------------------------------------------------------------

    # --- lookups -----------------------------------------------------------------------

    def app(self, ident: str) -> App:
        for app in self.apps.values():
            if ident in (app.name, app.id):
                return app
        raise WorldError(404, "not_found", "Couldn't find that app.")

    def release(self, app: App, ident: str) -> Release:
        for rel in app.releases:
            if ident in (rel.id, str(rel.number), f"v{rel.number}"):
                return rel
        raise WorldError(404, "not_found", "Couldn't find that release.")

    def build(self, app: App, ident: str) -> Build:
        for build in app.builds:
            if build.id == ident:
                return build
        raise WorldError(404, "not_found", "Couldn't find that build.")

    def slug(self, ident: str) -> Slug:
        if ident in self.slugs:
            return self.slugs[ident]
        raise WorldError(404, "not_found", "Couldn't find that slug.")

    def current(self, app: App) -> Release | None:
        return next((r for r in app.releases if r.id == app.current), None)

    def running_version(self, name: str) -> str | None:
        """The application version the app's live release runs (None before a deploy)."""
        with self.lock:
            self.settle()
            rel = self.current(self.app(name))
            return rel.version if rel else None

    # --- time --------------------------------------------------------------------------

    def settle(self) -> None:
        """Finish every build and release phase whose time has come."""
        now = self.clock()
        with self.lock:
            for app in self.apps.values():
                for build in app.builds:
                    if build.status == "pending" and now >= build.finish_at:
                        self._finish_build(app, build)
                for rel in sorted(app.releases, key=lambda r: r.finish_at):
                    if rel.status == "pending" and now >= rel.finish_at:
                        self._finish_release(app, rel)

    def _finish_build(self, app: App, build: Build) -> None:
        build.updated_at = build.finish_at
        if scenarios.fails_build(build.version):
            build.status = "failed"
            build.log += [
                "-----> Building on the Heroku-24 stack",
                "-----> Installing requirements with pip",
                f"       ERROR: could not build {build.version}: compilation failed (scripted)",
                " !     Push rejected, failed to compile Python app.",
            ]
            return
        commit = build.source.get("version") or None  # the Build API records source_blob.version
        slug = Slug(
            _uuid("slug", app.name, build.id), app.name, build.version, build.finish_at, commit
        )
        self.slugs[slug.id] = slug
        build.status = "succeeded"
        build.slug_id = slug.id
        build.log += [
            "-----> Building on the Heroku-24 stack",
            "-----> Installing requirements with pip",
            "-----> Compressing...",
            "       Done: 2K",
            "-----> Launching...",
        ]
        rel = self._new_release(app, slug, f"Deploy {build.version}", at=build.finish_at)
        build.release_id = rel.id
        build.log.append(f"       Released v{rel.number}")

    def _finish_release(self, app: App, rel: Release) -> None:
        rel.updated_at = rel.finish_at
        if rel.has_phase and scenarios.fails_release_phase(rel.version):
            rel.status = "failed"
            rel.log += [
                "Running release command...",
                f"release command for {rel.version} failed: exit status 1 (scripted)",
            ]
            return
        rel.status = "succeeded"
        if rel.has_phase:
            rel.log += ["Running release command...", "Release command finished"]
        live = self.current(app)
        if live is None or rel.number > live.number:
            app.previous = app.current
            app.current = rel.id
            app.current_since = rel.finish_at

    def _new_release(
        self, app: App, slug: Slug | None, description: str, at: float | None = None
    ) -> Release:
        start = self.clock() if at is None else at
        number = max((r.number for r in app.releases), default=0) + 1
        has_phase = slug is not None and "release" in PROCESS_TYPES
        rel = Release(
            id=str(uuid.uuid4()),
            app=app.name,
            number=number,
            slug_id=slug.id if slug else None,
            version=slug.version if slug else None,
            description=description,
            created_at=start,
            finish_at=start
            + (self._phase_seconds(slug.version if slug else None) if has_phase else 0.0),
            updated_at=start,
            has_phase=has_phase,
            requested_at=arrival.arrived() if at is None else None,  # made by this call
        )
        app.releases.append(rel)
        if not has_phase:
            self._finish_release(app, rel)
        return rel

    def _phase_seconds(self, version: str | None) -> float:
        if scenarios.release_phase_stuck(version):
            return scenarios.STUCK_SECONDS
        return self.timings.release_phase

    def _note(self, kind: str, app: str, version: str | None, **extra: Any) -> None:
        self.received[kind][f"{app}@{version}"] += 1
        self.journal.append(
            {"at": self.clock(), "side": "heroku", "kind": kind, "target": app, "version": version}
            | extra
        )

    # --- changes -----------------------------------------------------------------------

    def create_build(self, ident: str, body: Any) -> Build:
        with self.lock:
            app = self.app(ident)
            blob = body.get("source_blob") if isinstance(body, dict) else None
            if not isinstance(blob, dict) or not isinstance(blob.get("url"), str):
                raise WorldError(422, "invalid_params", "source_blob.url is required.")
            version = blob.get("version")
            if not isinstance(version, str) or not version:
                version = _version_from_url(blob["url"])
            now = self.clock()
            build = Build(
                id=str(uuid.uuid4()),
                app=app.name,
                version=version,
                source={
                    "checksum": blob.get("checksum"),
                    "url": blob["url"],
                    "version": blob.get("version"),
                    "version_description": blob.get("version_description"),
                },
                created_at=now,
                finish_at=now + self.timings.build * scenarios.build_factor(version),
                updated_at=now,
            )
            app.builds.append(build)
            self._note("builds", app.name, version)
            return build

    def cancel_build(self, ident: str, build_id: str) -> Build:
        """Stop a pending build: it fails, and never makes a slug or a release. A build
        that already finished is returned as it is."""
        with self.lock:
            self.settle()
            app = self.app(ident)
            build = self.build(app, build_id)
            if build.status == "pending":
                build.status = "failed"
                build.updated_at = self.clock()
                build.log += ["-----> Build cancelled"]
                self._note("cancels", app.name, build.version)
            return build

    def create_release(self, ident: str, body: Any) -> Release:
        """`{"slug": id}` releases a slug; `{"release": id}` rolls back to that release."""
        with self.lock:
            self.settle()
            app = self.app(ident)
            if not isinstance(body, dict):
                raise WorldError(400, "bad_request", "Request body must be a JSON object.")
            if "release" in body:
                target = self.release(app, str(body["release"]))
                if target.status != "succeeded" or target.slug_id is None:
                    raise WorldError(
                        422, "invalid_params", f"Release v{target.number} cannot be rolled back to."
                    )
                slug = self.slug(target.slug_id)
                rel = self._new_release(app, slug, f"Rollback to v{target.number}")
                self._note("rollbacks", app.name, slug.version, to=target.number)
                return rel
            if not isinstance(body.get("slug"), str):
                raise WorldError(422, "invalid_params", "slug is required.")
            slug = self.slug(body["slug"])
            description = body.get("description")
            text = description if isinstance(description, str) else f"Deploy {slug.version}"
            rel = self._new_release(app, slug, text)
            self._note("releases", app.name, slug.version)
            return rel

    def update_formation(self, ident: str, updates: Any, docker: bool) -> list[Formation]:
        """Scale or resize; with docker images (the docker-releases variant) release them."""
        with self.lock:
            app = self.app(ident)
            if not isinstance(updates, list) or not updates:
                raise WorldError(422, "invalid_params", "updates must be a non-empty list.")
            images: dict[str, str] = {}
            now = self.clock()
            for item in updates:
                if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                    raise WorldError(422, "invalid_params", "every update needs a type.")
                if "docker_image" in item:
                    if not docker:
                        raise WorldError(
                            422,
                            "invalid_params",
                            "docker_image needs Accept: application/vnd.heroku+json; "
                            "version=3.docker-releases.",
                        )
                    images[item["type"]] = str(item["docker_image"])
                    continue
                form = app.formation.get(item["type"])
                if form is None:
                    form = app.formation.setdefault(
                        item["type"], Formation(item["type"], 0, created_at=now)
                    )
                if "quantity" in item:
                    form.quantity = int(item["quantity"])
                size = item.get("dyno_size") or {}
                if isinstance(size, dict) and size.get("name"):
                    form.size = str(size["name"])
                form.updated_at = now
            if images:
                version = _version_from_image(images.get("web") or next(iter(images.values())))
                slug = Slug(_uuid("image", app.name, *images.values()), app.name, version, now)
                self.slugs[slug.id] = slug
                for kind, image in images.items():
                    if kind in app.formation:
                        app.formation[kind].docker_image = image
                shown = ", ".join(f"{k} ({v[-12:]})" for k, v in images.items())
                self._new_release(app, slug, f"Deployed {shown}")
                self._note("formation", app.name, version)
            return list(app.formation.values())

    # --- dynos -------------------------------------------------------------------------

    def dynos(self, app: App) -> list[dict[str, Any]]:
        """The dynos of the live release: starting, then up (or crashed, if scripted).
        Under preboot the previous release's web dynos serve on beside them for
        `Timings.preboot` seconds, as Heroku keeps old and new running side by side."""
        rel = self.current(app)
        if rel is None:
            return []
        now = self.clock()
        old = next((r for r in app.releases if r.id == app.previous), None)
        overlap = app.features.get("preboot") and now < app.current_since + self.timings.preboot
        prebooted = []
        if old is not None and overlap:
            web = app.formation.get("web")
            prebooted = [
                {
                    "attach_url": None,
                    "command": PROCESS_TYPES["web"],
                    "created_at": _iso(app.current_since - 60),
                    "id": _uuid("dyno", app.name, old.id, "web", str(i)),
                    "name": f"web.{i}",
                    "release": {"id": old.id, "version": old.number},
                    "app": {"id": app.id, "name": app.name},
                    "size": web.size if web else "Standard-1X",
                    "state": "up",
                    "type": "web",
                    "updated_at": _iso(app.current_since),
                }
                for i in range(1, (web.quantity if web else 0) + 1)
            ]
        if now < app.current_since + self.timings.dyno_boot:
            state = "starting"
        elif scenarios.crashes_dynos(rel.version):
            state = "crashed"
        else:
            state = "up"
        out = []
        for form in app.formation.values():
            if form.type == "release":
                continue
            for i in range(1, form.quantity + 1):
                out.append(
                    {
                        "attach_url": None,
                        "command": PROCESS_TYPES.get(form.type, f"bin/{form.type}"),
                        "created_at": _iso(app.current_since),
                        "id": _uuid("dyno", app.name, rel.id, form.type, str(i)),
                        "name": f"{form.type}.{i}",
                        "release": {"id": rel.id, "version": rel.number},
                        "app": {"id": app.id, "name": app.name},
                        "size": form.size,
                        "state": state,
                        "type": form.type,
                        "updated_at": _iso(max(now, app.current_since)),
                    }
                )
        return prebooted + out

    # --- what ship sent ----------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Versions running now and what the stand-in received, for tests and `status`."""
        with self.lock:
            self.settle()
            apps = {}
            for app in self.apps.values():
                rel = self.current(app)
                apps[app.name] = {
                    "version": rel.version if rel else None,
                    "release": rel.number if rel else None,
                    "releases": len(app.releases),
                    "builds": len(app.builds),
                }
            return {
                "apps": apps,
                "received": {k: dict(v) for k, v in self.received.items()},
                "journal": list(self.journal),
            }


def _version_from_url(url: str) -> str | None:
    """`.../artifacts/v2.tar.gz` -> `v2`: what the source tarball names itself."""
    tail = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if tail.endswith(suffix):
            return tail[: -len(suffix)] or None
    return tail or None


def _version_from_image(image: str) -> str | None:
    """`registry/app:v2` -> `v2`; a bare digest carries no version."""
    if image.startswith("sha256:"):
        return None
    name = image.rsplit("/", 1)[-1]
    return name.split(":", 1)[1].split("@", 1)[0] if ":" in name else None
