"""The fluid path against the simulation's replication mean on every bundled scenario.

For each scenario: people crossed (all crossings) cumulated to every seventh day, the fluid path
against the mean of a few replications of the simulation (``daily_crossed``: the scenario at its
written values, ``uncertain:`` not drawn — the fluid path is a path at given values, too). They
must agree within 2 %, widened by three standard errors of the replication mean where the counts
are still small (a few replications of a few thousand households are themselves a few per cent
apart): the error of a mean of ``R`` replications of ``C`` people crossed in households of mean
square size ``E[s^2]`` is ``sqrt(C E[s^2] / E[s] / R)``.

Cheap by design: two replications each (one for the arc, whose counts are large), periods cut
where the scenario's question allows (the phase-1 variants at 31 Dec 2023, after their
differences; the arc variants whole, as theirs come in 2025; the synthetic SBC cases whole). docs/explanation/fluid-path.md records the differences found.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sim.analytic.fluid import FluidEvaluator
from sim.runs.evaluate import daily_crossed
from sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PHASE1_CUT = dt.date(2023, 12, 31)
CASES = {path.stem: (PHASE1_CUT if path.stem.startswith("phase1-") else None)
         for path in sorted(SCENARIOS.glob("*.yaml"))}


def replications_for(name: str) -> int:
    return 1 if name.startswith("arc-") else 2  # the arc's counts are large (its mean is close after one)


def size_square_over_mean(scenario) -> float:
    """``E[s^2] / E[s]`` of household sizes as drawn (the largest over the groups)."""
    rng = np.random.default_rng(0)
    sizes = [np.maximum(1, np.rint(group.household_size.sample(rng, 100_000))) for group in scenario.groups.values()]
    return max(float((s ** 2).mean() / s.mean()) for s in sizes)


_SIMULATED: dict[tuple[str, int], np.ndarray] = {}


def _simulated_mean(cut_scenario, replications: int) -> np.ndarray:
    """Mean cumulative crossings of the cut scenario's replications; variants that are the same
    scenario once cut (the ``uncertain:`` block dropped, changes after the cut) are run once."""
    data = cut_scenario.to_yaml_dict()
    data.pop("name")
    data.pop("description", None)
    key = (repr(data), replications)
    if key not in _SIMULATED:
        _SIMULATED[key] = np.mean([np.cumsum(daily_crossed(cut_scenario, replication=r)["all"])
                                   for r in range(replications)], axis=0)
    return _SIMULATED[key]


def weekly_differences(name: str, until: dt.date | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fluid and simulated cumulative crossings at weekly dates, and the allowed difference."""
    replications = replications_for(name)
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    until = until or scenario.period.end
    evaluator = FluidEvaluator(scenario, until)
    fluid = np.cumsum(evaluator({})["all"])
    simulated = _simulated_mean(evaluator.scenario_at({}), replications)
    weekly = np.arange(6, len(fluid), 7)
    allowed = 0.02 * simulated[weekly] + 3 * np.sqrt(simulated[weekly] * size_square_over_mean(scenario) / replications)
    return fluid[weekly], simulated[weekly], allowed


@pytest.mark.parametrize("name", sorted(CASES))
def test_fluid_path_follows_the_simulation_mean(name):
    fluid, simulated, allowed = weekly_differences(name, CASES[name])
    relative = fluid / np.maximum(simulated, 1) - 1
    large = relative[simulated >= 20_000]
    worst = f"{large[np.argmax(np.abs(large))]:+.2%}" if len(large) else "n/a"
    print(f"{name}: {len(fluid)} weekly dates; week 1 {relative[0]:+.2%}; worst from 20,000 people on "
          f"{worst}; last {relative[-1]:+.2%}")
    assert np.all(np.abs(fluid - simulated) <= allowed), list(zip(fluid.round(), simulated.round(), allowed.round()))
    assert abs(fluid[-1] / simulated[-1] - 1) < 0.02
