"""Statistical inference about a scenario's parameters, and checks that it is right.

* :mod:`sim.studies.inference.sampler` — the ensemble sampler that runs until its chain has
  converged (rank-normalized R-hat and bulk ESS from arviz), saving the chain as it goes.
* :mod:`sim.studies.inference.ranks` — the statistics of simulation-based calibration: ranks of
  truths among posterior draws, interval coverage with binomial intervals, uniformity tests.
* :mod:`sim.studies.inference.sbc` — ``bordersim sbc``: simulate data sets from the prior, fit each
  exactly as ``bordersim calibrate`` does, and record where each truth fell in its posterior.
"""
