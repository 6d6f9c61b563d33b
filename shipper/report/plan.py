"""`ship deploy --dry-run`: the plan, printed, with nothing changed.

The plan is what makes a dry run honest (pyinfra's plan-then-execute): the same
decision the real run will act on, shown as targets with from -> to, the phases in
order, and whether migrations run and why. With `--output json` it is the `plan` event
of the stream, on one line, so a CI job reads a dry run and a real run the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shipper.core.events import PlanMade, Stamped
from shipper.report import fmt
from shipper.report.jsonl import encode
from shipper.report.output import OutputMode, console_for

if TYPE_CHECKING:
    from shipper.core.model import Snapshot
    from shipper.core.plan import Plan
    from shipper.core.rollback import RollbackPlan
    from shipper.pipeline import Pipeline


@dataclass(frozen=True)
class PlanView:
    """The plan as shown: the `plan` event's fields, from either the core's Plan or the event."""

    event: PlanMade

    @classmethod
    def of(cls, plan: Plan | PlanMade | Stamped) -> PlanView:
        if isinstance(plan, Stamped):
            if not isinstance(plan.event, PlanMade):
                raise TypeError(f"expected a plan event, got {plan.event.name}")
            return cls(plan.event)
        if isinstance(plan, PlanMade):
            return cls(plan)
        from shipper.core.steps import plan_event

        return cls(plan_event(plan))


def render_plan(
    plan: Plan | PlanMade | Stamped,
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    pipeline: Pipeline | str,
    release: int | None = None,
    time: datetime | None = None,
    is_tty: bool | None = None,
) -> None:
    """Write the plan: a `plan` event line in JSON mode, else a table for a person.

    `pipeline` is the loaded pipeline (for the bake and checks lines) or just its name.
    """
    view = PlanView.of(plan)
    name = pipeline if isinstance(pipeline, str) else pipeline.name
    if output == "json":
        when = time or (plan.time if isinstance(plan, Stamped) else datetime.now(UTC))
        out.write(encode(Stamped(when, name, release, view.event)) + "\n")
        out.flush()
        return
    console = console_for(out, is_tty=is_tty)
    console.print(plan_renderable(view, pipeline), soft_wrap=False)


def plan_renderable(view: PlanView, pipeline: Pipeline | str) -> RenderableType:
    event = view.event
    name = pipeline if isinstance(pipeline, str) else pipeline.name
    changing = [t for t in event.targets if t.get("action") != "none"]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("plan", f"{name}: {event.version} (dry run: nothing was changed)")
    if event.phases:
        facts.add_row("phases", " -> ".join(event.phases))
    migrations = "run first, as their own release" if event.migrations else "do not run"
    why = f": {event.migrations_why}" if event.migrations_why else ""
    facts.add_row(
        "migrations", Text(f"{migrations}{why}", style="yellow" if event.migrations else "")
    )
    for label, text in _pipeline_lines(pipeline):
        facts.add_row(label, text)
    facts.add_row(
        "changes",
        f"{len(changing)} of {len(event.targets)} targets"
        if changing or event.migrations
        else "none: the version already runs everywhere",
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("side", "target", "from -> to", "action"):
        table.add_column(column, no_wrap=True)
    for item in event.targets:
        key = str(item.get("target") or "")
        side, _, target = key.partition(":")
        action = str(item.get("action") or "")
        table.add_row(
            str(item.get("side") or side),
            target or key,
            fmt.change(item.get("from"), item.get("to")),
            Text(action, style="dim" if action == "none" else "bold"),
        )
    return Group(facts, table)


def _pipeline_lines(pipeline: Pipeline | str) -> Sequence[tuple[str, str]]:
    if isinstance(pipeline, str):
        return ()
    verify = pipeline.verify
    checks = ", ".join(c.name for c in verify.checks) or "none configured"
    lines = [
        (
            "verify",
            f"bake {fmt.duration(verify.bake)} every {fmt.duration(verify.interval)}; "
            f"checks: {checks}",
        )
    ]
    gate = pipeline.gates.heroku_status
    if gate is not None:
        lines.append(("gate", f"Heroku status of {', '.join(gate.systems)} must be green"))
    return lines


def render_rollback_plan(
    plan: RollbackPlan,
    now: Snapshot,
    out: TextIO,
    output: OutputMode = OutputMode.HUMAN,
    *,
    is_tty: bool | None = None,
) -> None:
    """`ship rollback --dry-run`: the state that would run again and, per target, what
    runs now and whether it would change (by the platforms' identities, never labels)."""
    wanted = plan.snapshot or now
    rows = []
    for state in wanted.targets:
        current = now.get(state.target)
        same = current is not None and current.runs_same_code(state)
        rows.append(
            {
                "target": state.target.key,
                "from": current.version if current is not None else None,
                "to": state.version,
                "action": "none: already runs it" if same else "roll back",
            }
        )
    if output == "json":
        data = {
            "rollback": {
                "target": plan.target_text,
                "to_release": plan.release.number if plan.after else None,
                "undoes": None if plan.after else plan.release.number,
                "targets": rows,
            }
        }
        out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
        out.flush()
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1))
    table.add_column("target", no_wrap=True)
    table.add_column("now", no_wrap=True)
    table.add_column("after", no_wrap=True)
    table.add_column("action")
    for row in rows:
        table.add_row(
            str(row["target"]),
            fmt.version(row["from"]),
            fmt.version(row["to"]),
            str(row["action"]),
        )
    head = Text(f"dry run: {plan.question()[:-1]}; nothing is changed", style="bold")
    console = console_for(out, is_tty=is_tty)
    console.print(head, soft_wrap=True)  # one line, whatever the width: it is grepped
    console.print(table, soft_wrap=False)
