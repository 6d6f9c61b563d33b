"""The streams the real core emits (over fakes) fit the schema and every sink can show them."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import respx

from shipper import __version__
from shipper.core.emitter import EventSink
from shipper.core.events import CheckMeasured, Stamped
from shipper.core.model import MeasurementStatus
from shipper.report.console import PlainConsoleSink, make_console
from shipper.report.github import GitHubSink
from shipper.report.jsonl import JsonLinesSink
from shipper.report.slack import SlackSink
from tests.core.conftest import World
from tests.report.test_jsonl import VALIDATOR


def _shipped(world: World) -> None:
    world.deploy("v2", migrations=True)


def _check_fails(world: World) -> None:
    world.checks[1].when = lambda v: MeasurementStatus.FAILED if v == "v2" else None
    world.deploy("v2")


def _rollback_fails(world: World) -> None:
    world.kube.fail_deploy["deployment/web"] = "CrashLoopBackOff"
    world.heroku.fail_rollback["acme-web"] = "Heroku answered 503"
    world.deploy("v2")


def _blocked(world: World) -> None:
    world.gate.is_open = False
    world.deploy("v2")


def _gate_skipped(world: World) -> None:
    world.gate.is_open = False
    world.deploy("v2", skip_gate_reason="hotfix for INC-12")


def _rolled_back_by_hand(world: World) -> None:
    world.deploy("v2")
    world.rollback()


SCENARIOS: dict[str, Callable[[World], None]] = {
    "shipped": _shipped,
    "check_fails": _check_fails,
    "rollback_fails": _rollback_fails,
    "blocked": _blocked,
    "gate_skipped": _gate_skipped,
    "rolled_back_by_hand": _rolled_back_by_hand,
}


def _events(name: str) -> list[Stamped]:
    world = World()
    SCENARIOS[name](world)
    return world.sink.events


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_core_stream_matches_the_schema(name: str) -> None:
    """Every event the core emits in this scenario validates against the published schema."""
    out = io.StringIO()
    sink = JsonLinesSink(out)
    for event in _events(name):
        sink.emit(event)
    for line in out.getvalue().splitlines():
        VALIDATOR.validate(json.loads(line))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_core_stream_renders_to_text_and_summary(name: str, tmp_path: Path) -> None:
    """The plain console and the GitHub sink turn the core's stream into text and a summary."""
    out = io.StringIO()
    summary = tmp_path / "summary.md"
    sinks: list[EventSink] = [
        GitHubSink(out, summary_path=str(summary)),
        PlainConsoleSink(make_console(out, is_tty=False, no_color=True)),
    ]
    for event in _events(name):
        for sink in sinks:
            sink.emit(event)
    for sink in sinks:
        sink.close()
    assert out.getvalue().rstrip().endswith("╯")
    assert summary.read_text().startswith("### ")


def test_a_deploy_with_migrations_is_summed_up_as_one_run(tmp_path: Path) -> None:
    """The summary of a deploy names its migration release and ends on the code's outcome."""
    out = io.StringIO()
    sink = PlainConsoleSink(make_console(out, is_tty=False, no_color=True))
    for event in _events("shipped"):
        sink.emit(event)
    sink.close()
    text = " ".join(out.getvalue().replace("│", " ").split())
    assert "release #2 · web · code v2 · shipped" in text
    assert "migration release #1 v2 applied: migration release 1 of v2 applied" in text


def test_slack_tells_a_deploy_with_migrations_in_two_messages(
    respx_mock: respx.MockRouter,
) -> None:
    """A deploy with migrations posts one start and one end, the end about the code release."""
    url = "https://hooks.slack.test/services/T/B/x"
    route = respx_mock.post(url).respond(200)
    sink = SlackSink(url)
    for event in _events("shipped"):
        sink.emit(event)
    sink.close()
    texts = [json.loads(call.request.content)["text"] for call in route.calls]
    assert texts == [
        "ship web: release #1 started: v2 (the migration release first, then the code) "
        "by alice@laptop:42",
        "ship web: code v2 shipped in 6m00s (release #2)",
    ]


