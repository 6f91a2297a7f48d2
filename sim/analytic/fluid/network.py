"""The scenario compiled for the fluid path: arrays for the clock, the stocks, the routes, the
camps and the crossings, built once and reused by every evaluation (:mod:`sim.analytic.fluid.flow`).

Everything here is what the simulation's world holds (``sim.model.world``), on the hourly grid:
each route's share of each group's voluntary and deported departures (origin share x route share),
its travel kernel, the camp it passes and its onward kernel; each camp's stay kernel, dispatch hours
and capacity; each crossing's capacity per hour and service kernels. Every delay is kept as its
spectrum at one FFT length, so an evaluation moves all routes' flows in one batched FFT per stage.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.analytic.fluid.capacity import BINS_PER_DAY, HourlyCapacity, hourly_capacity
from sim.analytic.fluid.delays import delay_kernel, fft_size_for, spectra
from sim.analytic.fluid.departures import GroupDepartures, compile_group
from sim.model.households import NO_NODE, _initial_people_by_group, _route_uses
from sim.model.world import World, build_world, dispatch_hours

BURST_SEED = 11


@dataclass
class CampSpec:
    name: str
    capacity_people: float
    stay_kernel: np.ndarray
    dispatch_bins: np.ndarray | None  # None: people leave when their stay ends
    dispatch_max_people: float | None
    rows: np.ndarray  # positions of this camp's routes among ``FluidNetwork.camp_routes``


@dataclass
class RerouteSpec:
    to: int  # the crossing people leave for
    after_hours: float
    share: float
    travel_kernel: np.ndarray


@dataclass
class CrossingSpec:
    name: str
    lanes: float
    mean_service_hours: float
    mean_size_people: float  # people per household among those who come here
    capacity: HourlyCapacity
    opening_burst_households: float  # per lane, at each opening (see sim.analytic.fluid.capacity)
    initial_queue_people: float = 0.0
    reroute: RerouteSpec | None = None

    def capacity_people(self) -> np.ndarray:
        """People who may start service in each hourly bin (read-only: kept for the next call at
        the same lanes, which a calibration makes thousands of times)."""
        cached = self.__dict__.get("_capacity_people")
        if cached is not None and cached[0] == self.lanes:
            return cached[1]
        per_lane = self.capacity.factor_hours / self.mean_service_hours + self.capacity.openings * \
            self.opening_burst_households
        people = per_lane * (self.lanes * self.mean_size_people)
        people.flags.writeable = False
        self.__dict__["_capacity_people"] = (self.lanes, people)
        return people


@dataclass
class FluidNetwork:
    world: World
    groups: list[GroupDepartures]
    route_weights: np.ndarray  # [route, 2 * group]: share of group g's voluntary (2g) / deported (2g+1) flow
    fft_size: int  # one FFT length for every delay of the network
    direct_spectra: np.ndarray  # [crossing, stream]: travel of the routes straight to the crossing, weighted
    camp_routes: np.ndarray  # the routes through a camp, in camp order
    camp_travel_spectra: np.ndarray  # [camp route, stream]: travel to the camp, weighted
    stay_spectra: np.ndarray  # [camp route]: the stay of the route's camp
    onward_spectra: np.ndarray  # [camp route]
    camp_route_to_crossing: np.ndarray  # [crossing, camp route]
    camps: list[CampSpec]
    crossings: list[CrossingSpec]
    service_rows: list[tuple[int, np.ndarray]]  # (crossing, bins whose services run at one factor)
    service_spectra: np.ndarray  # [service row]
    crossing_of_service_row: np.ndarray  # [crossing, service row]: 1 where the row is the crossing's
    initial_camp_route_people: np.ndarray  # [camp route]: people placed in the route's camp at time 0
    initial_people_by_group: dict[str, float] = field(default_factory=dict)  # carved out of the stock
    # The kernels behind the spectra above (the crossed-only pass chains them at its own FFT length):
    travel_kernels: list[np.ndarray] = field(default_factory=list)  # [route]
    onward_kernels: list[np.ndarray] = field(default_factory=list)  # [camp route]
    service_kernels: list[np.ndarray] = field(default_factory=list)  # [service row]

    @property
    def n_bins(self) -> int:
        return self.world.clock.n_days * BINS_PER_DAY


def compile_network(scenario) -> FluidNetwork:
    """Everything of ``scenario`` the fluid path needs, on an hourly grid over its period."""
    world = build_world(scenario)
    clock, routes = world.clock, world.routes
    n_bins = clock.n_days * BINS_PER_DAY
    initial = _initial_people_by_group(scenario, routes, world.crossing_names, world.camp_names)
    initial_people = {name: float(sum(people for _, _, people in entries)) for name, entries in initial.items()}
    groups = [compile_group(scenario, name, group, clock, initial_people.get(name, 0.0))
              for name, group in scenario.groups.items()]
    weights = _route_weights(scenario, routes)
    initial_route, initial_queue = _initial_placement(scenario, world, initial)

    camp_routes = np.array([r for c in range(len(world.camp_names)) for r, route in enumerate(routes)
                            if route.camp_id == c], dtype=np.int64)
    camps = [_compile_camp(scenario, world, c, name, camp_routes) for c, name in enumerate(world.camp_names)]
    travel = [delay_kernel(route.travel) for route in routes]
    stays = [camps[routes[r].camp_id].stay_kernel for r in camp_routes]
    onward = [_onward_kernel(routes[r], scenario.camps[world.camp_names[routes[r].camp_id]]) for r in camp_routes]
    crossings = [_compile_crossing(scenario, world, name, groups, weights, initial_queue.get(c, 0.0))
                 for c, name in enumerate(world.crossing_names)]
    service_rows, service_kernels = _service_rows(scenario, world, crossings)
    size = fft_size_for(n_bins, travel + stays + onward + service_kernels)

    travel_spectra = spectra(travel, size)
    direct = np.zeros((len(crossings), weights.shape[1], travel_spectra.shape[1]), complex)
    for r, route in enumerate(routes):
        if route.camp_id == NO_NODE:
            direct[route.crossing_id] += weights[r][:, None] * travel_spectra[r]
    camp_travel = weights[camp_routes][:, :, None] * travel_spectra[camp_routes][:, None, :]
    camp_to_crossing = np.zeros((len(crossings), len(camp_routes)))
    for row, r in enumerate(camp_routes):
        camp_to_crossing[routes[r].crossing_id, row] = 1.0
    return FluidNetwork(
        world=world, groups=groups, route_weights=weights, fft_size=size,
        direct_spectra=direct, camp_routes=camp_routes, camp_travel_spectra=camp_travel,
        stay_spectra=spectra(stays, size), onward_spectra=spectra(onward, size),
        camp_route_to_crossing=camp_to_crossing, camps=camps, crossings=crossings,
        service_rows=service_rows, service_spectra=spectra(service_kernels, size),
        crossing_of_service_row=np.array([[float(c == row_c) for row_c, _ in service_rows] for c in range(len(crossings))]),
        initial_camp_route_people=initial_route[camp_routes], initial_people_by_group=initial_people,
        travel_kernels=travel, onward_kernels=onward, service_kernels=service_kernels)


def _route_weights(scenario, routes) -> np.ndarray:
    """[route, stream]: the share of each group's voluntary and deported departures on each route."""
    weights = np.zeros((len(routes), 2 * len(scenario.groups)))
    for g, group in enumerate(scenario.groups.values()):
        for r, route in enumerate(routes):
            origin_share = group.origins.get(route.origin, 0.0)
            weights[r, 2 * g] = origin_share * route.voluntary_share
            weights[r, 2 * g + 1] = origin_share * route.deported_share
    return weights


