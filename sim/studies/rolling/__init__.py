"""Rolling-origin evaluation: ``bordersim backtest --cutoffs D1,D2,… --horizons 30,90,180``.

*How good would bordersim's forecasts have been, made on each of several past dates?* At every
cutoff the scenario is refitted on the figures known by then and forecasts what followed; the
forecast is scored against the figures published later and against two baselines a planner
could have used instead: **persistence** (the last 30 days' rate carried on) and the **unfitted
prior** (the same model with its fitted values drawn from their priors). The parts:

* :mod:`~sim.studies.rolling.persistence` — the persistence baseline;
* :mod:`~sim.studies.rolling.cutoff` — one cutoff: refit, two forecasts, every later figure scored;
* :mod:`~sim.studies.rolling.scored` — a cutoff's ``figures.csv``: the forecasts and scores per figure;
* :mod:`~sim.studies.rolling.scores` — ``scores.csv``, ``summary.csv``, ``bounds.csv`` (horizons nested);
* :mod:`~sim.studies.rolling.plan` — the resumable plan, the parallel run and the results folder.

The forecast itself is :mod:`sim.studies.forecast_draws`, shared with the single-cutoff backtest.
"""
