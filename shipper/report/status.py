"""`ship status`: what runs where right now, and anything that would stop a release.

On-call reads this first, so it leads with what is wrong: a skew between the sides (with
how far apart they are), a held lock (who, why, how long), a platform status that is not
green, a release left in progress. It shows what it could read and says what it could
not, and every problem ends with the next command to run. It exits as `kubectl rollout
status` does: 0 when every target is readable, healthy and on one version; 1 when
something is unhealthy or skewed; 4 when a side can't be read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from shipper.core.model import JSON, JSONDict, LockInfo, Release, Side, TargetState
from shipper.errors import ExitCode
from shipper.ports import GateReading
from shipper.report import fmt
from shipper.report.output import OutputMode, console_for
from shipper.report.skew import Skew, measure_skew


@dataclass(frozen=True)
class TrafficSummary:
    """The HAProxy split as `ship status` shows it (pipelines with a `traffic:` section).

    `unreadable` says why HAProxy could not be read (then the rest is unknown);
    `differs` lists each way the live split differs from the ledger's last record;
    `unusable` names each side with no usable server other than a drained one."""

    address: str
    unreadable: str = ""
    percent: int = 0
    pins: int = 0
    blocks: int = 0
    drained: str | None = None
    unusable: tuple[str, ...] = ()
    differs: tuple[str, ...] = ()
    recorded: bool = False  # the ledger holds a traffic change to compare with

    @property
    def describe(self) -> str:
        if self.unreadable:
            return f"HAProxy could not be read: {self.unreadable}"
        drained = f"{self.drained} drained (all traffic on the other side)" if self.drained else ""
        parts = [
            f"{self.percent}% of sites on kubernetes",
            f"{self.pins} pinned",
            f"{self.blocks} blocked",
            drained or "no side drained",
        ]
        if self.differs:
            parts.append("DIFFERS from the ledger")
        return " · ".join(parts)

    def problems(self, p: str) -> list[str]:
        see = f"`ship traffic status{p}`"
        if self.unreadable:
            return [f"HAProxy could not be read ({self.unreadable}); see {see}"]
        out = [
            f"{side} has no usable server in HAProxy: its traffic goes to the other side; see {see}"
            for side in self.unusable
        ]
        if self.differs:
            out.append(
                f"HAProxy differs from the ledger's last traffic change "
                f"({'; '.join(self.differs)}): changed outside ship? see {see}"
            )
        return out

    def to_json(self) -> JSONDict:
        return {
            "runtime": self.address,
            "readable": not self.unreadable,
            "unreadable": self.unreadable or None,
            "percent": None if self.unreadable else self.percent,
            "pins": None if self.unreadable else self.pins,
            "blocks": None if self.unreadable else self.blocks,
            "drained": self.drained,
            "unusable": list[JSON](self.unusable),
            "differs_from_ledger": list[JSON](self.differs),
            "recorded": self.recorded,
        }


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
    lock_stale: str = ""  # why the lock is stale (its holder died, its TTL passed), or ""
    traffic: TrafficSummary | None = None  # the HAProxy split, when the pipeline has one

    @property
    def skew(self) -> Skew | None:
        return measure_skew(self.targets, self.releases)

    @property
    def exit_code(self) -> ExitCode:
        """OPERATOR (4) when a side can't be read; FAILED (1) when a target is unhealthy,
        the versions differ or a release stopped with nothing running it (a person must
        finish or undo it); else OK (kubectl rollout status's convention)."""
        if self.unreadable:
            return ExitCode.OPERATOR
        if any(t.healthy is False for t in self.targets) or self.skew is not None:
            return ExitCode.FAILED
        return ExitCode.FAILED if self.stopped_release is not None else ExitCode.OK

    @property
    def stopped_release(self) -> Release | None:
        """The open release no live process holds the lock for: it stopped, and waits."""
        release = self.in_progress
        if release is None:
            return None
        live = self.lock is not None and not self.lock_stale and not self.lock.manual
        return None if live else release

    def problems(self) -> list[str]:
        """What is wrong, one line each, each ending with the next command to run."""
        p = f" -p {self.pipeline}"
        out = [
            f"{side.value} could not be read: {why}; check access: `ship validate --online{p}`"
            for side, why in self.unreadable.items()
        ]
        for t in sorted(self.targets, key=lambda s: s.target):
            if t.healthy is False:
                out.append(
                    f"{t.target} is unhealthy: {t.message or 'see the platform'}; "
                    f"what a rollback would do: `ship rollback --dry-run{p}`"
                )
        skew = self.skew
        if skew is not None:
            even = f"`ship deploy {skew.newest}{p}`" if skew.newest else "`ship deploy VERSION`"
            out.append(
                f"versions differ: {skew.describe}; the way back: "
                f"`ship rollback --dry-run{p}`, or even them: {even}"
            )
        if self.lock is not None:
            out.append(self._lock_problem(p))
        release = self.stopped_release
        if release is not None:
            out.append(
                f"release #{release.number} ({release.kind.value} of {release.version}) "
                f"stopped in phase {release.phase.value} and nothing is running it; "
                f"finish it with `ship {_finish_verb(release)}{p}`, or undo it: "
                f"`ship rollback{p}`"
            )
        if self.traffic is not None:  # said, but no part of the exit code: it reads targets
            out.extend(self.traffic.problems(p))
        if self.gate is not None and not self.gate.is_open:
            out.append(
                f"deploys are blocked by the platform status ({self.gate.summary}; a rollback "
                f"is not); look again later: `ship status{p}`"
            )
        return out

    def _lock_problem(self, p: str) -> str:
        lock = self.lock
        assert lock is not None
        who = f'{lock.holder} (reason: "{lock.reason}")'
        if lock.manual:
            return f"deploys are frozen by {who}; to lift the freeze: `ship lock release{p}`"
        if self.lock_stale:
            return (
                f"the lock is STALE: held by {who}, but {self.lock_stale}; the next deploy or "
                f"rollback takes it over, or free it now: `ship lock release{p}`"
            )
        return (
            f"a release is running, held by {who}; if it is stuck, take over and return "
            f"both sides: `ship rollback --force-lock{p}`"
        )


def _finish_verb(release: Release) -> str:
    if release.kind.value == "traffic":
        return "traffic status"
    if release.kind.value == "migration":
        return f"migrate {release.version}"
    if release.kind.value == "rollback":
        return "rollback"
    return f"deploy {release.version}"


def render_status(
    view: StatusView,
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    is_tty: bool | None = None,
) -> None:
    """Write `ship status` to `out`: a JSON document, or text for a person."""
    if output == "json":
        out.write(json.dumps(status_json(view), ensure_ascii=False) + "\n")
        out.flush()
        return
    console_for(out, is_tty=is_tty).print(status_renderable(view), soft_wrap=False)


def render_lock(
    pipeline: str,
    lock: LockInfo | None,
    now: datetime,
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    is_tty: bool | None = None,
) -> None:
    """`ship lock show`: the lock line of `ship status`, alone."""
    if output == "json":
        data = {"held": False} if lock is None else {"held": True, **_lock_json(lock, now)}
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
        out.flush()
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
                "release": t.revision,
                "healthy": t.healthy,
                "message": t.message,
            }
            for t in view.targets
        ],
        "exit_code": int(view.exit_code),
        "problems": list[JSON](view.problems()),
        "lock_stale": view.lock_stale or None,
        "unreadable": {side.value: why for side, why in view.unreadable.items()},
        "skew": skew.to_json() if skew else None,
        "lock": _lock_json(view.lock, view.now) if view.lock else None,
        "platform_status": (
            {"open": view.gate.is_open, "summary": view.gate.summary} if view.gate else None
        ),
        "in_progress": _release_json(view.in_progress) if view.in_progress else None,
        "traffic": view.traffic.to_json() if view.traffic else None,
    }