def test_a_long_bake_stays_short_in_a_log() -> None:
    """A five-minute bake of passing checks is a handful of lines, not one per measurement."""
    out = io.StringIO()
    sink = PlainConsoleSink(make_console(out, is_tty=False, no_color=True))
    events = _events("shipped")
    for event in events:
        sink.emit(event)
    measured = sum(1 for e in events if e.event.name == "check_result")
    lines = [line for line in out.getvalue().splitlines() if "check" in line]
    assert measured > 60
    assert len(lines) < 20
    assert "checks heroku 41 passed, 0 failed · kubernetes 40 passed, 0 failed" in lines[-1]


def test_a_failing_measurement_is_always_logged() -> None:
    """Every failed measurement gets its own line in a log, however many came before."""
    out = io.StringIO()
    sink = PlainConsoleSink(make_console(out, is_tty=False, no_color=True))
    events = _events("check_fails")
    for event in events:
        sink.emit(event)
    failed = sum(
        1 for e in events if isinstance(e.event, CheckMeasured) and e.event.status == "failed"
    )
    logged = re.findall(r"^\[\d\d:\d\d\] check \S+ \(\w+\) failed: ", out.getvalue(), re.M)
    assert len(logged) == failed


def test_a_rollback_has_its_own_fold_on_github() -> None:
    """The rollback's lines fall in one ::group:: of their own, even without a rollback phase."""
    out = io.StringIO()
    sinks: list[EventSink] = [
        GitHubSink(out, summary_path=None),
        PlainConsoleSink(make_console(out, is_tty=False, no_color=True)),
    ]
    for event in _events("check_fails"):
        for sink in sinks:
            sink.emit(event)
    lines = out.getvalue().splitlines()
    assert lines.count("::group::ship web: rollback") == 1
    start = lines.index("::group::ship web: rollback")
    end = lines.index("::endgroup::", start)
    assert any("rollback succeeded" in line for line in lines[start:end])


def _names(events: list[Stamped]) -> list[str]:
    return [e.event.name for e in events]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_run_opens_with_run_started_before_the_lock(name: str) -> None:
    """The stream's first event is run_started (ship's version, command, version, actor),
    before lock_taken or anything else, and it validates against the schema."""
    events = _events(name)
    first = events[0].to_json()
    assert first["event"] == "run_started"
    assert _names(events)[1] == "lock_taken"
    assert first["ship_version"] == __version__
    assert first["command"] == "deploy"
    assert first["version"] == "v2"
    assert first["actor"] and first["release"] is None and first["pipeline"] == "web"
    VALIDATOR.validate(json.loads(json.dumps(first)))


def test_rollback_and_migrate_open_with_run_started() -> None:
    """`ship rollback --to N` and `ship migrate` streams open with their own command."""
    world = World()
    world.deploy("v2")
    world.deploy("v3")
    del world.sink.events[:]
    world.rollback(to=1)
    first = world.sink.events[0].to_json()
    assert (first["command"], first["version"], first["to_release"]) == ("rollback", None, 1)
    assert _names(world.sink.events)[1] == "lock_taken"
    del world.sink.events[:]
    world.deploy("v4", migrations=True, migrations_only=True)
    first = world.sink.events[0].to_json()
    assert (first["command"], first["version"]) == ("migrate", "v4")


def test_docs_state_the_real_order_of_a_run() -> None:
    """docs/events.md's 'Order of a run' names events in the order a recorded deploy with
    migrations first emits them, and its release ends with release_finished, lock_released."""
    doc = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
    section = doc.split("## Order of a run", 1)[1].split("\n## ", 1)[0]
    documented: list[str] = []
    for name in re.findall(r"`([a-z_]+)`", section):
        if name not in documented:
            documented.append(name)
    events = _events("shipped")
    seen: list[str] = []
    for name in _names(events):
        if name not in seen:
            seen.append(name)
    assert [n for n in documented if n in seen] == seen
    assert _names(events)[-2:] == ["release_finished", "lock_released"]
