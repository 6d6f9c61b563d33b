"""The Heroku status page stand-in, in both shapes a client may read.

- legacy: `GET /api/v4/current-status` (status.heroku.com), one colour per system;
- Trust: `GET /v1/incidents/active`, `/v1/instances`, `/v1/maintenances` and
  `/v1/localizations` (api.status.salesforce.com), where colours are implied by open
  incident impacts: a minor impact makes a system yellow, a major one red.

Each system (Apps, Data, Tools) is switched separately. The Trust answer always carries
one incident of another Salesforce product on a non-Heroku instance, as the real feed
does: a client that forgets to filter by instance reads a green platform as yellow.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from shipper.sandbox.faults import Fault, FaultPlan
from shipper.sandbox.web import Answer, Request

SYSTEMS = ("Apps", "Data", "Tools")
COLOURS = ("green", "yellow", "red")
_SERVICE_KEYS = {"Apps": ["HerokuApps"], "Data": ["HerokuData"], "Tools": ["Tools"]}
_SEVERITY = {"yellow": "minor", "red": "major"}
_INSTANCES = ("Heroku North America", "Heroku Europe")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class StatusPage:
    """Colours per system, served as both status APIs."""

    def __init__(self) -> None:
        self.faults = FaultPlan()
        self._lock = threading.Lock()
        self._colours = dict.fromkeys(SYSTEMS, "green")
        self._since = dict.fromkeys(SYSTEMS, time.time())
        self.reads = 0

    def set(self, colour: str, systems: tuple[str, ...] = SYSTEMS) -> None:
        """Switch `systems` to `colour`; ValueError on an unknown system or colour."""
        if colour not in COLOURS:
            raise ValueError(f"colour must be one of {', '.join(COLOURS)}, not {colour!r}")
        unknown = [s for s in systems if s not in SYSTEMS]
        if unknown:
            raise ValueError(f"system must be one of {', '.join(SYSTEMS)}, not {unknown[0]!r}")
        with self._lock:
            for system in systems:
                if self._colours[system] != colour:
                    self._since[system] = time.time()
                self._colours[system] = colour

    def colours(self) -> dict[str, str]:
        with self._lock:
            return dict(self._colours)

    def handle(self, request: Request) -> Answer:
        if request.method != "GET":
            return Answer.of_json(405, {"message": "method not allowed"})
        with self._lock:
            self.reads += 1
            colours, since = dict(self._colours), dict(self._since)
        routes = {
            "/api/v4/current-status": lambda: self._v4(colours, since),
            "/v1/incidents/active": lambda: self._incidents(colours, since),
            "/v1/instances": self._instances,
            "/v1/maintenances": list,
            "/v1/localizations": _localizations,
        }
        route = routes.get(request.path.rstrip("/"))
        if route is None:
            return Answer.of_json(404, {"message": "not found"})
        return Answer.of_json(200, route(), {"X-Request-Id": str(uuid.uuid4())})

    def fault_answer(self, fault: Fault) -> Answer:
        """Status pages fail like web servers: an HTML error page, not JSON."""
        answer = Answer.of_text(
            fault.status, "<html><body>Service Unavailable</body></html>\n", "text/html"
        )
        if fault.retry_after is not None:
            answer.headers["Retry-After"] = f"{fault.retry_after:g}"
        return answer

    # --- shapes ------------------------------------------------------------------------

    def _v4(self, colours: dict[str, str], since: dict[str, float]) -> dict[str, Any]:
        incidents = []
        for n, system in enumerate(SYSTEMS):
            colour = colours[system]
            if colour == "green":
                continue
            at = _iso(since[system])
            incidents.append(
                {
                    "id": 3000 + n,
                    "title": _title(system, colour),
                    "state": "investigating",
                    "resolved": False,
                    "created_at": at,
                    "full_url": f"https://status.heroku.com/incidents/{3000 + n}",
                    "systems": [{"name": system, "status": colour}],
                    "tags": ["NA"],
                    "updates": [
                        {
                            "update_type": "issue",
                            "created_at": at,
                            "updated_at": at,
                            "contents": "Engineers are investigating (sandbox).",
                        }
                    ],
                }
            )
        return {
            "status": [{"system": s, "status": colours[s]} for s in SYSTEMS],
            "incidents": incidents,
            "scheduled": [],
        }

    def _incidents(self, colours: dict[str, str], since: dict[str, float]) -> list[Any]:
        out: list[Any] = [_foreign_incident()]
        for n, system in enumerate(SYSTEMS):
            colour = colours[system]
            if colour == "green":
                continue
            at = _iso(since[system])
            out.append(
                {
                    "id": 71000 + n,
                    "createdAt": at,
                    "updatedAt": at,
                    "affectsAll": False,
                    "isCore": False,
                    "externalId": f"H-{3000 + n}",
                    "additionalInformation": "",
                    "message": {"pathToResolution": None, "actionPlan": None, "rootCause": None},
                    "serviceKeys": list(_SERVICE_KEYS[system]),
                    "instanceKeys": [_INSTANCES[0]],
                    "IncidentImpacts": [
                        {
                            "id": 90000 + n,
                            "type": f"heroku{system}ServiceDisruption",
                            "severity": _SEVERITY[colour],
                            "startTime": at,
                            "endTime": None,
                            "createdAt": at,
                            "updatedAt": at,
                            "startTimeCreatedAt": at,
                            "startTimeModifiedAt": None,
                            "endTimeCreatedAt": None,
                            "endTimeModifiedAt": None,
                        }
                    ],
                    "IncidentEvents": [
                        {
                            "id": 80000 + n,
                            "type": "herokuIncidentInvestigating",
                            "message": _title(system, colour),
                            "createdAt": at,
                            "updatedAt": at,
                        }
                    ],
                }
            )
        return out

    def _instances(self) -> list[Any]:
        return [
            {
                "key": key,
                "location": "NA" if "America" in key else "EMEA",
                "environment": "production",
                "releaseVersion": "",
                "releaseNumber": "",
                "status": "OK",
                "isActive": True,
                "city": "",
                "stateName": "",
                "stateCode": "",
                "countryName": "",
                "countryCode": "",
                "maintenanceWindow": "",
                "Services": [
                    {"key": "HerokuApps", "order": 1, "isCore": False},
                    {"key": "HerokuData", "order": 5, "isCore": False},
                ],
                "Products": [
                    {
                        "key": "Heroku",
                        "order": 60,
                        "isActive": True,
                        "name": "Heroku",
                        "altDisplayName": "Heroku",
                        "url": "/products/Heroku",
                    }
                ],
                "Incidents": [],
                "Tags": [],
            }
            for key in _INSTANCES
        ]


def _title(system: str, colour: str) -> str:
    kind = "Outage" if colour == "red" else "Degraded performance"
    return f"{kind} of Heroku {system} (sandbox)"


def _foreign_incident() -> dict[str, Any]:
    at = "2026-01-01T08:00:00.000Z"
    return {
        "id": 70999,
        "createdAt": at,
        "updatedAt": at,
        "affectsAll": False,
        "isCore": True,
        "serviceKeys": ["Core"],
        "instanceKeys": ["NA224"],
        "IncidentImpacts": [
            {
                "id": 89999,
                "type": "featurePerfDegradation",
                "severity": "major",
                "startTime": at,
                "endTime": None,
                "createdAt": at,
                "updatedAt": at,
                "startTimeCreatedAt": at,
                "startTimeModifiedAt": None,
                "endTimeCreatedAt": None,
                "endTimeModifiedAt": None,
            }
        ],
        "IncidentEvents": [],
    }


def _localizations() -> list[Any]:
    return [
        {
            "id": 1,
            "modelName": "IncidentEventType",
            "modelKey": "herokuIncidentInvestigating",
            "modelAttribute": "name",
            "text": "Heroku Update - Investigating",
            "locale": "en",
        }
    ]