def status_renderable(view: StatusView) -> RenderableType:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("pipeline", f"{view.pipeline} · {view.now.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    facts.add_row("platform", _gate_text(view.gate))
    facts.add_row("lock", _lock_text(view.lock, view.now, view.lock_stale))
    facts.add_row("release", _progress_text(view.in_progress, view.now))
    skew = view.skew
    if skew is not None:
        facts.add_row("skew", Text(f"{skew.describe}", style="bold yellow"))
    elif view.unreadable:  # never "none" about a side that was not read
        sides = " and ".join(side.value for side in view.unreadable)
        facts.add_row("skew", Text(f"unknown: {sides} could not be read", style="red"))
    else:
        facts.add_row("skew", Text("none", style="green"))
    for side, why in view.unreadable.items():
        facts.add_row(side.value, Text(f"could not be read: {why}", style="red"))
    if view.traffic is not None:
        bad = view.traffic.unreadable or view.traffic.differs or view.traffic.unusable
        style = "bold yellow" if bad else ("yellow" if view.traffic.drained else "green")
        facts.add_row("traffic", Text(view.traffic.describe, style=style))
    parts: list[RenderableType] = [facts]
    if view.targets:
        parts.append(_Targets(view.targets, skew))
    problems = view.problems()
    if problems:
        parts.append(Text("to do", style="bold"))
        parts.extend(Text(f"- {line}", style="yellow") for line in problems)
    return Group(*parts)


NARROW = 80  # below this many columns, each target's message goes on a line of its own


class _Targets:
    """The targets table; on a narrow terminal the messages follow it as lines, so the
    table keeps every fact column (health above all) instead of cutting them."""

    def __init__(self, targets: Sequence[TargetState], skew: Skew | None) -> None:
        self.targets, self.skew = targets, skew

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width >= NARROW:
            yield _targets_table(self.targets, self.skew)
            return
        yield _targets_table(self.targets, self.skew, messages=False)
        for state in sorted(self.targets, key=lambda s: s.target):
            if state.message:
                yield Text(f"  {state.target.name}: {state.message}", overflow="fold")


def _targets_table(
    targets: Sequence[TargetState], skew: Skew | None, *, messages: bool = True
) -> Table:
    # On a narrow terminal the target name and the message give way; the side, version,
    # release and health keep their width: the health column is what on-call reads first.
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    longest = max((len(fmt.short_version(s.version)) for s in targets), default=7)
    table.add_column("side", no_wrap=True, min_width=10)
    table.add_column("target", no_wrap=True, overflow="ellipsis", min_width=8)
    table.add_column("version", no_wrap=True, min_width=min(max(longest, 7), 14))
    table.add_column("release", no_wrap=True, min_width=7)
    table.add_column("health", no_wrap=True, min_width=len("unhealthy"))
    if messages:
        table.add_column("message", overflow="fold", ratio=1)
    newest = skew.newest if skew else None
    for state in sorted(targets, key=lambda s: s.target):
        version = Text(fmt.short_version(state.version))
        if skew and (state.version is None or (newest and state.version != newest)):
            version.stylize("bold yellow")
        table.add_row(
            state.target.side.value,
            state.target.name,
            version,
            state.revision or "-",
            _health(state.healthy),
            *([state.message] if messages else []),
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


def _lock_text(lock: LockInfo | None, now: datetime, stale: str = "") -> Text:
    if lock is None:
        return Text("free", style="green")
    text = f'held by {lock.holder} (reason: "{lock.reason}") for {_age(lock.acquired_at, now)}'
    expires = lock.expires_at()
    if stale:
        text = f"STALE: {text}; {stale}: the next command takes it over"
    elif lock.manual or expires is None:
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
