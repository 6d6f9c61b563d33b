"""Event fields are typed by the model's enums in the core, and plain strings on the wire:
the JSON stream (a contract) reads exactly as it did when they were strings."""

from __future__ import annotations

import json

from shipper.core.events import GateBlocked, PhaseFinished, RollbackFinished, TargetFinished
from shipper.core.model import Phase, PhaseVerdict, Verdict


def test_phase_and_verdict_are_their_plain_values_in_the_fields() -> None:
    fields = PhaseFinished(
        phase=Phase.MIGRATION_BAKE, verdict=PhaseVerdict.PASSED, seconds=1.5
    ).fields()
    assert fields == {
        "phase": "migration_bake",
        "verdict": "passed",
        "seconds": 1.5,
        "message": "",
    }
    assert type(fields["phase"]) is str and type(fields["verdict"]) is str


def test_every_enum_field_serializes_as_its_value() -> None:
    events = [
        GateBlocked(phase=Phase.GATE, reason="Tools is yellow"),
        TargetFinished("heroku:web", "heroku", Verdict.TIMED_OUT, "v1"),
        RollbackFinished(verdict=Verdict.SUCCEEDED, restored=["heroku:web"], not_restored=[]),
    ]
    wire = [json.loads(json.dumps(e.fields())) for e in events]
    assert [w.get("phase") or w["verdict"] for w in wire] == ["gate", "timed_out", "succeeded"]
