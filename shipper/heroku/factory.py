"""Wiring: a pipeline and the environment in, the Heroku adapters out.

This is what the CLI calls. It is the only place that reads the Heroku-related
environment (`SHIP_HEROKU_API_URL`, `SHIP_HEROKU_STATUS_URL`, `HEROKU_API_KEY`, `HOME`)
and the only place that builds real httpx clients for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx

from shipper.errors import BadInput, PipelineError
from shipper.heroku.api import HerokuApi
from shipper.heroku.auth import resolve_token
from shipper.heroku.image import ImageResolver
from shipper.heroku.platform import HerokuArtifact, HerokuPlatform
from shipper.heroku.retry import Retrier
from shipper.heroku.status_gate import HerokuStatusGate
from shipper.pipeline import Pipeline
from shipper.ports import Clock, MigrationRunner, StatusGate
from shipper.tls import shared_context

API_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def _url_from(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.match(r"^https?://[^\s/]+", raw):
        raise BadInput(f"{name} is not an http(s) URL; fix or unset it")
    return raw


def build_heroku_platform(
    pipeline: Pipeline,
    *,
    clock: Clock,
    env: Mapping[str, str],
    deadline_cap: float | None = None,
) -> HerokuPlatform:
    """The Heroku side of `pipeline`, talking to `heroku.api_url` (or
    SHIP_HEROKU_API_URL) with the token `resolve_token` finds. `deadline_cap` bounds
    every call's retries (read-only commands use it to answer quickly)."""
    section = pipeline.heroku
    if section is None:
        raise PipelineError(f"pipeline {pipeline.name} has no heroku section")
    api_url = _url_from(env, "SHIP_HEROKU_API_URL", section.api_url).rstrip("/")
    token = resolve_token(api_url, env, section.netrc)
    api = HerokuApi(
        httpx.Client(base_url=api_url, timeout=API_TIMEOUT, verify=shared_context()),
        token,
        clock=clock,
        retrier=Retrier(clock, deadline_cap=deadline_cap),
    )
    artifact = HerokuArtifact(
        type=section.artifact.type,
        url=section.artifact.url,
        image=section.artifact.image,
        process_types=section.artifact.process_types,
    )
    images = ImageResolver(httpx.Client(timeout=API_TIMEOUT, verify=shared_context()), token)
    return HerokuPlatform(api, section.apps, artifact, images=images)


def build_status_gate(pipeline: Pipeline, *, env: Mapping[str, str]) -> StatusGate | None:
    """The platform status gate, or None when `gates.heroku_status` is absent."""
    section = pipeline.gates.heroku_status
    if section is None:
        return None
    url = _url_from(env, "SHIP_HEROKU_STATUS_URL", section.url)
    client = httpx.Client(timeout=section.timeout, follow_redirects=False, verify=shared_context())
    return HerokuStatusGate(url, section.systems, client, timeout=section.timeout)


def build_heroku_migration_runner(
    pipeline: Pipeline, *, clock: Clock, env: Mapping[str, str]
) -> MigrationRunner:
    """Refuses, on purpose: a one-off dyno runs the app's *current* release, so before
    the code release it would run the old version's migrations and report success
    while the new ones never ran. Heroku runs a version's own migrations only in its
    release phase (Procfile `release:`), which every deploy here already follows."""
    raise PipelineError(
        "migrations.runner heroku cannot run a version's migrations before its code ships "
        "(a one-off dyno runs the current release); use runner kubernetes, or a Procfile "
        "`release:` command, which ship follows on every Heroku deploy"
    )
