"""Every validation rule of the scenario format (DESIGN.md §2), each with its message pinned.

Each test edits ``MINIMAL_SCENARIO`` in place (so line numbers stay those of the minimal file:
people 6, household_size 7, origins 8, departures 9, hazard step 11, route 15, torkham 17,
lanes 18, service 19) or appends sections after its last line (19).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MINIMAL_SCENARIO, scenario_problems, write_scenario

from sim.scenario import ScenarioError, load_scenario

CAMP_AND_RECEPTION = """\
camps:
  lk:
    capacity: 400
    stay: {dist: fixed, value: 8h}
reception:
  omari: {capacity: 30_000, stay: {dist: fixed, value: 2d}}
"""  # lines 20-25 when appended


def problems(tmp_path: Path, text: str, overrides: tuple[str, ...] = ()) -> list[str]:
    return scenario_problems(write_scenario(tmp_path, text), list(overrides))


def edited(old: str, new: str, base: str = MINIMAL_SCENARIO) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def test_minimal_scenario_is_valid(tmp_path: Path) -> None:
    assert problems(tmp_path, MINIMAL_SCENARIO) == []


# --- unknown keys and wrong types -------------------------------------------------------------------


def test_unknown_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    text = edited("    lanes: 4\n", "    lanes: 4\n    lane: 3\n")
    assert problems(tmp_path, text) == [
        ("F:19: crossings.torkham.lane: unknown key 'lane'; allowed keys: "
        "lanes, service, hours, max_people_per_day, reception, reroute")
    ]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert problems(tmp_path, MINIMAL_SCENARIO + "slowdown: []\n") == [
        ("F:20: slowdown: unknown key 'slowdown'; allowed keys: name, description, extends, period, target, run, "
        "policies, groups, origins, camps, crossings, reception, initial, slowdowns, disruptions, needs, observed, "
        "uncertain")
    ]


def test_unknown_key_in_a_distribution(tmp_path: Path) -> None:
    text = edited("{dist: fixed, value: 30min}", "{dist: lognormal, mean: 30min, sigma: 10min}")
    assert problems(tmp_path, text) == [
        "F:19: crossings.torkham.service.sd: 'sd' is required",
        "F:19: crossings.torkham.service.sigma: unknown key 'sigma'; allowed keys: dist, mean, sd",
    ]


def test_wrong_type_of_a_count(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("lanes: 4", "lanes: four")) == [
        "F:18: crossings.torkham.lanes: lanes must be a whole number, got 'four'"
    ]


def test_boolean_is_not_a_number(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("lanes: 4", "lanes: yes")) == [
        "F:18: crossings.torkham.lanes: lanes must be a number, got true"
    ]


def test_wrong_type_of_a_date(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("end: 2023-11-30", "end: 2023-13-30")) == [
        "F:2: period.end: end must be an ISO date such as 2023-11-01, got '2023-13-30'"
    ]


def test_mapping_expected(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("service: {dist: fixed, value: 30min}", "service: 30min")) == [
        ("F:19: crossings.torkham.service: service must be a distribution with a 'dist' key (fixed, uniform, "
        "triangular, exponential, lognormal, gamma, poisson, empirical), got '30min'")
    ]


def test_required_key_missing(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("    lanes: 4\n", "")) == ["F:17: crossings.torkham.lanes: 'lanes' is required"]


def test_null_means_not_given(tmp_path: Path) -> None:
    text = edited("    lanes: 4\n", "    lanes: 4\n    max_people_per_day: null\n") + "camps: null\n"
    scenario = load_scenario(write_scenario(tmp_path, text))
    assert scenario.crossings["torkham"].max_people_per_day is None
    assert scenario.camps == {}


# --- counts -----------------------------------------------------------------------------------------


def test_lanes_must_be_positive(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("lanes: 4", "lanes: 0")) == [
        "F:18: crossings.torkham.lanes: lanes must be a positive integer, got 0"
    ]


def test_people_must_be_positive(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("people: 6000", "people: -5")) == [
        "F:6: groups.undocumented.people: people must be a positive integer, got -5"
    ]


def test_capacity_must_be_positive(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + edited("capacity: 400", "capacity: 0", CAMP_AND_RECEPTION)
    assert problems(tmp_path, text) == ["F:22: camps.lk.capacity: capacity must be a positive integer, got 0"]


def test_absurd_number_of_people(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("people: 6000", "people: 2_000_000_000")) == [
        ("F:6: groups.undocumented.people: people must be at most 10^9 (1_000_000_000), got 2_000_000_000: "
        "more people than that is a typo")
    ]


def test_counts_accept_underscores(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path, edited("people: 6000", "people: 1_000_000")))
    assert scenario.groups["undocumented"].people == 1_000_000


def test_initial_people_must_be_positive(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "initial: {queued: {torkham: 0}}\n"
    assert problems(tmp_path, text) == ["F:20: initial.queued.torkham: torkham must be a positive integer, got 0"]


# --- shares -----------------------------------------------------------------------------------------


def test_share_outside_zero_one(tmp_path: Path) -> None:
    text = edited("    origins: {kp: 1.0}\n", "    origins: {kp: 1.0}\n    never_leave: 1.5\n")
    assert problems(tmp_path, text) == [
        "F:9: groups.undocumented.never_leave: never_leave must be a share between 0 and 1, got 1.5"
    ]


def test_origin_shares_must_sum_to_one(tmp_path: Path) -> None:
    text = edited("origins: {kp: 1.0}", "origins: {kp: 0.95}")
    assert problems(tmp_path, text) == [
        ("F:8: groups.undocumented.origins: shares of groups.undocumented.origins sum to 0.95; "
        "they must sum to 1 (within 1e-6)")
    ]


def test_origin_shares_within_tolerance_are_accepted(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("origins: {kp: 1.0}", "origins: {kp: 0.9999999}")) == []


def test_voluntary_route_shares_must_sum_to_one(tmp_path: Path) -> None:
    text = edited("voluntary: 1.0}", "voluntary: 0.5, deported: 1.0}")
    assert problems(tmp_path, text) == [
        "F:14: origins.kp.routes: voluntary shares of origins.kp.routes sum to 0.5; they must sum to 1 (within 1e-6)"
    ]


def test_deported_route_shares_default_to_voluntary_and_must_sum_to_one(tmp_path: Path) -> None:
    route = "      - {crossing: torkham, travel: {dist: fixed, value: 6h}, voluntary: 1.0}\n"
    two_routes = (
        "      - {crossing: torkham, travel: {dist: fixed, value: 6h}, voluntary: 0.6, deported: 0.6}\n"
        "      - {crossing: torkham, travel: {dist: fixed, value: 9h}, voluntary: 0.4, deported: 0.0}\n"
    )
    assert problems(tmp_path, edited(route, two_routes)) == [
        ("F:14: origins.kp.routes: deported shares of origins.kp.routes (a route without 'deported' uses its "
        "voluntary share) sum to 0.6; they must sum to 1 (within 1e-6)")
    ]
    defaulted = two_routes.replace(", deported: 0.0", "")  # deported shares 0.6 + 0.4 (defaulted) = 1
    assert problems(tmp_path, edited(route, defaulted)) == []


# --- references -------------------------------------------------------------------------------------


def test_group_origin_must_be_defined(tmp_path: Path) -> None:
    text = edited("origins: {kp: 1.0}", "origins: {kp: 0.5, sindh: 0.5}")
    assert problems(tmp_path, text) == [
        "F:8: groups.undocumented.origins.sindh: origin 'sindh' is not defined under origins: (defined: kp)"
    ]


def test_route_crossing_must_be_defined(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("{crossing: torkham,", "{crossing: torkam,")) == [
        "F:15: origins.kp.routes.0.crossing: crossing 'torkam' is not defined under crossings: (defined: torkham)"
    ]


def test_route_camp_must_be_defined(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("{crossing: torkham,", "{crossing: torkham, via: landi_kotal,")) == [
        "F:15: origins.kp.routes.0.via: camp 'landi_kotal' is not defined under camps: (defined: none)"
    ]


def test_crossing_reception_must_be_defined(tmp_path: Path) -> None:
    text = edited("    lanes: 4\n", "    lanes: 4\n    reception: omary\n") + CAMP_AND_RECEPTION
    assert problems(tmp_path, text) == [
        "F:19: crossings.torkham.reception: reception centre 'omary' is not defined under reception: (defined: omari)"
    ]


def test_reroute_target_must_be_another_defined_crossing(tmp_path: Path) -> None:
    reroute = "    reroute: {to: %s, after: 2d, share: 0.5, travel: {dist: fixed, value: 30h}}\n"
    assert problems(tmp_path, MINIMAL_SCENARIO + reroute % "chaman") == [
        "F:20: crossings.torkham.reroute.to: crossing 'chaman' is not defined under crossings: (defined: torkham)"
    ]
    assert problems(tmp_path, MINIMAL_SCENARIO + reroute % "torkham") == [
        "F:20: crossings.torkham.reroute.to: reroute must go to another crossing than torkham itself"
    ]


def test_initial_references(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "initial:\n  queued: {chaman: 100}\n  in_camps: {lk: 5}\n"
    assert problems(tmp_path, text) == [
        "F:21: initial.queued.chaman: crossing 'chaman' is not defined under crossings: (defined: torkham)",
        "F:22: initial.in_camps.lk: camp 'lk' is not defined under camps: (defined: none)",
    ]


def test_slowdown_and_disruption_crossings_must_be_defined(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + (
        "slowdowns:\n"
        "  - {at: chaman, from: 2023-11-03, to: 2023-11-05, factor: 0.5}\n"
        "disruptions:\n"
        "  - {at: chamman, every: {dist: exponential, mean: 30d}, lasting: {dist: fixed, value: 1d}, factor: 0}\n"
    )
    assert problems(tmp_path, text) == [
        "F:21: slowdowns.0.at: crossing 'chaman' is not defined under crossings: (defined: torkham)",
        "F:23: disruptions.0.at: crossing 'chamman' is not defined under crossings: (defined: torkham)",
    ]


def test_target_groups_must_be_defined(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "target: {people: 1000, by: 2023-11-30, groups: [acc]}\n"
    assert problems(tmp_path, text) == [
        "F:20: target.groups.0: group 'acc' is not defined under groups: (defined: undocumented)"
    ]


# --- dates and windows ------------------------------------------------------------------------------


def test_period_must_not_end_before_it_starts(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("end: 2023-11-30", "end: 2023-10-30")) == [
        "F:2: period.end: the period ends on 2023-10-30, before it starts on 2023-11-01"
    ]


def test_slowdown_window_must_not_end_before_it_starts(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "slowdowns:\n  - {at: torkham, from: 2023-11-10, to: 2023-11-05, factor: 0.5}\n"
    assert problems(tmp_path, text) == [
        "F:21: slowdowns.0.to: the window ends (to: 2023-11-05) before it starts (from: 2023-11-10)"
    ]


def test_slowdown_window_wholly_outside_the_period(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "slowdowns:\n  - {at: torkham, from: 2023-12-10, to: 2023-12-15, factor: 0.5}\n"
    assert problems(tmp_path, text) == [
        "F:21: slowdowns.0: the window 2023-12-10..2023-12-15 lies wholly outside the period 2023-11-01..2023-11-30"
    ]


def test_slowdown_window_partly_outside_is_clipped_with_a_warning(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "slowdowns:\n  - {at: torkham, from: 2023-10-20, to: 2023-12-15, factor: 0.5}\n"
    path = write_scenario(tmp_path, text)
    scenario = load_scenario(path)
    slowdown = scenario.slowdowns[0]
    assert (slowdown.from_, slowdown.to) == (scenario.period.start, scenario.period.end)
    assert [str(warning).replace(str(path), "F") for warning in scenario.warnings] == [
        "F:21: slowdowns.0.from: from 2023-10-20 is before the period start: clipped to 2023-11-01",
        "F:21: slowdowns.0.to: to 2023-12-15 is after the period end: clipped to 2023-11-30",
    ]


def test_target_date_must_be_in_the_period(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "target: {people: 1000, by: 2023-12-31}\n"
    assert problems(tmp_path, text) == [
        "F:20: target.by: the target date 2023-12-31 is outside the period 2023-11-01..2023-11-30"
    ]


def test_target_count_from_after_by(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "target: {people: 1000, by: 2023-11-20, count_from: 2023-11-25}\n"
    assert problems(tmp_path, text) == [
        "F:20: target.by: the window ends (by: 2023-11-20) before it starts (count_from: 2023-11-25)"
    ]


def test_target_count_from_before_the_period_is_clipped(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "target:\n  people: 1000\n  by: 2023-11-20\n  count_from: 2023-10-05\n"
    scenario = load_scenario(write_scenario(tmp_path, text))
    assert scenario.target is not None and scenario.target.count_from == scenario.period.start
    assert [w.message for w in scenario.warnings] == [
        "count_from 2023-10-05 is before the period start: clipped to 2023-11-01"
    ]
    assert [w.line for w in scenario.warnings] == [23]


def hazard(*steps: str) -> str:
    lines = "".join(f"        - {step}\n" for step in steps)
    return edited("        - {from: 2023-11-01, rate: 0.05}\n", lines)


def test_hazard_step_after_the_period(tmp_path: Path) -> None:
    text = hazard("{from: 2023-11-01, rate: 0.05}", "{from: 2023-12-05, rate: 0.1}")
    assert problems(tmp_path, text) == [
        ("F:12: groups.undocumented.departures.hazard.1.from: the step starts on 2023-12-05, after the period "
        "ends (2023-11-30): it never applies")
    ]


def test_hazard_steps_out_of_order(tmp_path: Path) -> None:
    text = hazard("{from: 2023-11-10, rate: 0.05}", "{from: 2023-11-05, rate: 0.1}")
    assert problems(tmp_path, text) == [
        ("F:12: groups.undocumented.departures.hazard.1.from: hazard steps must be in increasing date order: "
        "2023-11-05 is not after 2023-11-10")
    ]


def test_hazard_step_wholly_before_the_period(tmp_path: Path) -> None:
    text = hazard("{from: 2023-09-01, rate: 0.01}", "{from: 2023-10-01, rate: 0.05}", "{from: 2023-11-05, rate: 0.1}")
    assert problems(tmp_path, text) == [
        ("F:11: groups.undocumented.departures.hazard.0.from: the step applies 2023-09-01..2023-09-30, wholly "
        "before the period starts (2023-11-01); remove it or move it into the period")
    ]


def test_hazard_step_straddling_the_period_start_is_clipped(tmp_path: Path) -> None:
    text = hazard("{from: 2023-10-01, rate: 0.05}", "{from: 2023-11-05, rate: 0.1}")
    scenario = load_scenario(write_scenario(tmp_path, text))
    steps = scenario.groups["undocumented"].departures.hazard
    assert steps is not None and [step.from_.isoformat() for step in steps] == ["2023-11-01", "2023-11-05"]
    assert [(w.line, w.key_path) for w in scenario.warnings] == [(11, "groups.undocumented.departures.hazard.0.from")]


def test_schedule_steps_are_windows_too(tmp_path: Path) -> None:
    text = edited(
        "      hazard:\n        - {from: 2023-11-01, rate: 0.05}\n",
        "      schedule:\n        - {from: 2023-12-01, per_day: 500}\n",
    )
    assert problems(tmp_path, text) == [
        ("F:11: groups.undocumented.departures.schedule.0.from: the step starts on 2023-12-01, after the period "
        "ends (2023-11-30): it never applies")
    ]


# --- departures -------------------------------------------------------------------------------------


def test_a_hazard_step_needs_exactly_one_of_rate_or_people_per_day(tmp_path: Path) -> None:
    message = ("F:11: groups.undocumented.departures.hazard.0: a hazard step needs exactly one of rate (per day, for "
               "each household that will leave) or people_per_day (people leaving per day when the step starts), "
               "got {}")
    both = edited("rate: 0.05}", "rate: 0.05, people_per_day: 300}")
    assert problems(tmp_path, both) == [message.format("both")]
    assert problems(tmp_path, edited("rate: 0.05}", "deported_share: 0.1}")) == [message.format("neither")]
    assert problems(tmp_path, edited("rate: 0.05}", "people_per_day: 300}")) == []


def test_departures_need_exactly_one_of_hazard_or_schedule(tmp_path: Path) -> None:
    both = edited("      hazard:\n", "      schedule: [{from: 2023-11-01, per_day: 100}]\n      hazard:\n")
    message = (
        "F:9: groups.undocumented.departures: departures must have exactly one of hazard (a rate per day for each "
        "household) or schedule (people per day), got {}"
    )
    assert problems(tmp_path, both) == [message.format("both")]
    neither = edited("      hazard:\n        - {from: 2023-11-01, rate: 0.05}\n", "      {}\n")
    neither = neither.replace("    departures:\n      {}\n", "    departures: {}\n")
    assert problems(tmp_path, neither) == [message.format("neither")]


def test_hazard_rate_must_not_be_negative(tmp_path: Path) -> None:
    assert problems(tmp_path, edited("rate: 0.05", "rate: -0.05")) == [
        "F:11: groups.undocumented.departures.hazard.0.rate: rate must be >= 0, got -0.05"
    ]


def test_schedule_per_day_must_not_be_negative(tmp_path: Path) -> None:
    text = edited("hazard:\n        - {from: 2023-11-01, rate: 0.05}", "schedule:\n        - {from: 2023-11-01, per_day: -3}")
    assert problems(tmp_path, text) == [
        "F:11: groups.undocumented.departures.schedule.0.per_day: per_day must be >= 0, got -3.0"
    ]


# --- distributions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("household_size", "smallest", "dist"),
    [
        ("{dist: poisson, mean: 5}", "0", "poisson"),
        ("{dist: fixed, value: 0.5}", "0.5", "fixed"),
        ("{dist: uniform, low: 0.5, high: 9}", "0.5", "uniform"),
        ("{dist: lognormal, mean: 6, sd: 2}", "0", "lognormal"),
    ],
)
def test_household_sizes_must_be_at_least_one(tmp_path: Path, household_size: str, smallest: str, dist: str) -> None:
    text = edited("household_size: {dist: fixed, value: 6}", f"household_size: {household_size}")
    assert problems(tmp_path, text) == [
        (f"F:7: groups.undocumented.household_size: household sizes must be at least 1 person, but this {dist} "
        f"distribution can give {smallest}; e.g. write {{dist: poisson, mean: 5, shift: 1}}")
    ]


def test_household_size_one_plus_poisson_is_fine(tmp_path: Path) -> None:
    text = edited("household_size: {dist: fixed, value: 6}", "household_size: {dist: poisson, mean: 5, shift: 1}")
    assert problems(tmp_path, text) == []


def test_distribution_parameter_out_of_range(tmp_path: Path) -> None:
    text = edited("{dist: fixed, value: 30min}", "{dist: lognormal, mean: -1, sd: 10min}")
    assert problems(tmp_path, text) == ["F:19: crossings.torkham.service.mean: mean must be > 0, got -1"]


def test_distribution_parameters_out_of_order(tmp_path: Path) -> None:
    text = edited("{dist: fixed, value: 30min}", "{dist: uniform, low: 2h, high: 1h}")
    assert problems(tmp_path, text) == ["F:19: crossings.torkham.service: uniform needs low <= high"]


def test_unknown_distribution(tmp_path: Path) -> None:
    text = edited("{dist: fixed, value: 30min}", "{dist: normal, mean: 30min, sd: 5min}")
    assert problems(tmp_path, text) == [
        ("F:19: crossings.torkham.service: unknown distribution 'normal'; allowed dist: fixed, uniform, triangular, "
        "exponential, lognormal, gamma, poisson, empirical")
    ]


def test_malformed_duration(tmp_path: Path) -> None:
    text = edited("{dist: fixed, value: 30min}", "{dist: fixed, value: 30 minutes}")
    assert problems(tmp_path, text) == [
        ("F:19: crossings.torkham.service.value: '30 minutes' is not a duration: write a number of hours or "
        "e.g. 45min, 6h, 2d")
    ]


def test_disruption_spells_need_a_positive_mean(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + (
        "disruptions:\n"
        "  - {at: torkham, every: {dist: fixed, value: 0}, lasting: {dist: fixed, value: 1d}, factor: 0}\n"
    )
    assert problems(tmp_path, text) == [
        "F:21: disruptions.0.every: every must have a positive mean (spells alternate forever otherwise)"
    ]


# --- factors, weekdays, hours -----------------------------------------------------------------------


def test_negative_factors(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + (
        "slowdowns:\n"
        "  - {at: torkham, from: 2023-11-03, to: 2023-11-05, factor: -0.5}\n"
        "disruptions:\n"
        "  - {at: torkham, every: {dist: exponential, mean: 30d}, lasting: {dist: fixed, value: 1d}, factor: -1}\n"
    )
    assert problems(tmp_path, text) == [
        "F:21: slowdowns.0.factor: factor must be >= 0, got -0.5",
        "F:23: disruptions.0.factor: factor must be >= 0, got -1.0",
    ]


def test_unknown_weekday(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + CAMP_AND_RECEPTION.replace(
        "    stay: {dist: fixed, value: 8h}\n",
        "    stay: {dist: fixed, value: 8h}\n    dispatch: {days: [mon, thursday], at: \"08:00\"}\n",
    )
    assert problems(tmp_path, text) == [
        "F:24: camps.lk.dispatch.days.1: unknown weekday 'thursday'; allowed: mon tue wed thu fri sat sun"
    ]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ('"25:00-06:00"', ("malformed hours '25:00-06:00': write \"24h\" or \"HH:MM-HH:MM\" between 00:00 and 24:00, "
                          "e.g. \"06:00-21:00\"")),
        ('"6am-9pm"', ("malformed hours '6am-9pm': write \"24h\" or \"HH:MM-HH:MM\" between 00:00 and 24:00, "
                      "e.g. \"06:00-21:00\"")),
        ('"06:00-06:00"', "malformed hours '06:00-06:00': opening and closing times must differ (use \"24h\")"),
        ("24", ("hours must be a quoted string: write \"24h\" or \"HH:MM-HH:MM\" between 00:00 and 24:00, "
               "e.g. \"06:00-21:00\"; got 24")),
    ],
)
def test_malformed_hours(tmp_path: Path, hours: str, message: str) -> None:
    text = edited("    lanes: 4\n", f"    lanes: 4\n    hours: {hours}\n")
    assert problems(tmp_path, text) == [f"F:19: crossings.torkham.hours: {message}"]


@pytest.mark.parametrize(
    ("hours", "open_hour", "close_hour", "always_open"),
    [
        ('"24h"', 0.0, 24.0, True),
        ('"06:00-21:00"', 6.0, 21.0, False),
        ('"06:00-24:00"', 6.0, 24.0, False),
        ('"20:00-04:00"', 20.0, 4.0, False),  # open past midnight
        ('"00:00-24:00"', 0.0, 24.0, True),
        ('"07:30-16:45"', 7.5, 16.75, False),
    ],
)
def test_opening_hours_are_parsed(tmp_path: Path, hours: str, open_hour: float, close_hour: float,
                                  always_open: bool) -> None:
    text = edited("    lanes: 4\n", f"    lanes: 4\n    hours: {hours}\n")
    parsed = load_scenario(write_scenario(tmp_path, text)).crossings["torkham"].hours
    assert (parsed.open_hour, parsed.close_hour, parsed.is_always_open()) == (open_hour, close_hour, always_open)
    assert parsed.text == hours.strip('"')


def test_hours_default_to_always_open(tmp_path: Path) -> None:
    hours = load_scenario(write_scenario(tmp_path)).crossings["torkham"].hours
    assert hours.is_always_open() and str(hours) == "24h"


def test_time_of_day_out_of_range(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + CAMP_AND_RECEPTION.replace(
        "    stay: {dist: fixed, value: 8h}\n",
        "    stay: {dist: fixed, value: 8h}\n    dispatch: {days: [mon], at: \"25:00\"}\n",
    )
    assert problems(tmp_path, text) == [
        "F:24: camps.lk.dispatch.at: at must be a time of day \"HH:MM\" between 00:00 and 23:59, got '25:00'"
    ]


# --- all at once ------------------------------------------------------------------------------------


TEN_MISTAKES = """\
name: ten-mistakes
period: {start: 2023-11-01, end: 2023-11-30}
target: {people: 1000, by: 2023-12-31}
groups:
  undocumented:
    people: 0
    household_size: {dist: poisson, mean: 5}
    origins: {kp: 0.9}
    departures:
      hazard:
        - {from: 2023-11-01, rate: 0.05}
