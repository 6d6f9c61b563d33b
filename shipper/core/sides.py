"""Acting on both sides at once: deploy or roll back every platform concurrently."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from shipper.core.events import Event, TargetFinished
from shipper.core.model import (
    Release,
    Side,
    Snapshot,
    TargetResult,
    TargetState,
    Verdict,
    Version,
)
from shipper.core.ports import Platform
from shipper.errors import ShipError


@dataclass
class SideOutcome:
    """What one side's deploy or rollback returned (or why it could not return)."""

    side: Side
    results: list[TargetResult] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and all(r.ok for r in self.results)

    def failures(self) -> list[str]:
        out = [f"{r.target}: {r.message or r.verdict.value}" for r in self.results if not r.ok]
        if self.error:
            out.insert(0, f"{self.side.value}: {self.error}")
        return out

    def causes(self) -> list[str]:
        """The failures that are causes, not consequences: a target whose wait was cut
        short because the other side failed (PENDING) is not why the release failed."""
        out = [
            f"{r.target}: {r.message or r.verdict.value}"
            for r in self.results
            if not r.ok and r.verdict is not Verdict.PENDING
        ]
        if self.error and not self.error.startswith("stopped"):
            out.insert(0, f"{self.side.value}: {self.error}")
        return out


def on_each_side(
    platforms: Mapping[Side, Platform],
    act: Callable[[Platform], Sequence[TargetResult]],
    *,
    emit: Callable[[Event], None],
    on_failure: Callable[[], None],
    rollback: bool,
) -> list[SideOutcome]:
    """Run `act` on every side concurrently; call `on_failure` as soon as one side fails
    (a deploy uses it to stop waiting on the other side: failures are caught early)."""

    def one(side: Side, platform: Platform) -> SideOutcome:
        outcome = SideOutcome(side)
        try:
            outcome.results = list(act(platform))
        except ShipError as exc:
            outcome.error = str(exc)
        for r in outcome.results:
            emit(
                TargetFinished(
                    target=r.target.key,
                    side=side.value,
                    verdict=r.verdict,
                    version=r.state.version if r.state else None,
                    message=r.message,
                    rollback=rollback,
                )
            )
        if not outcome.ok:
            on_failure()
        return outcome

    items = list(platforms.items())
    with ThreadPoolExecutor(max_workers=max(1, len(items)), thread_name_prefix="side") as pool:
        futures = [pool.submit(one, side, platform) for side, platform in items]
        return [f.result() for f in futures]


def read_snapshot(
    platforms: Mapping[Side, Platform],
    now: Callable[[], datetime],
    deploying: Version | None = None,
) -> Snapshot:
    """What runs on every target of every side, read concurrently (`deploying`: see
    `Platform.snapshot`)."""
    items = list(platforms.values())
    with ThreadPoolExecutor(max_workers=max(1, len(items)), thread_name_prefix="snap") as pool:
        states = list(pool.map(lambda p: tuple(p.snapshot(deploying=deploying)), items))
    return Snapshot(tuple(t for side in states for t in side), now())


def known_labels(releases: Sequence[Release]) -> dict[str, Version]:
    """identity -> the label ship recorded for it, from the states its ledger kept (every
    snapshot and every deployed state): the map of each slug or set of images ship ever
    built, released or found, newest first. It names code whose label the platform no
    longer tells (a slug without a commit, a container release); it never decides what
    runs, and a label the platform does tell always wins."""
    out: dict[str, Version] = {}
    for release in releases:
        for snapshot in (release.deployed, release.snapshot):
            for state in snapshot.targets if snapshot else ():
                if state.identity and state.version is not None:
                    out.setdefault(state.identity, state.version)
    return out


def relabel(snapshot: Snapshot, labels: Mapping[str, Version]) -> Snapshot:
    """`snapshot` with each unknown label filled in from `labels` by identity."""
    if not labels:
        return snapshot
    filled = tuple(
        replace(t, version=labels[t.identity])
        if t.version is None and t.identity and t.identity in labels
        else t
        for t in snapshot.targets
    )
    return replace(snapshot, targets=filled)


def common_version(states: Snapshot | Sequence[TargetState]) -> Version | None:
    """The one version every target runs, or None when they differ."""
    targets = states.targets if isinstance(states, Snapshot) else tuple(states)
    versions = {t.version for t in targets}
    return next(iter(versions)) if len(versions) == 1 else None


def describe(snapshot: Snapshot) -> str:
    """`v41 on 5 targets` or `v41 on 3 targets, v40 on 2 targets`; a full git SHA (what a
    pushed Heroku slug runs) is said by its first 12 characters, as `git log` shows it."""
    counts: dict[str, int] = {}
    for t in snapshot.targets:
        label = short_label(t.version) if t.version is not None else "an unknown version"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{v} on {n} target{'s' if n != 1 else ''}" for v, n in counts.items())


def short_label(label: str) -> str:
    """A label for a one-line message: a full 40-hex SHA shortened to 12, anything else
    whole (a name is never cut)."""
    if len(label) == 40 and all(c in "0123456789abcdef" for c in label.lower()):
        return label[:12]
    return label


def divergent(wanted: Snapshot, running: Snapshot, known: Sequence[str]) -> list[str]:
    """Targets that do not run the code `wanted` records, by the platform's identity,
    unless already in `known`. A target whose identity can't be read on either side is
    one ship can't call back: it is listed, never assumed."""
    out = []
    for target in wanted.targets:
        now = running.get(target.target)
        if now is None or now.runs_same_code(target):
            continue
        if target.identity is None and target.version is not None and now.version == target.version:
            continue  # recorded before identities were (an older ledger): its label decides
        if any(target.target.key in k for k in known):
            continue
        if target.identity is None or now.identity is None:
            out.append(
                f"{target.target}: can't tell what runs ({shown(now)}), wanted {shown(target)}"
            )
            continue
        out.append(f"{target.target}: runs {shown(now)}, wanted {shown(target)}")
    return out


def shown(state: TargetState) -> str:
    """A state for people: its label, or that it is unknown and the platform's id."""
    if state.version is not None:
        return str(state.version)
    return f"an unknown version ({state.identity or 'no id'})"


def all_reached(before: Snapshot, reached: list[TargetState], now: datetime) -> Snapshot | None:
    """What runs after a release whose every target reported the state it ended in, as a
    snapshot: the adapters report the same detail a fresh read would (a Heroku release id,
    a pod template), and the bake's platform checks have just read every target on the
    version. None when a target reported nothing (a resumed release): then read again."""
    states = {s.target: s for s in reached}
    if set(states) != {t.target for t in before.targets}:
        return None
    return Snapshot(tuple(states[t.target] for t in before.targets), now)
