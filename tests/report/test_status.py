"""`ship status`: targets, skew, lock, platform status and a release in progress."""

from __future__ import annotations

import io
import json

from shipper.core.model import Phase, ReleaseState, Side
from shipper.ports import GateReading
from shipper.report.skew import measure_skew
from shipper.report.status import StatusView, render_status
from tests.report import builders as b
from tests.report.streams import T0


def _human(view: StatusView) -> str:
    out = io.StringIO()
    render_status(view, out, "human", is_tty=False)
    return out.getvalue()


def _json(view: StatusView) -> dict:
    out = io.StringIO()
    render_status(view, out, "json")
    return json.loads(out.getvalue())


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
