"""The platform status gate over the v4 status API and the Salesforce Trust API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from shipper.heroku.status_gate import TRUST_DEFAULT, V4_DEFAULT, HerokuStatusGate
from tests.heroku.status_fixtures import (
    INSTANCES,
    MIXED,
    instance,
    trust_incident,
    v4,
    v4_incident,
)

TRUST = "https://trust.example.com/v1"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


def gate(
    url: str = V4_DEFAULT, systems: tuple[str, ...] = ("Apps", "Data", "Tools")
) -> HerokuStatusGate:
    return HerokuStatusGate(url, systems, httpx.Client())


def trust(
    router: respx.MockRouter, incidents: object, instances: object = INSTANCES, base: str = TRUST
) -> None:
    router.get(f"{base}/instances", params={"products": "Heroku"}).respond(200, json=instances)
    router.get(f"{base}/incidents/active").respond(200, json=incidents)


def test_v4_all_green_opens(router: respx.MockRouter) -> None:
    """Every configured system green on v4 opens the gate and says so."""
    router.get(V4_DEFAULT).respond(200, json=v4())
    reading = gate().read()
    assert reading.is_open
    assert reading.summary.startswith("Heroku Apps green, Data green, Tools green")


def test_v4_yellow_blocks_naming_system_colour_and_incident(router: respx.MockRouter) -> None:
    """A yellow Tools blocks, naming Tools, yellow and the incident's title."""
    router.get(V4_DEFAULT).respond(
        200, json=v4(tools="yellow", incidents=[v4_incident("Delayed builds in the US region")])
    )
    reading = gate().read()
    assert not reading.is_open
    assert "Tools is yellow: Delayed builds in the US region" in reading.summary


def test_v4_red_blocks(router: respx.MockRouter) -> None:
    """A red Apps blocks and is reported red."""
    router.get(V4_DEFAULT).respond(
        200, json=v4(apps="red", incidents=[v4_incident("Routing errors")])
    )
    reading = gate(systems=("Apps",)).read()
    assert not reading.is_open
    assert reading.details["systems"] == {"Apps": "red"}


def test_only_configured_systems_count(router: respx.MockRouter) -> None:
    """A red Data does not block a gate configured for Apps and Tools only."""
    router.get(V4_DEFAULT).respond(200, json=v4(data="red"))
    assert gate(systems=("Apps", "Tools")).read().is_open


def test_scheduled_maintenance_does_not_block(router: respx.MockRouter) -> None:
    """Entries under `scheduled` never change a colour (they can be stale)."""
    router.get(V4_DEFAULT).respond(200, json=v4())
    assert gate().read().is_open


def test_v4_incident_named_for_another_system_is_not_shown(router: respx.MockRouter) -> None:
    """An incident whose systems list names Data is not attributed to a yellow Tools."""
    incidents = [
        v4_incident("Postgres slow", systems=[{"name": "Data"}]),
        v4_incident("Builds slow", systems=["Tools"]),
    ]
    router.get(V4_DEFAULT).respond(200, json=v4(tools="yellow", incidents=incidents))
    reading = gate(systems=("Tools",)).read()
    assert reading.details["incidents"] == {"Tools": ["Builds slow"]}


def test_unknown_colour_blocks(router: respx.MockRouter) -> None:
    """A colour other than green, yellow or red blocks rather than passes."""
    router.get(V4_DEFAULT).respond(200, json=v4(apps="blue"))
    reading = gate(systems=("Apps",)).read()
    assert not reading.is_open and "Apps is blue" in reading.summary


def test_missing_system_blocks(router: respx.MockRouter) -> None:
    """A configured system absent from the answer blocks."""
    body = v4()
    body["status"] = [s for s in body["status"] if s["system"] != "Data"]
    router.get(V4_DEFAULT).respond(200, json=body)
    assert not gate(systems=("Data",)).read().is_open


def test_v4_failure_falls_back_to_trust(router: respx.MockRouter) -> None:
    """When status.heroku.com fails, the Trust API is read instead, as the Heroku CLI does."""
    router.get(V4_DEFAULT).respond(503)
    trust(router, [], base=TRUST_DEFAULT)
    reading = gate().read()
    assert reading.is_open and "Salesforce Trust" in reading.summary


def test_both_sources_unreachable_fail_closed(router: respx.MockRouter) -> None:
    """With v4 and Trust both unreachable the gate is closed and says it cannot read."""
    router.get(V4_DEFAULT).mock(side_effect=httpx.ConnectError("down"))
    router.get(url__startswith=TRUST_DEFAULT).mock(side_effect=httpx.ConnectError("down"))
    reading = gate().read()
    assert not reading.is_open
    assert "cannot be read" in reading.summary and "--skip-status-gate" in reading.summary


