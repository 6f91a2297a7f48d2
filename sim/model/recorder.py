"""Daily counters from per-household timestamps, computed with numpy after the event loop.

During a replication the model only writes a few timestamps per household into preallocated
lists (queue joined, service started and ended, camp entered and left). Every daily metric is an
interval count over those timestamps, so it is computed here in a handful of vectorised passes
instead of updating counters inside the event loop. The conventions:

* an event at time t belongs to PKT day floor(t / 24);
* a level "at the end of day d" counts intervals [enter, leave) open just before 24:00 of day d;
* time integrals (``queue_people_mean``, ``waiting_outside_people_days``) integrate the level
  exactly; peaks are continuous maxima (leaves before joins at equal times, so a household that
  starts service the instant it arrives never counts as queued).
"""
from __future__ import annotations

import numpy as np

from sim.model.clock import HOURS_PER_DAY


def day_of(hours: np.ndarray) -> np.ndarray:
    return np.floor(hours / HOURS_PER_DAY).astype(np.int64)


def daily_sum(hours: np.ndarray, weights: np.ndarray, n_days: int) -> np.ndarray:
    """Sum of ``weights`` of events per day (events outside the period ignored)."""
    inside = np.isfinite(hours) & (hours >= 0) & (hours < n_days * HOURS_PER_DAY)
    return np.bincount(day_of(hours[inside]), weights=weights[inside], minlength=n_days)[:n_days].astype(float)


def daily_count(hours: np.ndarray, n_days: int) -> np.ndarray:
    """Events per day (``daily_sum`` with a weight of one each, without building the weights)."""
    inside = np.isfinite(hours) & (hours >= 0) & (hours < n_days * HOURS_PER_DAY)
    return np.bincount(day_of(hours[inside]), minlength=n_days)[:n_days].astype(float)


