"""The benchmark's pure parts: critical paths from the stand-ins' timings, the table, and
the rule that a run which did not complete yields no figure and a non-zero exit.

Nothing here starts a process or opens a socket, so `tests/bench` can run it in CI.
Times are Unix seconds (time.time()) on one machine: the stand-ins, `ship`'s JSON events
and the benchmark share one clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shipper.core.model import Phase


class RunFailed(Exception):
    """A run did not complete as it should: none of its figures may be printed."""


@dataclass(frozen=True)
class Chain:
    """One chain of dependent platform waits on one target: the platform's own start
    and finish (e.g. a Heroku build, its release phase, its dynos booting)."""

    target: str
    start: float
    end: float
    sent: float | None = None  # when the call that started it reached the stand-in

    @property
    def seconds(self) -> float:
        return self.end - self.start


# --- reading the stand-ins' timings ------------------------------------------------------


def heroku_chains(
    heroku: Mapping[str, Any], version: str, since: float, apps: Sequence[str]
) -> list[Chain]:
    """Per app: from the build of `version` being created to its release finished plus
    the dynos' boot, or on an app with preboot, plus the time the old release's web
    dynos serve on beside the new (whichever is longer): the release is live once the
    new release alone serves, which ship waits for so that its bake measures the new
    code only. RunFailed when an app has no succeeded build and release."""
    boot, overlap = float(heroku["dyno_boot"]), float(heroku.get("preboot", 0.0))
    out = []
    for app in apps:
        record = heroku["apps"][app]
        settle = max(boot, overlap) if record.get("preboot") else boot
        releases = {r["id"]: r for r in record["releases"]}
        build = next(
            (
                b
                for b in record["builds"]
                if b["version"] == version and b["created"] >= since and b["status"] == "succeeded"
            ),
            None,
        )
        release = releases.get(build["release"]) if build and build["release"] else None
        if build is None or release is None or release["status"] != "succeeded":
            raise RunFailed(f"heroku:{app} has no succeeded build and release of {version}")
        out.append(Chain(f"heroku:{app}", build["created"], release["finished"] + settle))
    return out


def heroku_rollback_chains(
    heroku: Mapping[str, Any], since: float, apps: Sequence[str]
) -> list[Chain]:
    """Per app: the first rollback release created after `since`, to its dynos up."""
    boot = float(heroku["dyno_boot"])
    out = []
    for app in apps:
        release = next(
            (
                r
                for r in heroku["apps"][app]["releases"]
                if r["created"] >= since and r["description"].startswith("Rollback")
            ),
            None,
        )
        if release is None or release["status"] != "succeeded":
            raise RunFailed(f"heroku:{app} was not rolled back")
        out.append(
            Chain(
                f"heroku:{app}",
                release["created"],
                release["finished"] + boot,
                release.get("requested"),
            )
        )
    return out


def kube_chains(
    journal: Iterable[Mapping[str, Any]],
    rollouts: Iterable[Mapping[str, Any]],
    version: str,
    since: float,
    workloads: Sequence[str],
) -> list[Chain]:
    """Per workload: from its image set to `version` (the journal) to its rollout
    complete (every replica updated and available); a CronJob is done when its template
    changes. RunFailed when a workload never changed or never finished."""
    changes = [e for e in journal if e.get("kind") == "image" and e["version"] == version]
    out = []
    for workload in workloads:
        change = next((e for e in changes if e["target"] == workload and e["at"] >= since), None)
        if change is None:
            raise RunFailed(f"kubernetes:{workload} was never set to {version}")
        start, sent = change["at"], change.get("sent")
        if workload.startswith("cronjob/"):
            out.append(Chain(f"kubernetes:{workload}", start, start, sent))
            continue
        end = next(
            (
                r["at"]
                for r in rollouts
                if r["target"] == workload and r["version"] == version and r["at"] >= start
            ),
            None,
        )
        if end is None:
            raise RunFailed(f"kubernetes:{workload} never finished rolling out {version}")
        out.append(Chain(f"kubernetes:{workload}", start, end, sent))
    return out


def job_chain(journal: Iterable[Mapping[str, Any]], version: str, since: float) -> Chain:
    """The migration Job of `version`: created to finished (Complete)."""
    entries = [e for e in journal if e.get("version") == version and e["at"] >= since]
    started = next((e for e in entries if e["kind"] == "job"), None)
    finished = next(
        (e for e in entries if e["kind"] == "job_finished" and e.get("result") == "Complete"), None
    )
    if started is None or finished is None:
        raise RunFailed(f"no completed migration Job of {version}")
    return Chain(started["target"], started["at"], finished["at"])


def critical_path(
    job: Chain | None, migration_bake: float, chains: Sequence[Chain], verify_bake: float
) -> float:
    """The longest chain of dependent waits of a release: the migration Job, then the
    migration bake (the checks against the old code), then the slowest target (every
    target ships concurrently, so only the longest counts), then the verify bake."""
    if not chains:
        raise RunFailed("a release with no targets has no critical path")
    migration = (job.seconds + migration_bake) if job is not None else 0.0
    return migration + max(c.seconds for c in chains) + verify_bake


# --- reading ship's event stream ---------------------------------------------------------


def parse_events(text: str) -> list[dict[str, Any]]:
    """JSON lines to dicts, each with `at` (Unix seconds) from its ISO `time`."""
    out = []
    for line in text.splitlines():
        if line.strip():
            event = json.loads(line)
            event["at"] = datetime.fromisoformat(event["time"]).timestamp()
            out.append(event)
    return out


def phase_seconds(events: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per phase name, its total seconds over the run (gate and snapshot run twice)."""
    out: dict[str, float] = {}
    started: dict[str, float] = {}
    for e in events:
        if e["event"] == "phase_started":
            started[e["phase"]] = e["at"]
        elif e["event"] == "phase_finished" and e["phase"] in started:
            out[e["phase"]] = out.get(e["phase"], 0.0) + e["at"] - started.pop(e["phase"])
    return out