def test_custom_v4_url_has_no_fallback(router: respx.MockRouter) -> None:
    """A v4 URL on another host (a mirror, the sandbox) that fails closes the gate."""
    url = "http://127.0.0.1:7000/api/v4/current-status"
    router.get(url).respond(500)
    reading = gate(url).read()
    assert not reading.is_open and "answered 500" in reading.summary


def test_malformed_v4_answer_fails_closed(router: respx.MockRouter) -> None:
    """A v4 answer that is not JSON closes the gate (after the Trust fallback fails too)."""
    router.get(V4_DEFAULT).respond(200, text="<html>maintenance</html>")
    router.get(url__startswith=TRUST_DEFAULT).respond(200, json={"not": "a list"})
    reading = gate().read()
    assert not reading.is_open and "not JSON" in reading.summary


def test_url_of_neither_kind_fails_closed(router: respx.MockRouter) -> None:
    """A URL that is neither a v4 current-status URL nor a Trust base closes the gate."""
    reading = gate("https://status.example.com/whatever").read()
    assert not reading.is_open and "neither" in reading.summary


def test_trust_mixed_list_follows_the_cli_rules(router: respx.MockRouter) -> None:
    """The reference's mixed Trust list reads Apps yellow, Data red, Tools green."""
    trust(router, MIXED)
    reading = gate(TRUST).read()
    assert reading.details["systems"] == {"Apps": "yellow", "Data": "red", "Tools": "green"}
    assert "Data is red: incident H-71002: Some Postgres databases unreachable." in reading.summary


def test_trust_nothing_active_is_green(router: respx.MockRouter) -> None:
    """An empty active incident list reads all green."""
    trust(router, [])
    assert gate(TRUST).read().is_open


def test_trust_platform_api_key_counts_as_tools(router: respx.MockRouter) -> None:
    """An incident keyed `PlatformAPI` (no space) makes Tools yellow, closing a CLI gap."""
    trust(router, [trust_incident(1, ["PlatformAPI"], ["Heroku Europe"], [("minor", None)])])
    reading = gate(TRUST, ("Tools",)).read()
    assert reading.details["systems"] == {"Tools": "yellow"}


def test_trust_affects_all_incident_counts(router: respx.MockRouter) -> None:
    """An affectsAll incident on Heroku Apps counts even without a matching instance key."""
    trust(router, [trust_incident(2, ["HerokuApps"], [], [("major", None)], affects_all=True)])
    assert gate(TRUST, ("Apps",)).read().details["systems"] == {"Apps": "red"}


def test_trust_unknown_severity_is_yellow(router: respx.MockRouter) -> None:
    """An open impact of an unknown severity reads yellow, not green."""
    trust(router, [trust_incident(3, ["Apps"], ["Heroku Europe"], [("catastrophic", None)])])
    assert gate(TRUST, ("Apps",)).read().details["systems"] == {"Apps": "yellow"}


def test_trust_incident_on_no_known_system_colours_every_system(router: respx.MockRouter) -> None:
    """An incident on a Heroku instance whose services map to no system blocks every system."""
    trust(router, [trust_incident(4, ["Marketplace"], ["Heroku Europe"], [("minor", None)])])
    reading = gate(TRUST).read()
    assert reading.details["systems"] == {"Apps": "yellow", "Data": "yellow", "Tools": "yellow"}


def test_trust_instance_status_not_ok_blocks(router: respx.MockRouter) -> None:
    """A Heroku instance reporting MAJOR_INCIDENT_CORE makes its systems red."""
    instances = [
        instance("Heroku Europe", "MAJOR_INCIDENT_CORE", ("HerokuApps",)),
        instance("Heroku Tokyo"),
    ]
    trust(router, [], instances=instances)
    reading = gate(TRUST).read()
    assert reading.details["systems"] == {"Apps": "red", "Data": "green", "Tools": "green"}


def test_trust_without_heroku_instances_fails_closed(router: respx.MockRouter) -> None:
    """An empty instance list cannot be matched against incidents, so the gate is closed."""
    trust(router, MIXED, instances=[])
    assert not gate(TRUST).read().is_open


def test_trust_ended_impacts_are_ignored(router: respx.MockRouter) -> None:
    """An incident whose impacts all ended leaves its system green."""
    trust(
        router,
        [trust_incident(5, ["Apps"], ["Heroku Europe"], [("major", "2026-03-01T23:00:00Z")])],
    )
    assert gate(TRUST, ("Apps",)).read().is_open
