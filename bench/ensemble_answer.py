"""The old answering path, for comparison: emcee's ensemble on the same log posterior.

The answering chain used to be ``sample_until_converged`` — emcee's ensemble with
differential-evolution moves, walkers as R-hat's chains — on the corrected likelihood; the
answering chains are now Metropolis-within-Gibbs (:mod:`sim.studies.inference.blocked`), and
``fit_posterior`` still falls back to the ensemble (its ``_sample``) when the budget is too small
to warm them up. Here the ensemble is run on the very
log posterior a finished fit answered with (its measured offset and covariance,
``result.likelihood``), on the fluid path, until the same R-hat and ESS bounds or a cap on
evaluations, so that the two samplers' evaluations can be compared.

Two differences from the old path, both in the ensemble's favour: its walkers start from draws of
the finished posterior (the old path started from the screening chain's last positions, already
near it), and no emulator is used (the count of evaluations, not their cost, is what is compared).
"""
from __future__ import annotations

import time
from typing import Any


def ensemble_answer(result, cap: int, seed: int) -> dict[str, Any]:
    """Run the ensemble on ``result``'s log posterior (at most ``cap`` evaluations): its
    evaluations, whether and how far it converged, and its CPU seconds."""
    import numpy as np

    from sim.studies.inference.sampler import sample_until_converged
    from sim.studies.inference.surrogate import FigureMap, SurrogatePosterior
    from sim.studies.posterior import checked_walkers, default_surrogate

    scenario = result.scenario
    until = max(day for s in result.series for day in s.dates)
    log_posterior = SurrogatePosterior(default_surrogate(scenario, until), result.priors,
                                       FigureMap(tuple(result.series), scenario.period.start), result.likelihood)
    draws = np.column_stack([result.samples[result.keys].to_numpy(), result.error_scales.to_numpy()])
    walkers = checked_walkers(draws.shape[1])
    rng = np.random.default_rng(seed)
    initial = draws[rng.choice(len(draws), walkers, replace=False)]
    wall, cpu = time.perf_counter(), time.process_time()
    run = sample_until_converged(log_posterior, initial, seed, rhat_max=result.rhat_max, ess_min=result.ess_min,
                                 max_evaluations=cap)
    return {"evaluations": int(run.evaluations), "converged": bool(run.converged), "walkers": walkers,
            "steps": int(run.steps), "max_rhat": float(np.max(run.rhat)), "min_ess": float(np.min(run.ess_bulk)),
            "cap": cap, "wall_seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}
