"""Running replications: the per-replication job (with its ``uncertain:`` draws), the executors
that run jobs in this process, on local processes or on a Dask cluster, cheap model evaluations
for calibration, and :func:`sim.run`, which reduces the replications of one scenario to the
tables of a results folder."""
