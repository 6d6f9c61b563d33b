"""Each workload's health reading carries its last condition beside available/desired."""

from __future__ import annotations

import re
from pathlib import Path

from shipper.core.model import Measurement, MeasurementStatus, Version
from shipper.inspection import with_health
from shipper.kubernetes.health import last_condition
from shipper.sandbox.kubeapi import FakeKubeApiServer
from tests.kubernetes.conftest import NAMESPACE as NS
from tests.kubernetes.conftest import make_platform, real_op
from tests.report import builders as b

V1 = "ghcr.io/acme/web:v1"


def test_the_latest_condition_is_named_with_its_status_and_reason() -> None:
    """Of Available and Progressing, the one updated last is shown."""
    obj = {
        "status": {
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "lastUpdateTime": "2026-11-26T12:00:00Z",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "lastUpdateTime": "2026-11-26T12:03:00Z",
                },
            ]
        }
    }
    assert last_condition(obj) == " · Progressing=True NewReplicaSetAvailable"


def test_no_conditions_add_nothing() -> None:
    """A workload that reports no condition keeps the bare available/desired."""
    assert last_condition({"status": {}}) == ""
    assert last_condition({}) == ""


def test_status_puts_the_condition_beside_available_desired() -> None:
    """ship status gives each workload its part of the reading, condition included."""
    states = [b.state("kubernetes", "deployment/web", "v41", healthy=None)]
    reading = Measurement(
        MeasurementStatus.SUCCESSFUL,
        "deployment/web 2/3 available · Progressing=True NewReplicaSetAvailable",
        "all workloads available",
    )
    (state,) = with_health(states, reading)
    assert state.message == "2/3 available · Progressing=True NewReplicaSetAvailable"


def test_the_real_reading_over_http_names_the_last_condition(
    kube: FakeKubeApiServer, kubeconfig: Path
) -> None:
    """The side's health reading, over real HTTP, gives available/desired and a condition."""
    kube.seed_deployment(NS, "web", V1)
    platform = make_platform(kubeconfig, ["deployment/web"])
    reached = [r.state for r in platform.deploy(Version("v2"), real_op()) if r.state]
    reading = platform.health(reached)
    assert reading.status is MeasurementStatus.SUCCESSFUL
    assert re.fullmatch(r"deployment/web \d+/\d+ available · \w+=\w+( \w+)?", reading.value)
