"""People crossed per day at each crossing: the only counters a calibration compares with data.

``run_replication(..., counters=CROSSED)`` runs the same simulation as a full replication (same
draws, same event loop, same conservation check) and then, instead of every node's daily series,
the camps, reception, peaks, wait percentiles and the target (``sim.model.outcomes``), counts only
what the observed series measure: the people whose service ended on each day, per crossing. A
household crosses when its service ends (DESIGN §3.8), at the crossing that served it (its
second one if it rerouted); services still running at the end of the period are not counted.

The values are those of the full outcome's ``(crossing, "crossing", "crossed_people")`` series
exactly: both add whole household sizes per day, and sums of whole numbers in floating point are
exact whatever their order.
"""
from __future__ import annotations

import numpy as np

from sim.model.clock import HOURS_PER_DAY
from sim.model.households import HouseholdTable
from sim.model.timestamps import Timestamps
from sim.model.world import World

CROSSED = "crossed"
"""``run_replication(counters=CROSSED)``: return only :func:`crossed_people_per_day`."""
ALL_COUNTERS = "all"
"""``run_replication(counters=ALL_COUNTERS)`` (the default): the full ``ReplicationOutcome``."""


def crossed_people_per_day(world: World, households: HouseholdTable, timestamps: Timestamps
                           ) -> dict[str, np.ndarray]:
    """People crossed per day (index 0 = the period's first day) at each crossing, by name.

    One ``np.bincount`` over (crossing, day) keys of the households whose service ended within
    the period, weighted by their size."""
    n_days = world.clock.n_days
    crossed = np.flatnonzero((timestamps.served_at >= 0) & (timestamps.end < n_days * HOURS_PER_DAY))
    days = np.floor(timestamps.end[crossed] / HOURS_PER_DAY).astype(np.int64)
    keys = timestamps.served_at[crossed] * n_days + days
    n_crossings = len(world.crossing_names)
    counts = np.bincount(keys, weights=households.size_people[crossed], minlength=n_crossings * n_days)
    by_crossing = counts[:n_crossings * n_days].reshape(n_crossings, n_days)
    return {name: by_crossing[crossing_id] for crossing_id, name in enumerate(world.crossing_names)}


__all__ = ["ALL_COUNTERS", "CROSSED", "crossed_people_per_day"]