def _initial_placement(scenario, world: World, initial) -> tuple[np.ndarray, dict[int, float]]:
    """People of ``initial:`` in each route's camp, and queued at each crossing, at time 0 (on the
    route the simulation gives them: the group's first that reaches their camp or crossing)."""
    routes = world.routes
    in_camp = np.zeros(len(routes))
    queued: dict[int, float] = {}
    for group_name, entries in initial.items():
        group_routes = [r for r, route in enumerate(routes) if route.origin in scenario.groups[group_name].origins]
        for kind, node, people in entries:
            r = next(r for r in group_routes
                     if _route_uses(routes[r], kind, node, world.crossing_names, world.camp_names))
            if kind == "queued":
                queued[routes[r].crossing_id] = queued.get(routes[r].crossing_id, 0.0) + people
            else:
                in_camp[r] += people
    return in_camp, queued


def _compile_camp(scenario, world: World, camp_id: int, name: str, camp_routes: np.ndarray) -> CampSpec:
    camp = scenario.camps[name]
    dispatch = max_people = None
    if camp.dispatch is not None:
        dispatch = np.asarray([int(h) for h in dispatch_hours(camp.dispatch, world.clock)], dtype=np.int64)
        max_people = None if camp.dispatch.max_people is None else float(camp.dispatch.max_people)
    rows = np.flatnonzero([world.routes[r].camp_id == camp_id for r in camp_routes])
    return CampSpec(name, float(camp.capacity), delay_kernel(camp.stay), dispatch, max_people, rows)


