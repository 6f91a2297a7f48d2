"""``bordersim run --fluid``: the fluid path as a results folder and the run's answer block.

The folder is the simulation's (``daily`` table with the same series, ``replications.csv``,
``projection.csv``, ``summary.csv``, the capacity ceiling), holding one deterministic path written
as replication 0; the answer block says so and gives no P(target), which one path cannot estimate.
"""
from __future__ import annotations

import math
import sys
import time
from datetime import datetime, timedelta

from sim.analytic.fluid.outcome import fluid_outcome
from sim.analytic.fluid.path import fluid_path
from sim.model.clock import HOURS_PER_DAY
from sim.model.outcome import ReplicationOutcome

FLUID_COMMAND = "fluid"


def fluid_run(scenario) -> tuple[ReplicationOutcome, datetime, float]:
    """The fluid path's outcome, when it started and how long it took (no pandas: the answer block
    can be printed before the results folder is written)."""
    started = datetime.now().astimezone()
    clock = time.perf_counter()
    return fluid_outcome(fluid_path(scenario), scenario), started, time.perf_counter() - clock


def fluid_result(scenario, outcome: ReplicationOutcome, started: datetime, wall_seconds: float, observed=None,
                 command_line: list[str] | None = None, every: str = "week"):
    """The fluid path as a :class:`~sim.outputs.results.RunResult` (one path; ``.save()`` writes the folder)."""
    from sim.analytic.bound import capacity_bound
    from sim.outputs.results import RunResult

    target = scenario.target
    return RunResult(
        scenario=scenario, outcomes=[outcome], period_start=scenario.period.start,
        target_by=target.by if target else None, target_people=target.people if target else None,
        seed=None, command=FLUID_COMMAND, command_line=command_line if command_line is not None else sys.argv,
        scenario_paths=list(scenario.source_files), resolve_text=scenario.to_yaml, started_at=started,
        ended_at=datetime.now().astimezone(), wall_seconds=wall_seconds, observed=observed,
        extra_tables={"bound": lambda: capacity_bound(scenario).table},
        extra_manifest={"path": "fluid: the deterministic expected path, no replications"}, every=every,
        needs=scenario.needs)


def fluid_headline_lines(outcome: ReplicationOutcome, scenario) -> list[str]:
    """The run's answer block for the fluid path (the simulation's lines, for one deterministic path)."""
    totals = outcome.totals
    lines = [("Fluid path: the deterministic expected path (no household randomness, no replications;"
              " run without --fluid for P(target))")]
    target = scenario.target
    if target is not None:
        by = target.by.isoformat()
        lines.append(f"Target: {_people(target.people)} people crossed by {by}")
        hours = totals["target_reached_hours"]
        reached = (scenario.period.start + timedelta(days=math.floor(hours / HOURS_PER_DAY))).isoformat() \
            if math.isfinite(hours) else "not within the period"
        lines.append(f"{_people(target.people)} reached on the fluid path: {reached}")
        lines.append(f"Crossed by target date: {_people(totals['crossed_by_target_date'])}")
    else:
        lines.append("No target in this scenario")
        crossed = outcome.daily[("all", "all", "crossed_people_cumulative")][-1]
        lines.append(f"Crossed by period end: {_people(crossed)}")
    lines.append(f"Peak queue (all crossings together): {_people(totals['peak_queue_people'])} people")
    lines.append(f"Wait (p95 per person): {totals['wait_hours_p95']:.1f} h")
    lines.append(f"Peak waiting outside camps: {_people(totals['peak_waiting_outside_people'])} people")
    if target is not None:
        where = f" (mostly: {outcome.binding_where})" if outcome.binding_where else ""
        lines.append(f"Verdict (deterministic path): {outcome.verdict}{where}")
    if scenario.uncertain:
        lines.append("Note: the uncertain: block is not drawn; the path is at the values written in the scenario")
    return lines


def _people(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.0f}"
