"""Fluid queues: a crossing's FIFO queue before its lanes, and a camp's gate, stays and dispatches.

**Crossing.** People arrive ``a_k`` in hour ``k``; at most ``c_k`` may start service (lanes, hours,
factor); the queue carries the rest. Cumulative starts are then the reflection of cumulative
arrivals against cumulative capacity (Lindley's recursion ``Q_k = max(0, Q_{k-1} + a_k - c_k)``
solved in closed form): ``S_k = C_k + min(0, min_{j<=k} (A_j - C_j))`` — one pass of
``np.minimum.accumulate``. A daily quota caps each day's starts on top (``min(S, quota)`` within the
day, the queue carried to the next): a loop over days, taken only where a quota would bind.

**Camp.** Without a binding capacity a camp is a delay: the stay, then the wait for the next
dispatch (all who are ready leave at a dispatch, up to ``max_people``). With one, people enter in
arrival order while there is room, and a loop over hours does it (only from the first hour the
camp would be full).
"""
from __future__ import annotations

import functools

import numpy as np

from sim.analytic.fluid.capacity import BINS_PER_DAY

EPSILON_PEOPLE = 1e-6


def reflected_starts(arrivals: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """People starting service per bin: as many as capacity allows, first come first served."""
    cumulative_arrivals = np.cumsum(arrivals)
    cumulative_capacity = np.cumsum(capacity)
    lowest = np.minimum.accumulate(cumulative_arrivals - cumulative_capacity)
    cumulative_starts = cumulative_capacity + np.minimum(lowest, 0.0)
    return np.diff(cumulative_starts, prepend=0.0)


def crossing_starts(arrivals: np.ndarray, capacity: np.ndarray, quota_per_day: np.ndarray) -> np.ndarray:
    """People starting service per hourly bin, under hourly capacity and a daily quota."""
    starts = reflected_starts(arrivals, capacity)
    if not np.isfinite(quota_per_day).any():
        return starts
    daily = starts.reshape(-1, BINS_PER_DAY).sum(axis=1)
    if (daily <= quota_per_day + EPSILON_PEOPLE).all():
        return starts
    return _starts_under_quota(arrivals, capacity, quota_per_day)


def _starts_under_quota(arrivals: np.ndarray, capacity: np.ndarray, quota_per_day: np.ndarray) -> np.ndarray:
    """The day-by-day version: each day reflects against capacity, then stops at the quota."""
    starts = np.zeros_like(arrivals)
    queue = 0.0
    for day, quota in enumerate(quota_per_day):
        hours = slice(day * BINS_PER_DAY, (day + 1) * BINS_PER_DAY)
        day_arrivals = arrivals[hours].copy()
        day_arrivals[0] += queue
        cumulative = np.minimum(np.cumsum(reflected_starts(day_arrivals, capacity[hours])), quota)
        starts[hours] = np.diff(cumulative, prepend=0.0)
        queue = queue + arrivals[hours].sum() - cumulative[-1]
    return starts


def starts_with_reroutes(arrivals: np.ndarray, capacity: np.ndarray, quota_per_day: np.ndarray,
                         closed: np.ndarray, after_hours: float, share: float) -> tuple[np.ndarray, np.ndarray]:
    """People starting service per bin, and people leaving the queue for another crossing per bin.

    During each closure (in order), the people who have waited ``after_hours`` are asked once: those
    queued when it began as soon as they have waited that long, later arrivals once they have. In
    arrival order, those asked by the end of hour ``t`` are the arrivals up to ``t + 1 - after``
    beyond those already served, rerouted or asked; ``share`` of them leave. The queue then serves
    what remains (starts are recomputed after each closure)."""
    net = arrivals.copy()
    rerouted = np.zeros_like(arrivals)
    starts = crossing_starts(net, capacity, quota_per_day)
    edges = np.arange(len(arrivals) + 1, dtype=float)
    cumulative_arrived = np.concatenate([[0.0], np.cumsum(arrivals)])
    asked_up_to = 0.0  # position in arrival order up to which everyone has been asked
    for first, last in _runs(closed):
        handled = starts[:first].sum() + rerouted[:first].sum()  # served or gone before the closure
        eligible = np.interp(np.arange(first, last) + 1.0 - after_hours, edges, cumulative_arrived)
        asked = np.maximum(eligible - max(handled, asked_up_to), 0.0)
        leaving = share * np.diff(np.maximum.accumulate(asked), prepend=0.0)
        if not leaving.any():
            continue
        asked_up_to = max(asked_up_to, handled) + asked[-1]
        net[first:last] -= leaving
        rerouted[first:last] += leaving
        starts = crossing_starts(net, capacity, quota_per_day)
    return starts, rerouted


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) of each run of True in ``mask``."""
    changes = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(changes[0::2].tolist(), changes[1::2].tolist()))


def dispatched(ready: np.ndarray, dispatch_bins: np.ndarray, max_people: float | None) -> np.ndarray:
    """Ready people leave at the first dispatch after they are ready (mass ready within bin ``k``
    waits for a dispatch at bin ``k + 1`` or later), at most ``max_people`` per dispatch. Rows of a
    2-d ``ready`` are dispatched alike (without ``max_people``)."""
    leaves = np.zeros_like(ready)
    if not len(dispatch_bins):
        return leaves
    zero = np.zeros((*ready.shape[:-1], 1))
    ready_by = np.concatenate([zero, np.cumsum(ready, axis=-1)], axis=-1)[..., dispatch_bins]
    if max_people is None:
        leaves[..., dispatch_bins] = np.diff(ready_by, axis=-1, prepend=0.0)
        return leaves
    sent = 0.0
    for index, bin_ in enumerate(dispatch_bins):
        batch = min(ready_by[index] - sent, max_people)
        leaves[bin_] = batch
        sent += batch
    return leaves


def camp_left(entries: np.ndarray, camp) -> np.ndarray:
    """People leaving the camp per bin, given who entered when: the stay, then the dispatch."""
    ready = np.convolve(entries, camp.stay_kernel)[:len(entries)]
    if camp.dispatch_bins is None:
        return ready
    return dispatched(ready, camp.dispatch_bins, camp.dispatch_max_people)


GATE_FREE_BINS = BINS_PER_DAY
"""After a full camp, the gate loop hands back to the vectorised path once nobody has waited
outside for this many hours."""


def camp_entries(arrivals: np.ndarray, camp, occupancy: np.ndarray | None = None) -> np.ndarray:
    """People entering the camp per bin: all arrivals while it has room (then ``arrivals`` itself is
    returned); else those at the gate enter, in arrival order, as room frees (a loop over the hours
    from the first the camp would overflow until nobody has waited outside for a day; repeated for
    each overflow). ``occupancy``: the camp's occupancy if everyone entered, when already known."""
    entries = arrivals
    start = 0
    while start < len(arrivals):
        if occupancy is None:
            occupancy = np.cumsum(entries) - np.cumsum(camp_left(entries, camp))
        over = np.flatnonzero(occupancy[start:] > camp.capacity_people + EPSILON_PEOPLE)
        if not len(over):
            break
        if entries is arrivals:
            entries = arrivals.copy()
        first = start + int(over[0])
        start = _gate(arrivals, entries, first, camp)
        occupancy = _occupancy_after_gate(occupancy, entries, arrivals, first, start, camp)
    return entries