def _per_day(hours: np.ndarray, weights: np.ndarray, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day: the weight of events in it and their weighted hours since that day's 00:00."""
    inside = np.isfinite(hours) & (hours < n_days * HOURS_PER_DAY)
    days = day_of(hours[inside])
    offsets = hours[inside] - days * HOURS_PER_DAY
    return (np.bincount(days, weights=weights[inside], minlength=n_days)[:n_days],
            np.bincount(days, weights=weights[inside] * offsets, minlength=n_days)[:n_days])


class DayBuckets:
    """Events bucketed by PKT day once, for several weighted sums over the same events (a queue's
    joins give its arrivals, its levels and its integral; the cost is in finding the days).

    ``weights=None`` means one per event (lanes, not people): the sums are then counts, computed
    without a weight array — the same values, since adding ones is exact."""

    def __init__(self, hours: np.ndarray, n_days: int) -> None:
        inside = np.isfinite(hours) & (hours >= 0) & (hours < n_days * HOURS_PER_DAY)
        self._inside = None if inside.all() else inside
        hours = hours if self._inside is None else hours[inside]
        self.days = day_of(hours)
        self._hours = hours
        self._offsets: np.ndarray | None = None
        self.n_days = n_days

    def select(self, values: np.ndarray) -> np.ndarray:
        """The entries of ``values`` (one per event given) of the events inside the period."""
        return values if self._inside is None else values[self._inside]

    def _day_offsets(self) -> np.ndarray:
        """Hours since each event's day began (computed once, used by every offset sum)."""
        if self._offsets is None:
            self._offsets = self._hours - self.days * HOURS_PER_DAY
        return self._offsets

    def sums(self, weights: np.ndarray | None) -> np.ndarray:
        """Sum of ``weights`` of the events of each day."""
        weights = None if weights is None else self.select(weights)
        return np.bincount(self.days, weights=weights, minlength=self.n_days)[:self.n_days].astype(float)

    def offset_sums(self, weights: np.ndarray | None) -> np.ndarray:
        """Sum over each day's events of weight × hours since that day's 00:00."""
        offsets = self._day_offsets()
        weighted = offsets if weights is None else self.select(weights) * offsets
        return np.bincount(self.days, weights=weighted, minlength=self.n_days)[:self.n_days]


def integrals_from_buckets(enter: DayBuckets, leave: DayBuckets, weights_enter: np.ndarray | None,
                           weights_leave: np.ndarray | None) -> np.ndarray:
    """``daily_integrals`` from the day buckets of the joins and of the leaves."""
    return _integrals(enter.sums(weights_enter), enter.offset_sums(weights_enter),
                      leave.sums(weights_leave), leave.offset_sums(weights_leave))


def _integrals(joined: np.ndarray, joined_offsets: np.ndarray, left: np.ndarray,
               left_offsets: np.ndarray) -> np.ndarray:
    level_at_start = np.concatenate([[0.0], np.cumsum(joined - left)[:-1]])
    integral = (level_at_start * HOURS_PER_DAY + (joined * HOURS_PER_DAY - joined_offsets)
                - (left * HOURS_PER_DAY - left_offsets))
    return np.maximum(integral, 0.0)  # a level is never negative: drop rounding residue


def levels_at_day_ends(enter: np.ndarray, leave: np.ndarray, weights: np.ndarray, n_days: int) -> np.ndarray:
    """People inside [enter, leave) just before 24:00 of each day: joins so far minus leaves so far
    (no sorting: two bincounts and two cumulative sums)."""
    return np.cumsum(daily_sum(enter, weights, n_days)) - np.cumsum(daily_sum(leave, weights, n_days))


def daily_integrals(enter: np.ndarray, leave: np.ndarray, weights: np.ndarray, n_days: int) -> np.ndarray:
    """Integral of the level over each day, in people-hours: the level the day starts with for 24 h,
    plus each join for the rest of its day, minus each leave for the rest of its day."""
    joined, joined_offsets = _per_day(enter, weights, n_days)
    left, left_offsets = _per_day(leave, weights, n_days)
    return _integrals(joined, joined_offsets, left, left_offsets)


def level_changes(enter: np.ndarray, leave: np.ndarray, weights: np.ndarray,
                  horizon_hours: float) -> tuple[np.ndarray, np.ndarray]:
    """The instants at which a level changes, sorted, with the change at each (+ joins, - leaves).
    Zero-length stays never change the level and are left out."""
    stays = leave > enter
    times = np.concatenate([leave[stays], enter[stays]])
    deltas = np.concatenate([-weights[stays], weights[stays]]).astype(float)
    keep = times < horizon_hours
    times, deltas = times[keep], deltas[keep]
    # Stable (timsort): given in join order, joins and leaves are each (nearly) sorted runs, and
    # their merge costs a fraction of a sort; any order gives the same result.
    order = np.argsort(times, kind="stable")
    return times[order], deltas[order]


def merge_level_changes(*changes: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The changes of a sum of levels (e.g. all crossings' queues): a stable sort of already sorted
    runs is a linear merge."""
    times = np.concatenate([times for times, _ in changes])
    order = np.argsort(times, kind="stable")
    return times[order], np.concatenate([deltas for _, deltas in changes])[order]


def daily_peaks_of_changes(times: np.ndarray, deltas: np.ndarray, n_days: int) -> np.ndarray:
    """Continuous maximum of a level within each day, from its sorted changes.

    Joins and leaves at the same instant are netted before the level is read (a household that
    starts service the instant it arrives never counts as queued), which also makes the result
    independent of the order of equal times."""
    level = np.cumsum(deltas)
    instant_ends = np.append(times[1:] != times[:-1], True) if len(times) else np.zeros(0, bool)
    times, level = times[instant_ends], level[instant_ends]
    boundaries = np.searchsorted(times, np.arange(n_days) * HOURS_PER_DAY, side="left")
    has_events = np.diff(np.append(boundaries, len(times))) > 0
    peaks = np.zeros(n_days)
    peaks[has_events] = np.maximum.reduceat(level, boundaries[has_events])
    # A day keeps at least the level it started with, whatever its events do.
    day_start_levels = np.concatenate([[0.0], level[boundaries[1:] - 1] if len(level) else np.zeros(n_days - 1)])
    day_start_levels[1:][boundaries[1:] == 0] = 0.0
    return np.maximum(peaks, day_start_levels)


def daily_peaks(enter: np.ndarray, leave: np.ndarray, weights: np.ndarray, n_days: int) -> np.ndarray:
    """Continuous maximum of the level of [enter, leave) stays within each day."""
    return daily_peaks_of_changes(*level_changes(enter, leave, weights, n_days * HOURS_PER_DAY), n_days)


def daily_wait_statistics(starts: DayBuckets, wait_hours: np.ndarray,
                          weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per day of service start (``starts``: the starts bucketed by day): mean wait per person and
    the 95th percentile per person."""
    n_days = starts.n_days
    days = starts.days
    waits = starts.select(wait_hours)
    people = starts.select(weights).astype(float)
    totals = np.bincount(days, weights=people, minlength=n_days)[:n_days]
    waited = np.bincount(days, weights=people * waits, minlength=n_days)[:n_days]
    mean = np.divide(waited, totals, out=np.zeros(n_days), where=totals > 0)
    p95 = np.zeros(n_days)
    if len(waits) == 0:
        return mean, p95
    if np.any(days[1:] < days[:-1]):  # given in start order they are sorted already (FIFO)
        by_day = np.argsort(days, kind="stable")  # a radix sort of small integers
        days, waits, people = days[by_day], waits[by_day], people[by_day]
    # Then one small sort per day (a few thousand waits each) instead of one sort of them all.
    day_bounds = np.searchsorted(days, np.arange(n_days + 1), side="left")
    if np.all(people == 1.0):  # one person each: the percentile is a rank, found by a partition
        # The first rank whose count of people at or below reaches 95% (as the sort below finds).
        ranks = np.maximum(np.ceil(0.95 * totals - 1e-9).astype(np.int64) - 1, 0).tolist()
        bounds = day_bounds.tolist()
        for day in np.flatnonzero(totals > 0).tolist():
            first, last = bounds[day], bounds[day + 1]
            rank = min(ranks[day], last - first - 1)
            p95[day] = np.partition(waits[first:last], rank)[rank]
        return mean, p95
    for day in np.flatnonzero(totals > 0).tolist():
        first, last = day_bounds[day], day_bounds[day + 1]
        day_waits = waits[first:last]
        order = np.argsort(day_waits)
        cumulative = np.cumsum(people[first:last][order])
        index = int(np.searchsorted(cumulative, 0.95 * totals[day] - 1e-9, side="left"))
        p95[day] = day_waits[order[min(index, last - first - 1)]]
    return mean, p95


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of the people behind ``values`` (each value counted ``weight`` times): the
    smallest value with at least q of the people at or below it.

    Without a full sort: a partition brackets the quantile between two values a few per cent of
    the households apart, and only the values between them are sorted (all of them if the
    weights put the quantile outside the bracket)."""
    n = len(values)
    if n == 0:
        return 0.0
    target = q * float(weights.sum()) - 1e-9
    if n > 1000:
        margin = max(16, n // 50)
        rank = min(int(q * n), n - 1)
        low_rank, high_rank = max(rank - margin, 0), min(rank + margin, n - 1)
        low, high = np.partition(values, (low_rank, high_rank))[[low_rank, high_rank]]
        below = values <= low
        people_below = float(weights[below].sum())
        between = ~below & (values <= high)
        if people_below < target <= people_below + float(weights[between].sum()):
            return _smallest_reaching(values[between], weights[between], target - people_below)
    return _smallest_reaching(values, weights, target)


def _smallest_reaching(values: np.ndarray, weights: np.ndarray, target: float) -> float:
    """The smallest value whose cumulative weight (values in ascending order) reaches ``target``."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative, target, side="left"))
    return float(values[order][min(index, len(values) - 1)])
