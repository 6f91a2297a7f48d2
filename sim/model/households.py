"""Households: population stocks cut into family groups, with every random draw made up front.

A group's stock (``people``) is cut into households by drawing sizes until the total reaches the
stock, the last household trimmed, so people are conserved exactly. Each household then draws, from
streams of its own group, whether it ever leaves, when it departs, whether it is deported, its
origin, its route, its travel and onward times, its stay in a camp, its service time at every
crossing and its stay in reception. Drawing everything by household index before the clock starts
is what keeps the event loop lean and gives two scenarios that differ only in capacity identical
households (common random numbers).

Times are hours from ``period.start`` 00:00 PKT; ``inf`` means "not within the period".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.model.clock import Clock
from sim.model.departure_rates import hazard_rates_per_day, step_value
from sim.model.streams import stream
from sim.scenario.distributions import Distribution

NO_NODE = -1


@dataclass
class RouteSpec:
    """A route flattened for the engine: where it goes and how long its legs take."""

    origin: str
    index: int
    crossing_id: int
    camp_id: int  # NO_NODE when the route goes straight to the crossing
    travel: Distribution
    onward: Distribution | None
    voluntary_share: float
    deported_share: float


@dataclass
class HouseholdTable:
    """One row per household, as parallel numpy arrays (struct of arrays)."""

    group_id: np.ndarray  # int
    size_people: np.ndarray  # int
    depart_hours: np.ndarray  # inf: does not leave within the period
    deported: np.ndarray  # bool
    camp_id: np.ndarray  # int, NO_NODE when the route has no camp
    crossing_id: np.ndarray  # the crossing its route leads to
    arrive_hours: np.ndarray  # arrival at its camp or crossing (departure + travel)
    onward_hours: np.ndarray  # camp -> crossing
    camp_stay_hours: np.ndarray
    service_hours: np.ndarray  # [crossing, household]: the drawn service time at each crossing
    reroute_draw: np.ndarray  # [crossing, household]: uniform draw, reroutes when < share
    reroute_travel_hours: np.ndarray  # [crossing, household]
    reception_stay_hours: np.ndarray  # [reception, household]: stay after crossing
    # The households that depart within the period in the order they depart, when the draws give
    # it for free (one group on a departure schedule); else None and the engine sorts.
    departure_order: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.size_people)


def cut_into_households(people: int, size: Distribution, rng: np.random.Generator) -> np.ndarray:
    """Draw household sizes (whole people, at least 1) until they add up to ``people`` exactly."""
    if people <= 0:
        return np.zeros(0, dtype=np.int64)
    batch = max(16, int(people / max(size.mean(), 1.0) * 1.05) + 16)
    sizes = np.zeros(0, dtype=np.int64)
    while sizes.sum() < people:
        drawn = np.maximum(1, np.rint(size.sample(rng, batch))).astype(np.int64)
        sizes = np.concatenate([sizes, drawn])
    cumulative = np.cumsum(sizes)
    count = int(np.searchsorted(cumulative, people)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(cumulative[count - 1]) - people  # trim the last household
    return sizes


def invert_cumulative_rate(
    targets: np.ndarray, step_hours: list[float], rate_per_hour: list[float], horizon_hours: float
) -> np.ndarray:
    """Times at which a piecewise-constant rate's integral reaches each target (inf past the horizon).

    The rate is 0 before ``step_hours[0]``; step k holds from ``step_hours[k]`` to the next step.
    """
    knots = np.asarray([*step_hours, horizon_hours], dtype=float)
    rates = np.asarray(rate_per_hour, dtype=float)
    cumulative = np.concatenate([[0.0], np.cumsum(rates * np.diff(knots))])
    segment = np.searchsorted(cumulative, targets, side="right") - 1
    inside = (segment < len(rates)) & (targets < cumulative[-1])
    segment = np.minimum(segment, len(rates) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        times = knots[segment] + (targets - cumulative[segment]) / rates[segment]
    return np.where(inside, times, np.inf)


def departure_steps(scenario, group, clock: Clock) -> tuple[list[float], list, list[float]]:
    """A group's departure steps that start within the period: their start hours, the steps, and
    the deportation share in force during each. Steps placed by a policy phase that lies after the
    period are left out (validation warned about them)."""
    steps = group.departures.steps()
    shares = group.deported_shares()
    kept = [(clock.hours_at(scenario.date_of(step.from_)), step, share) for step, share in zip(steps, shares)
            if scenario.date_of(step.from_) <= clock.end]
    return [hours for hours, _, _ in kept], [step for _, step, _ in kept], [share for _, _, share in kept]


def _categorical(uniform: np.ndarray, shares: list[float]) -> np.ndarray:
    """Index of the share each uniform draw falls in (shares sum to 1)."""
    edges = np.cumsum(shares)
    return np.minimum(np.searchsorted(edges, uniform, side="right"), len(shares) - 1)


def draw_households(scenario, clock: Clock, routes: list[RouteSpec], crossing_names: list[str],
                    camp_names: list[str], seed: int, replication: int) -> HouseholdTable:
    """Cut every group into households and pre-draw all their variates for one replication."""
    parts: list[dict[str, np.ndarray]] = []
    initial = _initial_people_by_group(scenario, routes, crossing_names, camp_names)
    for group_id, (group_name, group) in enumerate(scenario.groups.items()):
        parts.append(_draw_group(scenario, clock, routes, crossing_names, camp_names, group_id,
                                 group_name, group, initial.get(group_name, []), seed, replication))
    if len(parts) == 1:  # one group: its arrays are the table (no copy)
        return HouseholdTable(**parts[0])
    for part in parts:
        part.pop("departure_order")
    table = {key: np.concatenate([part[key] for part in parts], axis=-1) for key in parts[0]}
    return HouseholdTable(**table)


def _members_by_value(values: np.ndarray):
    """(value, indices holding it, ascending) for each distinct value, in increasing value: one
    stable sort of small integers (a radix sort) instead of one full comparison per value. Ids
    fit in 16 bits, where numpy's stable sort is a radix sort: four times faster than on int64,
    and the same order (equal values keep their index order either way)."""
    small = len(values) and -2**15 <= values.min() and values.max() < 2**15
    order = np.argsort(values.astype(np.int16) if small else values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])) if len(values) else []
    ends = [*starts[1:], len(values)]
    for start, end in zip(starts, ends):
        yield int(sorted_values[start]), order[start:end]


def _choose_routes(uniform: np.ndarray, origin_index: np.ndarray, deported: np.ndarray, origin_names: list[str],
                   group_routes: list[RouteSpec], routes: list[RouteSpec]) -> np.ndarray:
    """Each household's route: among its origin's routes, by the voluntary or deported shares.

    Vectorised over every (origin, mode) pair at once: a table of cumulative shares per pair, and
    the route is the number of cumulative shares at or below the household's uniform draw — what
    ``_categorical`` computes pair by pair, in a few passes over the households instead of two
    masks per pair."""
    candidates = [[routes.index(r) for r in group_routes if r.origin == name] for name in origin_names]
    width = max(len(c) for c in candidates)
    edges = np.full((2 * len(origin_names), width), np.inf)
    route_of = np.full((2 * len(origin_names), width), NO_NODE, dtype=np.int64)
    last = np.zeros(2 * len(origin_names), dtype=np.int64)
    for o, pair_routes in enumerate(candidates):
        for is_deported in (False, True):
            pair = 2 * o + is_deported
            shares = [routes[r].deported_share if is_deported else routes[r].voluntary_share for r in pair_routes]
            edges[pair, :len(shares)] = np.cumsum(shares)
            route_of[pair, :len(shares)] = pair_routes
            last[pair] = len(shares) - 1
    pair = 2 * origin_index + deported
    chosen = np.zeros(len(uniform), dtype=np.int64)
    for column in range(width):
        chosen += edges[pair, column] <= uniform
    return route_of[pair, np.minimum(chosen, last[pair])]


def _initial_people_by_group(scenario, routes, crossing_names, camp_names):
    """``initial`` entries assigned to the first group whose routes use that crossing or camp."""
    assigned: dict[str, list[tuple[str, str, int]]] = {}
    entries = [("queued", name, people) for name, people in scenario.initial.queued.items()]
    entries += [("in_camps", name, people) for name, people in scenario.initial.in_camps.items()]
    for kind, node, people in entries:
        for group_name, group in scenario.groups.items():
            if any(_route_uses(route, kind, node, crossing_names, camp_names)
                   for route in routes if route.origin in group.origins):
                assigned.setdefault(group_name, []).append((kind, node, people))
                break
        else:
            raise ValueError(f"initial.{kind}.{node}: no group has a route through {node}")
    return assigned


def _route_uses(route: RouteSpec, kind: str, node: str, crossing_names, camp_names) -> bool:
    if kind == "queued":
        return crossing_names[route.crossing_id] == node
    return route.camp_id != NO_NODE and camp_names[route.camp_id] == node


def _draw_group(scenario, clock, routes, crossing_names, camp_names, group_id, group_name, group,
                initial_entries, seed, replication) -> dict[str, np.ndarray]:
    """Every draw of one group's households: the initial households first, then the stock.

    Each kind of draw comes from its own named stream (``size/<group>``, ``departure/<group>`` ...),
    so a change to one never shifts another (common random numbers).
    """
    def rng(purpose: str) -> np.random.Generator:
        return stream(seed, replication, f"{purpose}/{group_name}")

    group_routes = [route for route in routes if route.origin in group.origins]
    initial = _initial_households(initial_entries, group, group_routes, routes, crossing_names, camp_names,
                                  seed, replication)
    initial_people = sum(people for _, _, people in initial_entries)
    stock_sizes = cut_into_households(group.people - initial_people, group.household_size, rng("size"))
    n_initial = len(initial.sizes)
    n = n_initial + len(stock_sizes)
    sizes = np.concatenate([initial.sizes, stock_sizes]).astype(np.int64)
    depart, departure_order, step_hours, deported_shares = _departure_times(
        scenario, group, clock, rng, n_initial, len(stock_sizes), group.people - initial_people)
    deported = _deported(rng, depart, step_hours, deported_shares, n_initial)

    origin_names = list(group.origins)
    origin_index = (_categorical(rng("origin").random(n), list(group.origins.values())) if len(group.origins) > 1
                    else np.zeros(n, dtype=np.int64))
    route_id = _choose_routes(rng("route").random(n), origin_index, deported, origin_names, group_routes, routes)
    if n_initial:
        route_id[:n_initial] = initial.route_id
    crossing_id = np.array([route.crossing_id for route in routes], dtype=np.int64)[route_id]
    camp_id = np.array([route.camp_id for route in routes], dtype=np.int64)[route_id]
    if n_initial:
        crossing_id[:n_initial] = initial.crossing_id
        camp_id[:n_initial] = initial.camp_id

    travel, onward, camp_stay = _legs(scenario, rng, routes, camp_names, route_id, camp_id, n)
    travel[:n_initial] = 0.0
    return {
        "group_id": np.full(n, group_id, dtype=np.int64),
        "size_people": sizes,
        "depart_hours": depart,
        "deported": deported,
        "camp_id": camp_id,
        "crossing_id": crossing_id,
        "arrive_hours": depart + travel,
        "onward_hours": onward,
        "camp_stay_hours": camp_stay,
        **_processing_draws(scenario, rng, crossing_names, n),
        "departure_order": departure_order,
    }


class _InitialHouseholds(NamedTuple):
    sizes: np.ndarray
    crossing_id: np.ndarray
    camp_id: np.ndarray
    route_id: np.ndarray


def _initial_households(initial_entries, group, group_routes, routes, crossing_names, camp_names, seed,
                        replication) -> _InitialHouseholds:
    """Households already in the system at time 0 (``initial:``), carved out of the stock first, each
    on a route of the group that reaches its crossing or camp."""
    sizes, crossing, camp, route_ids = [], [], [], []
    for kind, node, people in initial_entries:
        cut = cut_into_households(people, group.household_size, stream(seed, replication, f"initial/{kind}/{node}"))
        route = next(r for r in group_routes if _route_uses(r, kind, node, crossing_names, camp_names))
        sizes.append(cut)
        crossing.append(np.full(len(cut), route.crossing_id))
        camp.append(np.full(len(cut), route.camp_id if kind == "in_camps" else NO_NODE))
        route_ids.append(np.full(len(cut), routes.index(route)))

    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    return _InitialHouseholds(joined(sizes), joined(crossing), joined(camp), joined(route_ids))


def _departure_times(scenario, group, clock, rng, n_initial: int, n_stock: int, stock_people: float):
    """Who of the stock leaves, and when (hours; ``inf`` = stays), after the initial households
    (departed at time 0). Also the order of departure for a schedule, and the departure steps.
    ``stock_people`` (the group's people less its initial households) turns steps given as people
    per day into rates, with the leavers *expected* (as the fluid path does), not this draw's."""
    # A draw that cannot change anything is skipped (its stream is simply not used: no other
    # stream shifts, so common random numbers hold).
    leaver = rng("leaver").random(n_stock) >= group.never_leave if group.never_leave > 0 else np.ones(n_stock, bool)
    step_hours, steps, deported_shares = departure_steps(scenario, group, clock)
    depart = np.full(n_stock, np.inf)
    departure_order = None
    if not steps:
        pass  # every step falls after the period (a policy phase moved out of it): nobody leaves
    elif group.departures.hazard is not None:
        thresholds = rng("departure").exponential(1.0, n_stock)
        values, given_per_day = zip(*(step_value(step) for step in steps))
        rates = hazard_rates_per_day(step_hours, values, given_per_day, stock_people * (1 - group.never_leave))
        times = invert_cumulative_rate(thresholds, step_hours, [rate / 24.0 for rate in rates], clock.horizon_hours)
        depart[leaver] = times[leaver]
    else:
        order = rng("order").permutation(np.flatnonzero(leaver))
        mean_size = group.household_size.mean()
        arrivals = np.cumsum(rng("departure").exponential(1.0, len(order)))
        times = invert_cumulative_rate(arrivals, step_hours, [step.per_day / mean_size / 24.0 for step in steps],
                                       clock.horizon_hours)
        depart[order] = times
        # A schedule hands out departure times in this order, rising: the order of departure,
        # after the initial households (who are there at time 0).
        departure_order = np.concatenate([np.arange(n_initial), n_initial + order[np.isfinite(times)]])
    return np.concatenate([np.zeros(n_initial), depart]), departure_order, step_hours, deported_shares


def _deported(rng, depart: np.ndarray, step_hours, deported_shares, n_initial: int) -> np.ndarray:
    """Deported or voluntary: the share in force at the departure (a policy phase may change it).
    One uniform draw per household, so changing a share never shifts any other draw."""
    n = len(depart)
    if not any(share > 0 for share in deported_shares):
        return np.zeros(n, bool)
    mode_draw = rng("mode").random(n)
    in_step = np.clip(np.searchsorted(np.asarray(step_hours), depart, side="right") - 1, 0,
                      len(deported_shares) - 1)
    deported = mode_draw < np.asarray(deported_shares)[in_step]
    deported[:n_initial] = False
    return deported


def _legs(scenario, rng, routes, camp_names, route_id: np.ndarray, camp_id: np.ndarray, n: int):
    """Travel and onward legs, drawn per route for the households that take it (in household
    order), and the stay of each household in its camp."""
    travel = np.zeros(n)
    onward = np.zeros(n)
    for r, members in _members_by_value(route_id):
        route = routes[r]
        travel[members] = route.travel.sample(rng(f"travel/{route.origin}/{route.index}"), len(members))
        if route.onward is not None:
            onward[members] = route.onward.sample(rng(f"onward/{route.origin}/{route.index}"), len(members))
    camp_stay = np.zeros(n)
    if camp_names:
        for c, members in _members_by_value(camp_id):
            if c != NO_NODE:
                camp_name = camp_names[c]
                camp_stay[members] = scenario.camps[camp_name].stay.sample(rng(f"stay/{camp_name}"), len(members))
    return travel, onward, camp_stay


def _processing_draws(scenario, rng, crossing_names, n: int) -> dict[str, np.ndarray]:
    """Service times at every crossing, reroute draws, and stays at every reception centre: drawn for
    every household, because where it is served and received may change during the run (a reroute)."""
    crossings = list(scenario.crossings.values())
    service = np.empty((len(crossings), n))
    for row, (name, crossing) in enumerate(zip(crossing_names, crossings)):
        service[row] = crossing.service.sample(rng(f"service/{name}"), n)
    # Reroute draws only where a crossing has a reroute rule (an unused stream is never drawn).
    if any(crossing.reroute for crossing in crossings):
        reroute_draw = np.ones((len(crossings), n))
        reroute_travel = np.zeros((len(crossings), n))
        for row, (name, crossing) in enumerate(zip(crossing_names, crossings)):
            if crossing.reroute and n:
                reroute_draw[row] = rng(f"reroute/{name}").random(n)
                reroute_travel[row] = crossing.reroute.travel.sample(rng(f"reroute-travel/{name}"), n)
    else:  # never read without a reroute rule: read-only views, nothing allocated
        reroute_draw = np.broadcast_to(1.0, (len(crossings), n))
        reroute_travel = np.broadcast_to(0.0, (len(crossings), n))
    reception_stay = np.empty((len(scenario.reception), n))
    for row, (name, reception) in enumerate(scenario.reception.items()):
        reception_stay[row] = reception.stay.sample(rng(f"stay/{name}"), n)
    return {"service_hours": service, "reroute_draw": reroute_draw, "reroute_travel_hours": reroute_travel,
            "reception_stay_hours": reception_stay}
