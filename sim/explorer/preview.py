"""The preview drawn while editing: people crossed by each day, fast enough to follow the typing.

The preview is the fluid (mean-field) path of the edited scenario (:mod:`sim.analytic.fluid`): the
expected flow without household randomness, in a fraction of a second (~0.16 s for the bundled
baseline; docs/explanation/fluid-path.md says what it leaves out). Beside it, the analytic capacity
ceiling (:mod:`sim.analytic.bound`). The Run button gives the simulation's answer with its spread.
:func:`daily_crossings` is the one function that says where the preview comes from.
"""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import numpy as np

from sim.analytic.bound import TOTAL, capacity_bound
from sim.analytic.fluid import fluid_path

METHOD = "fluid path: expected flows"


def daily_crossings(scenario) -> np.ndarray:
    """People crossed per day at all crossings together (index 0 = period start)."""
    return np.asarray(fluid_path(scenario).crossed_per_day()[TOTAL], float)


def preview(scenario) -> dict[str, Any]:
    """The page's preview of ``scenario``: cumulative crossings and capacity ceiling by day, and
    the figures of the line above the chart (by the target date; the period end without a target)."""
    started = time.perf_counter()
    daily = daily_crossings(scenario)
    cumulative = np.cumsum(daily)
    bound = capacity_bound(scenario).table
    ceiling = bound[bound["node"] == TOTAL]["ceiling_people_cumulative"].to_numpy(float)
    start = scenario.period.start
    target = scenario.target
    index = min((target.by - start).days if target is not None else len(cumulative) - 1, len(cumulative) - 1)
    return {
        "method": METHOD,
        "dates": [(start + timedelta(days=day)).isoformat() for day in range(len(cumulative))],
        "crossed_cumulative": [round(float(value)) for value in cumulative],
        "ceiling_cumulative": [round(float(value)) for value in ceiling[: len(cumulative)]],
        "crossed_by_target_date": float(cumulative[index]) if index >= 0 else 0.0,
        "ceiling_by_target_date": float(ceiling[index]) if index >= 0 else 0.0,
        "busiest_day_people": float(daily.max(initial=0.0)),
        "seconds": round(time.perf_counter() - started, 3),
    }
