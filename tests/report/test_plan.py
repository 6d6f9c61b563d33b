"""`ship deploy --dry-run`: the plan."""

from __future__ import annotations

import io
import json

from shipper.core.events import PlanMade
from shipper.core.model import Side, Snapshot, Target, TargetState, Version
from shipper.core.plan import MigrationDecision, Plan, build_plan
from shipper.report.output import OutputMode
from shipper.report.plan import render_plan
from tests.report.streams import T0
from tests.report.test_jsonl import VALIDATOR


def _plan() -> Plan:
    snapshot = Snapshot(
        (
            TargetState(Target(Side.HEROKU, "acme-web"), Version("v41")),
            TargetState(Target(Side.KUBERNETES, "deployment/web"), Version("v42")),
        )
    )
    return build_plan(
        Version("v42"), snapshot, MigrationDecision(True, "db/migrate/001.rb changed since v41")
    )


def _human(plan: Plan | PlanMade) -> str:
    out = io.StringIO()
    render_plan(plan, out, OutputMode.HUMAN, pipeline="web", is_tty=False)
    return out.getvalue()


def test_plan_lists_targets_from_and_to() -> None:
    """Each target is a row with its from -> to versions and action."""
    text = _human(_plan())
    assert "heroku       acme-web         v41 -> v42   deploy" in text
    assert "kubernetes   deployment/web   v42          none" in text


def test_plan_says_whether_migrations_run_and_why() -> None:
    """The plan says migrations run first and gives the reason."""
    assert "run first, as their own release: db/migrate/001.rb changed since v41" in _human(_plan())


def test_plan_shows_the_phases_in_order() -> None:
    """The phases are listed in the order the release goes through them."""
    assert "lock -> gate -> snapshot -> migrate -> migration_bake -> release -> verify" in _human(
        _plan()
    )


def test_plan_json_is_one_schema_valid_plan_event() -> None:
    """In JSON mode the plan is a single `plan` event line that the schema accepts."""
    out = io.StringIO()
    render_plan(_plan(), out, OutputMode.JSON, pipeline="web", time=T0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    VALIDATOR.validate(data)
    assert data["event"] == "plan" and data["phases"][3] == "migrate"


def test_plan_event_renders_like_the_plan() -> None:
    """The `plan` event from a stream renders the same rows as the core's Plan."""
    event = PlanMade(
        version="v42",
        migrations=False,
        migrations_why="--no-migrations",
        targets=[
            {
                "target": "heroku:acme-web",
                "side": "heroku",
                "from": "v41",
                "to": "v42",
                "action": "deploy",
            }
        ],
    )
    text = _human(event)
    assert "do not run: --no-migrations" in text
    assert "heroku   acme-web   v41 -> v42   deploy" in text
