"""Studies: experiments built from many runs of the model (calibration, posterior, backtests)."""
