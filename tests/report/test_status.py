"""`ship status`: targets, skew, lock, platform status and a release in progress."""

from __future__ import annotations

import io
import json
from typing import Any

from shipper.core.model import Phase, ReleaseState, Side
from shipper.ports import GateReading
from shipper.report.output import OutputMode
from shipper.report.skew import measure_skew
from shipper.report.status import StatusView, render_status
from tests.report import builders as b
from tests.report.streams import T0


def _human(view: StatusView) -> str:
    out = io.StringIO()
    render_status(view, out, OutputMode.HUMAN, is_tty=False)
    return out.getvalue()


def _json(view: StatusView) -> dict[str, Any]:
    out = io.StringIO()
    render_status(view, out, OutputMode.JSON)
    shown: dict[str, Any] = json.loads(out.getvalue())
    return shown


def test_each_target_shows_version_release_and_health() -> None:
    """Every target is a row with its version, its platform release or revision, and health."""
    text = _human(StatusView("web", T0, b.targets()))
    assert "heroku       acme-web            v41       v123      healthy" in text
    assert "kubernetes   deployment/web      v41       rev 7     healthy" in text


def test_no_skew_when_every_target_agrees() -> None:
    """With one version everywhere the skew line says none."""
    assert "skew      none" in _human(StatusView("web", T0, b.targets()))


def test_skew_between_sides_says_how_far_apart_by_the_ledger() -> None:
    """Sides on different versions are flagged with the releases and time between them."""
    releases = [b.release(9, "v41", hours=-5), b.release(10, "v42", hours=-2)]
    view = StatusView("web", T0, b.targets("v41", "v42"), releases=releases)
    assert "heroku runs v41, kubernetes runs v42: 1 release (3h00m) apart" in _human(view)


def test_skew_without_ledger_falls_back_to_version_numbers() -> None:
    """Without ledger history the distance is read from the numbers in the versions."""
    skew = measure_skew(b.targets("v38", "v42"))
    assert (
        skew is not None
        and skew.describe == "heroku runs v38, kubernetes runs v42: 4 versions apart"
    )


def test_skew_within_one_side_is_named() -> None:
    """Two targets of the same side on different versions count as skew within that side."""
    targets = b.targets()
    targets[1] = b.state("heroku", "acme-worker", "v40")
    skew = measure_skew(targets)
    assert skew is not None and skew.within == ["heroku"]


def test_lock_shows_holder_reason_and_age() -> None:
    """A held lock is shown with its holder, reason, age and expiry."""
    text = _human(StatusView("web", T0, b.targets(), lock=b.lock(minutes_ago=12)))
    assert 'held by alice@bastion (reason: "hotfix") for 12m00s; expires in 3m00s' in text


def test_manual_lock_reads_as_a_freeze() -> None:
    """A manual lock says it is a deploy freeze held until released."""
    text = _human(StatusView("web", T0, b.targets(), lock=b.lock(ttl=None, manual=True)))
    assert "a manual lock (deploy freeze) until `ship lock release`" in " ".join(text.split())


def test_closed_platform_status_says_deploys_are_blocked() -> None:
    """A closed gate shows the status text and that deploys are blocked."""
    gate = GateReading(False, "Tools is yellow: Delayed builds")
    text = _human(StatusView("web", T0, b.targets(), gate=gate))
    assert "closed: Tools is yellow: Delayed builds (deploys are blocked)" in text


def test_release_in_progress_shows_its_phase() -> None:
    """An open release is shown with its number, version, state and phase."""
    running = b.release(
        13, "v43", ReleaseState.RUNNING, hours=-0.1, seconds=None, phase=Phase.VERIFY
    )
    text = _human(StatusView("web", T0, b.targets(), in_progress=running))
    assert "#13 code v43 is running in phase verify, started 6m00s ago" in text


def test_an_unreadable_side_is_reported_not_fatal() -> None:
    """A side that could not be read is named with why, and the other side still shows."""
    view = StatusView(
        "web", T0, b.targets()[:2], unreadable={Side.KUBERNETES: "connection refused"}
    )
    text = _human(view)
    assert "kubernetes  could not be read: connection refused" in text
    assert "acme-web" in text


