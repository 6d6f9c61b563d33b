"""Status page answers in the shapes reference/heroku.md section 10.5 and 10.6 show."""

from __future__ import annotations

from typing import Any


def v4(
    apps: str = "green", data: str = "green", tools: str = "green", incidents: Any = ()
) -> dict[str, Any]:
    return {
        "status": [
            {"system": "Apps", "status": apps},
            {"system": "Data", "status": data},
            {"system": "Tools", "status": tools},
        ],
        "incidents": list(incidents),
        "scheduled": [
            {
                "id": 2990,
                "title": "Heroku Platform Maintenance",
                "state": "upcoming",
                "resolved": False,
            }
        ],
    }


def v4_incident(title: str, *, resolved: bool = False, systems: Any = None) -> dict[str, Any]:
    incident: dict[str, Any] = {
        "id": 3012,
        "title": title,
        "state": "investigating",
        "resolved": resolved,
        "created_at": "2026-03-02T09:40:12.000Z",
        "full_url": "https://status.heroku.com/incidents/3012",
        "updates": [],
    }
    if systems is not None:
        incident["systems"] = systems
    return incident


def instance(
    key: str, status: str = "OK", services: tuple[str, ...] = ("HerokuApps", "HerokuData")
) -> dict[str, Any]:
    return {
        "key": key,
        "location": "EMEA",
        "environment": "production",
        "status": status,
        "isActive": True,
        "Services": [{"key": s, "order": 1, "isCore": False} for s in services],
        "Products": [{"key": "Heroku", "name": "Heroku"}],
        "Incidents": [],
        "Tags": [],
    }


INSTANCES = [instance("Heroku Europe"), instance("Heroku North America")]


def trust_incident(
    ident: int,
    services: list[str],
    instances: list[str],
    impacts: list[tuple[str, str | None]],
    *,
    message: str = "Investigating.",
    affects_all: bool = False,
) -> dict[str, Any]:
    return {
        "id": ident,
        "createdAt": "2026-03-02T09:52:00.000Z",
        "updatedAt": "2026-03-02T10:05:00.000Z",
        "affectsAll": affects_all,
        "isCore": False,
        "externalId": f"H-{ident}",
        "serviceKeys": services,
        "instanceKeys": instances,
        "IncidentImpacts": [
            {
                "id": n,
                "type": "herokuAppsServiceDisruption",
                "severity": sev,
                "startTime": "2026-03-02T09:50:00.000Z",
                "endTime": end,
            }
            for n, (sev, end) in enumerate(impacts)
        ],
        "IncidentEvents": [
            {
                "id": 1,
                "type": "herokuIncidentInvestigating",
                "message": message,
                "createdAt": "2026-03-02T09:52:00.000Z",
            }
        ],
    }


# The reference's mixed list: Apps minor (open), Data major (open, plus an ended major
# impact), and a Core incident of another product that must be filtered out.
MIXED = [
    trust_incident(
        71001,
        ["Apps"],
        ["Heroku Europe"],
        [("minor", None)],
        message="Investigating elevated latency.",
    ),
    trust_incident(
        71002,
        ["HerokuData"],
        ["Heroku North America"],
        [("major", None), ("major", "2026-03-01T23:00:00.000Z")],
        message="Some Postgres databases unreachable.",
    ),
    trust_incident(71003, ["Core"], ["NA224"], [("minor", None)]),
]
