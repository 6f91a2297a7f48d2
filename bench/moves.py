"""``python -m bench.moves``: which ensemble moves mix best on the ridges calibration posteriors have.

Three cheap 2-D densities, each sampled by :func:`sim.studies.inference.sampler.sample_until_converged`
with emcee's stretch move and with the differential-evolution mixture (and zeus's ensemble slice
sampler when ``zeus-mcmc`` is installed):

* ``ridge`` — a straight Gaussian ridge: correlation 0.99, scales 1 and 0.01;
* ``banana`` — Haario's twisted Gaussian (x1 ~ N(0, 10²), x2 + 0.03·x1² − 3 ~ N(0, 1)): a curved ridge;
* ``crossings`` — the hazard and ``never_leave`` of cumulative crossings N(1 − never_leave)(1 − e^(−hazard·t))
  observed every 5 days for 90 days with lognormal noise (sd 0.03), uniform priors 0.004–0.06 and
  0–0.7: the curved ridge of issue 20's synthetic case, analytically.

Reported per density and sampler, as medians over ``--seeds`` seeds: the bulk ESS per 1,000
evaluations of a fixed-length run (``--steps`` steps, the second half kept), and the evaluations
``sample_until_converged`` needed to reach R-hat ≤ 1.01 and bulk ESS ≥ 400 (at most 100,000).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sim.studies.inference.sampler import MOVES, burn_in, convergence, sample_until_converged

DAYS = np.arange(5.0, 91.0, 5.0)
TRUTH = (0.018, 0.35)
BOUNDS = np.array([[0.004, 0.06], [0.0, 0.7]])


def ridge(x: np.ndarray):
    u, v = x[:, 0], x[:, 1] / 0.01
    rho = 0.99
    return -0.5 * (u * u - 2 * rho * u * v + v * v) / (1 - rho * rho), None


def banana(x: np.ndarray):
    x1, x2 = x[:, 0], x[:, 1]
    return -0.5 * (x1 / 10.0) ** 2 - 0.5 * (x2 + 0.03 * x1 ** 2 - 3.0) ** 2, None


def _cumulative(hazard, never_leave):
    return np.log((1 - never_leave)[:, None] * -np.expm1(-np.outer(hazard, DAYS)) + 1e-12)


OBSERVED = _cumulative(np.array([TRUTH[0]]), np.array([TRUTH[1]]))[0] + np.random.default_rng(7).normal(
    0, 0.03, DAYS.size)


def crossings(x: np.ndarray):
    inside = np.all((x >= BOUNDS[:, 0]) & (x <= BOUNDS[:, 1]), axis=1)
    clipped = np.clip(x, BOUNDS[:, 0], BOUNDS[:, 1])
    log_prob = -0.5 * (((_cumulative(clipped[:, 0], clipped[:, 1]) - OBSERVED) / 0.03) ** 2).sum(axis=1)
    return np.where(inside, log_prob, -np.inf), None


DENSITIES = {"ridge": (ridge, np.array([0.0, 0.0]), np.array([0.1, 0.001])),
             "banana": (banana, np.array([0.0, 3.0]), np.array([1.0, 0.5])),
             "crossings": (crossings, np.array([0.02, 0.3]), np.array([0.001, 0.01]))}


def _initial(center, spread, walkers, seed):
    return center + spread * np.random.default_rng(seed).standard_normal((walkers, center.size))


def emcee_runs(density, walkers, steps, seed, moves):
    log_prob, center, spread = DENSITIES[density]
    initial = _initial(center, spread, walkers, seed)
    fixed = sample_until_converged(log_prob, initial, seed, ess_min=1e12, max_evaluations=walkers * (steps + 1),
                                   block_steps=steps, moves=moves)
    until = sample_until_converged(log_prob, initial, seed, moves=moves, max_evaluations=100_000)
    return float(fixed.ess_bulk.min()) / fixed.evaluations * 1000, until.evaluations if until.converged else None


def zeus_runs(density, walkers, steps, seed):
    import zeus

    log_prob, center, spread = DENSITIES[density]
    calls = [0]

    def counted(x):
        calls[0] += len(x)
        return log_prob(np.atleast_2d(x))[0]

    np.random.seed(seed)
    sampler = zeus.EnsembleSampler(walkers, center.size, counted, vectorize=True, verbose=False)
    sampler.run_mcmc(_initial(center, spread, walkers, seed), steps, progress=False)
    chain = sampler.get_chain()
    _, ess = convergence(chain[burn_in(len(chain)):])
    return float(ess.min()) / calls[0] * 1000, None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--walkers", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--density", action="append", choices=list(DENSITIES), help="only these (repeatable)")
    options = parser.parse_args(argv)
    samplers = list(MOVES)
    try:
        import zeus  # noqa: F401
        samplers.append("zeus")
    except ImportError:
        pass
    print(f"| density | sampler | bulk ESS per 1,000 evaluations ({options.walkers} walkers × {options.steps} steps) "
          "| evaluations to R-hat ≤ 1.01, ESS ≥ 400 |")
    print("|---|---|---|---|")
    for density in options.density or DENSITIES:
        for sampler in samplers:
            clock = time.perf_counter()
            results = [zeus_runs(density, options.walkers, options.steps, seed) if sampler == "zeus" else
                       emcee_runs(density, options.walkers, options.steps, seed, sampler)
                       for seed in range(options.seeds)]
            rate = statistics.median(r[0] for r in results)
            converged = [r[1] for r in results if r[1] is not None]
            median = f"{statistics.median(converged):,.0f} " if converged else ""
            to_converge = f"{median}({len(converged)}/{len(results)} converged)" if sampler != "zeus" else "not run"
            print(f"| {density} | {sampler} | {rate:.2f} | {to_converge} |  <!-- {time.perf_counter() - clock:.0f} s -->",
                  flush=True)


if __name__ == "__main__":
    main()
