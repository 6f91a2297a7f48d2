"""People crossed per hour and nothing else: the fluid path as a calibration calls it.

A calibration asks :class:`~sim.analytic.fluid.FluidEvaluator` for people crossed per day tens of
thousands of times, with only the departures changed between calls. :func:`crossed_hourly` gives
the numbers of the full pass (:func:`sim.analytic.fluid.flow.propagate`, which also reports every
camp's arrivals, entries and departures) but keeps in the frequency domain what the full pass
brings back to time only to report it:

* every route is linear up to its camp's gate or dispatch, so each crossing's arrivals *as if no
  camp overflowed* are the group streams times one precomputed spectrum per stream (travel, stay
  and onward leg chained, weighted by the route shares): one inverse FFT per crossing;
* whether a camp overflows is read from its occupancy if everyone entered, which is its arrivals
  convolved with the stay's survival ``P(stay > j hours)``: one inverse FFT per camp, instead of
  its arrivals and departures per route and their cumulative sums;
* a camp that dispatches sends people at its dispatch hours only, so its onward leg is a sparse
  convolution (a few hundred dispatches, not ten thousand hours); a camp that overflows changes
  its routes' flows only around the hours its gate held people, so the correction is a short
  convolution of the difference;
* the service times last an hour or three: a direct convolution, no FFT.

What does not depend on the values — the chained spectra, kernels and masks — is compiled once
into a :class:`CrossedPlan`, at an FFT length long enough for the chained delays not to wrap.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

from sim.analytic.fluid.delays import _fft_size, spectra
from sim.analytic.fluid.flow import dispatch_rows, group_streams, through_crossings
from sim.analytic.fluid.network import CampSpec, CrossingSpec, FluidNetwork
from sim.analytic.fluid.queues import EPSILON_PEOPLE, camp_entries
from sim.model.households import NO_NODE


@dataclass
class CampRoutes:
    """One camp as the crossed-only pass sees it."""

    camp: CampSpec
    rows: np.ndarray  # positions among the network's camp routes
    crossings: np.ndarray  # [row]: the crossing each route goes on to
    ready_positions: slice  # its rows among the ready rows (camps that dispatch)
    stay_onward_kernels: list[np.ndarray]  # [row]: stay then onward leg, in hours
    onward_kernels: list[np.ndarray]  # [row]


@dataclass
class CrossedPlan:
    """Everything of a compiled network that :func:`crossed_hourly` needs and the values do not
    change (built once per evaluator: :func:`plan_of`)."""

    n_bins: int
    fft_size: int
    n_crossings: int
    camps: list[CampRoutes]
    mixed_spectra: np.ndarray  # [stream, row]: rows = crossings (no camp full), camps (occupancy), ready rows
    camp_travel_spectra: np.ndarray  # [camp route, stream]: travel to the camp, weighted (a camp overflows)
    initial_camp_route_people: np.ndarray  # [camp route]
    initial_spectra: np.ndarray | None  # [row of mixed_spectra]: what people placed in camps at time 0 add
    services: list[list[tuple[np.ndarray, np.ndarray]]]  # [crossing]: (1.0 where starts run at a factor, kernel)


def plan_of(network: FluidNetwork) -> CrossedPlan:
    """Compile the value-free part of ``network`` for :func:`crossed_hourly`."""
    n, routes, camp_routes = network.n_bins, network.world.routes, network.camp_routes
    travel, onward = network.travel_kernels, network.onward_kernels
    stays = [network.camps[routes[r].camp_id].stay_kernel for r in camp_routes]
    chained = [len(travel[r]) + len(stay) + len(leg) - 2 for r, stay, leg in zip(camp_routes, stays, onward)]
    size = _fft_size(n + max([*chained, *(len(k) for k in travel), 1]) - 1)  # no chained delay wraps round
    weights, n_crossings = network.route_weights, len(network.crossings)
    travel_spectra = spectra(travel, size)
    stay_spectra, onward_spectra = spectra(stays, size), spectra(onward, size)
    survival_spectra = spectra([np.clip(1.0 - np.cumsum(stay), 0.0, None) for stay in stays], size)
    camp_travel = weights[camp_routes][:, :, None] * travel_spectra[camp_routes][:, None, :]  # [row, stream, f]

    dispatching = [camp.dispatch_bins is not None for camp in network.camps]
    ready_rows = [row for camp, d in zip(network.camps, dispatching) if d for row in camp.rows]
    mixed = np.zeros((n_crossings + len(network.camps) + len(ready_rows), weights.shape[1], size // 2 + 1), complex)
    for r, route in enumerate(routes):
        if route.camp_id == NO_NODE:
            mixed[route.crossing_id] += weights[r][:, None] * travel_spectra[r]
    camps, ready_end = [], 0
    for c, camp in enumerate(network.camps):
        rows = camp.rows
        mixed[n_crossings + c] = (camp_travel[rows] * survival_spectra[rows][:, None, :]).sum(axis=0)
        if dispatching[c]:
            mixed[n_crossings + len(network.camps) + ready_end + np.arange(len(rows))] = \
                camp_travel[rows] * stay_spectra[rows][:, None, :]
            ready_end += len(rows)
        else:  # a delay unless it overflows
            for row in rows:
                mixed[routes[camp_routes[row]].crossing_id] += \
                    camp_travel[row] * (stay_spectra[row] * onward_spectra[row])[None, :]
        camps.append(CampRoutes(
            camp=camp, rows=rows, crossings=np.array([routes[camp_routes[row]].crossing_id for row in rows]),
            ready_positions=slice(ready_end - len(rows), ready_end) if dispatching[c] else slice(0, 0),
            stay_onward_kernels=[np.convolve(camp.stay_kernel, onward[row]) for row in rows],
            onward_kernels=[onward[row] for row in rows]))
    initial = network.initial_camp_route_people  # at time 0: a flat spectrum, one stream of its own
    initial_spectra = None
    if initial.any():
        mixed_initial = np.zeros_like(mixed[:, :1])
        for c, camp in enumerate(network.camps):  # the same rows as above, for a stream of ones
            rows = camp.rows
            mixed_initial[n_crossings + c, 0] = (initial[rows][:, None] * survival_spectra[rows]).sum(axis=0)
            position = camps[c].ready_positions
            if dispatching[c]:
                mixed_initial[n_crossings + len(network.camps) + np.arange(position.start, position.stop), 0] = \
                    initial[rows][:, None] * stay_spectra[rows]
            else:
                for row in rows:
                    mixed_initial[routes[camp_routes[row]].crossing_id, 0] += \
                        initial[row] * stay_spectra[row] * onward_spectra[row]
        initial_spectra = mixed_initial[:, 0]
    services: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(n_crossings)]
    for (c, bins), kernel in zip(network.service_rows, network.service_kernels):
        services[c].append((bins.astype(float), kernel))
    return CrossedPlan(n_bins=n, fft_size=size, n_crossings=n_crossings, camps=camps,
                       mixed_spectra=np.ascontiguousarray(mixed.transpose(1, 0, 2)), camp_travel_spectra=camp_travel,
                       initial_camp_route_people=initial, initial_spectra=initial_spectra, services=services)


def crossed_hourly(plan: CrossedPlan, groups, crossings: list[CrossingSpec]) -> np.ndarray:
    """[crossing, bin]: people whose service ends in each hour, as the full pass's ``crossed``."""
    n, size = plan.n_bins, plan.fft_size
    stream_spectra = fft.rfft(group_streams(groups, n), size)
    mixed = plan.mixed_spectra[0] * stream_spectra[0]  # a loop over streams: einsum is twice as slow
    for stream in range(1, len(stream_spectra)):
        mixed += plan.mixed_spectra[stream] * stream_spectra[stream]
    if plan.initial_spectra is not None:
        mixed += plan.initial_spectra
    back = fft.irfft(mixed, size)[:, :n]
    arrived = back[:plan.n_crossings]
    if plan.camps:
        arrived = arrived + _camp_corrections(plan, stream_spectra, back)
    started, _ = through_crossings(crossings, np.maximum(arrived, 0.0))
    crossed = np.zeros_like(started)
    for c, rows in enumerate(plan.services):
        for mask, kernel in rows:
            crossed[c] += np.convolve(started[c] * mask, kernel)[:n]
    return np.maximum(crossed, 0.0)


