"""`ship status`: what runs where right now, and anything that would stop a release.

On-call reads this first, so it leads with what is wrong: a skew between the sides (with
how far apart they are), a held lock (who, why, how long), a platform status that is not
green, a release left in progress. It shows what it could read and says what it could
not; it never fails because one side did not answer (the CLI exits 0 whatever it shows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shipper.core.model import JSONDict, LockInfo, Release, Side, TargetState
from shipper.ports import GateReading
from shipper.report import fmt
from shipper.report.output import OutputMode, console_for, write_json
from shipper.report.skew import Skew, measure_skew


@dataclass(frozen=True)
class StatusView:
    """Everything `ship status` shows, read by the CLI from the ports.

    `targets` is every target that could be read, both sides; `unreadable` names each
    side that could not be read and why. `gate` is None when no status gate is
    configured; `in_progress` is an open release (running or interrupted), if any.
    `releases` (newest first, a few dozen are plenty) lets the skew say how far apart
    the versions are in releases and time.
    """

    pipeline: str
    now: datetime
    targets: Sequence[TargetState] = ()
    unreadable: Mapping[Side, str] = field(default_factory=dict)
    lock: LockInfo | None = None
    gate: GateReading | None = None
    in_progress: Release | None = None
    releases: Sequence[Release] = ()

    @property
    def skew(self) -> Skew | None:
        return measure_skew(self.targets, self.releases)


def render_status(
    view: StatusView, out: TextIO, output: OutputMode = "human", *, is_tty: bool | None = None
) -> None:
    """Write `ship status` to `out`: a JSON document, or text for a person."""
    if output == "json":
        write_json(out, status_json(view))
        return
    console_for(out, is_tty=is_tty).print(status_renderable(view), soft_wrap=False)


def render_lock(
    pipeline: str,
    lock: LockInfo | None,
    now: datetime,
    out: TextIO,
    output: OutputMode = "human",
    *,
    is_tty: bool | None = None,
) -> None:
    """`ship lock show`: the lock line of `ship status`, alone."""
    if output == "json":
        write_json(
            out, {"held": False} if lock is None else {"held": True, **_lock_json(lock, now)}
        )
        return
    line = Text(f"{pipeline}: ").append_text(_lock_text(lock, now))
    console_for(out, is_tty=is_tty).print(line, soft_wrap=False)


def status_json(view: StatusView) -> JSONDict:
    """The JSON form of `ship status` (documented in docs/events.md)."""
    skew = view.skew
    return {
        "pipeline": view.pipeline,
        "time": view.now.isoformat(),
        "targets": [
            {
                "target": t.target.key,
                "side": t.target.side.value,
                "name": t.target.name,
                "version": t.version,
                "release": revision(t),
                "healthy": t.healthy,
                "message": t.message,
            }
            for t in view.targets
        ],
        "unreadable": {side.value: why for side, why in view.unreadable.items()},
        "skew": skew.to_json() if skew else None,
        "lock": _lock_json(view.lock, view.now) if view.lock else None,
        "platform_status": (
            {"open": view.gate.is_open, "summary": view.gate.summary} if view.gate else None
        ),
        "in_progress": _release_json(view.in_progress) if view.in_progress else None,
    }


def status_renderable(view: StatusView) -> RenderableType:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("pipeline", f"{view.pipeline} · {view.now.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    facts.add_row("platform", _gate_text(view.gate))
    facts.add_row("lock", _lock_text(view.lock, view.now))
    facts.add_row("release", _progress_text(view.in_progress, view.now))
    skew = view.skew
    facts.add_row(
        "skew",
        Text(f"{skew.describe}", style="bold yellow") if skew else Text("none", style="green"),
    )
    for side, why in view.unreadable.items():
        facts.add_row(side.value, Text(f"could not be read: {why}", style="red"))
    parts: list[RenderableType] = [facts]
    if view.targets:
        parts.append(_targets_table(view.targets, skew))
    return Group(*parts)


def revision(state: TargetState) -> str | None:
    """The platform's own number for what runs: Heroku's release `v123`, a rollout revision."""
    detail = state.detail
    heroku = detail.get("release_version")
    if isinstance(heroku, int):
        return f"v{heroku}"
    for key in ("revision", "generation"):
        value = detail.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool):
            return f"rev {value}"
    return None


def _targets_table(targets: Sequence[TargetState], skew: Skew | None) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("side", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("version", no_wrap=True)
    table.add_column("release", no_wrap=True)
    table.add_column("health", no_wrap=True)
    table.add_column("message", overflow="fold")
    newest = skew.newest if skew else None
    for state in sorted(targets, key=lambda s: s.target):
        version = Text(fmt.version(state.version))
        if skew and (state.version is None or (newest and state.version != newest)):
            version.stylize("bold yellow")
        table.add_row(
            state.target.side.value,
            state.target.name,
            version,
            revision(state) or "-",
            _health(state.healthy),
            state.message,
        )
    return table


def _health(healthy: bool | None) -> Text:
    if healthy is None:
        return Text("unknown", style="yellow")
    return Text("healthy", style="green") if healthy else Text("unhealthy", style="bold red")


def _gate_text(gate: GateReading | None) -> Text:
    if gate is None:
        return Text("no status gate configured", style="dim")
    if gate.is_open:
        return Text(f"green: {gate.summary}", style="green")
    return Text(f"closed: {gate.summary} (deploys are blocked)", style="bold red")


def _age(since: datetime, now: datetime) -> str:
    return fmt.duration(max(0.0, (now - since).total_seconds()))


def _lock_text(lock: LockInfo | None, now: datetime) -> Text:
    if lock is None:
        return Text("free", style="green")
    text = f'held by {lock.holder} (reason: "{lock.reason}") for {_age(lock.acquired_at, now)}'
    expires = lock.expires_at()
    if lock.manual or expires is None:
        text += "; a manual lock (deploy freeze) until `ship lock release`"
    elif expires <= now:
        text += f"; expired {_age(expires, now)} ago, the next command takes it over"
    else:
        text += f"; expires in {fmt.duration((expires - now).total_seconds())} unless renewed"
    return Text(text, style="bold yellow")


def _progress_text(release: Release | None, now: datetime) -> Text:
    if release is None:
        return Text("none in progress", style="green")
    return Text(
        f"#{release.number} {release.kind.value} {release.version} is {release.state.value} "
        f"in phase {release.phase.value}, started {_age(release.started_at, now)} ago "
        f"by {release.actor}",
        style="bold yellow",
    )


def _lock_json(lock: LockInfo, now: datetime) -> JSONDict:
    expires = lock.expires_at()
    return {
        "holder": lock.holder.name,
        "reason": lock.reason,
        "acquired_at": lock.acquired_at.isoformat(),
        "age_seconds": round(max(0.0, (now - lock.acquired_at).total_seconds()), 3),
        "expires_at": expires.isoformat() if expires else None,
        "manual": lock.manual,
    }


def _release_json(release: Release) -> JSONDict:
    return {
        "number": release.number,
        "kind": release.kind.value,
        "version": release.version,
        "state": release.state.value,
        "phase": release.phase.value,
        "actor": release.actor,
        "started_at": release.started_at.isoformat(),
    }
