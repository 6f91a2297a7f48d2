"""What can be said without simulating: the capacity ceiling of the crossings by date (bound), and
the queueing formulas the model is checked against (Erlang C, Pollaczek–Khinchine, Little)."""
