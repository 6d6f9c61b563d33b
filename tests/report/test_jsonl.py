"""The JSON event stream: one object per line, flushed, valid against the schema."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import jsonschema
import pytest

from shipper.core import events as events_module
from shipper.core.events import Event, MetricRecorded, Stamped
from shipper.report.jsonl import JsonLinesSink
from tests.report import streams

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "events.schema.json").read_text())
DOC = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def _lines(stream: list[Stamped]) -> list[str]:
    out = io.StringIO()
    sink = JsonLinesSink(out)
    for event in stream:
        sink.emit(event)
    sink.close()
    return out.getvalue().splitlines()


def _event_classes() -> list[type[Event]]:
    return [
        c
        for c in vars(events_module).values()
        if isinstance(c, type) and issubclass(c, Event) and c is not Event
    ]


@pytest.mark.parametrize("name", sorted(streams.ALL))
def test_whole_release_streams_match_the_schema(name: str) -> None:
    """Every line of a recorded whole release validates against docs/events.schema.json."""
    for line in _lines(streams.ALL[name]()):
        VALIDATOR.validate(json.loads(line))


def test_each_event_is_one_line_with_the_common_fields() -> None:
    """Each event is a single line carrying event, time, release and pipeline."""
    lines = _lines(streams.success())
    assert len(lines) == len(streams.success())
    assert json.loads(lines[0])["event"] == "run_started"
    first = json.loads(lines[2])
    assert (first["event"], first["release"], first["pipeline"]) == ("release_started", 12, "web")
    assert first["time"] == "2026-11-26T12:00:00+00:00"


def test_each_event_is_flushed_as_it_happens() -> None:
    """The sink flushes after every line, so a reader of the pipe sees events live."""

    class Counting(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    out = Counting()
    sink = JsonLinesSink(out)
    for event in streams.blocked()[:3]:
        sink.emit(event)
    assert out.flushes == 3


def test_non_finite_numbers_become_null() -> None:
    """A NaN metric is written as null, so the line stays strict JSON."""
    event = Stamped(streams.T0, "web", 3, MetricRecorded("latency", float("nan")))
    (line,) = _lines([event])
    assert json.loads(line)["value"] is None
    VALIDATOR.validate(json.loads(line))


def test_the_schema_rejects_a_misspelt_field() -> None:
    """A field the schema does not know is an error, so docs and code cannot drift apart."""
    data = json.loads(_lines(streams.blocked())[1])
    data["versoin"] = data.pop("version")
    assert list(VALIDATOR.iter_errors(data))


def test_every_event_class_is_in_the_schema_with_its_fields() -> None:
    """Each event type in shipper.core.events has a schema entry listing exactly its fields."""
    for cls in _event_classes():
        definition = SCHEMA["$defs"][cls.name]
        fields = {f.name for f in dataclasses.fields(cls)}
        assert set(definition["properties"]) - {"event", "time", "release", "pipeline"} == fields


def test_every_event_is_documented() -> None:
    """docs/events.md has a section for every event name."""
    for cls in _event_classes():
        assert f"### `{cls.name}`" in DOC
