"""bordersim: a SimPy discrete-event simulation of departures through transit camps and the
Torkham and Chaman border crossings.

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/phase1-2023.yaml"), replications=20, seed=1, jobs=2)
    result.summary            # pandas DataFrames: .daily .replications .projection .summary
    result.save("results/my-run")

Imports are lazy so that worker processes and ``bordersim validate`` start fast.
"""
from __future__ import annotations

__all__ = ["__version__", "load_scenario", "run"]

from sim.version import __version__


def __getattr__(name: str):
    if name == "load_scenario":
        from sim.scenario import load_scenario

        return load_scenario
    if name == "run":
        from sim.runs.study import run

        return run
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