def test_json_status_carries_skew_lock_and_gate() -> None:
    """The JSON form has targets, skew, lock, platform status and the release in progress."""
    view = StatusView(
        "web",
        T0,
        b.targets("v41", "v42"),
        lock=b.lock(),
        gate=GateReading(True, "Apps green"),
    )
    data = _json(view)
    assert data["skew"]["versions"] == {"heroku": ["v41"], "kubernetes": ["v42"]}
    assert data["lock"]["age_seconds"] == 720.0
    assert data["platform_status"] == {"open": True, "summary": "Apps green"}
    assert data["in_progress"] is None
    assert data["targets"][0]["release"] == "v123"


def test_status_exits_0_when_everything_is_readable_healthy_and_on_one_version() -> None:
    """Exit 0 like `kubectl rollout status`: readable, healthy, one version; no problems."""
    view = StatusView("web", T0, b.targets())
    assert view.exit_code == 0 and view.problems() == []


def test_status_exits_1_when_a_target_is_unhealthy_or_skewed() -> None:
    """Exit 1 for an unhealthy target, and for versions that differ."""
    sick = b.targets()
    sick[2] = b.state("kubernetes", "deployment/web", "v41", healthy=False)
    assert StatusView("web", T0, sick).exit_code == 1
    assert StatusView("web", T0, b.targets("v41", "v42")).exit_code == 1


def test_status_exits_4_and_never_says_skew_none_about_an_unread_side() -> None:
    """A side that can't be read makes exit 4 and the skew unknown, never "none"."""
    view = StatusView("web", T0, b.targets()[:2], unreadable={Side.KUBERNETES: "refused"})
    assert view.exit_code == 4
    text = _human(view)
    assert "skew      none" not in text
    assert "unknown: kubernetes could not be read" in text
    assert _json(view)["exit_code"] == 4


def test_every_problem_line_ends_with_the_next_command() -> None:
    """Each problem says what is wrong and ends with the command to run next."""
    sick = b.targets("v41", "v42")
    sick[0] = b.state("heroku", "acme-web", "v41", healthy=False)
    view = StatusView(
        "web",
        T0,
        sick,
        unreadable={Side.KUBERNETES: "refused"},
        lock=b.lock(ttl=None, manual=True),
        gate=GateReading(False, "Apps red"),
        in_progress=b.release(13, "v43", ReleaseState.INTERRUPTED, seconds=None),
    )
    problems = view.problems()
    assert len(problems) == 6
    for line in problems:
        assert line.endswith("`") or line.endswith("it)"), line
        assert "`ship " in line, line


def test_a_stale_lock_is_shown_as_stale_with_the_takeover() -> None:
    """A lock whose holder died reads as STALE, with the command that takes it over, and
    the release it left is shown as stopped with the commands that finish or undo it."""
    view = StatusView(
        "web",
        T0,
        b.targets(),
        lock=b.lock(),
        lock_stale="its process 4242 on bastion no longer exists",
        in_progress=b.release(13, "v43", ReleaseState.RUNNING, seconds=None),
    )
    text = " ".join(_human(view).split())
    assert "STALE: held by alice@bastion" in text
    assert "the next deploy or rollback takes it over, or free it now: `ship lock release" in text
    assert "release #13 (code of v43) stopped in phase done and nothing is running it" in text
    assert "finish it with `ship deploy v43 -p web`, or undo it: `ship rollback -p web`" in text


def test_status_json_is_one_line() -> None:
    """Piped, `ship status` is one JSON object on one line."""
    out = io.StringIO()
    render_status(StatusView("web", T0, b.targets()), out, OutputMode.JSON)
    assert out.getvalue().count("\n") == 1


def test_kubernetes_health_is_given_to_each_workload() -> None:
    """The side's health reading puts available/desired on each workload, not "unknown"."""
    from shipper.core.model import Measurement, MeasurementStatus
    from shipper.inspection import with_health

    states = [
        b.state("kubernetes", "deployment/web", "v41", healthy=None),
        b.state("kubernetes", "deployment/worker", "v41", healthy=None),
    ]
    good = Measurement(
        MeasurementStatus.SUCCESSFUL,
        "deployment/web 2/3 available; deployment/worker 1/1 available",
        "all workloads available",
    )
    read = with_health(states, good)
    assert [(s.healthy, s.message) for s in read] == [
        (True, "2/3 available"),
        (True, "1/1 available"),
    ]
    bad = Measurement(MeasurementStatus.FAILED, "CrashLoopBackOff", "deployment/web: crash")
    read = with_health(states, bad)
    assert [s.healthy for s in read] == [False, None]
