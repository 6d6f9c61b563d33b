"""The `ship` command: exit codes, the one stderr line, and what never reaches the terminal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import Result

from shipper.cli import guard


def test_version(ship: Callable[..., Result]) -> None:
    """`ship --version` prints the version and exits 0."""
    result = ship("--version")
    assert result.exit_code == 0 and re.match(r"ship \d+\.\d+", result.stdout)


def test_bad_pipeline_file_exits_2_with_one_line(
    ship: Callable[..., Result], project: Path
) -> None:
    """A broken pipeline file: one stderr line naming file, line and key; exit 2."""
    (project / "pipelines" / "web.yaml").write_text("name: web\nheroku: {apps: []}\n")
    result = ship("deploy", "v2", "--yes")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ship: pipelines/web.yaml:2: heroku.")


def test_missing_pipeline_is_named(ship: Callable[..., Result]) -> None:
    """-p with an unknown name says which file it looked for."""
    result = ship("status", "-p", "nope")
    assert result.exit_code == 2 and "pipelines/nope.yaml" in result.stderr


@pytest.mark.parametrize("version", ["1.0; rm -rf /", "v 2", "$(reboot)", "x" * 200])
def test_bad_version_exits_2(ship: Callable[..., Result], version: str) -> None:
    """Hostile or malformed versions are refused before anything happens."""
    result = ship("deploy", version, "--yes")
    assert result.exit_code == 2 and "version" in result.stderr


def test_skip_gate_needs_a_reason(ship: Callable[..., Result]) -> None:
    """--skip-status-gate without --reason is bad input."""
    result = ship("deploy", "v2", "--skip-status-gate", "--yes")
    assert result.exit_code == 2 and "--reason" in result.stderr


def test_bad_lock_wait_duration_exits_2(ship: Callable[..., Result]) -> None:
    """--lock-wait takes a duration like 5m."""
    result = ship("deploy", "v2", "--lock-wait", "soon", "--yes")
    assert result.exit_code == 2 and "--lock-wait" in result.stderr


def test_freeze_blocks_deploys_naming_the_holder(ship: Callable[..., Result]) -> None:
    """A manual lock makes `ship deploy` exit 3 naming holder and reason, touching nothing."""
    assert ship("lock", "acquire", "--reason", "Black Friday").exit_code == 0
    result = ship("deploy", "v2", "--yes", "--no-migrations")
    assert result.exit_code == 3
    assert "Black Friday" in result.stderr and "ship lock release" in result.stderr


def test_lock_show_and_release(ship: Callable[..., Result]) -> None:
    """The lock can be looked at and lifted by hand."""
    ship("lock", "acquire", "--reason", "freeze")
    shown = ship("lock", "show", "--output", "json")
    assert json.loads(shown.stdout)["reason"] == "freeze"
    assert ship("lock", "release").exit_code == 0
    assert json.loads(ship("lock", "show", "--output", "json").stdout) == {"held": False}


def test_history_of_a_new_pipeline_is_empty(ship: Callable[..., Result]) -> None:
    """`ship history` works before the first release."""
    result = ship("history", "--output", "json")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_history_of_an_unknown_release_exits_2(ship: Callable[..., Result]) -> None:
    """Asking for a release that does not exist is bad input."""
    assert ship("history", "7").exit_code == 2


def test_validate_names_the_file(ship: Callable[..., Result]) -> None:
    """`ship validate` confirms a good file."""
    result = ship("validate")
    assert result.exit_code == 0 and "pipelines/web.yaml: valid" in result.stdout


def test_rollback_with_an_empty_ledger_exits_2(ship: Callable[..., Result]) -> None:
    """There is nothing to roll back before the first release."""
    result = ship("rollback", "--yes")
    assert result.exit_code == 2 and "no release to roll back" in result.stderr


def test_corrupt_ledger_is_a_clear_error_never_reset(
    ship: Callable[..., Result], project: Path
) -> None:
    """A damaged state file gives one line and exit 4, and is left as it was."""
    state = project / "state"
    state.mkdir()
    junk = b"this is not a database" * 100
    (state / "web.sqlite3").write_bytes(junk)
    result = ship("history")
    assert result.exit_code == 4
    assert "ledger" in result.stderr and "Traceback" not in result.stderr
    assert (state / "web.sqlite3").read_bytes() == junk


def test_internal_error_goes_to_a_crash_file_without_secrets(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug prints one line and a crash file path; the traceback and no secret is shown."""
    guard.Session.state_dir = project / "crash"
    guard.Session.redactor.add("canary-0123456789abcdef")
    with pytest.raises(typer.Exit) as info, guard.reported():
        raise RuntimeError("boom with canary-0123456789abcdef inside")
    assert info.value.exit_code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "canary" not in err
    crash = next((project / "crash").glob("ship-crash-*.txt")).read_text()
    assert "RuntimeError" in crash and "canary-0123456789abcdef" not in crash


