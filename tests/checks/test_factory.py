"""build_checks: from a pipeline file's verify.checks to working Check objects."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import respx

from shipper.checks.factory import build_checks
from shipper.checks.http import HttpCheck
from shipper.checks.prometheus import PrometheusCheck
from shipper.core.model import MeasurementStatus, Side, Version
from shipper.errors import BadInput
from shipper.pipeline import Pipeline, parse_pipeline
from shipper.ports import Check

HEAD = """
name: web
heroku:
  apps: [acme-web]
  artifact: {type: source, url: "https://codeload.example.test/acme/web/tar.gz/{version}"}
kubernetes:
  namespace: web
  image: "ghcr.io/acme/web:{version}"
  workloads: [deployment/web]
"""

TWO_CHECKS = (
    HEAD
    + """
verify:
  checks:
    - name: heroku-health
      side: heroku
      http: {url: "https://acme-web.example.test/health", json_field: version, equals: "{version}"}
    - name: kube-errors
      side: kubernetes
      prometheus:
        url: http://prometheus.example.test:9090
        query: job:errors:ratio
        max: 0.01
        auth: {bearer_token_env: PROM_TOKEN}
"""
)

SECRET = "tok-8c1f0e55b2"


def pipeline(text: str) -> Pipeline:
    return parse_pipeline(text, "pipelines/web.yaml")


def with_auth(auth: str) -> Pipeline:
    return pipeline(
        HEAD
        + f"""
verify:
  checks:
    - name: kube-errors
      side: kubernetes
      prometheus: {{url: "http://prometheus.example.test:9090", query: q, max: 1, auth: {auth}}}
"""
    )


def test_builds_one_check_per_entry_in_file_order() -> None:
    """Each verify.checks entry becomes a Check of its kind, name and side, in order."""
    checks = build_checks(pipeline(TWO_CHECKS), env={"PROM_TOKEN": SECRET})
    assert [(type(c), c.name, c.side) for c in checks] == [
        (HttpCheck, "heroku-health", Side.HEROKU),
        (PrometheusCheck, "kube-errors", Side.KUBERNETES),
    ]
    assert all(isinstance(c, Check) for c in checks)


def test_no_checks_configured_builds_none() -> None:
    """A pipeline without verify.checks yields an empty list."""
    assert build_checks(pipeline(HEAD), env={}) == []


def test_built_checks_measure_over_the_given_client(respx_mock: respx.MockRouter) -> None:
    """The built checks use the injected client and the token read from the env."""
    respx_mock.get("https://acme-web.example.test/health").respond(200, json={"version": "v42"})
    prom = respx_mock.get("http://prometheus.example.test:9090/api/v1/query").respond(
        200, json={"status": "success", "data": {"resultType": "scalar", "result": [0, "0"]}}
    )
    checks = build_checks(pipeline(TWO_CHECKS), env={"PROM_TOKEN": SECRET}, client=httpx.Client())
    statuses = [c.measure(Version("v42")).status for c in checks]
    assert statuses == [MeasurementStatus.SUCCESSFUL, MeasurementStatus.SUCCESSFUL]
    assert prom.calls.last.request.headers["Authorization"] == f"Bearer {SECRET}"


def test_platform_check_names_are_reserved() -> None:
    """A configured check may not take the name of a side's own platform check."""
    text = TWO_CHECKS.replace("name: heroku-health", "name: heroku-platform")
    with pytest.raises(BadInput, match="heroku-platform"):
        build_checks(pipeline(text), env={"PROM_TOKEN": SECRET})


def test_missing_env_variable_is_bad_input_naming_it() -> None:
    """An unset token variable stops the command with exit 2 and names the variable."""
    with pytest.raises(BadInput, match="PROM_TOKEN is not set") as caught:
        build_checks(pipeline(TWO_CHECKS), env={})
    assert caught.value.exit_code == 2


def test_empty_env_variable_counts_as_missing() -> None:
    """A token variable set to the empty string is refused like an unset one."""
    with pytest.raises(BadInput, match="PROM_TOKEN"):
        build_checks(pipeline(TWO_CHECKS), env={"PROM_TOKEN": ""})


def test_bearer_and_basic_together_are_refused() -> None:
    """Naming both a bearer token and basic auth is refused, secrets unread."""
    both = "{bearer_token_env: T, username_env: U, password_env: P}"
    with pytest.raises(BadInput, match="not both"):
        build_checks(with_auth(both), env={"T": SECRET, "U": "u", "P": SECRET})


def test_basic_auth_needs_both_variables() -> None:
    """A username variable without a password variable is refused."""
    with pytest.raises(BadInput, match="both username_env and password_env"):
        build_checks(with_auth("{username_env: U}"), env={"U": "u"})


def test_empty_auth_section_is_refused() -> None:
    """An auth section naming no variable is refused rather than ignored."""
    with pytest.raises(BadInput, match="bearer_token_env"):
        build_checks(with_auth("{}"), env={})


def test_basic_auth_is_read_from_the_env(respx_mock: respx.MockRouter) -> None:
    """Basic auth credentials come from the two named variables."""
    route = respx_mock.get("http://prometheus.example.test:9090/api/v1/query").respond(
        200, json={"status": "success", "data": {"resultType": "scalar", "result": [0, "0"]}}
    )
    auth = "{username_env: PROM_USER, password_env: PROM_PASSWORD}"
    env = {"PROM_USER": "ship", "PROM_PASSWORD": SECRET}
    [check] = build_checks(with_auth(auth), env=env, client=httpx.Client())
    check.measure(Version("v1"))
    expected = httpx.BasicAuth("ship", SECRET).auth_flow(httpx.Request("GET", "http://x"))
    assert (
        route.calls.last.request.headers["Authorization"] == next(expected).headers["Authorization"]
    )


def test_importing_the_checks_package_does_not_load_httpx() -> None:
    """`import shipper.checks` stays light, so `ship --help` never pays for httpx."""
    code = "import sys, shipper.checks; sys.exit('httpx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
