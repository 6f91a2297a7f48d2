"""Statistical inference about a scenario's parameters, and checks that it is right.

* :mod:`sim.studies.inference.sampler` — the ensemble sampler that runs until its chain has
  converged (rank-normalized R-hat and bulk ESS from arviz), saving the chain as it goes: the
  screening chain, and the fallback of the answering chains.
* :mod:`sim.studies.inference.blocked` — the answering chains, Metropolis-within-Gibbs: a random
  walk over the model's parameters (in :mod:`...coordinates`, with the covariance learnt in
  warm-up), then per-series sweeps over the error terms with no new model path; four chains from
  draws of the screen, warm-up then a fixed kernel, run until converged; replayable from a
  checkpoint.
* :mod:`sim.studies.inference.likelihood`, :mod:`...discrepancy`, :mod:`...surrogate`,
  :mod:`...emulator` — the simulation's likelihood on the fluid path and how it is measured.
* :mod:`sim.studies.inference.ranks` — the statistics of simulation-based calibration: ranks of
  truths among posterior draws, interval coverage with binomial intervals, uniformity tests.
* :mod:`sim.studies.inference.sbc` — ``bordersim sbc``: simulate data sets from the prior, fit each
  exactly as ``bordersim calibrate`` does, and record where each truth fell in its posterior.
"""
