"""A finished replication frees its memory by reference counting alone (sim/model/engine.py,
``_release``): nothing of it is left for the cyclic garbage collector to find and walk."""
from __future__ import annotations

import gc

import simpy
from test_chained_service_ends import BUSY_BORDER

from builders import build
from sim.model import engine
from sim.model.camps import Camp
from sim.model.crossings import Crossing


def test_a_finished_replication_leaves_nothing_for_the_cyclic_collector():
    """The hot callbacks are closures in callbacks lists they refer to themselves (cycles); the
    engine empties them when a replication ends, so reference counting frees everything — camps,
    crossings, the environment, withdrawable commitments, records — and no collection has to walk
    it. (What else the process leaves meanwhile — other tests' threads — is not the model's.)"""
    scenario = build(BUSY_BORDER, people=6_000, days=6)
    engine.run_replication(scenario, 0)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        engine.run_replication(scenario, 1)
        gc.collect()
        left = [found for found in gc.garbage
                if isinstance(found, (Crossing, Camp, simpy.Environment, simpy.Event))
                or (isinstance(found, list) and len(found) > 100)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
