"""A finished replication frees its memory by reference counting alone (sim/model/engine.py,
``_release``): nothing is left for the cyclic garbage collector to find and walk."""
from __future__ import annotations

import gc

from builders import build
from sim.model import engine
from test_chained_service_ends import BUSY_BORDER


def test_a_finished_replication_leaves_nothing_for_the_cyclic_collector():
    """The hot callbacks are closures in callbacks lists they refer to themselves (cycles); the
    engine empties them when a replication ends, so reference counting frees everything — camps,
    crossings, withdrawable commitments, records — and no collection has to walk it."""
    scenario = build(BUSY_BORDER, people=6_000, days=6)
    engine.run_replication(scenario, 0)
    gc.collect()
    gc.disable()
    try:
        engine.run_replication(scenario, 1)
        assert gc.collect() == 0
    finally:
        gc.enable()
