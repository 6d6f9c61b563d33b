"""`ship history`: the ledger newest first, and one release with its event log.

The table reads like the Heroku CLI's release listing (number, what, who, when), plus
what a two-sided release needs: the kind (migration, code, rollback), the outcome and
how long it took. `ship history N` replays the stored event log through the same
sentences the live console used, so a release reads the same afterwards as it did live.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from shipper.core import events as events_module
from shipper.core.events import Event, LockReleased, MetricRecorded, ReleaseFinished, Stamped
from shipper.core.model import JSONDict, LedgerEntry, Release, ReleaseState, Snapshot
from shipper.report import fmt
from shipper.report.lines import describe
from shipper.report.output import OutputMode, console_for
from shipper.report.view import ReleaseView

STATE_STYLE = {
    ReleaseState.SUCCEEDED: "green",
    ReleaseState.UNCHANGED: "green",
    ReleaseState.ROLLED_BACK: "yellow",
    ReleaseState.BLOCKED: "yellow",
    ReleaseState.SUPERSEDED: "dim",
    ReleaseState.RUNNING: "cyan",
    ReleaseState.INTERRUPTED: "bold yellow",
    ReleaseState.FAILED: "red",
    ReleaseState.ROLLBACK_FAILED: "bold red",
}


def render_history(
    releases: Sequence[Release],
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    is_tty: bool | None = None,
    detail: bool = False,
) -> None:
    """Write the releases, newest first: a table for a person, or JSON lines (one release
    per line, without the platforms' full records of each target unless `detail`)."""
    ordered = sorted(releases, key=lambda r: r.number, reverse=True)
    if output == "json":
        for release in ordered:
            out.write(json.dumps(_release_json(release, detail), ensure_ascii=False) + "\n")
        out.flush()
        return
    console = console_for(out, is_tty=is_tty)
    if not ordered:
        console.print("no releases yet", markup=False)
        return
    console.print(history_renderable(ordered, console.width), soft_wrap=False)


def render_release(
    release: Release,
    entries: Sequence[LedgerEntry],
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    is_tty: bool | None = None,
    detail: bool = False,
) -> None:
    """Write one release with its snapshot, what it deployed and its event log."""
    if output == "json":
        data = {
            "release": _release_json(release, detail),
            "events": [e.to_json() for e in entries],
        }
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
        out.flush()
        return
    console_for(out, is_tty=is_tty).print(release_renderable(release, entries), soft_wrap=False)


_FIXED = ("#", "kind", "version", "state", "started (UTC)", "took")


def history_renderable(releases: Sequence[Release], width: int) -> RenderableType:
    """A table when every cell fits the terminal whole; otherwise two lines per release,
    wrapped at word boundaries. Nothing is ever cut: not a number, not the state."""
    rows = [_row(r) for r in releases]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(_FIXED)]
    actor = max(len("actor"), *(len(r.actor) for r in releases))
    reason = max(len("reason"), *(len(_reason(r)) for r in releases))
    if sum(widths) + actor + reason + 2 * 8 <= width:
        return history_table(releases)
    lines: list[RenderableType] = []
    for release, row in zip(releases, rows, strict=True):
        head = Text(f"#{row[0]}  ")
        head.append(row[1] + "  ")
        head.append(row[3], style=STATE_STYLE.get(release.state, ""))
        head.append(f"  {row[2]}  {row[4]}  {row[5]}")
        lines.append(head)
        tail = release.actor + (f": {_reason(release)}" if _reason(release) else "")
        lines.append(Padding(Text(tail, style="dim"), (0, 0, 0, 4)))
    return Group(*lines)


def _row(release: Release) -> tuple[str, str, str, str, str, str]:
    return (
        str(release.number),
        release.kind.value,
        fmt.short_version(release.version),
        _state(release),
        _short_when(release.started_at),
        fmt.duration(duration(release)),
    )


def _reason(release: Release) -> str:
    return release.reason or release.gate_override or ""


def history_table(releases: Sequence[Release]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1))
    table.add_column("#", justify="right", no_wrap=True, min_width=2)
    table.add_column("kind", no_wrap=True)
    table.add_column("version", no_wrap=True, min_width=7)
    table.add_column("state", no_wrap=True)
    table.add_column("actor", no_wrap=True)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("took", no_wrap=True, justify="right")
    table.add_column("reason", no_wrap=True)
    for release in releases:
        row = _row(release)
        table.add_row(
            row[0],
            row[1],
            row[2],
            Text(row[3], style=STATE_STYLE.get(release.state, "")),
            release.actor,
            row[4],
            row[5],
            _reason(release),
        )
    return table