def _camp_corrections(plan: CrossedPlan, stream_spectra: np.ndarray, back: np.ndarray) -> np.ndarray:
    """[crossing, bin]: what the camps that dispatch or overflow add to the crossings' arrivals
    computed as if every camp were a delay (camps that dispatch are left out of those)."""
    n, n_crossings = plan.n_bins, plan.n_crossings
    occupancies = back[n_crossings:n_crossings + len(plan.camps)]
    ready = np.maximum(back[n_crossings + len(plan.camps):], 0.0)  # stays ended, camps that dispatch
    correction = np.zeros((n_crossings, n))
    for c, routes in enumerate(plan.camps):
        camp, occupancy = routes.camp, occupancies[c]
        ready_rows = left = None
        if camp.dispatch_bins is not None:
            ready_rows = ready[routes.ready_positions]
            left = dispatch_rows(camp, ready_rows)
            occupancy = occupancy + np.cumsum(ready_rows.sum(axis=0) - left.sum(axis=0))
        if occupancy.max(initial=0.0) > camp.capacity_people + EPSILON_PEOPLE:
            left = _through_gate(plan, routes, stream_spectra, occupancy, ready_rows, correction)
        if left is not None:
            _add_dispatched(correction, routes, left, camp.dispatch_bins, n)
    return correction


