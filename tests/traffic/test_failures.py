"""Bad input and a HAProxy that can't or won't: one line, exit 2 or 3, and the ledger
says exactly what was and wasn't applied. Plus the Heroku-like request timeout."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from shipper.cli import app
from tests.traffic.harness import Stack, free_port, running_stack


def _history(ship: Callable[..., Result]) -> list[dict[str, object]]:
    out = ship("history", "--output", "json")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def _one_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("ship:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("set", "--percent", "101"), "0 to 100"),
        (("set", "--percent", "-5"), "0 to 100"),
        (("pin", "bad site;x", "--to", "kubernetes"), "not a site id"),
        (("pin", "acme-1", "--to", "aws"), "heroku or kubernetes"),
        (("unblock", "never-blocked"), "unknown site never-blocked"),
        (("unpin", "never-pinned"), "unknown site never-pinned"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    stack: Stack, ship: Callable[..., Result], args: tuple[str, ...], said: str
) -> None:
    """Bad input: one line, exit 2, nothing sent to HAProxy."""
    result = ship("traffic", *args, "--output", "human")
    assert result.exit_code == 2, result.stderr
    assert said in _one_line(result)
    status = json.loads(ship("traffic", "status", "--output", "json").stdout)
    assert status["state"] == {"percent": 0, "pins": {}, "blocks": [], "drained": None}


def test_unknown_site_is_recorded_as_nothing_applied(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """An unblock of a site that isn't blocked is in the ledger: failed, nothing applied."""
    assert ship("traffic", "unblock", "nope", "--output", "human").exit_code == 2
    latest = _history(ship)[0]
    assert latest["kind"] == "traffic" and latest["state"] == "failed"
    assert "nothing was applied" in str(latest["message"])


def test_unreachable_runtime_api_exits_3_and_is_recorded(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """A runtime API nobody answers: exit 3, the ledger says blocked, nothing applied."""
    stack.write_pipeline(runtime=f"127.0.0.1:{free_port()}")
    result = ship("traffic", "set", "--percent", "40", "--output", "human")
    assert result.exit_code == 3
    assert "cannot reach HAProxy's runtime API" in _one_line(result)
    latest = _history(ship)[0]
    assert latest["state"] == "blocked"
    assert "nothing was applied" in str(latest["message"])
    status = ship("traffic", "status", "--output", "human")
    assert status.exit_code == 4


def test_refused_command_exits_3_and_the_ledger_lists_it_not_applied(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """A HAProxy that refuses the drain (the pipeline names a server it doesn't have):
    exit 3, and the ledger has the command as not applied."""
    text = stack.pipeline.read_text().replace(
        f'kubernetes: {{servers: ["127.0.0.1:{stack.kubernetes.port}"]',
        f'kubernetes: {{servers: ["127.0.0.1:{stack.kubernetes.port}", "127.0.0.1:1"]',
    )
    stack.pipeline.write_text(text)
    result = ship("traffic", "drain", "kubernetes", "--output", "human")
    assert result.exit_code == 4  # app1 was drained, app2 refused: a person must look
    line = _one_line(result)
    assert 'HAProxy refused "set server kubernetes/app2 state drain"' in line
    assert "applied: set server kubernetes/app1 state drain" in line
    number = _history(ship)[0]["number"]
    entries = ship("history", str(number), "--output", "json").stdout
    assert '"applied":false' in entries.replace(" ", "")
    assert '"applied":true' in entries.replace(" ", "")


def test_haproxy_without_the_pipelines_maps_refuses_exit_3(
    stack: Stack, ship: Callable[..., Result], tmp_path: Path
) -> None:
    """A HAProxy running another configuration (it doesn't know the pipeline's maps)
    refuses: exit 3, recorded as blocked with nothing applied."""
    stack.write_pipeline(maps=str(tmp_path / "elsewhere"))
    result = ship("traffic", "pin", "acme-1", "--to", "kubernetes", "--output", "human")
    assert result.exit_code == 3
    assert "HAProxy does not know the map" in _one_line(result)
    latest = _history(ship)[0]
    assert latest["state"] == "blocked" and "nothing was applied" in str(latest["message"])


@pytest.mark.slow
def test_slow_request_gets_503_with_the_timeout_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request slower than the timeout (shortened to 500 ms) gets a 503 like Heroku's
    H12, and the log line carries the termination state sH."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHIP_STATE_DIR", str(tmp_path / "state"))
    with running_stack(tmp_path, timeout="500ms") as stack:
        stack.heroku.slow_seconds = 1.5
        status, body = stack.get("acme-1", "/slow")
        assert status == 503
        assert "H12" in body
        assert stack.get("acme-1") == (200, "heroku")
        deadline = time.monotonic() + 3
        while " sH" not in stack.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        logged = [line for line in stack.log.read_text().splitlines() if " sH" in line]
        assert logged and "heroku/app1" in logged[0] and "site=acme-1" in logged[0]
        runner = CliRunner()
        out = runner.invoke(app, ["traffic", "status", "-p", "web", "--output", "json"])
        assert out.exit_code == 0
