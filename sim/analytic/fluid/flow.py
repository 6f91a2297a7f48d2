"""One pass of the fluid path through the compiled network: departures → travel → camps →
crossings → crossed, in hourly bins (see :mod:`sim.analytic.fluid` for what it is and ignores).

Each stage moves every route's flow at once (one batched FFT per stage); only the queues are
per node.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analytic.fluid.network import FluidNetwork
from sim.analytic.fluid.queues import (
    EPSILON_PEOPLE,
    camp_entries,
    crossing_starts,
    dispatched,
    starts_with_reroutes,
)


@dataclass
class HourlyFlows:
    """People per hourly bin at every step of the path (rows follow the world's orders)."""

    departed: np.ndarray  # [group, bin] (voluntary + deported)
    deported: np.ndarray  # [group, bin]
    camp_route_arrived: np.ndarray  # [camp route, bin] (see ``FluidNetwork.camp_routes``; ``by_camp`` sums)
    camp_route_entered: np.ndarray  # [camp route, bin]
    camp_route_left: np.ndarray  # [camp route, bin]
    crossing_arrived: np.ndarray  # [crossing, bin]
    crossing_started: np.ndarray  # [crossing, bin]
    crossing_rerouted: np.ndarray  # [crossing, bin]: left the queue for another crossing (a reroute)
    crossed: np.ndarray  # [crossing, bin]: service ended


def group_streams(groups, n_bins: int) -> np.ndarray:
    """[2 * group, bin]: each group's voluntary (row 2g) and deported (2g + 1) departures."""
    streams = np.empty((2 * len(groups), n_bins))
    for g, group in enumerate(groups):
        people = group.people_per_bin()
        deported = people * group.deported_share_per_bin()
        streams[2 * g] = people - deported
        streams[2 * g + 1] = deported
    return streams


def propagate(network: FluidNetwork, streams: np.ndarray) -> HourlyFlows:
    """Move the departures along routes, through camps and crossings.

    Linear stages stay in the frequency domain (travel and stays are convolutions, routes are
    weighted sums): forward FFTs of the group streams, of the camps' departures and of the service
    starts, inverse FFTs where a queue or a dispatch needs the flow in time."""
    size, n = network.fft_size, network.n_bins
    stream_spectra = np.fft.rfft(streams, size)
    crossing_spectra = np.einsum("csf,sf->cf", network.direct_spectra, stream_spectra)
    camp_arrived = camp_entered = camp_left = np.zeros((0, n))
    if len(network.camp_routes):
        arrived_spectra = np.einsum("rsf,sf->rf", network.camp_travel_spectra, stream_spectra)
        arrived_spectra += network.initial_camp_route_people[:, None]  # at time 0: flat spectrum
        camp_arrived, camp_entered, camp_left = _through_camps(network, arrived_spectra)
        onward = np.fft.rfft(camp_left, size) * network.onward_spectra
        crossing_spectra += np.einsum("cr,rf->cf", network.camp_route_to_crossing, onward)
    crossing_arrived = in_time(crossing_spectra, size, n)
    started, rerouted = through_crossings(network.crossings, crossing_arrived)
    at_factor = np.array([np.where(bins, started[c], 0.0) for c, bins in network.service_rows]).reshape(-1, n)
    ended = np.fft.rfft(at_factor, size) * network.service_spectra
    crossed = in_time(np.einsum("cr,rf->cf", network.crossing_of_service_row, ended), size, n)
    return HourlyFlows(
        departed=streams[0::2] + streams[1::2], deported=streams[1::2], camp_route_arrived=camp_arrived,
        camp_route_entered=camp_entered, camp_route_left=camp_left,
        crossing_arrived=crossing_arrived, crossing_started=started, crossing_rerouted=rerouted, crossed=crossed)


def through_crossings(crossings, arrived: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Service starts at every crossing, and people leaving each for another (a reroute), whose
    arrivals are added to ``arrived`` at the crossing they go to. Crossings with a reroute rule go
    first; one that receives rerouted people after its turn is served again."""
    n = arrived.shape[1]
    for c, crossing in enumerate(crossings):
        arrived[c, 0] += crossing.initial_queue_people
    started = np.zeros_like(arrived)
    rerouted = np.zeros_like(arrived)
    order = sorted(range(len(crossings)), key=lambda c: crossings[c].reroute is None)
    done: set[int] = set()
    while order:
        c = order.pop(0)
        crossing = crossings[c]
        capacity, quota = crossing.capacity_people(), crossing.capacity.quota_people
        rule = crossing.reroute
        if rule is None or c in done:  # served again: its own reroutes stay as first computed
            started[c] = crossing_starts(arrived[c] - rerouted[c], capacity, quota)
        else:
            started[c], rerouted[c] = starts_with_reroutes(arrived[c], capacity, quota, crossing.capacity.closed,
                                                           rule.after_hours, rule.share)
            if rerouted[c].any():
                arrived[rule.to] += np.convolve(rerouted[c], rule.travel_kernel)[:n]
                if rule.to in done and rule.to not in order:
                    order.append(rule.to)
        done.add(c)
    return started, rerouted


def in_time(spectra_rows: np.ndarray, size: int, n: int) -> np.ndarray:
    """Flows in time from their spectra (FFT round-off leaves -1e-12 where nothing flows: clipped)."""
    return np.maximum(np.fft.irfft(spectra_rows, size)[..., :n], 0.0)


def _through_camps(network: FluidNetwork, arrived_spectra: np.ndarray):
    """Per camp route: arrivals, entries and departures from the camp (stay, then dispatch).

    First as if every camp had room (entries = arrivals: the stays are one batched convolution);
    a camp that would then hold more than its capacity is redone with its gate."""
    size, n = network.fft_size, network.n_bins
    arrived = in_time(arrived_spectra, size, n)
    entered = arrived
    left = in_time(arrived_spectra * network.stay_spectra, size, n)
    for camp in network.camps:
        _dispatch_rows(camp, left)
        rows = arrived[camp.rows]
        total = rows.sum(axis=0)
        occupancy = np.cumsum(total - left[camp.rows].sum(axis=0))
        if occupancy.max(initial=0.0) <= camp.capacity_people + EPSILON_PEOPLE:
            continue
        if entered is arrived:
            entered = arrived.copy()
        entered[camp.rows] = fifo_split(total, rows, camp_entries(total, camp, occupancy))
        left[camp.rows] = [np.convolve(row, camp.stay_kernel)[:n] for row in entered[camp.rows]]
        _dispatch_rows(camp, left)
    return arrived, entered, left


def _dispatch_rows(camp, left: np.ndarray) -> None:
    """Turn the camp's rows of ``left`` from stays ended into departures (at the dispatches)."""
    if camp.dispatch_bins is not None:
        left[camp.rows] = dispatch_rows(camp, left[camp.rows])


def dispatch_rows(camp, ready_rows: np.ndarray) -> np.ndarray:
    """The camp's routes' departures, from their stays ended (``ready_rows``): at the dispatches,
    a full dispatch shared among the routes first in, first out."""
    if camp.dispatch_max_people is None:
        return dispatched(ready_rows, camp.dispatch_bins, None)
    total = ready_rows.sum(axis=0)
    return fifo_split(total, ready_rows, dispatched(total, camp.dispatch_bins, camp.dispatch_max_people))


def by_camp(network: FluidNetwork, rows: np.ndarray) -> np.ndarray:
    """Camp-route rows summed per camp."""
    out = np.zeros((len(network.camps), network.n_bins))
    for c, camp in enumerate(network.camps):
        out[c] = rows[camp.rows].sum(axis=0)
    return out


def fifo_split(total_in: np.ndarray, rows_in: np.ndarray, total_out: np.ndarray) -> np.ndarray:
    """Split an outflow among the rows of the inflow first in, first out: the mass leaving when the
    cumulative outflow is ``X`` is the mass that came when the cumulative inflow was ``X``."""
    cumulative_in = np.cumsum(total_in)
    cumulative_out = np.cumsum(total_out)
    split = np.array([np.interp(cumulative_out, cumulative_in, np.cumsum(row)) for row in rows_in])
    return np.diff(split, axis=1, prepend=0.0)