def _occupancy_after_gate(occupancy: np.ndarray, entries: np.ndarray, arrivals: np.ndarray, first: int, end: int,
                          camp) -> np.ndarray | None:
    """The occupancy if everyone from ``end`` on entered, from the one before the gate held people
    in ``[first, end)``: without dispatches a camp holds what entered convolved with the stay's
    survival ``P(stay > j)``, so only the held window's change is convolved (None for a camp that
    dispatches: recomputed)."""
    if camp.dispatch_bins is not None:
        return None
    survival = np.clip(1.0 - np.cumsum(camp.stay_kernel), 0.0, None)
    change = np.convolve(entries[first:end] - arrivals[first:end], survival)[:len(occupancy) - first]
    occupancy = occupancy.copy()
    occupancy[first:first + len(change)] += change
    return occupancy


def _gate(arrivals: np.ndarray, entries: np.ndarray, first: int, camp) -> int:
    """Fill ``entries`` from bin ``first`` on, hour by hour, admitting as room frees; returns the bin
    after which the gate stayed free for a day (entries from there on are the arrivals)."""
    n, kernel = len(arrivals), np.ascontiguousarray(camp.stay_kernel, float)
    width = len(kernel)
    ready = np.zeros(n + width)
    if first:
        ready[:first + width - 1] = np.convolve(entries[:first], kernel)
    has_dispatch = camp.dispatch_bins is not None
    left_before = ready[:first].sum()
    dispatch_hours = np.zeros(n, bool)
    if has_dispatch:
        left_before = dispatched(ready[:first], camp.dispatch_bins[camp.dispatch_bins < first],
                                 camp.dispatch_max_people).sum()
        dispatch_hours[camp.dispatch_bins] = True
    occupancy = float(entries[:first].sum() - left_before)
    waiting_ready = float(ready[:first].sum() - left_before)  # stays ended, waiting for a dispatch
    limit = np.inf if camp.dispatch_max_people is None else float(camp.dispatch_max_people)
    return int(_gate_kernel()(np.ascontiguousarray(arrivals, float), entries, ready, kernel, dispatch_hours,
                              first, has_dispatch, float(camp.capacity_people), limit, occupancy, waiting_ready,
                              GATE_FREE_BINS, EPSILON_PEOPLE))


