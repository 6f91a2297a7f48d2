"""People crossed per hour and nothing else: the fluid path as a calibration calls it.

A calibration asks :class:`~sim.analytic.fluid.FluidEvaluator` for people crossed per day tens of
thousands of times, with only the departures changed between calls. :func:`crossed_hourly` gives
the numbers of the full pass (:func:`sim.analytic.fluid.flow.propagate`, which also reports every
camp's arrivals, entries and departures) but keeps in the frequency domain what the full pass
brings back to time only to report it:

* whether a camp overflows is read from its occupancy if everyone entered, which is its arrivals
  convolved with the stay's survival ``P(stay > j hours)``: one inverse FFT per camp, instead of
  its arrivals and departures per route and their cumulative sums;
* a camp that neither dispatches nor overflows is a delay, so travel, stay and onward leg are one
  product of spectra, never brought back to time;
* only the routes of camps that dispatch (a clock) or overflow (a queue at the gate) go back to
  time and forward again.

What does not depend on the values — the chained spectra, the service masks — is compiled once
into a :class:`CrossedPlan`, at an FFT length long enough for the chained delays not to wrap.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

from sim.analytic.fluid.delays import _fft_size, spectra
from sim.analytic.fluid.flow import dispatch_rows, fifo_split, group_streams, through_crossings
from sim.analytic.fluid.network import CampSpec, CrossingSpec, FluidNetwork
from sim.analytic.fluid.queues import EPSILON_PEOPLE, camp_entries
from sim.model.households import NO_NODE


@dataclass
class CrossedPlan:
    """Everything of a compiled network that :func:`crossed_hourly` needs and the values do not
    change (built once per evaluator: :func:`plan_of`)."""

    n_bins: int
    fft_size: int
    camps: list[CampSpec]
    direct_spectra: np.ndarray  # [crossing, stream]: travel of the routes straight to a crossing, weighted
    camp_travel_spectra: np.ndarray  # [camp route, stream]: travel to the camp, weighted
    initial_camp_route_people: np.ndarray  # [camp route]
    survival_spectra: np.ndarray  # [camp route]: P(stay > j), the occupancy one arrival makes
    stay_spectra: np.ndarray  # [camp route]
    onward_spectra: np.ndarray  # [camp route]
    stay_onward_spectra: np.ndarray  # [camp route]: stay then onward leg, for camps that are delays
    camp_routes_of_crossing: list[np.ndarray]  # [crossing]: positions among the camp routes
    dispatch_rows: np.ndarray  # camp routes of camps that dispatch (their stays ended go back to time)
    ready_positions: list[slice]  # [camp]: its routes' positions among ``dispatch_rows``
    service_crossing: np.ndarray  # [service row]: the crossing whose starts the row takes
    service_masks: np.ndarray  # [service row, bin]: 1.0 where services start at the row's factor
    service_spectra: np.ndarray  # [service row]
    service_rows_of_crossing: list[np.ndarray]  # [crossing]: its service rows


def plan_of(network: FluidNetwork) -> CrossedPlan:
    """Compile the value-free part of ``network`` for :func:`crossed_hourly`."""
    n, routes, camp_routes = network.n_bins, network.world.routes, network.camp_routes
    travel = network.travel_kernels
    stays = [network.camps[routes[r].camp_id].stay_kernel for r in camp_routes]
    onward = network.onward_kernels
    chained = [len(travel[r]) + len(stay) + len(leg) - 2 for r, stay, leg in zip(camp_routes, stays, onward)]
    longest = max([*chained, *(len(k) for k in travel), *(len(k) for k in network.service_kernels), 1])
    size = _fft_size(n + longest - 1)  # no chained delay wraps round into the period

    weights = network.route_weights
    travel_spectra = spectra(travel, size)
    direct = np.zeros((len(network.crossings), weights.shape[1], travel_spectra.shape[1]), complex)
    for r, route in enumerate(routes):
        if route.camp_id == NO_NODE:
            direct[route.crossing_id] += weights[r][:, None] * travel_spectra[r]
    stay_spectra, onward_spectra = spectra(stays, size), spectra(onward, size)
    survival = [np.clip(1.0 - np.cumsum(stay), 0.0, None) for stay in stays]
    dispatching = [camp.rows for camp in network.camps if camp.dispatch_bins is not None]
    ends = np.cumsum([len(camp.rows) if camp.dispatch_bins is not None else 0 for camp in network.camps])
    ready_positions = [slice(end - len(camp.rows), end) for camp, end in zip(network.camps, ends)]
    service_crossing = np.array([c for c, _ in network.service_rows], dtype=np.int64)
    return CrossedPlan(
        n_bins=n, fft_size=size, camps=network.camps, direct_spectra=direct,
        camp_travel_spectra=weights[camp_routes][:, :, None] * travel_spectra[camp_routes][:, None, :],
        initial_camp_route_people=network.initial_camp_route_people,
        survival_spectra=spectra(survival, size), stay_spectra=stay_spectra, onward_spectra=onward_spectra,
        stay_onward_spectra=stay_spectra * onward_spectra,
        camp_routes_of_crossing=[np.flatnonzero(row) for row in network.camp_route_to_crossing],
        dispatch_rows=np.concatenate(dispatching) if dispatching else np.zeros(0, np.int64),
        ready_positions=ready_positions,
        service_crossing=service_crossing,
        service_masks=np.array([bins for _, bins in network.service_rows], float).reshape(-1, n),
        service_spectra=spectra(network.service_kernels, size),
        service_rows_of_crossing=[np.flatnonzero(service_crossing == c) for c in range(len(network.crossings))])


def crossed_hourly(plan: CrossedPlan, groups, crossings: list[CrossingSpec]) -> np.ndarray:
    """[crossing, bin]: people whose service ends in each hour, as the full pass's ``crossed``."""
    n, size = plan.n_bins, plan.fft_size
    stream_spectra = fft.rfft(group_streams(groups, n), size)
    crossing_spectra = np.einsum("csf,sf->cf", plan.direct_spectra, stream_spectra)
    if len(plan.initial_camp_route_people):
        arrived_spectra = np.einsum("rsf,sf->rf", plan.camp_travel_spectra, stream_spectra)
        arrived_spectra += plan.initial_camp_route_people[:, None]  # at time 0: a flat spectrum
        onward = _onward_from_camps(plan, arrived_spectra)
        for c, rows in enumerate(plan.camp_routes_of_crossing):
            crossing_spectra[c] += onward[rows].sum(axis=0)
    started, _ = through_crossings(crossings, _in_time(crossing_spectra, size, n))
    at_factor = started[plan.service_crossing] * plan.service_masks
    ended = fft.rfft(at_factor, size) * plan.service_spectra
    return _in_time(np.array([ended[rows].sum(axis=0) for rows in plan.service_rows_of_crossing]), size, n)


