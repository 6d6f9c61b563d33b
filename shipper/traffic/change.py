"""One traffic change, carried out like a release: under the pipeline lock, written to
the ledger before HAProxy hears of it, applied live through the runtime API (no reload),
then written to the files a restart reads.

The ledger says exactly what was and wasn't applied: an `intent` entry lists every
command before the first is sent, and each command gets its own `traffic_command` entry,
applied or not.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from shipper.core.emitter import Emitter
from shipper.core.events import Event, ReleaseFinished, ReleaseStarted
from shipper.core.lock_hold import Hold, held
from shipper.core.model import (
    Holder,
    LedgerEntry,
    Phase,
    Release,
    ReleaseKind,
    ReleaseState,
    Side,
    Version,
)
from shipper.errors import BadInput, Blocked, ExitCode, ShipError
from shipper.ports import Clock, Ledger, Lock
from shipper.traffic.events import TrafficChanged, TrafficCommand
from shipper.traffic.files import MapFiles
from shipper.traffic.model import LiveReading, TrafficState, check_percent, check_site
from shipper.traffic.plan import plan_commands
from shipper.traffic.ports import TrafficProxy


class Action(enum.StrEnum):
    SET = "set"
    PIN = "pin"
    UNPIN = "unpin"
    BLOCK = "block"
    UNBLOCK = "unblock"
    DRAIN = "drain"
    UNDRAIN = "undrain"


@dataclass(frozen=True)
class Change:
    """What the operator asked for. Built by `Change.of`, which refuses bad input."""

    action: Action
    percent: int | None = None
    site: str | None = None
    side: Side | None = None

    @classmethod
    def of(
        cls,
        action: Action,
        *,
        percent: int | None = None,
        site: str | None = None,
        side: Side | None = None,
    ) -> Change:
        if action is Action.SET:
            if percent is None:
                raise BadInput("ship traffic set needs --percent N (0 to 100)")
            check_percent(percent)
        if action in (Action.PIN, Action.UNPIN, Action.BLOCK, Action.UNBLOCK):
            if site is None:
                raise BadInput(f"ship traffic {action} needs a SITE")
            check_site(site)
        if action in (Action.PIN, Action.DRAIN) and side is None:
            raise BadInput(f"ship traffic {action} needs a side: {' or '.join(Side)}")
        return cls(action, percent, site, side)

    @property
    def label(self) -> str:
        """How the ledger and `ship history` name the change (its `version` column)."""
        match self.action:
            case Action.SET:
                return f"{self.percent}%"
            case Action.PIN:
                return f"pin {self.site} {self.side}"
            case Action.DRAIN:
                return f"drain {self.side}"
            case Action.UNDRAIN:
                return "undrain"
            case _:
                return f"{self.action} {self.site}"

    def applied_to(self, state: TrafficState) -> TrafficState:
        """The state after this change. Raises BadInput for a site the change can't
        concern (unpinning a site that isn't pinned, unblocking one that isn't blocked)."""
        site = self.site or ""
        match self.action:
            case Action.SET:
                return state.with_percent(self.percent or 0)
            case Action.PIN:
                return state.with_pin(site, self.side)
            case Action.UNPIN:
                if site not in state.pins:
                    raise BadInput(
                        f"unknown site {site}: it is not pinned; see `ship traffic status`"
                    )
                return state.with_pin(site, None)
            case Action.BLOCK:
                return state.with_block(site, True)
            case Action.UNBLOCK:
                if site not in state.blocks:
                    raise BadInput(
                        f"unknown site {site}: it is not blocked; see `ship traffic status`"
                    )
                return state.with_block(site, False)
            case Action.DRAIN:
                return state.with_drain(self.side)
            case Action.UNDRAIN:
                return state.with_drain(None)


@dataclass(frozen=True)
class ChangeResult:
    """How a change ended: the ledger number, the exit code and the state HAProxy holds."""

    release: int
    exit_code: ExitCode
    message: str
    before: TrafficState | None
    after: TrafficState | None
    applied: tuple[str, ...]
    not_applied: tuple[str, ...]


@dataclass
class TrafficPorts:
    proxy: TrafficProxy
    files: MapFiles
    ledger: Ledger
    lock: Lock
    clock: Clock
    emitter: Emitter
    servers: Mapping[Side, Sequence[str]]  # the server names of each backend


@dataclass(frozen=True)
class ChangeRequest:
    change: Change
    holder: Holder
    reason: str = ""
    lock_ttl_seconds: float = 900.0
    lock_wait_seconds: float = 0.0
    force_lock: bool = False


def change_traffic(req: ChangeRequest, ports: TrafficPorts) -> ChangeResult:
    """Take the lock, record, apply live, write the files, record the outcome.

    Raises ShipError (after recording) for an outcome with a non-zero exit code; a
    partial application is a NeedsOperator (4), nothing applied is the error's own code.
    """
    label = req.change.label
    with held(
        ports.lock,
        holder=req.holder,
        reason=req.reason or f"traffic {label}",
        ttl_seconds=req.lock_ttl_seconds,
        force=req.force_lock,
        wait_seconds=req.lock_wait_seconds,
        clock=ports.clock,
        emitter=ports.emitter,
        stop=threading.Event(),
    ) as hold:
        return _Run(req, ports, hold).run()


class _Run:
    def __init__(self, req: ChangeRequest, ports: TrafficPorts, hold: Hold) -> None:
        self.req = req
        self.ports = ports
        self.hold = hold
        self.started = ports.clock.monotonic()
        self.applied: list[str] = []
        self.release = self._open()

    def _open(self) -> Release:
        self.hold.fence()
        ports = self.ports
        release = Release(
            number=ports.ledger.next_number(),
            pipeline=self.hold.lease.info.pipeline,
            kind=ReleaseKind.TRAFFIC,
            version=Version(self.req.change.label),
            state=ReleaseState.RUNNING,
            phase=Phase.LOCK,
            actor=str(self.req.holder),
            reason=self.req.reason,
            started_at=ports.clock.now(),
        )
        ports.ledger.create(release)
        ports.emitter.set_release(release.number)
        self.release = release
        self._emit(
            ReleaseStarted(
                kind=ReleaseKind.TRAFFIC.value,
                version=release.version,
                actor=release.actor,
                reason=release.reason,
            )
        )
        return release

    def _emit(self, event: Event) -> None:
        self.ports.emitter.emit(event)
        self.hold.fence()
        self.ports.ledger.append(
            self.release.number, LedgerEntry(self.ports.clock.now(), event.name, event.fields())
        )

    def _save(self, **changes: object) -> None:
        self.hold.fence()
        self.release = replace(self.release, **changes)  # type: ignore[arg-type]
        self.ports.ledger.save(self.release)

    def run(self) -> ChangeResult:
        try:
            before = self.ports.proxy.read()
        except ShipError as exc:
            return self._end(ReleaseState.BLOCKED, exc, None, None, [])
        try:
            wanted = self.req.change.applied_to(before.state)
        except BadInput as exc:
            return self._end(ReleaseState.FAILED, exc, before, None, [])
        commands = plan_commands(
            before.entries,
            before.state.drained,
            wanted,
            self.ports.proxy.map_name,
            self.ports.servers,
        )
        self.ports.ledger.append(
            self.release.number,
            LedgerEntry(
                self.ports.clock.now(),
                "intent",
                {
                    "target": f"haproxy:{self.ports.proxy.address}",
                    "action": self.req.change.label,
                    "detail": {"commands": [c.line for c in commands]},
                },
            ),
        )
        if commands:
            self._save(phase=Phase.RELEASE, changed=True)
        for i, command in enumerate(commands):
            try:
                self.hold.fence()
                self.ports.proxy.apply(command)
            except ShipError as exc:
                self._emit(TrafficCommand(command.line, command.what, False, str(exc)))
                for later in commands[i + 1 :]:
                    self._emit(TrafficCommand(later.line, later.what, False, "not sent"))
                not_applied = [c.line for c in commands[i:]]
                state = ReleaseState.FAILED
                return self._end(state, exc, before, None, not_applied)
            self.applied.append(command.line)
            self._emit(TrafficCommand(command.line, command.what, True))
        return self._finish(before)

    def _finish(self, before: LiveReading) -> ChangeResult:
        after = self.ports.proxy.read()
        self.ports.files.write(after.state, self.ports.proxy.server_state())
        self._emit(
            TrafficChanged(
                change=self.req.change.label,
                before=before.state.to_json(),
                after=after.state.to_json(),
                haproxy_pid=after.pid,
                files_written=True,
            )
        )
        unchanged = not self.applied
        state = ReleaseState.UNCHANGED if unchanged else ReleaseState.SUCCEEDED
        said = "already in effect; nothing to change" if unchanged else "applied live"
        message = f"traffic {self.req.change.label}: {said}; now {after.state.describe()}"
        self._close(state, ExitCode.OK, message)
        return ChangeResult(
            self.release.number,
            ExitCode.OK,
            message,
            before.state,
            after.state,
            tuple(self.applied),
            (),
        )

    def _end(
        self,
        state: ReleaseState,
        exc: ShipError,
        before: LiveReading | None,
        after: TrafficState | None,
        not_applied: Sequence[str],
    ) -> ChangeResult:
        code = exc.exit_code  # OPERATOR when part of it was applied
        if self.applied:
            code = ExitCode.OPERATOR
            done = "; ".join(self.applied)
            left = "; ".join(not_applied)
            message = (
                f"{exc}; applied: {done}; not applied: {left}; the map files were not "
                "rewritten: check `ship traffic status` and finish by hand"
            )
        else:
            message = f"{exc}; nothing was applied"
        if isinstance(exc, Blocked) and not self.applied:
            state = ReleaseState.BLOCKED
        self._close(state, code, message)
        return ChangeResult(
            self.release.number,
            code,
            message,
            before.state if before else None,
            after,
            tuple(self.applied),
            tuple(not_applied),
        )

    def _close(self, state: ReleaseState, code: ExitCode, message: str) -> None:
        self._save(
            state=state,
            phase=Phase.DONE,
            exit_code=code,
            message=message,
            finished_at=self.ports.clock.now(),
        )
        self._emit(
            ReleaseFinished(
                state=state.value,
                exit_code=code,
                message=message,
                seconds=round(self.ports.clock.monotonic() - self.started, 3),
                running={},
            )
        )


def last_recorded(ledger: Ledger) -> TrafficState | None:
    """The state the latest applied traffic change left, as the ledger recorded it."""
    for release in ledger.releases(limit=200):
        if release.kind is not ReleaseKind.TRAFFIC:
            continue
        for entry in reversed(ledger.entries(release.number)):
            if entry.event == TrafficChanged.name:
                after = entry.fields.get("after")
                if isinstance(after, dict):
                    return TrafficState.from_json(after)
    return None
