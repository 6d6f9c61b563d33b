"""The Heroku platform status gate: every configured system must be green.

Two sources, told apart by the URL's path (reference/heroku.md section 8):
- `.../api/v4/current-status`: the legacy status API. At the default host
  (status.heroku.com) any failure to read it falls back to the Salesforce Trust API, as
  the Heroku CLI does; a custom v4 URL (a mirror, the sandbox) has no fallback.
- `.../v1`: a Salesforce Trust API base, read alone (the CLI's TRUST_ONLY).

Trust answers are reduced to Apps, Data and Tools with the CLI's rules, plus the gaps
the reference lists, each closed in the direction that blocks: `PlatformAPI` counts as
Tools, `affectsAll` incidents on Heroku services count, an open impact of unknown
severity is yellow, an incident on no known system colours every system, and a Heroku
instance whose status is not OK colours its systems (MAJOR red, anything else yellow).
Whatever cannot be read reads as closed: the gate fails closed and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from shipper import __version__
from shipper.core.model import JSON, JSONDict
from shipper.ports import GateReading

log = logging.getLogger("shipper.heroku.status")

V4_DEFAULT = "https://status.heroku.com/api/v4/current-status"
TRUST_DEFAULT = "https://api.status.salesforce.com/v1"
SYSTEMS = ("Apps", "Data", "Tools")
RANK = {"green": 0, "yellow": 1, "red": 2}

_BUCKETS: Mapping[str, frozenset[str]] = {
    "Apps": frozenset({"HerokuApps", "Apps"}),
    "Data": frozenset({"HerokuData", "Data"}),
    "Tools": frozenset({"TOOLS", "Tools", "CLI", "Dashboard", "Platform API", "PlatformAPI"}),
}
_HEROKU_KEYS = frozenset().union(*_BUCKETS.values())


class Unreadable(Exception):
    """The status source could not be read or understood (internal to this module)."""


@dataclass
class SystemStatus:
    colour: str = "green"
    incidents: list[str] = field(default_factory=list)

    def worsen(self, colour: str, title: str | None) -> None:
        if RANK.get(colour, 2) > RANK.get(self.colour, 2):
            self.colour = colour
        if title and title not in self.incidents:
            self.incidents.append(title)


class HerokuStatusGate:
    """Reads Heroku's status once per `read()`; unreadable reads as closed."""

    def __init__(
        self,
        url: str,
        systems: Sequence[str],
        client: httpx.Client,
        *,
        timeout: float = 10.0,
        trust_fallback: str | None = TRUST_DEFAULT,
    ) -> None:
        self._url = url
        self._systems = tuple(systems)
        self._client = client
        self._timeout = timeout
        self._trust_fallback = trust_fallback

    def read(self) -> GateReading:
        try:
            statuses, source = self._statuses()
        except Unreadable as exc:
            log.warning("Heroku status unreadable: %s", exc)
            return GateReading(
                False,
                f"Heroku status cannot be read ({exc}); failing closed: retry later, or "
                "pass --skip-status-gate --reason TEXT",
                {"error": str(exc), "url": _public(self._url)},
            )
        blocking = [s for s in self._systems if statuses[s].colour != "green"]
        details: JSONDict = {
            "source": source,
            "systems": {s: statuses[s].colour for s in self._systems},
            "incidents": {s: list(statuses[s].incidents) for s in self._systems},
        }
        if not blocking:
            summary = ", ".join(f"{s} green" for s in self._systems)
            return GateReading(True, f"Heroku {summary} ({source})", details)
        parts = []
        for system in blocking:
            status = statuses[system]
            titles = "; ".join(status.incidents) or "no incident named"
            parts.append(f"{system} is {status.colour}: {titles}")
        return GateReading(False, f"Heroku {', '.join(parts)} ({source})", details)

    # --- sources ------------------------------------------------------------------

    def _statuses(self) -> tuple[dict[str, SystemStatus], str]:
        path = urlsplit(self._url).path.rstrip("/")
        if path.endswith("/current-status"):
            try:
                return self._v4(self._url), "status.heroku.com v4"
            except Unreadable as exc:
                host = urlsplit(self._url).hostname
                if host != urlsplit(V4_DEFAULT).hostname or not self._trust_fallback:
                    raise
                log.info("v4 status failed (%s); falling back to the Trust API", exc)
                try:
                    return self._trust(self._trust_fallback), "Salesforce Trust"
                except Unreadable as trust_exc:
                    raise Unreadable(f"v4: {exc}; Trust: {trust_exc}") from None
        if path.endswith("/v1"):
            return self._trust(self._url.rstrip("/")), "Salesforce Trust"
        raise Unreadable(
            "gates.heroku_status.url is neither a v4 .../current-status URL nor a Trust "
            "API base ending in /v1"
        )

    def _get(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        try:
            response = self._client.get(
                url,
                params=dict(params or {}),
                headers={"Accept": "application/json", "User-Agent": f"ship/{__version__}"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise Unreadable(f"{_public(url)} unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise Unreadable(f"{_public(url)} answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise Unreadable(f"{_public(url)} answered something that is not JSON") from None

    def _v4(self, url: str) -> dict[str, SystemStatus]:
        body = self._get(url)
        if not isinstance(body, dict) or not isinstance(body.get("status"), list):
            raise Unreadable(f"{_public(url)} has no status list")
        colours: dict[str, str] = {}
        for entry in body["status"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("system"), str):
                raise Unreadable(f"{_public(url)} has a status entry without a system")
            colour = entry.get("status")
            colours[entry["system"]] = colour.strip().lower() if isinstance(colour, str) else "?"
        incidents = body.get("incidents") or []
        if not isinstance(incidents, list):
            raise Unreadable(f"{_public(url)} has an incidents field that is not a list")
        statuses = {}
        for system in SYSTEMS:
            colour = colours.get(system, "missing from the status answer")
            status = SystemStatus(colour)
            if colour != "green":
                for incident in incidents:
                    if _v4_concerns(incident, system):
                        status.worsen(colour, str(incident.get("title") or "untitled incident"))
            statuses[system] = status
        return statuses

    def _trust(self, base: str) -> dict[str, SystemStatus]:
        instances = self._get(f"{base}/instances", {"products": "Heroku"})
        incidents = self._get(f"{base}/incidents/active")
        if not isinstance(instances, list) or not isinstance(incidents, list):
            raise Unreadable(f"{_public(base)} answered something other than lists")
        keys = {i.get("key") for i in instances if isinstance(i, dict)} - {None}
        if not keys:
            raise Unreadable(f"{_public(base)} lists no Heroku instances")
        statuses = {s: SystemStatus() for s in SYSTEMS}
        for instance in instances:
            if not isinstance(instance, dict):
                continue
            state = str(instance.get("status") or "OK")
            if state.upper() == "OK":
                continue
            colour = "red" if state.upper().startswith("MAJOR") else "yellow"
            services = [s.get("key") for s in instance.get("Services") or [] if isinstance(s, dict)]
            for system in _systems_of(services) or SYSTEMS:
                statuses[system].worsen(colour, f"{instance.get('key')} reports {state}")
        for incident in incidents:
            if not isinstance(incident, dict):
                raise Unreadable(f"{_public(base)} has an incident that is not an object")
            services = [str(k) for k in incident.get("serviceKeys") or []]
            on_heroku = bool(keys & set(incident.get("instanceKeys") or []))
            if not on_heroku and not (incident.get("affectsAll") and _HEROKU_KEYS & set(services)):
                continue
            impact = _open_colour(incident.get("IncidentImpacts") or [])
            if impact is None:
                continue
            title = _trust_title(incident)
            for system in _systems_of(services) or SYSTEMS:
                statuses[system].worsen(impact, title)
        return statuses


def _v4_concerns(incident: Any, system: str) -> bool:
    """Whether an open v4 incident belongs to `system`. Incidents that name no system
    (the field is unconfirmed) are shown on every system that is not green."""
    if not isinstance(incident, dict) or incident.get("resolved") is True:
        return False
    named = incident.get("systems")
    if not isinstance(named, list) or not named:
        return True
    names = {n.get("name") if isinstance(n, dict) else n for n in named}
    return system in names


def _systems_of(services: Iterable[JSON]) -> list[str]:
    keys = {str(s) for s in services if s is not None}
    return [system for system in SYSTEMS if _BUCKETS[system] & keys]


def _open_colour(impacts: Iterable[Any]) -> str | None:
    """The colour of an incident's open impacts: major red, minor (or unknown) yellow."""
    colour: str | None = None
    for impact in impacts:
        if not isinstance(impact, dict) or impact.get("endTime") is not None:
            continue
        severity = str(impact.get("severity") or "").lower()
        if not severity:
            continue
        found = "red" if severity == "major" else "yellow"
        if colour is None or RANK[found] > RANK[colour]:
            colour = found
    return colour


def _trust_title(incident: Mapping[str, Any]) -> str:
    events = [e for e in incident.get("IncidentEvents") or [] if isinstance(e, dict)]
    events.sort(key=lambda e: str(e.get("createdAt") or ""))
    first = str(events[0].get("message") or "") if events else ""
    name = f"incident {incident.get('externalId') or incident.get('id')}"
    return f"{name}: {first}" if first else name


def _public(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