def _onward_from_camps(plan: CrossedPlan, arrived_spectra: np.ndarray) -> np.ndarray:
    """[camp route]: spectra of people leaving each camp route's camp onward, after the onward leg."""
    n, size = plan.n_bins, plan.fft_size
    n_camps, dispatching = len(plan.camps), plan.dispatch_rows
    # One inverse FFT: every camp's occupancy if everyone entered, and the stays ended on the routes
    # of camps that dispatch.
    staying = arrived_spectra * plan.survival_spectra
    back = fft.irfft(np.concatenate([[staying[camp.rows].sum(axis=0) for camp in plan.camps],
                                     arrived_spectra[dispatching] * plan.stay_spectra[dispatching]]), size)
    occupancies, ready = back[:n_camps, :n], np.maximum(back[n_camps:, :n], 0.0)
    timed_rows, timed_left = [], []
    for c, camp in enumerate(plan.camps):
        occupancy, left = occupancies[c], None
        if camp.dispatch_bins is not None:
            ready_rows = ready[plan.ready_positions[c]]
            left = dispatch_rows(camp, ready_rows)
            occupancy = occupancy + np.cumsum(ready_rows.sum(axis=0) - left.sum(axis=0))
        if occupancy.max(initial=0.0) > camp.capacity_people + EPSILON_PEOPLE:
            left = _through_gate(plan, camp, arrived_spectra[camp.rows], occupancy)
        if left is not None:
            timed_rows.extend(camp.rows.tolist())
            timed_left.append(left)
    onward = arrived_spectra * plan.stay_onward_spectra
    if timed_rows:
        onward[timed_rows] = fft.rfft(np.concatenate(timed_left), size) * plan.onward_spectra[timed_rows]
    return onward


def _through_gate(plan: CrossedPlan, camp: CampSpec, arrived_spectra: np.ndarray, occupancy: np.ndarray):
    """A camp that would overflow: its routes' departures when people enter as room frees."""
    n = plan.n_bins
    arrived = _in_time(arrived_spectra, plan.fft_size, n)
    total = arrived.sum(axis=0)
    entered = fifo_split(total, arrived, camp_entries(total, camp, occupancy))
    left = np.array([np.convolve(row, camp.stay_kernel)[:n] for row in entered])
    return left if camp.dispatch_bins is None else dispatch_rows(camp, left)


def _in_time(spectra_rows: np.ndarray, size: int, n: int) -> np.ndarray:
    """Flows in time from their spectra (round-off leaves -1e-12 where nothing flows: clipped)."""
    return np.maximum(fft.irfft(spectra_rows, size)[..., :n], 0.0)
