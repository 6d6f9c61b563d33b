"""`ship status` shows the split of a pipeline with a `traffic:` section, read-only, from
a real HAProxy: percent, pins and blocks, the drained side, and how the live split differs
from the ledger's record; a HAProxy it can't reach is one line, never a crash."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import Result

from shipper.inspection import read_traffic
from shipper.pipeline import load_pipeline
from shipper.traffic.runtime import HAProxyRuntime
from shipper.wiring import wire
from tests.traffic.harness import Stack


def _ok(result: Result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr)


def _traffic(ship: Callable[..., Result]) -> dict[str, object]:
    shown = ship("status", "--output", "json")
    assert "internal error" not in shown.stderr
    data = json.loads(shown.stdout)
    assert isinstance(data["traffic"], dict)
    return data["traffic"]


def test_status_shows_split_pins_blocks_and_drain(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """After set 30, a pin, a block and a drain: `ship status` reports each, as recorded."""
    _ok(ship("traffic", "set", "--percent", "30"))
    _ok(ship("traffic", "pin", "acme", "--to", "kubernetes"))
    _ok(ship("traffic", "block", "globex"))
    _ok(ship("traffic", "drain", "heroku"))
    traffic = _traffic(ship)
    assert traffic["percent"] == 30 and traffic["pins"] == 1 and traffic["blocks"] == 1
    assert traffic["drained"] == "heroku"
    assert traffic["differs_from_ledger"] == [] and traffic["recorded"] is True
    human = " ".join(ship("status", "--output", "human").stdout.split())  # unwrapped
    assert "30% of sites on kubernetes · 1 pinned · 1 blocked · heroku drained" in human


def test_status_says_how_haproxy_differs_from_the_ledger(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """A change made behind ship's back (straight to the runtime API) is named."""
    _ok(ship("traffic", "set", "--percent", "20"))
    runtime = HAProxyRuntime(stack.runtime, stack.maps)
    assert runtime.send(f"set map {stack.maps / 'settings.map'} percent 35").strip() == ""
    traffic = _traffic(ship)
    assert traffic["percent"] == 35
    assert traffic["differs_from_ledger"] == ["percent 20 vs 35"]
    human = " ".join(ship("status", "--output", "human").stdout.split())  # unwrapped
    assert "DIFFERS from the ledger" in human
    assert "HAProxy differs from the ledger's last traffic change (percent 20 vs 35)" in human


def test_status_with_haproxy_down_says_so_in_one_line(
    stack: Stack, ship: Callable[..., Result]
) -> None:
    """HAProxy stopped: status still renders (its exit code is the targets'), and the
    traffic part is one line saying it could not be read."""
    stack.stop()
    shown = ship("status", "--output", "human")
    assert "internal error" not in shown.stderr and "Traceback" not in shown.stderr
    lines = [line for line in shown.stdout.splitlines() if "could not be read" in line]
    assert any("HAProxy could not be read: cannot reach HAProxy" in line for line in lines)
    summary = read_traffic(wire(load_pipeline(stack.pipeline)))
    assert summary is not None and summary.unreadable
    assert "\n" not in summary.unreadable
    assert _traffic(ship)["readable"] is False


def test_no_traffic_section_no_traffic_part(stack: Stack) -> None:
    """A pipeline without `traffic:` reads no HAProxy: status has no traffic part."""
    text = stack.pipeline.read_text().split("traffic:")[0]
    stack.pipeline.write_text(text)
    assert read_traffic(wire(load_pipeline(stack.pipeline))) is None
