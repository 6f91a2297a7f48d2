"""What one replication hands back to the runner: daily counters and a few totals.

The model fills these with numpy arrays only (no pandas): the analysis layer turns a list of
outcomes into the tidy tables of the results folder.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DailyKey = tuple[str, str, str]
"""(node, node_type, metric), e.g. ("torkham", "crossing", "crossed_people")."""

ARRIVED_HOUSEHOLDS = "arrived_households"
"""Metric of :attr:`ReplicationOutcome.households`: households arriving at a node per day."""

VERDICT_REACHED = "reached"
VERDICT_DEPARTURES_BIND = "departures bind"
VERDICT_CAPACITY_BINDS = "crossing capacity binds"


@dataclass(frozen=True)
class ReplicationOutcome:
    """Everything recorded in one replication.

    ``daily`` maps (node, node_type, metric) to one value per PKT calendar day of the period
    (index 0 = ``period.start``). Node types: ``crossing``, ``camp``, ``reception``, ``group``, and
    ``all`` for the system-wide series (node ``all``).

    ``totals`` holds the per-replication figures of ``replications.csv``:
    ``crossed_by_target_date``, ``departed_by_target_date``, ``target_reached`` (0/1),
    ``target_reached_hours`` (hours from period start when the target was reached; ``inf`` if
    never), ``peak_queue_people``, ``peak_waiting_outside_people``, ``wait_hours_p95``;
    ``verdict`` is one of the VERDICT_* strings and ``binding_where`` says, for
    "crossing capacity binds", where the departed-but-not-crossed people were at the target date
    (e.g. ``queued at torkham``), else an empty string.
    """

    replication: int
    daily: dict[DailyKey, np.ndarray]
    totals: dict[str, float]
    verdict: str
    binding_where: str = ""
    trace: dict[str, np.ndarray] = field(default_factory=dict)
    households: dict[DailyKey, np.ndarray] = field(default_factory=dict)
    """Households arriving per day (metric ``arrived_households``) at each crossing, camp and
    reception centre: what needs counted per family read (:mod:`sim.outputs.needs`). Kept apart
    from ``daily`` so that the daily table stays that of people."""