def test_a_key_with_control_characters_still_gives_one_line(
    ship: Callable[..., Result], project: Path
) -> None:
    """A YAML key holding a record separator is shown escaped, on one line."""
    (project / "pipelines" / "web.yaml").write_text('"\\x1E": null\nname: web\n')
    result = ship("validate")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "\\x1e" in result.stderr


def test_force_lock_over_a_freeze_needs_a_reason(ship: Callable[..., Result]) -> None:
    """--force-lock during a freeze without --reason is refused (exit 2), naming the freeze."""
    assert ship("lock", "acquire", "--reason", "Black Friday").exit_code == 0
    result = ship("deploy", "v2", "--yes", "--no-migrations", "--force-lock")
    assert result.exit_code == 2
    assert "Black Friday" in result.stderr and "--reason" in result.stderr
    rollback = ship("rollback", "--yes", "--force-lock")
    assert rollback.exit_code == 2 and "--reason" in rollback.stderr


def test_lifting_someone_elses_freeze_needs_force_and_names_both(
    ship: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`ship lock release` of another person's freeze exits 2 without --force; with it, the
    lift is said and logged with both names."""
    monkeypatch.setenv("SHIP_ACTOR", "carol")
    assert ship("lock", "acquire", "--reason", "Black Friday").exit_code == 0
    monkeypatch.setenv("SHIP_ACTOR", "dave")
    refused = ship("lock", "release")
    assert refused.exit_code == 2 and "frozen by carol" in refused.stderr
    assert json.loads(ship("lock", "show", "--output", "json").stdout)["held"] is True
    lifted = ship("lock", "release", "--force")
    assert lifted.exit_code == 0
    assert "dave lifted the freeze of web by carol" in lifted.stderr
    logged = [r.getMessage() for r in caplog.records if r.name == "ship.audit"]
    assert any("dave lifted the freeze of web by carol" in line for line in logged)


def test_ship_pipeline_picks_the_pipeline(
    ship: Callable[..., Result], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SHIP_PIPELINE names the pipeline when -p is not given (two files, no guessing)."""
    (project / "pipelines" / "api.yaml").write_text(
        (project / "pipelines" / "web.yaml").read_text().replace("name: web", "name: api")
    )
    assert ship("validate").exit_code == 2
    monkeypatch.setenv("SHIP_PIPELINE", "api")
    result = ship("validate")
    assert result.exit_code == 0 and "pipelines/api.yaml: valid pipeline api" in result.stdout


def test_help_offers_completion_debug_and_reads_flags_as_flags(
    ship: Callable[..., Result],
) -> None:
    """Shell completion is on, --debug is documented, and ship's flags show no `<bool>` value."""
    top = ship("--help").stdout
    assert "--install-completion" in top and "--show-completion" in top
    deploy = ship("deploy", "--help").stdout
    assert "--debug" in deploy
    for flag in ("--version", "--yes", "--dry-run", "--force-lock", "--debug", "--migrations"):
        line = next(li for li in (top + deploy).splitlines() if f"{flag} " in li)
        assert "<bool>" not in line, line
