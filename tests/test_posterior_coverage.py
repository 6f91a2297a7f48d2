"""Coverage: over 20 synthetic data sets whose truth is drawn from the prior, the 90 % credible
intervals must contain the truth about 90 % of the time — the property that makes a band honest.

Each data set: hazards drawn from the uniform prior, an error scale from its half-normal(0.2)
prior, the tiny scenario run with other households than the fit's (the simulator's noise is real),
lognormal noise on 8 cumulative figures. 2 parameters × 20 data sets = 40 intervals; at a true rate
of 90 % the count covered is Binomial(40, 0.9): 36 expected, below 31 with probability < 1 %.
The MCMC is short (6 walkers × 70 steps): a chain that mixes badly would show up here as
under-coverage, which is the point of the test.
"""
from __future__ import annotations

import numpy as np
from posterior_synthetic import KEYS, PRIOR_HIGH, PRIOR_LOW, synthetic_series, tiny_scenario

from sim.studies.calibrate import FitParameter
from sim.studies.posterior import fit_posterior

DATA_SETS = 20


def test_ninety_percent_intervals_cover_about_ninety_percent_of_truths() -> None:
    rng = np.random.default_rng(2023)
    covered = total = 0
    widths = []
    for data_set in range(DATA_SETS):
        truth = {key: float(rng.uniform(PRIOR_LOW, PRIOR_HIGH)) for key in KEYS}
        sigma = abs(float(rng.normal(0.0, 0.2)))
        series = synthetic_series(truth, sigma, noise_seed=100 + data_set)
        result = fit_posterior(tiny_scenario(), [series], [FitParameter(k, PRIOR_LOW, PRIOR_HIGH) for k in KEYS],
                               seed=data_set, walkers=6, steps=70, burn=25, pilot_replications=3)
        for key, value in truth.items():
            low, high = np.quantile(result.samples[key], [0.05, 0.95])
            covered += low <= value <= high
            total += 1
            widths.append((high - low) / (PRIOR_HIGH - PRIOR_LOW))
    assert total == 2 * DATA_SETS
    assert 31 <= covered <= total, f"{covered}/{total} intervals covered the truth"
    assert np.median(widths) < 0.6, widths  # and the data narrowed them: not covering by being the prior
