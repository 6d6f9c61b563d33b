"""The Protocols the core needs from the world, and `Ports`, the bundle a release runs on.

Ports speak only domain types (`shipper.core.model`): no `httpx.Response` or
`V1Deployment` crosses them. Adapters implement them at the edge; tests implement them
with small scripted fakes (`tests/fakes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from shipper.core.clock import Clock as Clock
from shipper.core.emitter import Emitter
from shipper.core.emitter import EventSink as EventSink
from shipper.core.model import (
    Finding,
    Holder,
    JSONDict,
    LedgerEntry,
    LockInfo,
    LockLease,
    Measurement,
    Probe,
    Release,
    ReleaseNo,
    Severity,
    Side,
    Target,
    TargetResult,
    TargetState,
    Version,
)

# How old a reading taken ahead of its use (the status gate, a snapshot of the targets)
# may be and still be used; older, it is made again. The core and the adapters share it.
FRESH_SECONDS = 10.0


class Operation(Protocol):
    """What the core hands an adapter for one deploy, rollback or migration.

    It is how an adapter keeps the core's promises: `intend` before every change (the
    write-ahead ledger and the fence), `progress` for the live view, `cancelled` to stop
    waiting early when the other side failed or an operator interrupted, and `deadline`
    as the whole budget of this operation (a rollback gets its own, never the leftovers
    of the deploy's).
    """

    # Read-only to the adapter: properties, so an implementation may hold a narrower
    # type (a test's FakeClock) without breaking the Protocol.
    @property
    def release(self) -> ReleaseNo: ...
    @property
    def pipeline(self) -> str: ...
    @property
    def version(self) -> Version: ...
    @property
    def commit(self) -> str | None:
        """The git SHA `version` resolved to, where the project could tell."""
        ...

    @property
    def clock(self) -> Clock: ...
    @property
    def limit(self) -> str:
        """The deadline in words and the key that sets it: "10m (verify.bake)"."""
        ...

    @property
    def deadline(self) -> float:
        """`clock.monotonic()` value after which the adapter gives up with TIMED_OUT."""
        ...

    @property
    def cancelled(self) -> bool:
        """True once the adapter should stop waiting and return what it knows."""
        ...

    def intend(self, target: Target, action: str, detail: JSONDict | None = None) -> None:
        """Record in the ledger that `action` is about to be done on `target`.

        Call before every mutating platform call. Raises LockLost when this process no
        longer holds the lock and Interrupted once the operator has asked to stop: the
        adapter must then not make the call.
        """
        ...

    def progress(self, target: Target, status: str, message: str = "") -> None:
        """Report how a target is doing (`building`, `rolling out 2/3`, ...)."""
        ...

    def log(self, line: str) -> None:
        """A line of migration (or build) output, for the live view and the ledger."""
        ...

    def pause(self, seconds: float) -> None:
        """Sleep up to `seconds`, returning early once `cancelled` is true."""
        ...

    def metric(self, name: str, value: float, target: Target | None = None) -> None:
        """A figure worth keeping with the release (`heroku_api_calls`, ...)."""
        ...


class Platform(Protocol):
    """One side of the release: some Heroku apps, or some Kubernetes workloads.

    `deploy` and `roll_back` handle every target of the side concurrently and return one
    result per target; they never raise for a target that failed (that is a FAILED
    result), only for failures of the side as a whole (bad credentials, say).
    Both check live state first, so calling them again after a crash or a retry never
    repeats a build, a release or a patch that is already there.
    """

    @property
    def side(self) -> Side: ...

    def targets(self) -> Sequence[Target]:
        """The targets of this side, as configured."""
        ...

    def snapshot(self, *, deploying: Version | None = None) -> Sequence[TargetState]:
        """What every target runs now (read-only).

        `deploying`: the version a deploy starting from this snapshot will ship, when the
        caller knows it. The side may read, in the same round trip, what that deploy's
        first step would otherwise read before its first change (Heroku: the builds list
        that says whether a build of it is already under way)."""
        ...

    def deploy(self, version: Version, op: Operation) -> Sequence[TargetResult]:
        """Bring every target to `version` and wait until each is rolled out."""
        ...

    def roll_back(self, to: Sequence[TargetState], op: Operation) -> Sequence[TargetResult]:
        """Put back exactly the recorded states `to` and wait until each is rolled out."""
        ...

    def preflight(self, version: Version) -> Sequence[Finding]:
        """What this side can't do safely, read-only, before the first change anywhere:
        every finding, not just the first (a BLOCK finding stops the release, exit 3)."""
        ...

    def health(self, expected: Sequence[TargetState]) -> Measurement:
        """The side's own health during a bake: every target runs what `expected` records
        for it (by the platform's identity, never by label), rolled out, not crashing.

        `expected` is what the deploy reached (the forward bake), or the snapshot (the
        migration bake, and after a rollback)."""
        ...

    def manual_steps(self, to: TargetState) -> str:
        """The command a person would run to put `to` back by hand."""
        ...


@dataclass(frozen=True)
class MigrationResult:
    """How a migration run ended. `log` is the whole output (capped by the runner)."""

    succeeded: bool
    message: str = ""
    log: str = ""
    adopted: bool = False  # an earlier run's Job was found and followed, not created


class MigrationRunner(Protocol):
    """Runs the migration command once, from the target version's artifact."""

    def run(self, version: Version, command: Sequence[str], op: Operation) -> MigrationResult:
        """Run (or find the run already started for `op.release`) and wait for its exit."""
        ...


@dataclass(frozen=True)
class GateReading:
    """The platform status as the gate sees it."""

    is_open: bool
    summary: str  # "Apps green, Tools green" or "Tools is yellow: Delayed builds"
    details: JSONDict = field(default_factory=dict)


@dataclass(frozen=True)
class TrafficShare:
    """How the proxy in front of both sides shares live traffic between them."""

    percent: int  # share of sites (by a stable hash) served by Kubernetes
    pinned: int = 0
    blocked: int = 0
    drained: Side | None = None  # a side taking no traffic at all

    def of(self, side: Side) -> int:
        """The percentage of sites `side` serves (pins and blocks aside)."""
        if self.drained is not None:
            return 0 if side is self.drained else 100
        return self.percent if side is Side.KUBERNETES else 100 - self.percent

    def describe(self) -> str:
        shares = ", ".join(f"{side.value} {self.of(side)}%" for side in Side)
        extra = (
            f"; {self.pinned} pinned, {self.blocked} blocked" if self.pinned or self.blocked else ""
        )
        drained = f"; {self.drained.value} drained" if self.drained else ""
        return f"{shares} of sites{extra}{drained}"


@dataclass(frozen=True)
class TrafficMove:
    """What a drain or undrain did: `changed` is False when there was nothing to do (the
    side was already drained, or not drained), and then nothing is to be undone."""

    changed: bool
    message: str


class TrafficControl(Protocol):
    """The proxy in front of both sides (`traffic:`), as a release needs it. Wired only
    when the pipeline has a `traffic:` section; the core knows nothing of HAProxy."""

    def share(self) -> TrafficShare:
        """The live split. Raises ShipError when the proxy can't be read."""
        ...

    def drain(self, side: Side) -> TrafficMove:
        """Send every request of `side` to the other side, live, and say what was done in
        one line. Raises ShipError when refused (the other side has no usable server, the
        proxy refused or can't be reached)."""
        ...

    def undrain(self, side: Side) -> TrafficMove:
        """End a drain of `side`: the split applies again. Raises ShipError as `drain`."""
        ...


class StatusGate(Protocol):
    """The Heroku platform status. Unreadable must read as closed (fail closed)."""

    def read(self) -> GateReading: ...


@runtime_checkable
class Check(Protocol):
    """One regression check of one side, measured once per verify interval."""

    @property
    def name(self) -> str: ...

    @property
    def side(self) -> Side: ...

    @property
    def threshold(self) -> str:
        """What passing means, in words (`p99 < 0.5`, `HTTP 2xx with "v42"`)."""
        ...

    @property
    def uses_version(self) -> bool:
        """Whether a measurement needs the version's label (a `{version}` in its URL,
        query or expected body): such a check can't judge code whose label is unknown."""
        ...

    def measure(self, version: Version) -> Measurement:
        """Take one measurement. Never raises for a failed measurement: returns it."""
        ...


@runtime_checkable
class PreflightCheck(Protocol):
    """One configured preflight check (the connection budget, resources, env parity, the
    concurrency shape), run next to the platforms' own preflight. Read-only: it never
    changes a target, and never puts a secret (a config-var value, a database URL) in a
    finding."""

    @property
    def name(self) -> str:
        """The check's name in the pipeline's `preflight:` section and in its findings."""
        ...

    @property
    def severity(self) -> Severity:
        """The severity of a problem it finds unless the pipeline sets another."""
        ...

    def run(self, version: Version) -> Sequence[Finding]:
        """Every finding (INFO ones included). May raise ShipError when what it needs
        can't be read: the core turns that into a finding of the check's severity."""
        ...


class Ledger(Protocol):
    """The record of every release of one pipeline. Never reset silently."""

    def next_number(self) -> ReleaseNo:
        """The number the next release will get (sequential per pipeline)."""
        ...

    def create(self, release: Release) -> Release:
        """Store a new release under `release.number`; LedgerError if it exists."""
        ...

    def save(self, release: Release) -> None:
        """Replace the stored release with this one."""
        ...

    def append(self, number: ReleaseNo, entry: LedgerEntry) -> None:
        """Add a line to a release's event log."""
        ...

    def get(self, number: ReleaseNo) -> Release | None: ...

    def entries(self, number: ReleaseNo) -> list[LedgerEntry]: ...

    def releases(self, limit: int | None = None) -> list[Release]:
        """Releases newest first."""
        ...


@runtime_checkable
class BatchLedger(Ledger, Protocol):
    """A ledger that stores a release and adds lines to its log in one write.

    A rollback and a code release write the intents of every target of both sides this
    way, so each becomes durable before its platform call at the cost of one write, not
    one per target.
    A ledger without it gets the same records one write at a time."""

    def save_with(self, release: Release, entries: Sequence[LedgerEntry]) -> None:
        """Replace the stored release with `release` and add `entries`, all or nothing."""
        ...


class Lock(Protocol):
    """One deploy or rollback at a time per pipeline, with fencing.

    `acquire` takes over a stale lock (TTL passed without renewal, or a holder process
    on this host that no longer exists) and says so in the lease; `force` takes over a
    live one. Every takeover increases the token, and `verify` refuses an old token:
    that is the fence that stops a process that lost the lock.
    """

    def acquire(
        self,
        holder: Holder,
        reason: str,
        ttl_seconds: float | None,
        *,
        force: bool = False,
        manual: bool = False,
    ) -> LockLease:
        """Take the lock, or raise LockHeld naming the holder, reason and age."""
        ...

    def renew(self, lease: LockLease) -> LockLease:
        """Push the expiry forward; LockLost if someone else holds it now."""
        ...

    def verify(self, lease: LockLease) -> None:
        """Raise LockLost unless `lease` is still the current hold."""
        ...

    def release(self, lease: LockLease) -> None:
        """Let go, if still ours (a lost lock is not released from under its new holder)."""
        ...

    def show(self) -> LockInfo | None: ...

    def release_any(self) -> LockInfo | None:
        """Remove whatever lock there is (`ship lock release` of a freeze); returns it."""
        ...


class SourceHistory(Protocol):
    """Which files changed between two versions (for migration detection)."""

    def changed_paths(self, old: Version, new: Version) -> list[str] | None:
        """The paths changed from `old` to `new`, or None when this cannot be told."""
        ...


@runtime_checkable
class ProbedCheck(Check, Protocol):
    """A check that can be tried once, read-only, before any change (`ship validate
    --online`, the deploy's preflight): the HTTP and Prometheus checks."""

    def probe(self, version: Version) -> Probe:
        """One request; never raises. The answer names the URL or query, never a secret."""
        ...


@dataclass
class Ports:
    """Everything a release talks to. The CLI builds the real ones; tests build fakes."""

    platforms: Mapping[Side, Platform]
    ledger: Ledger
    lock: Lock
    clock: Clock
    emitter: Emitter
    gate: StatusGate | None = None
    checks: Sequence[Check] = ()
    migrations: MigrationRunner | None = None
    history: SourceHistory | None = None
    preflight_checks: Sequence[PreflightCheck] = ()  # the pipeline's `preflight:` checks
    traffic: TrafficControl | None = None  # the proxy in front of both sides (`traffic:`)
