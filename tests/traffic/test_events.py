"""The traffic events are documented and in the JSON schema, and a real change's stream
validates against it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
from typer.testing import Result

from shipper.traffic.events import TRAFFIC_EVENTS
from tests.traffic.harness import Stack

DOCS = Path(__file__).parents[2] / "docs"
SCHEMA = json.loads((DOCS / "events.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def test_every_traffic_event_is_in_the_schema_and_the_docs() -> None:
    """Each traffic event has a schema entry listing exactly its fields, and a section."""
    doc = (DOCS / "events.md").read_text()
    for cls in TRAFFIC_EVENTS:
        definition = SCHEMA["$defs"][cls.name]
        fields = {f.name for f in dataclasses.fields(cls)}
        assert set(definition["properties"]) - {"event", "time", "release", "pipeline"} == fields
        assert f"### `{cls.name}`" in doc


def test_a_traffic_change_streams_valid_events(stack: Stack, ship: Callable[..., Result]) -> None:
    """`ship traffic set --output json` writes schema-valid lines in the documented order."""
    result = ship("traffic", "set", "--percent", "10", "--reason", "canary", "--output", "json")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for line in lines:
        VALIDATOR.validate(line)
    assert [line["event"] for line in lines] == [
        "lock_taken",
        "release_started",
        "traffic_command",
        "traffic_changed",
        "release_finished",
        "lock_released",
    ]
    assert lines[-2]["exit_code"] == 0
