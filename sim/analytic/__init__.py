"""What can be said without simulating: the capacity ceiling of the crossings by date (bound), the
queueing formulas the model is checked against (Erlang C, Pollaczek–Khinchine, Little), and the
fluid path of a scenario (``fluid``: its expected path without household randomness)."""
