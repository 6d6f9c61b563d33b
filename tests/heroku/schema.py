"""Match every request to its link in the official Platform API schema and validate it.

A request passes when some link of the schema has its method, its href (with every
`{(#/definitions/...identity)}` segment valid against that identity's definition) and,
for a request with a body, a body valid against the link's schema. `strictProperties`
(the interagent extension the schema uses) is enforced, and so is the link schema's own
property list: a field the schema does not describe fails, as Heroku would refuse it.

The one request the schema does not describe on purpose is the container release
(reference/heroku.md 5.2): PATCH formation with `version=3.docker-releases` and
`docker_image` in each update, proven by the Heroku CLI. It is allowed only with that
Accept header, and validated against the schema's formation update plus `docker_image`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import jsonschema
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.validators import extend

SCHEMA_PATH = Path(__file__).parents[1] / "data" / "heroku-platform-api-schema.json"
ACCEPT = "application/vnd.heroku+json; version=3"
ACCEPT_DOCKER = "application/vnd.heroku+json; version=3.docker-releases"
_SEGMENT = re.compile(r"\{\(([^)]*)\)\}")


def _strict(validator: Any, strict: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if strict and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        for key in instance:
            if key not in known:
                yield jsonschema.ValidationError(f"property {key!r} is not in the schema")


_Validator = extend(Draft4Validator, {"strictProperties": _strict})
_FORMATS = FormatChecker()


@dataclass(frozen=True)
class Link:
    definition: str
    title: str
    method: str
    pattern: re.Pattern[str]
    identities: tuple[str, ...]  # JSON pointers of the path segments
    schema: dict[str, Any] | None


class PlatformSchema:
    """The schema's links, ready to check requests against."""

    def __init__(self, path: Path = SCHEMA_PATH) -> None:
        self.root = json.loads(path.read_text())
        self.links: list[Link] = []
        for name, definition in self.root["definitions"].items():
            for link in definition.get("links", []):
                href = link["href"]
                pointers = tuple(unquote(p) for p in _SEGMENT.findall(href))
                literals = _SEGMENT.split(href)[::2]
                regex = "^" + "([^/]+)".join(re.escape(part) for part in literals) + "$"
                self.links.append(
                    Link(
                        name,
                        link["title"],
                        link["method"].upper(),
                        re.compile(regex),
                        pointers,
                        link.get("schema"),
                    )
                )

    def _validator(self, schema: dict[str, Any]) -> Any:
        return _Validator(
            {**schema, "definitions": self.root["definitions"]}, format_checker=_FORMATS
        )

    def _resolve(self, pointer: str) -> dict[str, Any]:
        node: Any = self.root
        for part in pointer.lstrip("#/").split("/"):
            node = node[part]
        return dict(node)

    def _segment_ok(self, pointer: str, raw: str) -> bool:
        validator = self._validator(self._resolve(pointer))
        value = unquote(raw)
        candidates: list[Any] = [value]
        if value.isdigit():
            candidates.append(int(value))
        return any(validator.is_valid(c) for c in candidates)

    def link_for(self, request: httpx.Request) -> Link:
        """The link `request` follows, or AssertionError naming what is wrong."""
        path = request.url.raw_path.decode().split("?")[0]
        body = json.loads(request.content) if request.content else None
        accept = request.headers.get("Accept", "")
        problems: list[str] = []
        for link in self.links:
            if link.method != request.method:
                continue
            match = link.pattern.match(path)
            if match is None:
                continue
            bad = [
                seg
                for seg, ptr in zip(match.groups(), link.identities, strict=True)
                if not self._segment_ok(ptr, seg)
            ]
            if bad:
                problems.append(f"{link.definition} {link.title}: bad path segment {bad}")
                continue
            schema = link.schema
            if accept == ACCEPT_DOCKER:
                if (link.definition, link.title) != ("formation", "Batch Update"):
                    problems.append("docker-releases Accept is only for formation Batch Update")
                    continue
                schema = self._docker_schema(schema or {})
            elif accept != ACCEPT:
                problems.append(f"Accept header is {accept!r}")
                continue
            if body is None and schema and schema.get("required"):
                problems.append(f"{link.definition} {link.title}: no body")
                continue
            if body is not None:
                if schema is None:
                    problems.append(f"{link.definition} {link.title}: takes no body")
                    continue
                checked = {**schema, "strictProperties": True}
                errors = list(self._validator(checked).iter_errors(body))
                if errors:
                    problems.append(f"{link.definition} {link.title}: {errors[0].message}")
                    continue
            return link
        raise AssertionError(
            f"{request.method} {path} is not a request the Platform API schema describes: "
            + ("; ".join(problems) or "no link matches")
        )

    def _docker_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        update = copy.deepcopy(self.root["definitions"]["formation"]["definitions"]["update"])
        update["properties"]["docker_image"] = {
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$",
        }
        update["required"] = ["type", "docker_image"]
        docker = copy.deepcopy(schema)
        docker["properties"]["updates"]["items"] = update
        return docker
