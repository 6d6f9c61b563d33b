"""`ship history` and `ship history N`."""

from __future__ import annotations

import io
import json

from shipper.core.model import LedgerEntry, Release, ReleaseKind, ReleaseState
from shipper.report.history import render_history, render_release
from shipper.report.output import OutputMode
from tests.report import builders as b
from tests.report import streams


def _releases() -> list[Release]:
    return [
        b.release(9, "v41", hours=-5),
        b.release(11, "v41", kind=ReleaseKind.ROLLBACK, hours=-1, reason="checkout errors"),
        b.release(10, "v42", ReleaseState.ROLLED_BACK, hours=-2),
    ]


def _wide(releases: list[Release], width: int) -> str:
    from rich.console import Console

    from shipper.report.history import history_renderable

    out = io.StringIO()
    console = Console(file=out, width=width, no_color=True)
    console.print(history_renderable(releases, width), soft_wrap=False)
    return out.getvalue()


def test_history_is_newest_first() -> None:
    """Releases are listed by number, newest first, whatever order they came in."""
    out = io.StringIO()
    render_history(_releases(), out, is_tty=False)
    numbers = [line.split()[0] for line in out.getvalue().splitlines() if line.startswith("#")]
    assert numbers == ["#11", "#10", "#9"]


def test_history_row_has_kind_version_state_duration_and_reason() -> None:
    """On a wide terminal a row carries kind, version, state, start, duration and reason."""
    text = _wide(sorted(_releases(), key=lambda r: -r.number), 160)
    row = next(line for line in text.splitlines() if line.startswith(" 11"))
    for part in ("rollback", "v41", "succeeded", "2026-11-26 11:00", "10m12s", "checkout errors"):
        assert part in row


def test_history_never_cuts_a_number_or_the_state_at_narrow_widths() -> None:
    """At 60 and 80 columns "undo release 27" stays whole, and so does the state."""
    releases = [
        b.release(
            28,
            "v1.2.3-rc.1",
            ReleaseState.ROLLBACK_FAILED,
            kind=ReleaseKind.ROLLBACK,
            reason="undo release 27: back to what ran before it (v1.2.2)",
        )
    ]
    for width in (60, 80, 100, 120):
        text = " ".join(_wide(releases, width).split())
        assert "undo release 27:" in text, (width, text)
        assert "rollback failed" in text, (width, text)


def test_history_shortens_long_shas() -> None:
    """A full git SHA as a version is shown with 12 digits in the table."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = _wide([b.release(3, sha)], 160)
    assert "0123456789ab " in text and sha not in text


def test_history_json_is_one_release_per_line_without_target_records() -> None:
    """The JSON form is one release per line, newest first, with duration_seconds and
    without the platforms' full record of each target unless asked for in detail."""
    out = io.StringIO()
    render_history(_releases(), out, OutputMode.JSON)
    data = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["number"] for r in data] == [11, 10, 9]
    assert data[0]["duration_seconds"] == 612.0
    assert all("detail" not in t for r in data for t in (r["snapshot"] or {}).get("targets", []))
    full = io.StringIO()
    render_release(b.release(12, "v42"), [], full, OutputMode.JSON, detail=True)
    assert "detail" in json.loads(full.getvalue())["release"]["snapshot"]["targets"][0]


def test_empty_history_says_so() -> None:
    """With no releases the output says there are none."""
    out = io.StringIO()
    render_history([], out, is_tty=False)
    assert out.getvalue() == "no releases yet\n"


def _entries() -> list[LedgerEntry]:
    return [LedgerEntry(e.time, e.event.name, e.event.fields()) for e in streams.rolled_back()]


def test_release_replays_its_events_as_sentences() -> None:
    """One release shows its stored events as the console's sentences."""
    out = io.StringIO()
    release = b.release(12, "v42", ReleaseState.ROLLED_BACK)
    render_release(release, _entries(), out, is_tty=False)
    text = out.getvalue()
    assert "02:19  rolling back both sides: check kube-errors failed on kubernetes" in text
    assert "finished: rolled back (exit 1) after 3m21s" in text


def test_release_shows_versions_before_and_after() -> None:
    """One release shows each target's version in the snapshot and after the release."""
    out = io.StringIO()
    render_release(b.release(12, "v42"), [], out, is_tty=False)
    assert "kubernetes   deployment/web      v41      v42" in out.getvalue()


def test_unknown_ledger_lines_are_shown_raw() -> None:
    """A ledger line that is not an event is shown with its name and fields."""
    entry = LedgerEntry(streams.T0, "resumed", {"by": "bob", "phase": "verify"})
    out = io.StringIO()
    render_release(b.release(12, "v42"), [entry], out, is_tty=False)
    assert "resumed by=bob, phase=verify" in out.getvalue()


def test_intents_read_as_changes_about_to_be_made() -> None:
    """A write-ahead intent reads as the change that was about to be made on a target."""
    entry = LedgerEntry(streams.T0, "intent", {"target": "heroku:acme-web", "action": "build"})
    out = io.StringIO()
    render_release(b.release(12, "v42"), [entry], out, is_tty=False)
    assert "heroku:acme-web: about to build" in out.getvalue()


def test_release_json_has_the_release_and_its_events() -> None:
    """The JSON form of one release has the release and every stored event."""
    out = io.StringIO()
    render_release(b.release(12, "v42"), _entries(), out, OutputMode.JSON)
    data = json.loads(out.getvalue())
    assert data["release"]["number"] == 12
    assert len(data["events"]) == len(streams.rolled_back())
