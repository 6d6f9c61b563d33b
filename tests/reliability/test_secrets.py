"""The secret scan itself: a failing release against the sandbox gives it every kind of
place to look at, and a canary planted on purpose is found, so a clean scan means
something."""

from __future__ import annotations

import pytest

from tests.reliability.settle import settled
from tests.reliability.stage import SLACK_CANARY, Stage
from tests.reliability.tally import Tally

pytestmark = pytest.mark.slow


def test_a_rolled_back_release_leaks_no_canary_anywhere(stage: Stage, tally: Tally) -> None:
    """A broken release, rolled back on both sides, leaves output, events, ship.log, ledger
    rows and Slack payloads to scan, and none holds the Heroku token, the kubeconfig token
    or the Slack webhook URL."""
    done = stage.deploy("v2-broken", "--no-migrations")
    settled(stage, tally, done, "v2-broken", 1)
    assert done.events()
    assert (stage.state_dir / "ship.log").stat().st_size > 0
    assert "INSERT INTO" in stage.ledger_dump()
    assert len(stage.slack.payloads) >= 2
    assert stage.leaked() == []


def test_the_scan_finds_a_planted_canary(stage: Stage, tally: Tally) -> None:
    """A canary written into ship.log by hand is reported by the scan (then removed, so the
    fixture's own scan stays clean)."""
    log = stage.state_dir / "ship.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    before = log.read_text() if log.exists() else ""
    log.write_text(before + f"planted {SLACK_CANARY}\n")
    try:
        assert stage.leaked() == [f"{SLACK_CANARY[:4]}... in ship.log"]
    finally:
        log.write_text(before)
