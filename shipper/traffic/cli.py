"""`ship traffic ...`: thin. Parse, wire the HAProxy adapter and the state backends to
`change_traffic`, print, map the outcome to an exit code."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipper.errors import BadInput, ExitCode

if TYPE_CHECKING:
    from shipper.core.model import Side
    from shipper.pipeline import Pipeline, TrafficSection
    from shipper.traffic.change import Change, TrafficPorts
    from shipper.traffic.status import TrafficView

traffic_app = typer.Typer(
    help="Move live traffic between Heroku and Kubernetes through HAProxy, without a reload.",
    no_args_is_help=True,
)

PipelineOpt = Annotated[
    str | None,
    typer.Option("--pipeline", "-p", help="Pipeline name (pipelines/NAME.yaml) or path."),
]
OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="human or json (default: human on a terminal)."),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]
LockWaitOpt = Annotated[
    str | None,
    typer.Option("--lock-wait", metavar="DURATION", help="Wait this long for a held lock."),
]
ForceLockOpt = Annotated[
    bool, typer.Option("--force-lock", help="Take the lock over from its holder (recorded).")
]
DebugOpt = Annotated[bool, typer.Option("--debug", hidden=True, help="Show tracebacks.")]


def _mode(output: str | None) -> str:
    if output not in (None, "human", "json"):
        raise BadInput(f"--output must be human or json, got {output}")
    if output is not None:
        return output
    return "human" if sys.stdout.isatty() else "json"


def _section(pipeline: Pipeline) -> TrafficSection:
    if pipeline.traffic is None:
        raise BadInput(
            f"pipeline {pipeline.name} has no traffic: section (the HAProxy in front of both "
            "sides); see pipelines/example.yaml"
        )
    return pipeline.traffic


def _side(raw: str, flag: str) -> Side:
    from shipper.core.model import Side

    try:
        return Side(raw.lower())
    except ValueError:
        raise BadInput(f"{flag} must be {' or '.join(Side)}, got {raw[:40]}") from None


class _HumanSink:
    """Progress lines on stderr: stdout holds the result (or, in json mode, the events)."""

    def emit(self, event: object) -> None:
        from shipper.core.events import LockWaiting, Stamped
        from shipper.traffic.events import TrafficCommand

        if not isinstance(event, Stamped):
            return
        inner = event.event
        if isinstance(inner, TrafficCommand):
            mark = "applied" if inner.applied else "NOT applied"
            said = f" ({inner.message})" if inner.message and not inner.applied else ""
            sys.stderr.write(f"  {mark}: {inner.what}{said}\n")
        elif isinstance(inner, LockWaiting):
            sys.stderr.write(
                f"ship: waiting up to {inner.wait_seconds}s for the lock held by {inner.holder}\n"
            )

    def close(self) -> None:
        sys.stderr.flush()


def _ports(pipeline: Pipeline, mode: str) -> TrafficPorts:
    from shipper.core.emitter import Emitter
    from shipper.report.jsonl import JsonLinesSink
    from shipper.traffic.change import TrafficPorts
    from shipper.traffic.control import server_names
    from shipper.traffic.files import MapFiles
    from shipper.traffic.runtime import HAProxyRuntime
    from shipper.wiring import wire

    section = _section(pipeline)
    wiring = wire(pipeline)
    sink = JsonLinesSink(sys.stdout) if mode == "json" else _HumanSink()
    folder = Path(section.maps_dir)
    return TrafficPorts(
        proxy=HAProxyRuntime(section.runtime, folder),
        files=MapFiles(folder),
        ledger=wiring.ledger(),
        lock=wiring.lock(),
        clock=wiring.clock,
        emitter=Emitter([sink], wiring.clock, pipeline.name),
        servers=server_names(section),
    )


def _change(
    change_of: Callable_,
    pipeline_opt: str | None,
    output: str | None,
    reason: str,
    lock_wait: str | None,
    force_lock: bool,
    debug: bool,
) -> None:
    from shipper.cli.common import duration as _duration
    from shipper.cli.common import load as _load
    from shipper.cli.guard import reported

    with reported(debug):
        change = change_of()
        pipeline = _load(pipeline_opt, debug)
        mode = _mode(output)
        wait = _duration(lock_wait, "--lock-wait")
        ports = _ports(pipeline, mode)
        from shipper.traffic.change import ChangeRequest, change_traffic
        from shipper.wiring import me

        request = ChangeRequest(
            change=change,
            holder=me(os.environ),
            reason=reason,
            lock_ttl_seconds=pipeline.lock.ttl,
            lock_wait_seconds=wait,
            force_lock=force_lock,
        )
        try:
            result = change_traffic(request, ports)
        finally:
            ports.emitter.close()
        line = f"ship: {result.message} (ledger #{result.release})"
        if result.exit_code == ExitCode.OK:
            if mode == "human":
                typer.echo(line[len("ship: ") :])
            raise typer.Exit(ExitCode.OK)
        sys.stderr.write(line + "\n")
        raise typer.Exit(result.exit_code)


if TYPE_CHECKING:
    from collections.abc import Callable

    Callable_ = Callable[[], Change]
else:
    Callable_ = object


def _make(action: str, **kwargs: object) -> Callable_:
    def build() -> Change:
        from shipper.traffic.change import Action, Change

        return Change.of(Action(action), **kwargs)  # type: ignore[arg-type]

    return build


@traffic_app.command("set")
def set_percent(
    percent: Annotated[
        int | None, typer.Option("--percent", help="Share of sites on Kubernetes, 0-100.")
    ] = None,
    reason: ReasonOpt = "",
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    lock_wait: LockWaitOpt = None,
    force_lock: ForceLockOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Serve N% of sites (by a stable hash of the site id) from Kubernetes."""
    _change(_make("set", percent=percent), pipeline, output, reason, lock_wait, force_lock, debug)


