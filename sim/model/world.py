"""The static layout of a scenario, shared by all its replications: the clock, the names of its
nodes in a fixed order (their integer ids), the routes flattened, and the camps' dispatch instants."""
from __future__ import annotations

from dataclasses import dataclass

from sim.model.clock import HOURS_PER_DAY, Clock
from sim.model.households import NO_NODE, RouteSpec

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class World:
    """The static layout of a scenario, shared by all its replications."""

    clock: Clock
    crossing_names: list[str]
    camp_names: list[str]
    reception_names: list[str]
    group_names: list[str]
    routes: list[RouteSpec]


def build_world(scenario) -> World:
    crossing_names = list(scenario.crossings)
    camp_names = list(scenario.camps)
    routes = []
    for origin_name, origin in scenario.origins.items():
        for index, route in enumerate(origin.routes):
            routes.append(RouteSpec(
                origin=origin_name,
                index=index,
                crossing_id=crossing_names.index(route.crossing),
                camp_id=camp_names.index(route.via) if route.via is not None else NO_NODE,
                travel=route.travel,
                onward=route.onward,
                voluntary_share=route.voluntary,
                deported_share=route.voluntary if route.deported is None else route.deported,
            ))
    return World(
        clock=Clock(scenario.period.start, scenario.period.end),
        crossing_names=crossing_names,
        camp_names=camp_names,
        reception_names=list(scenario.reception),
        group_names=list(scenario.groups),
        routes=routes,
    )


def dispatch_hours(dispatch, clock: Clock) -> list[float]:
    """Every dispatch instant of a camp within the period, in hours."""
    days = {WEEKDAYS.index(day) for day in dispatch.days}
    return [day * HOURS_PER_DAY + dispatch.at for day in range(clock.n_days)
            if clock.date_of(day).weekday() in days and day * HOURS_PER_DAY + dispatch.at < clock.horizon_hours]
