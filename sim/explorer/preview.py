"""The preview drawn while editing: people crossed by each day, fast enough to follow the typing.

Until the fluid (mean-field) model exists, the preview is one replication of the simulation counting
only crossings (``run_replication(..., counters="crossed")``, as calibration does), with the
replication's random draws remembered between edits (:mod:`sim.model.draw_memo`): the same
households, departures and service times every time (common random numbers), so the line moves
only because the edit changed something. Beside it, the analytic capacity ceiling
(:mod:`sim.analytic.bound`), which needs no simulation. :func:`daily_crossings` is the one function
to replace by the fluid model's expected daily crossings.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import numpy as np

from sim.analytic.bound import TOTAL, capacity_bound
from sim.model.crossed import CROSSED
from sim.model.draw_memo import DrawMemo
from sim.model.engine import run_replication

PREVIEW_REPLICATION = 0
METHOD = "one replication (common random numbers)"


class Preview:
    """``preview(scenario)`` → the page's preview; one per app (its remembered draws are shared)."""

    def __init__(self) -> None:
        self._memo = DrawMemo()
        self._lock = threading.Lock()  # the memo serves one evaluation at a time

    def daily_crossings(self, scenario) -> np.ndarray:
        """People crossed per day at all crossings together (index 0 = period start)."""
        with self._lock, self._memo.active():
            crossed = run_replication(scenario, PREVIEW_REPLICATION, scenario.run.seed, counters=CROSSED)
        return np.sum([np.asarray(values, float) for values in crossed.values()], axis=0)

    def __call__(self, scenario) -> dict[str, Any]:
        started = time.perf_counter()
        daily = self.daily_crossings(scenario)
        cumulative = np.cumsum(daily)
        bound = capacity_bound(scenario).table
        ceiling = bound[bound["node"] == TOTAL]["ceiling_people_cumulative"].to_numpy(float)
        start = scenario.period.start
        target = scenario.target
        # By the target date (the period end without a target), as the answer block counts.
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
