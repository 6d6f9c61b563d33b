"""Following one changed workload to the end of its rollout, as a `TargetResult`.

Shared by deploy and rollback: from the object the patch returned (so no list precedes
the first watch), through `follow`'s watch loop and the pod checks of `PodWatch`, to a
verdict with the workload's state. A template that stops carrying the images ship set
fails the rollout whatever its status says afterwards: a revert's rollout completing is
never ship's success.
"""

from __future__ import annotations

from collections.abc import Callable

from shipper.core.model import TargetResult, TargetState, Verdict
from shipper.errors import Interrupted, LockLost, PlatformAuthError
from shipper.kubernetes.api import KubeApi, Obj
from shipper.kubernetes.follow import Outcome, Tuning, follow
from shipper.kubernetes.partitioned import left_behind
from shipper.kubernetes.pods import PodWatch
from shipper.kubernetes.preflight import Rules
from shipper.kubernetes.proof import changed_by_someone
from shipper.kubernetes.rollout import Reading, read_deployment, read_statefulset
from shipper.kubernetes.workloads import Workload
from shipper.ports import Operation

# Errors that concern the whole side, not one workload: they propagate out of deploy and
# roll_back instead of becoming a FAILED result.
SIDE_ERRORS = (Interrupted, LockLost, PlatformAuthError)


def generation_of(obj: Obj) -> int:
    return int((obj.get("metadata") or {}).get("generation") or 0)


class RolloutWaiter:
    """Waits for workloads' rollouts; `state` turns a live object into its TargetState
    and `seen` is told of every object the wait ends on."""

    def __init__(
        self,
        api: KubeApi,
        rules: Rules,
        tuning: Tuning,
        rollout_timeout: float,
        state: Callable[[Workload, Obj], TargetState],
        seen: Callable[[Workload, Obj], None] = lambda w, obj: None,
    ) -> None:
        self.api = api
        self.rules = rules
        self.tuning = tuning
        self.rollout_timeout = rollout_timeout
        self._state = state
        self._seen = seen

    def result(
        self,
        w: Workload,
        generation: int,
        op: Operation,
        done: str,
        latest: Obj,
        expected: dict[str, str],
    ) -> TargetResult:
        """Follow `w` to the end of its rollout, from `latest`: the object as the patch
        (or the read before it) returned it.

        `expected` is the image of every container ship set."""
        target = w.target
        if w.kind == "cronjob":
            obj = latest  # a CronJob's change is done once its template is stored
            changed = changed_by_someone(w, obj, expected)
            if changed:
                return TargetResult(
                    target, Verdict.FAILED, self._state(w, obj), f"{w.ref}: {changed}"
                )
            suspended = " (suspended)" if (obj.get("spec") or {}).get("suspend") else ""
            return TargetResult(
                target,
                Verdict.SUCCEEDED,
                self._state(w, obj),
                f"{w.ref} job template updated{suspended}",
            )
        own_limit = op.clock.monotonic() + self.rollout_timeout
        deadline = min(op.deadline, own_limit)
        bound = (
            f"{self.rollout_timeout:g}s (kubernetes.rollout_timeout)"
            if own_limit <= op.deadline
            else "the time left for this operation"
        )
        tick = PodWatch(self.api, w, generation, self.tuning.graces, op.clock)
        outcome: Outcome = follow(
            self.api,
            w.kind,
            w.name,
            decide=self._decider(w, generation, op, expected),
            tick=tick,
            deadline=deadline,
            cancelled=lambda: op.cancelled,
            tuning=self.tuning,
            pause=op.pause,
            created=latest,
        )
        reading = outcome.reading
        state: TargetState | None = None
        if outcome.obj is not None:
            self._seen(w, outcome.obj)
            state = self._state(w, outcome.obj)
        if outcome.cancelled:
            return TargetResult(
                target, Verdict.PENDING, state, f"{w.ref}: stopped waiting ({reading.message})"
            )
        if reading.verdict is Verdict.SUCCEEDED:
            op.progress(target, done, reading.message)
            message = f"{w.ref} {done}: {reading.message}"
            behind = (
                left_behind(self.api, w, outcome.obj, self.rules)
                if outcome.obj is not None
                else None
            )
            if behind:
                op.progress(target, "partitioned", behind)
                message += f"; {behind}"
            return TargetResult(target, Verdict.SUCCEEDED, state, message)
        if reading.verdict is Verdict.TIMED_OUT:
            return TargetResult(
                target,
                Verdict.TIMED_OUT,
                state,
                f"{w.ref} did not finish rolling out within {bound}: {reading.message}",
            )
        op.progress(target, "failed", reading.message)
        return TargetResult(target, Verdict.FAILED, state, f"{w.ref} failed: {reading.message}")

    def _decider(
        self, w: Workload, generation: int, op: Operation, expected: dict[str, str]
    ) -> Callable[[Obj], Reading]:
        target = w.target
        said: list[str] = []

        def decide(obj: Obj) -> Reading:
            changed = changed_by_someone(w, obj, expected)
            if changed:  # a revert's rollout completing is never ship's success
                return Reading(Verdict.FAILED, changed)
            reading = self._read_rollout(w, obj, generation)
            if reading.verdict is Verdict.PENDING and said[-1:] != [reading.message]:
                said[:] = [reading.message]  # report changes, not every watch event
                op.progress(target, "rolling out", reading.message)
            return reading

        return decide

    def _read_rollout(self, w: Workload, obj: Obj, generation: int) -> Reading:
        """The rollout rule, with the StatefulSet shapes the pipeline opted into: an
        OnDelete template is done once observed with its pods ready (they change when
        someone deletes them; `partitioned.left_behind` names those still on the old
        revision)."""
        if w.kind == "statefulset":
            return read_statefulset(obj, generation, on_delete=self.rules.statefulset_partitioned)
        return read_deployment(obj, generation)
