"""The closing summary says a failure once; the status table keeps its health column at 60."""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console

from shipper.core.model import MeasurementStatus
from shipper.report.status import StatusView, status_renderable
from shipper.report.summary import facts, summary_panel
from shipper.report.view import ReleaseView
from tests.core.conftest import World
from tests.report import builders as b
from tests.report.streams import T0


def _summary(world: World) -> tuple[list[tuple[str, str]], str]:
    view = ReleaseView()
    for event in world.sink.events:
        view.apply(event)
    out = io.StringIO()
    Console(file=out, width=300, force_terminal=False).print(summary_panel(view))
    return facts(view), out.getvalue()


def test_a_failed_target_is_said_once_in_the_summary() -> None:
    """A crashing workload's reason appears once in the closing summary, not per section."""
    world = World()
    world.kube.fail_deploy["deployment/web"] = "CrashLoopBackOff: web-7d9 restarted 5 times"
    world.deploy("v2")
    said, text = _summary(world)
    assert text.count("web-7d9 restarted 5 times") == 1, said
    assert any("rolled back" in line for _, line in said)


def test_a_failed_check_is_said_once_in_the_summary() -> None:
    """A failed check's reason is said once; the threshold and last values are still given."""
    world = World()
    world.checks[1].when = lambda v: MeasurementStatus.FAILED if v == "v2" else None
    world.deploy("v2")
    said, text = _summary(world)
    assert text.count("3 failed measurements in a row") == 1, said
    assert "passing means error rate < 1%" in text


def _status(width: int) -> str:
    targets = [
        replace(s, message="2/3 available · Progressing: ReplicaSet web-7d9")
        if s.target.side.value == "kubernetes"
        else s
        for s in b.targets()
    ]
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=False).print(
        status_renderable(StatusView("web", T0, targets)), soft_wrap=False
    )
    return out.getvalue()


def test_at_60_columns_the_status_table_keeps_its_health_column() -> None:
    """At 60 columns every row still says healthy in full, and the messages follow as lines."""
    text = _status(60)
    rows = [line for line in text.splitlines() if line.strip().startswith(("heroku", "kube"))]
    assert len(rows) == 4 and all(row.rstrip().endswith("healthy") for row in rows)
    assert "health" in text and "healt…" not in text
    assert "deployment/web: 2/3 available" in text
    assert all(len(line) <= 60 for line in text.splitlines())


def test_wide_status_keeps_the_message_column() -> None:
    """At 100 columns the message stays in its column beside the health."""
    text = _status(100)
    assert any("healthy" in line and "2/3 available" in line for line in text.splitlines())
