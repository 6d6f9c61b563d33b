"""Build the configured regression checks of a pipeline.

Credentials are read here, once, from the env variables the file names, so a missing
variable stops the command before anything changed (exit 2) instead of surfacing as
inconclusive measurements in the middle of a bake. Values never appear in a message.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from shipper import __version__
from shipper.checks.http import HttpCheck
from shipper.checks.prometheus import PrometheusCheck, PrometheusCredentials
from shipper.core.model import Side
from shipper.core.verify import platform_check_name
from shipper.errors import BadInput
from shipper.pipeline import CheckSpec, Pipeline, PrometheusAuth
from shipper.ports import Check, Clock
from shipper.tls import shared_context


def build_checks(
    pipeline: Pipeline,
    *,
    env: Mapping[str, str],
    client: httpx.Client | None = None,
    clock: Clock | None = None,
) -> list[Check]:
    """One Check per entry of `verify.checks`, in file order, sharing one HTTP client.

    `client` defaults to a fresh httpx.Client (thread-safe, so the bake may measure all
    checks at once over it). Raises BadInput when a named env variable is missing.
    """
    reserved = {platform_check_name(side) for side in Side}
    for spec in pipeline.verify.checks:
        if spec.name in reserved:
            raise BadInput(
                f"verify.checks: the name {spec.name!r} is ship's own check of that side's "
                "platform health; give the check another name"
            )
    shared = client or httpx.Client(
        headers={"User-Agent": f"ship/{__version__}"}, verify=shared_context()
    )
    return [_build(spec, env, shared, clock) for spec in pipeline.verify.checks]


def _build(
    spec: CheckSpec, env: Mapping[str, str], client: httpx.Client, clock: Clock | None
) -> Check:
    side = spec.side
    if spec.http is not None:
        http = spec.http
        return HttpCheck(
            spec.name,
            side,
            url=http.url,
            client=client,
            statuses=http.status,
            body_contains=http.body_contains,
            json_field=http.json_field,
            equals=http.equals,
            max_latency=http.max_latency,
            timeout=http.timeout,
            clock=clock,
        )
    prom = spec.prometheus
    if prom is None:  # CheckSpec guarantees exactly one of http and prometheus
        raise BadInput(f"check {spec.name!r} has neither http nor prometheus")
    return PrometheusCheck(
        spec.name,
        side,
        url=prom.url,
        query=prom.query,
        client=client,
        maximum=prom.max,
        minimum=prom.min,
        on_empty=prom.on_empty,
        timeout=prom.timeout,
        credentials=_credentials(spec.name, prom.auth, env),
    )


def _credentials(
    check: str, auth: PrometheusAuth | None, env: Mapping[str, str]
) -> PrometheusCredentials | None:
    if auth is None:
        return None
    where = f"verify.checks[{check}].prometheus.auth"
    basic = auth.username_env is not None or auth.password_env is not None
    if auth.bearer_token_env is None and not basic:
        raise BadInput(f"{where}: name bearer_token_env, or username_env and password_env")
    if auth.bearer_token_env is not None and basic:
        raise BadInput(f"{where}: use bearer_token_env or username_env/password_env, not both")
    if auth.bearer_token_env is not None:
        name = auth.bearer_token_env
        return PrometheusCredentials(bearer_token=_read(env, name, where), source=name)
    if auth.username_env is None or auth.password_env is None:
        raise BadInput(f"{where}: basic auth needs both username_env and password_env")
    return PrometheusCredentials(
        username=_read(env, auth.username_env, where),
        password=_read(env, auth.password_env, where),
        source=f"{auth.username_env} and {auth.password_env}",
    )


def _read(env: Mapping[str, str], name: str, where: str) -> str:
    value = env.get(name, "")
    if not value:
        raise BadInput(f"{where}: env variable {name} is not set; export it and run again")
    return value
