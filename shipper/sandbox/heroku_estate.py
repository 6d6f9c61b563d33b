"""The history a sandbox app has before ship first meets it, as production apps have:
`git push` builds of SHAs, config-var and add-on releases, a `heroku rollback`, a Pipeline
promotion; no ship description anywhere (docs/sandbox.md has the table)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from shipper.sandbox.heroku_records import App, Build, Formation, Release, Slug, _uuid

if TYPE_CHECKING:
    from shipper.sandbox.heroku_world import HerokuWorld


def seed_app(world: HerokuWorld, name: str, version: str, shape: int = 0) -> None:
    """An app with the history real apps have when ship first meets them: deployed by
    `git push` (builds whose `source_blob.version` is a SHA, releases described
    `Deploy 1a2b3c4d`), a config-var release, a bad push put back by `heroku
    rollback`, then `version` arriving by a Pipeline promotion (`shape` 0: a slug
    built on another app, no build here) or by one more `git push` (`shape` 1), and
    an add-on and a config-var release after it. No ship description anywhere; the
    first app has preboot on. What runs at the end is `version`."""
    at = world.clock() - 86400
    app = App(id=_uuid("app", name), name=name, created_at=at)
    app.formation = {
        "web": Formation("web", 1, created_at=at, updated_at=at),
        "worker": Formation("worker", 1, created_at=at, updated_at=at),
    }
    app.config = {
        "SANDBOX": "1",
        "REDIS_URL": "redis://sandbox.invalid:6379",
        # what the preflight's connection budget reads by name (the rest: names only)
        "WEB_CONCURRENCY": "2",
        "RAILS_MAX_THREADS": "5",
        "DATABASE_URL": "postgres://shop:sandbox-not-a-secret@db.sandbox.invalid/shop",
        "PAPERTRAIL_API_TOKEN": "sandbox-not-a-secret",
    }
    app.features = {"preboot": not world.apps}
    world.apps[name] = app
    _history(app, "Initial release", None, at)
    first = _pushed(world, app, f"{version}-rc1", at + 600)
    _history(app, "Set REDIS_URL config vars", first, at + 1200)
    _pushed(world, app, f"{version}-rc2", at + 1800)  # a bad push, put back next
    _history(app, "Rollback to v2", first, at + 2400)
    if shape % 2 == 0:
        sha = _sha(f"{name}-staging", version)
        slug = Slug(_uuid("slug", name, version), name, version, at + 2900, sha)
        world.slugs[slug.id] = slug
        _history(app, f"Promote {name}-staging v31 {sha[:8]}", slug, at + 3000)
    else:
        slug = _pushed(world, app, version, at + 3000)
    addon = "Attach HEROKU_POSTGRESQL_AMBER (@ref:postgresql-sandbox-1)"
    _history(app, addon, slug, at + 3300)
    _history(app, "Set FEATURE_FLAGS config vars", slug, at + 3600)


def _pushed(world: HerokuWorld, app: App, version: str, at: float) -> Slug:
    """A `git push` of `version`: a build of its SHA, its slug, its release."""
    sha = _sha(app.name, version)
    slug = Slug(_uuid("slug", app.name, version), app.name, version, at, sha)
    world.slugs[slug.id] = slug
    rel = _history(app, f"Deploy {sha[:8]}", slug, at)
    app.builds.append(
        Build(
            id=_uuid("build", app.name, version),
            app=app.name,
            version=version,
            source={"checksum": None, "url": None, "version": sha, "version_description": None},
            created_at=at - 90,
            finish_at=at,
            status="succeeded",
            updated_at=at,
            slug_id=slug.id,
            release_id=rel.id,
            log=["-----> Building on the Heroku-24 stack", f"       Released v{rel.number}"],
        )
    )
    return slug


def _history(app: App, description: str, slug: Slug | None, at: float) -> Release:
    """A release that finished long ago, made current."""
    number = len(app.releases) + 1
    rel = Release(
        id=_uuid("release", app.name, str(number)),
        app=app.name,
        number=number,
        slug_id=slug.id if slug else None,
        version=slug.version if slug else None,
        description=description,
        created_at=at,
        finish_at=at,
        status="succeeded",
        updated_at=at,
        has_phase=slug is not None,
    )
    app.releases.append(rel)
    app.previous, app.current, app.current_since = app.current, rel.id, at
    return rel


def _sha(*parts: str) -> str:
    """A stable 40-character SHA for a seeded commit."""
    return hashlib.sha1(":".join(parts).encode()).hexdigest()