def _onward_kernel(route, camp) -> np.ndarray:
    """Onward travel from the camp; a dispatch leaves at its clock time, not spread over the hour."""
    if camp.dispatch is None:
        return delay_kernel(route.onward)
    return delay_kernel(route.onward, at_hour_fraction=camp.dispatch.at - np.floor(camp.dispatch.at))


def _compile_crossing(scenario, world: World, name: str, groups, weights, initial_queue: float) -> CrossingSpec:
    crossing = scenario.crossings[name]
    return CrossingSpec(name, float(crossing.lanes), crossing.service.mean(),
                        _mean_size_at(world, name, groups, weights),
                        hourly_capacity(name, crossing, scenario, world.clock), _opening_burst(crossing.service),
                        initial_queue, _reroute(crossing.reroute, world))


def _reroute(rule, world: World) -> RerouteSpec | None:
    if rule is None:
        return None
    return RerouteSpec(world.crossing_names.index(rule.to), float(rule.after), float(rule.share),
                       delay_kernel(rule.travel))


def _opening_burst(service) -> float:
    """Extra starts per lane and opening, ``(1 + cv²) / 2``; none for a constant service, whose lanes
    start exactly ``hours / service`` households in a window that is a multiple of the service."""
    sample = service.sample(np.random.default_rng(BURST_SEED), 100_000)
    if sample.var() == 0:
        return 0.0
    return (1.0 + sample.var() / sample.mean() ** 2) / 2.0


def _service_rows(scenario, world: World, crossings: list[CrossingSpec]):
    """One row per (crossing, factor in force): the bins whose services run at that factor, and the
    service kernel at that factor (a service lasts its drawn time / the factor at its start)."""
    rows, kernels = [], []
    for c, crossing in enumerate(crossings):
        factor = crossing.capacity.factor
        for value in np.unique(factor[factor > 0]):
            rows.append((c, factor == value))
            kernels.append(delay_kernel(scenario.crossings[crossing.name].service, scale=float(value)))
    return rows, kernels


def _mean_size_at(world: World, name: str, groups, weights) -> float:
    """People per household among the leavers whose routes reach ``name`` (households weighted)."""
    c = world.crossing_names.index(name)
    reach = np.array([route.crossing_id == c for route in world.routes])
    people = households = 0.0
    for g, group in enumerate(groups):
        share = weights[reach, 2 * g:2 * g + 2].sum() / 2.0
        leavers = max(group.stock_people * (1.0 - group.never_leave), 1.0) * max(share, 1e-12)
        people += leavers
        households += leavers / group.mean_size_people
    return people / households if households else groups[0].mean_size_people
