"""The fluid path: the expected path of a scenario without household randomness.

Departures are the expected outflow of each stock under its hazards or schedules; travel, camp stays
and services are delays (convolutions with the scenario's distributions); camps and crossings are
fluid queues. It reads the same scenario and reports the same daily quantities as the simulation,
in milliseconds: for an instant preview (``bordersim run --fluid``) and as the inner loop of a
calibration (:class:`FluidEvaluator`). docs/explanation/fluid-path.md says what it ignores and
where it differs from the simulation's mean.
"""
from __future__ import annotations

from sim.analytic.fluid.evaluator import FluidEvaluator
from sim.analytic.fluid.path import FluidPath, fluid_path

__all__ = ["FluidEvaluator", "FluidPath", "fluid_path"]
