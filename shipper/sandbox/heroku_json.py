"""The stand-in's records rendered in the official schema's shapes (app, build, release,
formation, feature), so what the adapter parses here is what production sends."""

from __future__ import annotations

import uuid
from typing import Any

from shipper.sandbox.heroku_records import (
    STACK,
    USER,
    App,
    Build,
    Formation,
    Release,
    _iso,
)
from shipper.sandbox.web import Request


def base_url(request: Request) -> str:
    """The stand-in's own address, as the client reached it (for stream URLs)."""
    return f"http://{request.header('Host') or '127.0.0.1'}"


def app_json(app: App, current: Release | None) -> dict[str, Any]:
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


def build_json(build: Build, app: App, request: Request) -> dict[str, Any]:
    return {
        "app": {"id": app.id},
        "buildpacks": [{"url": "heroku/python", "name": "heroku/python"}],
        "created_at": _iso(build.created_at),
        "generation": "cedar",
        "id": build.id,
        "output_stream_url": f"{base_url(request)}/streams/builds/{build.id}.log",
        "release": {"id": build.release_id} if build.release_id else None,
        "slug": {"id": build.slug_id} if build.slug_id else None,
        "source_blob": dict(build.source),
        "stack": STACK["name"],
        "status": build.status,
        "updated_at": _iso(build.updated_at),
        "user": dict(USER),
    }


def release_json(rel: Release, app: App, request: Request) -> dict[str, Any]:
    slug = {"id": rel.slug_id} if rel.slug_id else None
    stream = None
    if rel.has_phase:
        stream = f"{base_url(request)}/streams/releases/{rel.id}.log"
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


def feature_json(app: App, name: str) -> dict[str, Any]:
    """An app feature (`preboot` is the one ship reads)."""
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


def formation_json(form: Formation, app: App) -> dict[str, Any]:
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