BAKES = (Phase.MIGRATION_BAKE.value, Phase.VERIFY.value)  # the phases that are waits asked for


def bake_windows(events: Iterable[Mapping[str, Any]]) -> list[tuple[float, float]]:
    """Each bake's (start, end) in the run: the migration bake and the verify bake."""
    out = []
    started: dict[str, float] = {}
    for e in events:
        if e["event"] == "phase_started" and e["phase"] in BAKES:
            started[e["phase"]] = e["at"]
        elif e["event"] == "phase_finished" and e["phase"] in started:
            out.append((started.pop(e["phase"]), e["at"]))
    return out


def measurements(
    events: Iterable[Mapping[str, Any]], windows: Sequence[tuple[float, float]]
) -> int:
    """How many measurements the bakes made: the most results any one check reported
    inside them (every check is measured once a round)."""
    counts: dict[str, int] = {}
    for e in events:
        if e["event"] == "check_result" and any(a <= e["at"] <= b for a, b in windows):
            counts[e["check"]] = counts.get(e["check"], 0) + 1
    return max(counts.values(), default=0)


def split_calls(
    times: Iterable[float], start: float, end: float, windows: Sequence[tuple[float, float]]
) -> tuple[int, int]:
    """API calls answered between `start` and `end`: (outside the bakes, inside them)."""
    outside = inside = 0
    for at in times:
        if start <= at <= end:
            if any(a <= at <= b for a, b in windows):
                inside += 1
            else:
                outside += 1
    return outside, inside


def first_calls(
    chains: Sequence[Chain], decided: float, latency: float | None = None
) -> tuple[float, float]:
    """Each target's first rollback call after the decision: (the slowest, the median).
    As the stand-in applied it; or, given the `latency` it adds, as `ship` sent it: its
    arrival at the stand-in plus that latency, the stand-in's own queue left out (None
    when a stand-in did not say when the call arrived)."""
    if not chains:
        raise RunFailed("no target was rolled back")
    if latency is None:
        delays = sorted(c.start - decided for c in chains)
    else:
        sent = [c.sent for c in chains]
        if any(s is None for s in sent):
            raise RunFailed("a stand-in did not say when a rollback call arrived")
        delays = sorted(s + latency - decided for s in sent if s is not None)
    middle = len(delays) // 2
    median = delays[middle] if len(delays) % 2 else (delays[middle - 1] + delays[middle]) / 2
    return delays[-1], median


def final_exit(events: Sequence[Mapping[str, Any]]) -> int | None:
    """The exit code `release_finished` reported last, or None without one."""
    codes = [e["exit_code"] for e in events if e["event"] == "release_finished"]
    return codes[-1] if codes else None


def require(ok: bool, what: str) -> None:
    if not ok:
        raise RunFailed(what)


# --- the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One row: a measured value beside its ideal. `unit` is `s` (absolute seconds),
    `x` (a ratio), `calls`, `MiB` or `` (a plain number)."""

    name: str
    measured: float
    ideal: float | None
    unit: str
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ideal is None or self.ideal == 0:
            return None
        return self.measured / self.ideal


def _value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "calls":
        return f"{value:.1f}"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:g}"


def render(figures: Sequence[Figure], failures: Sequence[str] = ()) -> str:
    """A Markdown table: figure, measured, ideal, measured/ideal, note; then one line
    per run that failed (whose figures are absent)."""
    rows = [("figure", "measured", "ideal", "measured / ideal", "how")]
    for f in figures:
        ideal = _value(f.ideal, f.unit) if f.ideal is not None else "-"
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        rows.append((f.name, _value(f.measured, f.unit), ideal, ratio, f.note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [f"FAILED, no figure: {what}" for what in failures]
    return "\n".join(lines)


def goal_lines(figures: Sequence[Figure], prefix: str, goal: float) -> list[str]:
    """One line per figure named `prefix...`: whether its ratio is within `goal`."""
    out = []
    for f in figures:
        if f.name.startswith(prefix) and f.ratio is not None:
            verdict = "met" if f.ratio <= goal else "missed"
            out.append(f"goal {goal:g} {verdict}: {f.name} = {f.ratio:.2f}")
    return out


def exit_status(failures: Sequence[str]) -> int:
    """0 when every run completed; 1 when any did not (its figures were not printed)."""
    return 1 if failures else 0
