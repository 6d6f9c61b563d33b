"""The status page stand-in in the legacy v4 and the Trust shapes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from shipper.sandbox.faults import Fault
from shipper.sandbox.status_page import StatusPage
from shipper.sandbox.web import serve


@pytest.fixture
def page() -> Iterator[tuple[StatusPage, httpx.Client]]:
    status = StatusPage()
    served = serve("status-test", status)
    with httpx.Client(base_url=served.url, timeout=5) as client:
        yield status, client
    served.close()


def _v4(client: httpx.Client) -> dict[str, str]:
    body = client.get("/api/v4/current-status").json()
    return {s["system"]: s["status"] for s in body["status"]}


def _trust_severities(client: httpx.Client) -> dict[str, str]:
    """Severity of open impacts on Heroku instances, by service key (the CLI's filter)."""
    instances = {i["key"] for i in client.get("/v1/instances?products=Heroku").json()}
    out = {}
    for incident in client.get("/v1/incidents/active").json():
        if not set(incident["instanceKeys"]) & instances:
            continue
        for impact in incident["IncidentImpacts"]:
            if impact["endTime"] is None:
                for key in incident["serviceKeys"]:
                    out[key] = impact["severity"]
    return out


def test_starts_all_green(page: tuple[StatusPage, httpx.Client]) -> None:
    """A fresh status page shows every system green with no incidents."""
    _, client = page
    assert _v4(client) == {"Apps": "green", "Data": "green", "Tools": "green"}
    assert client.get("/api/v4/current-status").json()["incidents"] == []


def test_yellow_one_system_in_v4(page: tuple[StatusPage, httpx.Client]) -> None:
    """Switching Tools to yellow shows Tools yellow, the others green, with an incident."""
    status, client = page
    status.set("yellow", ("Tools",))
    assert _v4(client) == {"Apps": "green", "Data": "green", "Tools": "yellow"}
    assert len(client.get("/api/v4/current-status").json()["incidents"]) == 1


def test_yellow_is_a_minor_trust_impact(page: tuple[StatusPage, httpx.Client]) -> None:
    """In the Trust shape a yellow Apps is an open minor impact on a Heroku instance."""
    status, client = page
    status.set("yellow", ("Apps",))
    assert _trust_severities(client) == {"HerokuApps": "minor"}


def test_red_is_a_major_trust_impact(page: tuple[StatusPage, httpx.Client]) -> None:
    """In the Trust shape a red Data is an open major impact on a Heroku instance."""
    status, client = page
    status.set("red", ("Data",))
    assert _trust_severities(client) == {"HerokuData": "major"}


def test_green_trust_feed_still_carries_a_foreign_incident(
    page: tuple[StatusPage, httpx.Client],
) -> None:
    """A green platform's Trust feed holds only an incident on a non-Heroku instance."""
    _, client = page
    incidents = client.get("/v1/incidents/active").json()
    assert [i["instanceKeys"] for i in incidents] == [["NA224"]]
    assert _trust_severities(client) == {}


def test_back_to_green(page: tuple[StatusPage, httpx.Client]) -> None:
    """Switching every system back to green clears the incidents."""
    status, client = page
    status.set("red")
    status.set("green")
    assert set(_v4(client).values()) == {"green"}


def test_unknown_colour_is_refused() -> None:
    """A colour other than green, yellow or red is a ValueError naming the choices."""
    with pytest.raises(ValueError, match="green, yellow, red"):
        StatusPage().set("blue")


def test_outage_fault_answers_html_503(page: tuple[StatusPage, httpx.Client]) -> None:
    """A status fault answers like a failing web server: 503 with an HTML page."""
    status, client = page
    status.faults.add(Fault("status", status=503))
    answer = client.get("/api/v4/current-status")
    assert answer.status_code == 503
    assert answer.headers["Content-Type"].startswith("text/html")
