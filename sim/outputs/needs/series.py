"""Each need item's daily quantity, replication by replication, from the recorded daily series.

What one person or household counts for depends on the item's basis (``per``) and place (``at``):

============== ================================== ======================================
place          per person / person_day            per arrival / household_arrival
============== ================================== ======================================
reception      occupancy_people (end of day)      arrived_people / arrived_households
camps          occupancy_people (end of day)      arrived_people / arrived_households
queue          queue_people_peak / _mean          arrived_people / arrived_households
outside_camps  waiting_outside_people / _days     (not counted: no arrivals there)
============== ================================== ======================================

``person`` items (space, latrines: what must exist at one time) read a level: a reception
centre's or camp's occupancy at the end of the day (the series the report shows against
capacity), a queue's peak within the day (a queue empties at night and fills in the morning, and
space or latrines must serve its peak), the people outside a camp at the end of the day.
``person_day`` items (water, food: consumed per day of stay) read person-days: the occupancy at
the end of the day (one day of stay per person present), a queue's time-average level
(``queue_people_mean``: its person-days that day) and the person-days spent outside
(``waiting_outside_people_days``). Arrival items count each arriving person or household once,
on the day of arrival (``arrived_households`` from :attr:`ReplicationOutcome.households`).

An item's amount may itself be uncertain (``uncertain: {needs.cash_grant.amount: {dist: uniform,
low: 10000, high: 15000}}``): each replication then uses the amount it drew (recorded in its
totals as ``uncertain:needs.<item>.amount``), so the band covers both.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.outcome import ARRIVED_HOUSEHOLDS, ReplicationOutcome

SERIES_READ: dict[tuple[str, str], tuple[str, str]] = {
    ("reception", "person"): ("reception", "occupancy_people"),
    ("reception", "person_day"): ("reception", "occupancy_people"),
    ("reception", "arrival"): ("reception", "arrived_people"),
    ("reception", "household_arrival"): ("reception", ARRIVED_HOUSEHOLDS),
    ("camps", "person"): ("camp", "occupancy_people"),
    ("camps", "person_day"): ("camp", "occupancy_people"),
    ("camps", "arrival"): ("camp", "arrived_people"),
    ("camps", "household_arrival"): ("camp", ARRIVED_HOUSEHOLDS),
    ("queue", "person"): ("crossing", "queue_people_peak"),
    ("queue", "person_day"): ("crossing", "queue_people_mean"),
    ("queue", "arrival"): ("crossing", "arrived_people"),
    ("queue", "household_arrival"): ("crossing", ARRIVED_HOUSEHOLDS),
    ("outside_camps", "person"): ("camp", "waiting_outside_people"),
    ("outside_camps", "person_day"): ("camp", "waiting_outside_people_days"),
}
"""(place, per) → (node type, daily metric) whose value times the amount is the day's need."""

UNCERTAIN_TOTALS_PREFIX = "uncertain:"
"""How a replication's totals name the values it drew (:data:`sim.runs.uncertain.TOTALS_PREFIX`)."""

LEVEL_BASIS = "person"
"""The basis of items needed at one time (space, latrines): over a week their need is the week's
largest day, not the sum of its days."""


@dataclass(frozen=True)
class NeedSeries:
    """One item at one node: its daily need in every replication, (replications × days)."""

    item: str
    node: str
    at: str
    per: str
    amount: float
    unit: str
    source: str
    values: np.ndarray

    @property
    def is_level(self) -> bool:
        """Needed at one time (a week needs its largest day) rather than consumed (a week sums its days)."""
        return self.per == LEVEL_BASIS


def _series(outcome: ReplicationOutcome, key: tuple[str, str, str]) -> np.ndarray | None:
    found = outcome.households.get(key) if key[2] == ARRIVED_HOUSEHOLDS else outcome.daily.get(key)
    return None if found is None else np.asarray(found, dtype=float)


def _nodes(outcome: ReplicationOutcome, node_type: str, metric: str) -> list[str]:
    """Nodes of a type having ``metric``, in the order the model recorded them."""
    keys = outcome.households if metric == ARRIVED_HOUSEHOLDS else outcome.daily
    return [node for node, kind, name in keys if kind == node_type and name == metric]


def amounts_drawn(outcomes: Sequence[ReplicationOutcome], item: str, amount: float) -> np.ndarray:
    """The item's amount in each replication: the one drawn there when ``needs.<item>.amount`` is
    in the scenario's ``uncertain:`` block, else the scenario's."""
    key = f"{UNCERTAIN_TOTALS_PREFIX}needs.{item}.amount"
    return np.array([float(outcome.totals.get(key, amount)) for outcome in outcomes])


def need_series(outcomes: Sequence[ReplicationOutcome], needs: Mapping[str, Any]) -> list[NeedSeries]:
    """Every item's daily need at every node of its places, in the order of ``needs`` and ``at``.

    ``needs`` maps item names to objects with ``amount, unit, per, at, source`` (the scenario's
    :class:`~sim.scenario.models.Need`). Outcomes are taken in replication order."""
    ordered = sorted(outcomes, key=lambda outcome: outcome.replication)
    if not ordered:
        raise ValueError("no replications: needs are computed from at least one ReplicationOutcome")
    result = []
    for item, need in needs.items():
        amounts = amounts_drawn(ordered, item, float(need.amount))
        for place in need.at:
            node_type, metric = SERIES_READ[(place, need.per)]
            for node in _nodes(ordered[0], node_type, metric):
                rows = [_series(outcome, (node, node_type, metric)) for outcome in ordered]
                if any(row is None for row in rows):
                    raise ValueError(f"daily series {(node, node_type, metric)} missing from some replications")
                result.append(NeedSeries(item, node, place, need.per, float(need.amount), need.unit,
                                         need.source, amounts[:, None] * np.vstack(rows)))
    return result