@traffic_app.command("pin")
def pin(
    site: Annotated[str, typer.Argument(help="The site id (the site cookie's value).")],
    to: Annotated[str, typer.Option("--to", help="heroku or kubernetes.")],
    reason: ReasonOpt = "",
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    lock_wait: LockWaitOpt = None,
    force_lock: ForceLockOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Send every request of SITE to one side, whatever the percentage."""

    def build() -> Change:
        from shipper.traffic.change import Action, Change

        return Change.of(Action.PIN, site=site, side=_side(to, "--to"))

    _change(build, pipeline, output, reason, lock_wait, force_lock, debug)


@traffic_app.command("unpin")
def unpin(
    site: Annotated[str, typer.Argument(help="The site id.")],
    reason: ReasonOpt = "",
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    lock_wait: LockWaitOpt = None,
    force_lock: ForceLockOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Let SITE follow the percentage again."""
    _change(_make("unpin", site=site), pipeline, output, reason, lock_wait, force_lock, debug)


@traffic_app.command("block")
def block(
    site: Annotated[str, typer.Argument(help="The site id.")],
    reason: ReasonOpt = "",
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    lock_wait: LockWaitOpt = None,
    force_lock: ForceLockOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Keep SITE on Heroku whatever the percentage or a pin says."""
    _change(_make("block", site=site), pipeline, output, reason, lock_wait, force_lock, debug)


@traffic_app.command("unblock")
def unblock(
    site: Annotated[str, typer.Argument(help="The site id.")],
    reason: ReasonOpt = "",
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    lock_wait: LockWaitOpt = None,
    force_lock: ForceLockOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Lift a block: SITE follows its pin or the percentage again."""
    _change(_make("unblock", site=site), pipeline, output, reason, lock_wait, force_lock, debug)


@traffic_app.command("drain")
def drain(
    side: Annotated[str, typer.Argument(help="heroku or kubernetes: the side to empty.")],
    reason: ReasonOpt = "",
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    lock_wait: LockWaitOpt = None,
    force_lock: ForceLockOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Send everything to the other side, now (pins and blocks included)."""

    def build() -> Change:
        from shipper.traffic.change import Action, Change

        return Change.of(Action.DRAIN, side=_side(side, "SIDE"))

    _change(build, pipeline, output, reason, lock_wait, force_lock, debug)


@traffic_app.command("undrain")
def undrain(
    reason: ReasonOpt = "",
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    lock_wait: LockWaitOpt = None,
    force_lock: ForceLockOpt = False,
    debug: DebugOpt = False,
) -> None:
    """End a drain: the split, pins and blocks apply again."""
    _change(_make("undrain"), pipeline, output, reason, lock_wait, force_lock, debug)


def read_view(pipeline: Pipeline) -> TrafficView:
    """The live split, the ledger's record and the files, side by side."""
    from shipper.errors import ShipError
    from shipper.traffic.change import last_recorded
    from shipper.traffic.files import MapFiles
    from shipper.traffic.runtime import HAProxyRuntime
    from shipper.traffic.status import TrafficView
    from shipper.wiring import wire

    section = _section(pipeline)
    folder = Path(section.maps_dir)
    proxy = HAProxyRuntime(section.runtime, folder)
    recorded = last_recorded(wire(pipeline).ledger())
    on_disk = MapFiles(folder).read()
    try:
        live = proxy.read()
    except ShipError as exc:
        return TrafficView(pipeline.name, proxy.address, None, str(exc), recorded, on_disk)
    return TrafficView(pipeline.name, proxy.address, live, "", recorded, on_disk)


@traffic_app.command("status")
def status(
    pipeline: PipelineOpt = None,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The live split, pinned and blocked sites, backend health and request counts.

    Exits 0 when HAProxy holds what the ledger recorded and both sides are usable, 1
    when something needs a person, 4 when HAProxy can't be read."""
    from shipper.cli.common import load as _load
    from shipper.cli.guard import reported

    with reported(debug):
        loaded = _load(pipeline, debug)
        mode = _mode(output)
        view = read_view(loaded)
        if mode == "json":
            typer.echo(json.dumps(view.to_json(), ensure_ascii=False))
        else:
            typer.echo(_human(view))
        raise typer.Exit(view.exit_code)


def _human(view: TrafficView) -> str:
    from shipper.traffic.status import server_line

    lines = [f"traffic of {view.pipeline} through HAProxy at {view.address}"]
    live = view.live
    if live is None:
        lines.append(f"  unreadable: {view.unreadable}")
        return "\n".join(lines)
    state = live.state
    lines.append(f"  haproxy pid {live.pid}")
    lines.append(f"  split     {state.percent}% of sites on kubernetes")
    lines.append(f"  drained   {state.drained or 'none'}")
    pins = ", ".join(f"{s} -> {side}" for s, side in sorted(state.pins.items())) or "none"
    lines.append(f"  pinned    {pins}")
    lines.append(f"  blocked   {', '.join(sorted(state.blocks)) or 'none'} (always heroku)")
    for server in live.servers:
        lines.append(
            f"  {server.backend}/{server.server:<6} {server_line(server.state):<28} "
            f"check {server.check or '-':<6} requests {server.requests:<8} errors {server.errors}"
        )
    problems = view.problems()
    if view.recorded is not None and not view.ledger_differences:
        lines.append("  ledger    HAProxy holds what the ledger recorded")
    for problem in problems:
        lines.append(f"  problem:  {problem}")
    return "\n".join(lines)


@traffic_app.command("render")
def render(
    pipeline: PipelineOpt = None,
    no_files: Annotated[
        bool,
        typer.Option("--no-files", help="Only print; don't create the map files it names."),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Print a complete HAProxy configuration for the pipeline's traffic: section.

    Unless --no-files, also creates the map files, server-state file and timeout page it
    names (files that exist are left alone: they hold the live split)."""
    from shipper.cli.common import load as _load
    from shipper.cli.guard import reported

    with reported(debug):
        loaded = _load(pipeline, debug)
        section = _section(loaded)
        from shipper.traffic.change import last_recorded
        from shipper.traffic.files import MapFiles
        from shipper.traffic.model import TrafficState
        from shipper.traffic.render import render_config, support_files
        from shipper.wiring import wire

        text = render_config(section, loaded.name)
        if not no_files:
            start = last_recorded(wire(loaded).ledger()) or TrafficState()
            start = TrafficState(start.percent, start.pins, start.blocks)
            try:
                made = MapFiles(Path(section.maps_dir)).ensure(start, support_files(section))
            except OSError as exc:
                raise BadInput(
                    f"traffic.maps_dir {section.maps_dir}: cannot write: {exc.strerror}"
                ) from None
            for path in made:
                sys.stderr.write(f"ship: created {path}\n")
        sys.stdout.write(text)