origins:
  kp:
    routes:
      - {crossing: torkam, travel: {dist: fixed, value: 6h}, voluntary: 1.0}
crossings:
  torkham:
    lanes: 0
    service: {dist: fixed, value: 30min}
    hours: "06:00-30:00"
    lane: 3
slowdowns:
  - {at: torkham, from: 2023-11-10, to: 2023-11-05, factor: -1}
camps:
  lk:
    capacity: 100
    stay: {dist: fixed, value: 1h}
    dispatch: {days: [funday], at: "08:00"}
"""


def test_ten_mistakes_are_all_reported_each_located(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, TEN_MISTAKES)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    found = {(problem.line, problem.key_path) for problem in caught.value.problems}
    expected = {
        (3, "target.by"),
        (6, "groups.undocumented.people"),
        (7, "groups.undocumented.household_size"),
        (8, "groups.undocumented.origins"),
        (15, "origins.kp.routes.0.crossing"),
        (18, "crossings.torkham.lanes"),
        (20, "crossings.torkham.hours"),
        (21, "crossings.torkham.lane"),
        (23, "slowdowns.0.to"),
        (23, "slowdowns.0.factor"),
        (28, "camps.lk.dispatch.days.0"),
    }
    assert expected <= found
    assert all(problem.file == str(path) for problem in caught.value.problems)
    assert len(str(caught.value).splitlines()) == len(caught.value.problems)
    lines = [problem.line for problem in caught.value.problems]
    assert lines == sorted(lines)  # reported in file order


def test_slowdown_that_changes_nothing_is_a_warning(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "slowdowns:\n  - {at: torkham, from: 2023-11-03, to: 2023-11-05, reason: forgot the factor}\n"
    scenario = load_scenario(write_scenario(tmp_path, text))
    assert [(w.line, w.key_path, w.message) for w in scenario.warnings] == [
        (21, "slowdowns.0", "this slowdown changes nothing: set factor, hours or max_people_per_day")
    ]