def _through_gate(plan: CrossedPlan, routes: CampRoutes, stream_spectra: np.ndarray, occupancy: np.ndarray,
                  ready_rows, correction: np.ndarray):
    """A camp that would overflow: people enter as room frees. Returns its routes' departures for
    a camp that dispatches (else adds the change of its delay to ``correction``, and None)."""
    n, camp = plan.n_bins, routes.camp
    spectra_rows = np.einsum("rsf,sf->rf", plan.camp_travel_spectra[routes.rows], stream_spectra)
    spectra_rows += plan.initial_camp_route_people[routes.rows][:, None]
    arrived = np.maximum(fft.irfft(spectra_rows, plan.fft_size)[:, :n], 0.0)
    total = arrived.sum(axis=0)
    entered_total = camp_entries(total, camp, occupancy)
    held = np.flatnonzero(entered_total != total)
    if not len(held):
        return None if ready_rows is None else dispatch_rows(camp, ready_rows)
    # Before the first hour held and after the last, each route's entries are its arrivals (to the
    # round-off of the first-in-first-out split): only that window changes.
    first, last = int(held[0]), int(held[-1]) + 1
    change = _split_window(total, arrived, entered_total, first, last) - arrived[:, first:last]
    if camp.dispatch_bins is None:
        for row, crossing in enumerate(routes.crossings):
            _add_at(correction[crossing], first, np.convolve(change[row], routes.stay_onward_kernels[row]))
        return None
    ready_rows = ready_rows.copy()
    for row in range(len(ready_rows)):
        _add_at(ready_rows[row], first, np.convolve(change[row], camp.stay_kernel))
    return dispatch_rows(camp, ready_rows)


def _split_window(total_in: np.ndarray, rows_in: np.ndarray, total_out: np.ndarray, first: int,
                  last: int) -> np.ndarray:
    """``fifo_split(total_in, rows_in, total_out)[:, first:last]``, reading only that window
    (first in, first out: the mass leaving at cumulative outflow X came at cumulative inflow X)."""
    cumulative_in = np.cumsum(total_in)
    cumulative_out = np.cumsum(total_out)[max(first - 1, 0):last]
    split = np.array([np.interp(cumulative_out, cumulative_in, row) for row in np.cumsum(rows_in, axis=1)])
    if first == 0:
        return np.diff(split, axis=1, prepend=0.0)
    return np.diff(split, axis=1)


def _add_at(series: np.ndarray, first: int, values: np.ndarray) -> None:
    """``series[first + j] += values[j]`` as far as the series goes."""
    values = values[:len(series) - first]
    series[first:first + len(values)] += values


def _add_dispatched(correction: np.ndarray, routes: CampRoutes, left: np.ndarray, dispatch_bins, n: int) -> None:
    """Add a dispatching camp's departures, after their onward leg, to its crossings' arrivals:
    people leave only at dispatch hours, so a sparse convolution."""
    for row, crossing in enumerate(routes.crossings):
        kernel = routes.onward_kernels[row]
        positions = (dispatch_bins[:, None] + np.arange(len(kernel))[None, :]).ravel()
        people = (left[row, dispatch_bins][:, None] * kernel[None, :]).ravel()
        correction[crossing] += np.bincount(positions, people, minlength=n + len(kernel))[:n]
