"""Long waits show their limit and the pipeline key that sets it."""

from __future__ import annotations

from datetime import timedelta

from shipper.core.events import Event, PhaseStarted, Stamped, TargetProgress
from shipper.core.model import Phase, ReleaseNo, Version
from shipper.core.operation import ReleaseOperation, duration_words
from shipper.report.lines import describe
from shipper.report.view import ReleaseView
from tests.core.conftest import World
from tests.report.streams import T0


def _view(*events: tuple[float, Event]) -> ReleaseView:
    view = ReleaseView()
    for at, event in events:
        view.apply(Stamped(T0 + timedelta(seconds=at), "web", 3, event))
    return view


def test_a_bake_shows_how_far_it_is_of_its_length() -> None:
    """The live header of a bake reads "bake 12s of 30s (verify.bake)"."""
    view = _view((0, PhaseStarted(Phase.VERIFY, 30.0, "verify.bake")))
    assert view.wait_words(T0 + timedelta(seconds=12)) == "bake 12s of 30s (verify.bake)"


def test_a_release_wait_shows_its_deadline_and_key() -> None:
    """A progress line during the release says the wait, the deadline and the key."""
    started = PhaseStarted(Phase.RELEASE, 900.0, "kubernetes.rollout_timeout")
    progress = TargetProgress("heroku:acme-web", "heroku", "v1", "v2", "release phase", "v9")
    view = _view((0, started), (40, progress))
    line = describe(Stamped(T0 + timedelta(seconds=40), "web", 3, progress), view)
    assert line is not None
    assert "release phase 40s (deadline 15m, kubernetes.rollout_timeout)" in line.text


def test_phase_started_line_names_the_limit() -> None:
    """The plain log says each long phase's limit when it starts."""
    view = _view()
    line = describe(
        Stamped(T0, "web", 3, PhaseStarted(Phase.MIGRATE, 900, "migrations.timeout")), view
    )
    assert line is not None and line.text == "migrate: started (deadline 15m, migrations.timeout)"


def test_durations_read_as_a_pipeline_file_writes_them() -> None:
    """Limits are written as in the pipeline: 30s, 10m, 1h30m, 90s."""
    assert [duration_words(s) for s in (30, 600, 5400, 90, 0)] == [
        "30s",
        "10m",
        "1h30m",
        "90s",
        "0s",
    ]


def test_the_core_says_each_long_phase_limit_and_key() -> None:
    """A recorded deploy's phases carry the limit and the key that really sets it."""
    world = World()
    world.deploy("v2", migrations=True)
    limits = {
        e.event.phase: (e.event.limit_seconds, e.event.limit)
        for e in world.sink.events
        if isinstance(e.event, PhaseStarted)
    }
    assert limits[Phase.RELEASE] == (600, "kubernetes.rollout_timeout")
    assert limits[Phase.VERIFY] == (300, "verify.bake")
    assert limits[Phase.MIGRATE] == (900, "migrations.timeout")
    assert limits[Phase.MIGRATION_BAKE] == (60, "migrations.bake")
    assert limits[Phase.GATE] == (None, "")


def test_an_operation_names_its_limit_for_timeout_messages() -> None:
    """Adapters say `op.limit` when they time out: the deadline and the key."""
    import threading

    op = ReleaseOperation(
        release=ReleaseNo(1),
        pipeline="web",
        version=Version("v2"),
        clock=World().clock,
        budget_seconds=600,
        stop=threading.Event(),
        abort=threading.Event(),
        write_ahead=lambda *a: None,
        fence=lambda: None,
        emit=lambda e: None,
        limit_key="kubernetes.rollout_timeout",
    )
    assert op.limit == "10m (kubernetes.rollout_timeout)"
