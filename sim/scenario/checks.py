"""Cross-reference and semantic checks of a scenario, beyond what each model checks on its own.

Names must refer to things that exist (a route's crossing, a camp, a reception centre); shares must
add up (a group's origins; for each origin, the routes of each departure mode); dated windows must
make sense against the period; household sizes can never be below one person.

The checks read the plain data *defensively* (any value may still have the wrong type) so that they
run even when pydantic found other problems: the user sees every problem of the file at once. A
check skips a value of the wrong type, which pydantic reports anyway.

Windows partly outside the period are clipped to it, with a warning: the returned ``clips`` are
applied to the data before it is turned into models, so the engine only sees dates in the period.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from sim.scenario.distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Poisson,
    Triangular,
    Uniform,
)
from sim.scenario.keypath import KeyPath, format_key_path
from sim.scenario.policies import PolicyDate, parse_date_ref

if TYPE_CHECKING:  # messages (pydantic's errors reworded) is imported only when a file has problems
    from sim.scenario.messages import Finding

SHARE_TOLERANCE = 1e-6
_DISTRIBUTION = TypeAdapter(Distribution)


@dataclass
class CheckResult:
    """Problems (fatal), warnings, and dates to clip into the period, all by key path."""

    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    clips: list[tuple[KeyPath, dt.date]] = field(default_factory=list)


def minimum_value(distribution: Any) -> float:
    """The smallest value a distribution can produce (0 for the unbounded-below-by-zero ones)."""
    if isinstance(distribution, Fixed):
        return distribution.value
    if isinstance(distribution, (Uniform, Triangular)):
        return distribution.low
    if isinstance(distribution, Exponential):
        return 0.0
    if isinstance(distribution, (Lognormal, Gamma)):
        return distribution.mean_ if distribution.sd == 0 else 0.0
    if isinstance(distribution, Poisson):
        return distribution.shift  # Poisson(mean) can always be 0
    if isinstance(distribution, Empirical):
        weights = distribution.weights or [1.0] * len(distribution.values)
        return min(value for value, weight in zip(distribution.values, weights) if weight > 0)
    raise TypeError(f"unknown distribution {distribution!r}")


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _distribution(value: Any) -> Any | None:
    try:
        return _DISTRIBUTION.validate_python(value)
    except ValidationError:
        return None


def _safe_reference(value: Any) -> Any:
    try:
        return parse_date_ref(value)
    except ValueError:
        return None


def _names(value: Any) -> str:
    return ", ".join(sorted(str(name) for name in _mapping(value))) or "none"


def _sum_text(total: float) -> str:
    return str(round(total, 9))


class _Checker:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.result = CheckResult()
        start, end = _date(_mapping(data.get("period")).get("start")), _date(_mapping(data.get("period")).get("end"))
        self.period: tuple[dt.date, dt.date] | None = None
        if start is not None and end is not None:
            if end < start:
                self.problem(("period", "end"), f"the period ends on {end}, before it starts on {start}")
            else:
                self.period = (start, end)
        self.policy_days: dict[str, dt.date] = {}
        for name, policy in _mapping(data.get("policies")).items():
            day = _date(_mapping(policy).get("from"))
            if day is not None:
                self.policy_days[str(name)] = day
        self.policies_used: set[str] = set()

    def problem(self, path: KeyPath, message: str) -> None:
        self.result.problems.append((path, message))

    def warn(self, path: KeyPath, message: str) -> None:
        self.result.warnings.append((path, message))

    def clip(self, path: KeyPath, date: dt.date) -> None:
        self.result.clips.append((path, date))

    def reference(self, path: KeyPath, name: Any, section: str, what: str) -> None:
        """A name at ``path`` must be a key of the top-level ``section``."""
        if isinstance(name, str) and name not in _mapping(self.data.get(section)):
            self.problem(path, f"{what} '{name}' is not defined under {section}: (defined: {_names(self.data.get(section))})")

    def shares_sum_to_one(self, path: KeyPath, shares: list[Any], label: str) -> None:
        numbers = [_number(share) for share in shares]
        if any(number is None for number in numbers):
            return
        total = sum(numbers)  # type: ignore[arg-type]
        if abs(total - 1.0) > SHARE_TOLERANCE:
            self.problem(path, f"{label} sum to {_sum_text(total)}; they must sum to 1 (within 1e-6)")

    # --- sections -------------------------------------------------------------------------------

    def groups(self) -> None:
        for name, group in _mapping(self.data.get("groups")).items():
            group = _mapping(group)
            base: KeyPath = ("groups", name)
            origins = group.get("origins")
            if isinstance(origins, dict):
                for origin in origins:
                    self.reference(base + ("origins", origin), origin, "origins", "origin")
                self.shares_sum_to_one(
                    base + ("origins",), list(origins.values()), f"shares of {format_key_path(base + ('origins',))}"
                )
            self.household_size(base + ("household_size",), group.get("household_size"))
            self.departures(base + ("departures",), group.get("departures"))

    def household_size(self, path: KeyPath, value: Any) -> None:
        distribution = _distribution(value)
        if distribution is None:
            return
        smallest = minimum_value(distribution)
        if smallest < 1:
            self.problem(
                path,
                f"household sizes must be at least 1 person, but this {distribution.dist} distribution can give "
                f"{smallest:g}; e.g. write {{dist: poisson, mean: 5, shift: 1}}",
            )

    def departures(self, path: KeyPath, value: Any) -> None:
        if not isinstance(value, dict):
            return
        given = [key for key in ("hazard", "schedule") if value.get(key) is not None]
        if len(given) != 1:
            got = "both" if len(given) == 2 else "neither"
            self.problem(
                path,
                "departures must have exactly one of hazard (a rate per day for each household) or "
                f"schedule (people per day), got {got}",
            )
        for key in given:
            self.steps(path + (key,), _items(value.get(key)), key)

    def hazard_value(self, path: KeyPath, step: dict) -> None:
        """A hazard step gives its speed once: ``rate`` or ``people_per_day``."""
        given = [key for key in ("rate", "people_per_day") if step.get(key) is not None]
        if step and len(given) != 1:
            got = "both" if len(given) == 2 else "neither"
            self.problem(path, "a hazard step needs exactly one of rate (per day, for each household that will "
                               f"leave) or people_per_day (people leaving per day when the step starts), got {got}")

    def step_day(self, path: KeyPath, value: Any) -> tuple[dt.date | None, str]:
        """A step's ``from`` as a calendar day, and how to name it in messages (``acc_phase + 30d =
        2025-05-01``); None when it cannot be read (pydantic reports that) or names no policy."""
        try:
            reference = parse_date_ref(value)
        except ValueError:
            return None, ""
        if not isinstance(reference, PolicyDate):
            return reference, str(reference)
        self.policies_used.add(reference.policy)
        if reference.policy not in _mapping(self.data.get("policies")):
            self.problem(path, f"policy '{reference.policy}' is not defined under policies: "
                               f"(defined: {_names(self.data.get('policies'))})")
            return None, ""
        if reference.policy not in self.policy_days:
            return None, ""
        day = reference.resolve(self.policy_days)
        return day, f"{reference} = {day}"

    def steps(self, path: KeyPath, steps: list[Any], kind: str) -> None:
        """Hazard/schedule steps: in date order; each applies until the next, the last to the end.

        A step placed by a policy phase may fall after the period (a variant that moves the phase
        out of it): that is a warning, and the step never applies. A literal date there is an error.
        """
        if kind == "hazard":
            for index, step in enumerate(steps):
                self.hazard_value(path + (index,), _mapping(step))
        resolved = [self.step_day(path + (index, "from"), _mapping(step).get("from"))
                    for index, step in enumerate(steps)]
        dates = [day for day, _ in resolved]
        for index, start in enumerate(dates):
            if start is None:
                continue
            where = path + (index, "from")
            text = resolved[index][1]
            by_policy = isinstance(_safe_reference(_mapping(steps[index]).get("from")), PolicyDate)
            previous = dates[index - 1] if index > 0 else None
            if previous is not None and start <= previous:
                self.problem(where, f"{kind} steps must be in increasing date order: {text} is not after "
                                    f"{resolved[index - 1][1]}")
                continue
            if self.period is None:
                continue
            period_start, period_end = self.period
            following = dates[index + 1] if index + 1 < len(dates) else None
            last_day = following - dt.timedelta(days=1) if following is not None and following > start else period_end
            if start > period_end:
                if by_policy:
                    self.warn(where, f"the step starts on {text}, after the period ends ({period_end}): "
                                     "it never applies")
                else:
                    self.problem(where, f"the step starts on {start}, after the period ends ({period_end}): it never applies")
            elif last_day < period_start:
                self.problem(
                    where,
                    f"the step applies {start}..{last_day}, wholly before the period starts ({period_start}); "
                    "remove it or move it into the period",
                )
            elif start < period_start:
                self.clip(where, period_start)
                self.warn(where, f"the step starts on {text}, before the period ({period_start}): clipped to {period_start}")

    def policies(self) -> None:
        """A policy that no departure step refers to is most likely a typo of one that is."""
        for name in _mapping(self.data.get("policies")):
            if str(name) not in self.policies_used:
                self.warn(("policies", name), f"policy '{name}' is not referred to by any departure step "
                                              "(write from: {name} in a group's hazard or schedule)".replace("{name}", str(name)))

    def origins(self) -> None:
        for name, origin in _mapping(self.data.get("origins")).items():
            routes = _items(_mapping(origin).get("routes"))
            base: KeyPath = ("origins", name, "routes")
            voluntary: list[Any] = []
            deported: list[Any] = []
            for index, route in enumerate(routes):
                route = _mapping(route)
                self.reference(base + (index, "crossing"), route.get("crossing"), "crossings", "crossing")
                if route.get("via") is not None:
                    self.reference(base + (index, "via"), route.get("via"), "camps", "camp")
                elif route.get("onward") is not None:
                    self.warn(base + (index, "onward"), "onward (camp to crossing) is ignored: the route has no via camp")
                voluntary.append(route.get("voluntary"))
                deported.append(route.get("deported", route.get("voluntary")))
            if routes:
                label = format_key_path(base)
                self.shares_sum_to_one(base, voluntary, f"voluntary shares of {label}")
                self.shares_sum_to_one(
                    base, deported, f"deported shares of {label} (a route without 'deported' uses its voluntary share)"
                )

    def crossings(self) -> None:
        for name, crossing in _mapping(self.data.get("crossings")).items():
            crossing = _mapping(crossing)
            base: KeyPath = ("crossings", name)
            if crossing.get("reception") is not None:
                self.reference(base + ("reception",), crossing.get("reception"), "reception", "reception centre")
            reroute = _mapping(crossing.get("reroute"))
            target = reroute.get("to")
            if target is not None:
                if target == name:
                    self.problem(base + ("reroute", "to"), f"reroute must go to another crossing than {name} itself")
                else:
                    self.reference(base + ("reroute", "to"), target, "crossings", "crossing")

    def initial(self) -> None:
        """Initial households are carved out of the first group whose routes use that crossing or
        camp (DESIGN §3.9): there must be one, and it must hold that many people."""
        initial = _mapping(self.data.get("initial"))
        carved: dict[str, int] = {}
        for kind, key, section, what in (("queued", "crossing", "crossings", "crossing"),
                                         ("in_camps", "via", "camps", "camp")):
            for name, people in _mapping(initial.get(kind)).items():
                path: KeyPath = ("initial", kind, name)
                self.reference(path, name, section, what)
                if name not in _mapping(self.data.get(section)):
                    continue
                group = self._first_group_using(key, name)
                if group is None:
                    self.problem(path, f"no group's routes lead to {what} {name}: initial households are taken "
                                       f"from the first group whose routes use it")
                elif isinstance(people, int) and not isinstance(people, bool):
                    carved[group] = carved.get(group, 0) + people
        groups = _mapping(self.data.get("groups"))
        for group, people in carved.items():
            stock = _mapping(groups.get(group)).get("people")
            if isinstance(stock, int) and people > stock:
                self.problem(("initial",), f"initial households take {people} people from group {group}, "
                                           f"which has only {stock}")

    def _first_group_using(self, key: str, name: str) -> str | None:
        """The first group (in file order) with a route whose ``key`` (crossing or via) is ``name``."""
        origins = _mapping(self.data.get("origins"))
        for group_name, group in _mapping(self.data.get("groups")).items():
            for origin in _mapping(_mapping(group).get("origins")):
                routes = _items(_mapping(origins.get(origin)).get("routes"))
                if any(_mapping(route).get(key) == name for route in routes):
                    return group_name
        return None

    def window(self, path: KeyPath, start_key: str, end_key: str, start: Any, end: Any) -> None:
        """A dated window [start, end], both days included, against the period."""
        start, end = _date(start), _date(end)
        if start is None or end is None:
            return
        if end < start:
            self.problem(path + (end_key,), f"the window ends ({end_key}: {end}) before it starts ({start_key}: {start})")
            return
        if self.period is None:
            return
        period_start, period_end = self.period
        if end < period_start or start > period_end:
            self.problem(
                path,
                f"the window {start}..{end} lies wholly outside the period {period_start}..{period_end}",
            )
            return
        if start < period_start:
            self.clip(path + (start_key,), period_start)
            self.warn(path + (start_key,), f"{start_key} {start} is before the period start: clipped to {period_start}")
        if end > period_end:
            self.clip(path + (end_key,), period_end)
            self.warn(path + (end_key,), f"{end_key} {end} is after the period end: clipped to {period_end}")

    def slowdowns(self) -> None:
        for index, slowdown in enumerate(_items(self.data.get("slowdowns"))):
            slowdown = _mapping(slowdown)
            self.reference(("slowdowns", index, "at"), slowdown.get("at"), "crossings", "crossing")
            self.window(("slowdowns", index), "from", "to", slowdown.get("from"), slowdown.get("to"))
            if slowdown and not any(slowdown.get(key) is not None for key in ("hours", "max_people_per_day")) and (
                _number(slowdown.get("factor", 1.0)) == 1.0
            ):
                self.warn(("slowdowns", index), "this slowdown changes nothing: set factor, hours or max_people_per_day")

    def disruptions(self) -> None:
        for index, disruption in enumerate(_items(self.data.get("disruptions"))):
            disruption = _mapping(disruption)
            self.reference(("disruptions", index, "at"), disruption.get("at"), "crossings", "crossing")
            for key in ("every", "lasting"):
                distribution = _distribution(disruption.get(key))
                if distribution is not None and distribution.mean() <= 0:
                    self.problem(("disruptions", index, key), f"{key} must have a positive mean (spells alternate forever otherwise)")

    def target(self) -> None:
        if "target" not in self.data or not isinstance(self.data["target"], dict):
            return
        target = self.data["target"]
        for index, group in enumerate(_items(target.get("groups"))):
            self.reference(("target", "groups", index), group, "groups", "group")
        by = _date(target.get("by"))
        if by is None or self.period is None:
            return
        period_start, period_end = self.period
        if not period_start <= by <= period_end:
            self.problem(("target", "by"), f"the target date {by} is outside the period {period_start}..{period_end}")
            return
        if target.get("count_from") is not None:
            self.window(("target",), "count_from", "by", target.get("count_from"), by)


    def needs(self) -> None:
        """An item needed at a kind of place the scenario does not have (no reception centres, no
        camps) is never counted there: a warning, not an error, since bundled items written in a
        base scenario may outlive the places of a variant."""
        from sim.scenario.needs_defaults import with_bundled

        sections = {"reception": "reception", "camps": "camps", "outside_camps": "camps"}
        for name, item in _mapping(with_bundled(self.data.get("needs"))).items():
            places = _mapping(item).get("at")
            for place in [places] if isinstance(places, str) else _items(places):
                section = sections.get(place) if isinstance(place, str) else None
                if section and not _mapping(self.data.get(section)):
                    what = "reception centres" if section == "reception" else section
                    self.warn(("needs", name), f"needed at {place}, but the scenario has no {what}: "
                                               "it is never needed there")


def check_scenario_data(data: dict[str, Any]) -> CheckResult:
    """Every cross-reference and semantic check of plain scenario data (see the module docstring)."""
    checker = _Checker(data)
    checker.groups()
    checker.policies()
    checker.origins()
    checker.crossings()
    checker.initial()
    checker.slowdowns()
    checker.disruptions()
    checker.target()
    checker.needs()
    return checker.result
