"""Recorded event streams of whole releases, as the core emits them, for the sinks' tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shipper.core.events import (
    CheckFailed,
    CheckMeasured,
    Event,
    GateBlocked,
    GatePassed,
    GateSkipped,
    LockReleased,
    LockTaken,
    MetricRecorded,
    MigrationLog,
    Notice,
    PhaseFinished,
    PhaseStarted,
    PlanMade,
    ReleaseFinished,
    ReleaseStarted,
    RollbackFinished,
    RollbackStarted,
    RunStarted,
    SnapshotTaken,
    Stamped,
    TargetFinished,
    TargetProgress,
)
from shipper.core.model import Phase, PhaseVerdict, Verdict

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ACTOR = "octocat (github acme/web run 4242)"
HEROKU = ["heroku:acme-web", "heroku:acme-worker"]
KUBE = ["kubernetes:deployment/web", "kubernetes:deployment/worker"]


class Recorder:
    """Stamps events one after another, `step` seconds apart unless told otherwise."""

    def __init__(self, release: int | None = 12, pipeline: str = "web") -> None:
        self.release = release
        self.pipeline = pipeline
        self.at = 0.0
        self.events: list[Stamped] = []

    def __call__(self, event: Event, after: float = 1.0) -> None:
        self.at += after
        self.events.append(
            Stamped(T0 + timedelta(seconds=self.at), self.pipeline, self.release, event)
        )


def _side(key: str) -> str:
    return key.split(":", 1)[0]


def _start(r: Recorder, version: str = "v42", kind: str = "code") -> None:
    command = "rollback" if kind == "rollback" else "deploy"
    asked = None if kind == "rollback" else version
    number, r.release = r.release, None  # no release is open before release_started
    r(RunStarted("0.1.0", command, asked, ACTOR), after=0)
    r(LockTaken(holder=ACTOR), after=0)
    r.release = number
    r(ReleaseStarted(kind=kind, version=version, actor=ACTOR, reason=""), after=0)
    r(PhaseStarted(Phase.GATE))
    r(GatePassed(phase=Phase.GATE, summary="Apps green, Data green, Tools green"))
    r(PhaseFinished(phase=Phase.GATE, verdict=PhaseVerdict.SUCCEEDED, seconds=1.0))
    r(PhaseStarted(Phase.SNAPSHOT))
    r(SnapshotTaken(targets=dict.fromkeys(HEROKU + KUBE, "v41")))
    r(PhaseFinished(phase=Phase.SNAPSHOT, verdict=PhaseVerdict.SUCCEEDED, seconds=1.0))


def _release(r: Recorder, fail: str | None = None) -> None:
    r(PhaseStarted(Phase.RELEASE))
    for key in HEROKU + KUBE:
        status = "building" if key.startswith("heroku") else "rolling out 0/3"
        r(TargetProgress(key, _side(key), "v41", "v42", status), after=0.5)
    for key in HEROKU + KUBE:
        if key == fail:
            r(
                TargetFinished(
                    key,
                    _side(key),
                    Verdict.FAILED,
                    "v41",
                    "CrashLoopBackOff: web-7d9 restarted 5 times",
                ),
                after=20,
            )
        else:
            r(TargetFinished(key, _side(key), Verdict.SUCCEEDED, "v42", "released"), after=20)
    verdict = PhaseVerdict.FAILED if fail else PhaseVerdict.SUCCEEDED
    r(PhaseFinished(phase=Phase.RELEASE, verdict=verdict, seconds=82.0, message=""))


def _bake(r: Recorder, failing: bool = False) -> None:
    r(PhaseStarted(Phase.VERIFY))
    for i in range(1, 4):
        bad = failing and i >= 2
        r(
            CheckMeasured(
                "heroku-health", "heroku", "successful", "200", "HTTP 200 in 0.12s", i, 0, 0, 0
            ),
            after=15,
        )
        r(
            CheckMeasured(
                "kube-errors",
                "kubernetes",
                "failed" if bad else "successful",
                "0.031" if bad else "0.002",
                "0.031 > max 0.01" if bad else "0.002 <= max 0.01",
                i - (i - 1 if bad else 0),
                (i - 1) if bad else 0,
                0,
                (i - 1) if bad else 0,
            ),
            after=0,
        )
    if failing:
        r(
            CheckFailed(
                "kube-errors",
                "kubernetes",
                reason="3 failed measurements in a row (limit 2)",
                threshold="value <= 0.01",
                last=["0.002", "0.031", "0.044"],
            )
        )
        r(
            PhaseFinished(
                phase=Phase.VERIFY, verdict=PhaseVerdict.FAILED, seconds=46.0, message="kube-errors"
            )
        )
    else:
        r(
            PhaseFinished(phase=Phase.VERIFY, verdict=PhaseVerdict.SUCCEEDED, seconds=300.0),
            after=255,
        )


def _rollback(r: Recorder, reason: str, broken: str | None = None) -> None:
    r(RollbackStarted(reason=reason))
    r(PhaseStarted(Phase.ROLLBACK), after=0)
    for key in HEROKU + KUBE:
        r(TargetProgress(key, _side(key), "v42", "v41", "rolling back"), after=0.2)
    for key in HEROKU + KUBE:
        if key == broken:
            r(
                TargetFinished(
                    key,
                    _side(key),
                    Verdict.TIMED_OUT,
                    "v42",
                    "rollout did not finish",
                    rollback=True,
                ),
                after=10,
            )
        else:
            r(
                TargetFinished(
                    key, _side(key), Verdict.SUCCEEDED, "v41", "restored", rollback=True
                ),
                10,
            )
    restored = [k for k in HEROKU + KUBE if k != broken]
    r(
        PhaseFinished(
            phase=Phase.ROLLBACK,
            verdict=PhaseVerdict.FAILED if broken else PhaseVerdict.SUCCEEDED,
            seconds=41.0,
        )
    )
    r(
        RollbackFinished(
            verdict=Verdict.FAILED if broken else Verdict.SUCCEEDED,
            restored=restored,
            not_restored=[broken] if broken else [],
        )
    )


def success() -> list[Stamped]:
    """A code release of v42 with migrations that ships everywhere."""
    r = Recorder()
    _start(r)
    r(
        PlanMade(
            version="v42",
            migrations=True,
            migrations_why="db/migrate/20261126_add_index.rb changed since v41",
            targets=[
                {"target": k, "side": _side(k), "from": "v41", "to": "v42", "action": "deploy"}
                for k in HEROKU + KUBE
            ],
        ),
        after=0,
    )
    r(PhaseStarted(Phase.MIGRATE))
    r(MigrationLog("== 20261126 AddIndex: migrating =="))
    r(MigrationLog("-- add_index(:orders, :created_at)"))
    r(MigrationLog("== 20261126 AddIndex: migrated (0.0123s) =="))
    r(PhaseFinished(phase=Phase.MIGRATE, verdict=PhaseVerdict.SUCCEEDED, seconds=34.0))
    r(PhaseStarted(Phase.MIGRATION_BAKE))
    r(
        PhaseFinished(phase=Phase.MIGRATION_BAKE, verdict=PhaseVerdict.SUCCEEDED, seconds=60.0),
        after=60,
    )
    _release(r)
    _bake(r)
    r(MetricRecorded("heroku_api_calls", 41.0))
    r(
        ReleaseFinished(
            state="succeeded",
            exit_code=0,
            message="v42 runs on 4 targets",
            seconds=459.0,
            running=dict.fromkeys(HEROKU + KUBE, "v42"),
        )
    )
    r(LockReleased(holder=ACTOR), after=0)
    return r.events


def rolled_back() -> list[Stamped]:
    """A code release whose Kubernetes check fails in the bake; both sides roll back."""
    r = Recorder()
    _start(r)
    _release(r)
    _bake(r, failing=True)
    _rollback(r, "check kube-errors failed on kubernetes")
    r(
        ReleaseFinished(
            state="rolled_back",
            exit_code=1,
            message="check kube-errors failed; both sides back on v41 and healthy",
            seconds=201.0,
            running=dict.fromkeys(HEROKU + KUBE, "v41"),
        )
    )
    r(LockReleased(holder=ACTOR), after=0)
    return r.events


def rollback_failed() -> list[Stamped]:
    """A rollout fails and the rollback of one workload does not finish: exit 4."""
    r = Recorder()
    _start(r)
    _release(r, fail="kubernetes:deployment/web")
    broken = "kubernetes:deployment/worker"
    _rollback(r, "kubernetes:deployment/web failed: CrashLoopBackOff", broken=broken)
    running: dict[str, str | None] = dict.fromkeys(HEROKU + KUBE, "v41")
    running[broken] = "v42"
    r(
        ReleaseFinished(
            state="rollback_failed",
            exit_code=4,
            message="deployment/worker still runs v42; run: kubectl -n web rollout undo "
            "deployment/worker",
            seconds=180.0,
            running=running,
        )
    )
    r(LockReleased(holder=ACTOR), after=0)
    return r.events


def blocked() -> list[Stamped]:
    """The platform status is yellow: nothing changes, exit 3."""
    r = Recorder()
    r(LockTaken(holder=ACTOR), after=0)
    r(ReleaseStarted(kind="code", version="v42", actor=ACTOR), after=0)
    r(PhaseStarted(Phase.GATE))
    r(GateBlocked(phase=Phase.GATE, reason="Tools is yellow: Delayed builds"))
    r(
        PhaseFinished(
            phase=Phase.GATE, verdict=PhaseVerdict.FAILED, seconds=0.4, message="platform status"
        )
    )
    r(
        ReleaseFinished(
            state="blocked",
            exit_code=3,
            message="Heroku platform status: Tools is yellow: Delayed builds; nothing changed",
            seconds=1.4,
            running=dict.fromkeys(HEROKU + KUBE, "v41"),
        )
    )
    r(LockReleased(holder=ACTOR), after=0)
    return r.events


def overridden() -> list[Stamped]:
    """A release that skipped the gate and took over a stale lock, then shipped."""
    r = Recorder()
    # As the core does it: the lock before the release, and each override announced both
    # as its typed event and as a notice; the gate skipped before every phase.
    r(LockTaken(holder=ACTOR, took_over_from="alice@bastion", takeover_reason="expired"), 0)
    r(ReleaseStarted(kind="code", version="v42", actor=ACTOR, reason="hotfix"))
    r(Notice(level="warning", message="took the lock over from alice@bastion: expired"))
    r(Notice(level="warning", message="status gate skipped: status page down, incident 123"))
    r(GateSkipped(phase=Phase.GATE, reason="status page down, incident 123"))
    r(Notice(level="warning", message="deployment/worker has no readiness probe"))
    r(GateSkipped(phase=Phase.RELEASE, reason="status page down, incident 123"))
    _release(r)
    r(
        ReleaseFinished(
            state="succeeded",
            exit_code=0,
            message="v42 runs on 4 targets",
            seconds=90.0,
            running=dict.fromkeys(HEROKU + KUBE, "v42"),
        )
    )
    return r.events


ALL = {
    "success": success,
    "rolled_back": rolled_back,
    "rollback_failed": rollback_failed,
    "blocked": blocked,
    "overridden": overridden,
}
