"""Cheap model evaluations for calibration: daily crossings per crossing up to a date.

A posterior calibration runs the model thousands of times at different parameter values and only
ever compares the people crossed per day, per crossing, up to the last observed date. So an
evaluation here:

* **cuts the period** at ``until`` (``period.end`` = ``until``; the target, the scenario's own
  ``uncertain:`` block, slowdowns starting after it and departure steps starting after it are
  dropped — none of them can change a day up to ``until``);
* **builds no tables**: it returns numpy arrays, never the pandas tables of ``sim.run``;
* **reuses the world** (the static layout: clock, node ids, routes) across evaluations when the
  changed values cannot alter it (anything but ``origins`` and ``period``);
* uses **common random numbers**: the same seed and replication for every parameter value, so the
  result is a deterministic function of the values and two values differ only by their effect;
* **counts only what is observed**: ``run_replication(..., counters="crossed")`` runs the same
  simulation (and its conservation check) but returns only the people crossed per day at each
  crossing (:mod:`sim.model.crossed`), not every node's series, peaks and percentiles;
* **remembers the draws** that do not depend on the values (:mod:`sim.model.draw_memo`): sizes,
  uniform and exponential numbers, service times ... are drawn once per worker and served again,
  exactly, at every later evaluation of the same replication.

What is not cached, because it is cheap (measured on the bundled calibration, a few ms of ~0.3 s):
validating the scenario with the values set, and the crossings' capacity timelines.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping

import numpy as np

from sim.model.crossed import CROSSED
from sim.model.draw_memo import DrawMemo
from sim.model.engine import build_world, run_replication
from sim.scenario.cut import cut_data, scenario_at, typed_value
from sim.scenario.keypath import parse_key_path

ALL = "all"
LAYOUT_ROOTS = ("origins", "period")
"""Key paths under these roots change the world (routes, clock): rebuild it for such values."""


class CrossedEvaluator:
    """``evaluator(values, replication)`` → people crossed per day at each crossing and in ``all``.

    Picklable (it holds the scenario's data, not the engine's state), so one evaluator can be
    shipped to every worker of an executor once and called there many times.
    """

    def __init__(self, scenario, seed: int, until: dt.date, remember_draws: bool = True) -> None:
        self.data = scenario.to_yaml_dict()
        self.source = scenario.source or "<evaluation>"
        self.seed = seed
        self.until = min(until, scenario.period.end)
        self.period_start = scenario.period.start
        self.remember_draws = remember_draws
        self._world = None
        self._draws: DrawMemo | None = None

    def __getstate__(self):
        return {**self.__dict__, "_world": None, "_draws": None}  # caches are rebuilt where it runs

    def scenario_at(self, values: Mapping[str, float]):
        """The cut scenario with ``values`` set (validated like ``--set``; raises ScenarioError)."""
        return scenario_at(self.data, values, self.until, self.source)

    def __call__(self, values: Mapping[str, float], replication: int = 0) -> dict[str, np.ndarray]:
        scenario = self.scenario_at(values)
        if any(parse_key_path(key)[0] in LAYOUT_ROOTS for key in values):
            world = build_world(scenario)
        else:
            if self._world is None:
                self._world = build_world(scenario)
            world = self._world
        if self.remember_draws and self._draws is None:
            self._draws = DrawMemo()
        with self._draws.active() if self.remember_draws else contextlib.nullcontext():
            return with_total(run_replication(scenario, replication, self.seed, world=world, counters=CROSSED))


def with_total(crossed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """People crossed per day at each crossing, and their sum under ``all``."""
    result = {name: np.asarray(values, float) for name, values in crossed.items()}
    result[ALL] = np.sum(list(result.values()), axis=0)
    return result


def crossed_by_node(outcome, crossings: list[str]) -> dict[str, np.ndarray]:
    """People crossed per day at each crossing, and their sum under ``all``, from a full outcome."""
    return with_total({name: outcome.daily[(name, "crossing", "crossed_people")] for name in crossings})


def daily_crossed(scenario, seed: int | None = None, until: dt.date | None = None, replication: int = 0,
                  values: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
    """People crossed per day (index 0 = period start) at each crossing and in ``all``, up to ``until``.

    One replication of ``scenario`` (with ``values`` set, if given) cut at ``until`` (default: the
    period end); ``seed`` defaults to the scenario's.
    """
    seed = scenario.run.seed if seed is None else seed
    until = scenario.period.end if until is None else until
    return CrossedEvaluator(scenario, seed, until)(values or {}, replication)


__all__ = ["CrossedEvaluator", "crossed_by_node", "cut_data", "daily_crossed", "typed_value", "with_total"]