def gate_hours(arrivals, entries, ready, kernel, dispatch_hours, first, has_dispatch, capacity, limit, occupancy,
               waiting_ready, free_bins_needed, epsilon):
    """The gate's loop over hours (see :func:`_gate`): who enters in each hour from ``first`` on,
    written into ``entries`` (and each entry's stay into ``ready``). Plain Python that numba
    compiles (:func:`_gate_kernel`): the loop is sequential — who enters depends on who left, who
    entered before — and as interpreted Python it took a quarter of a calibration's time."""
    n, width = arrivals.shape[0], kernel.shape[0]
    same_hour = kernel[0]
    outside = 0.0
    free_bins = 0
    for k in range(first, n):
        ready_now = ready[k]
        if not has_dispatch:
            occupancy -= ready_now
        else:
            if dispatch_hours[k]:
                sent = min(waiting_ready, limit)
                waiting_ready -= sent
                occupancy -= sent
            waiting_ready += ready_now
        arriving = arrivals[k]
        enter = min(outside + arriving, max(capacity - occupancy, 0.0))
        outside += arriving - enter
        occupancy += enter
        entries[k] = enter
        for j in range(width):
            ready[k + j] += enter * kernel[j]
        if not has_dispatch:
            occupancy -= enter * same_hour  # stays ending within the hour of entry
        else:
            waiting_ready += enter * same_hour
        free_bins = free_bins + 1 if outside <= epsilon else 0
        if free_bins >= free_bins_needed:
            return k + 1
    return n


@functools.cache
def _gate_kernel():
    """:func:`gate_hours` compiled by numba (imported and compiled on the first full camp, the
    machine code cached on disk for the next process where numba finds a writable place: beside
    the module or in the user's cache; compiled in every process where it does not)."""
    import numba

    try:
        return numba.njit(cache=True)(gate_hours)
    except RuntimeError:  # "cannot cache function ...: no locator available" (read-only install, no home)
        return numba.njit(cache=False)(gate_hours)