def release_renderable(release: Release, entries: Sequence[LedgerEntry]) -> RenderableType:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("release", f"#{release.number} {release.kind.value} {release.version}")
    facts.add_row(
        "state",
        Text(
            f"{_state(release)} (phase {release.phase.value}"
            + (f", exit {release.exit_code})" if release.exit_code is not None else ")"),
            style=STATE_STYLE.get(release.state, ""),
        ),
    )
    facts.add_row("actor", release.actor)
    facts.add_row("started", _when(release.started_at))
    if release.finished_at:
        facts.add_row(
            "finished", f"{_when(release.finished_at)} ({fmt.duration(duration(release))})"
        )
    for label, value in (
        ("reason", release.reason),
        ("message", release.message),
        ("override", release.gate_override),
        ("serves" if release.kind.value == "migration" else "undoes", _parent(release)),
    ):
        if value:
            facts.add_row(label, value)
    parts: list[RenderableType] = [facts]
    versions = _versions_table(release.snapshot, release.deployed)
    if versions is not None:
        parts.append(versions)
    if entries:
        parts.append(Text("events", style="bold"))
        parts.append(_events(release, entries))
    return Group(*parts)


def duration(release: Release) -> float | None:
    if release.finished_at is None:
        return None
    return max(0.0, (release.finished_at - release.started_at).total_seconds())


def _state(release: Release) -> str:
    return release.state.value.replace("_", " ")


def _parent(release: Release) -> str:
    return f"#{release.parent}" if release.parent is not None else ""


def _when(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def _short_when(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment


def _versions_table(before: Snapshot | None, after: Snapshot | None) -> Table | None:
    if before is None and after is None:
        return None
    keys = sorted(
        {t.target.key for t in (before.targets if before else ())}
        | {t.target.key for t in (after.targets if after else ())}
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("side")
    table.add_column("target")
    table.add_column("before")
    table.add_column("after")
    for key in keys:
        side, _, name = key.partition(":")
        old = _version_in(before, key)
        new = _version_in(after, key)
        table.add_row(side, name, old, new)
    return table


def _version_in(snapshot: Snapshot | None, key: str) -> str:
    if snapshot is None:
        return "-"
    found = next((t for t in snapshot.targets if t.target.key == key), None)
    return fmt.version(found.version) if found else "-"


def _events(release: Release, entries: Sequence[LedgerEntry]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="dim")
    table.add_column()
    view = ReleaseView()
    for entry in entries:
        offset = max(0, int((entry.time - release.started_at).total_seconds()))
        stamp = f"{offset // 60:02d}:{offset % 60:02d}"
        event = _event_from(entry)
        text = None
        if event is not None:
            stamped = Stamped(entry.time, release.pipeline, release.number, event)
            view.apply(stamped)
            text = _stored_line(stamped, view)
        table.add_row(stamp, text if text is not None else _raw(entry))
    return table


def _stored_line(stamped: Stamped, view: ReleaseView) -> str | None:
    """The console's sentence for an event, plus the ones only a record needs."""
    event = stamped.event
    if isinstance(event, ReleaseFinished):
        return (
            f"finished: {view.outcome} (exit {event.exit_code}) after "
            f"{fmt.duration(event.seconds)}: {event.message}"
        )
    if isinstance(event, LockReleased):
        return f"lock released by {event.holder}"
    if isinstance(event, MetricRecorded):
        where = f" ({event.target})" if event.target else ""
        return f"metric {event.metric} = {event.value:g}{where}"
    line = describe(stamped, view)
    return line.text if line is not None else None


_EVENTS: dict[str, type[Event]] = {
    cls.name: cls
    for cls in vars(events_module).values()
    if isinstance(cls, type) and issubclass(cls, Event) and cls is not Event
}


def _event_from(entry: LedgerEntry) -> Event | None:
    """The typed event a ledger line recorded, or None for lines that are not events
    (intents) or that an older ship wrote with other fields."""
    cls = _EVENTS.get(entry.event)
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in entry.fields.items() if k in names})
    except TypeError:
        return None


def _raw(entry: LedgerEntry) -> str:
    if entry.event == "intent":  # the write-ahead record of a change about to be made
        return f"{entry.fields.get('target')}: about to {entry.fields.get('action')}"
    fields = ", ".join(f"{k}={_short(v)}" for k, v in entry.fields.items())
    return f"{entry.event} {fields}".strip()


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _release_json(release: Release, detail: bool = False) -> JSONDict:
    """A release as JSON; without `detail`, each target's state keeps its version and
    identity but not the platform's full record of it (a pod template, a release id)."""
    data = release.to_json()
    data["duration_seconds"] = duration(release)
    if not detail:
        for key in ("snapshot", "deployed"):
            snap = data.get(key)
            if isinstance(snap, dict) and isinstance(snap.get("targets"), list):
                for target in snap["targets"]:  # type: ignore[union-attr]
                    if isinstance(target, dict):
                        target.pop("detail", None)
    return data
