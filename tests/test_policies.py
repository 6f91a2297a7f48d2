"""Policy phases: departure steps placed by a named, dated policy event (``from: crackdown + 1d``).

The engine cases are deterministic: households of one person, a hazard of 10,000 per day (departure
within minutes of the step's start), no travel, 10 lanes of exactly 1 h: every household crosses
at about 01:00 on the day its departure step starts, so the daily counts follow by hand.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from builders import base_dict, deep_merge
from sim.model.engine import run_replication
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict

PHASES = """\
name: phases
period: {start: 2024-01-01, end: 2024-01-05}
run: {replications: 1, seed: 1}
policies:
  crackdown: {from: 2024-01-03, reason: removals of the second group begin}
groups:
  early:
    people: 10
    household_size: {dist: fixed, value: 1}
    origins: {home: 1.0}
    departures:
      hazard:
        - {from: 2024-01-01, rate: 10_000}
        - {from: crackdown, rate: 10_000, deported_share: 1.0}
  late:
    people: 6
    household_size: {dist: fixed, value: 1}
    origins: {home: 1.0}
    departures:
      hazard:
        - {from: 2024-01-01, rate: 0}
        - {from: crackdown, rate: 10_000, deported_share: 1.0}
origins:
  home:
    routes:
      - {crossing: border, travel: {dist: fixed, value: 0}, voluntary: 1.0, deported: 0.0}
      - {crossing: other, travel: {dist: fixed, value: 0}, voluntary: 0.0, deported: 1.0}
crossings:
  border: {lanes: 10, service: {dist: fixed, value: 1}}
  other: {lanes: 10, service: {dist: fixed, value: 1}}
"""


def write(tmp_path: Path, text: str = PHASES) -> Path:
    path = tmp_path / "phases.yaml"
    path.write_text(text)
    return path


def daily(outcome, node: str, metric: str) -> list[float]:
    node_type = next(key[1] for key in outcome.daily if key[0] == node)
    return outcome.daily[(node, node_type, metric)].tolist()


def test_a_phase_switches_departures_and_deportation_on_its_day(tmp_path: Path) -> None:
    """``early`` leaves on day 1 under its first step (voluntary: group share 0) and crosses at
    ``border``; ``late`` has rate 0 until the crackdown on 3 Jan, then leaves at once, every one
    deported (the step's share 1.0), so it crosses at ``other`` on day 3."""
    outcome = run_replication(load_scenario(write(tmp_path)), 0)
    assert daily(outcome, "border", "crossed_people") == [10, 0, 0, 0, 0]
    assert daily(outcome, "other", "crossed_people") == [0, 0, 6, 0, 0]
    assert daily(outcome, "late", "departed_people") == [0, 0, 6, 0, 0]
    assert daily(outcome, "late", "deported_people") == [0, 0, 6, 0, 0]
    assert daily(outcome, "early", "deported_people") == [0, 0, 0, 0, 0]


def test_moving_the_phase_with_set_moves_the_crossings(tmp_path: Path) -> None:
    """One ``--set`` of the policy's date moves every step that refers to it: day 3 -> day 4."""
    scenario = load_scenario(write(tmp_path), ["policies.crackdown.from=2024-01-04"])
    outcome = run_replication(scenario, 0)
    assert daily(outcome, "other", "crossed_people") == [0, 0, 0, 6, 0]
    assert daily(outcome, "border", "crossed_people") == [10, 0, 0, 0, 0]


def test_an_offset_counts_whole_days_from_the_phase(tmp_path: Path) -> None:
    """``crackdown - 1d`` is 2 Jan and ``crackdown + 2d`` 5 Jan."""
    before = load_scenario(write(tmp_path, PHASES.replace("{from: crackdown, rate: 10_000, deported_share: 1.0}\norigins",
                                                          "{from: crackdown - 1d, rate: 10_000, deported_share: 1.0}\norigins")))
    assert daily(run_replication(before, 0), "other", "crossed_people") == [0, 6, 0, 0, 0]
    after = load_scenario(write(tmp_path, PHASES.replace("{from: crackdown, rate: 10_000, deported_share: 1.0}\norigins",
                                                         "{from: crackdown + 2d, rate: 10_000, deported_share: 1.0}\norigins")))
    assert daily(run_replication(after, 0), "other", "crossed_people") == [0, 0, 0, 0, 6]


def test_a_phase_moved_past_the_period_warns_and_nobody_leaves_under_it(tmp_path: Path) -> None:
    """A variant that delays the phase beyond the period: its steps never apply (a warning, not an
    error), so ``late`` stays in its stock and ``early`` never reaches its second step."""
    scenario = load_scenario(write(tmp_path), ["policies.crackdown.from=2024-02-01"])
    assert [(w.key_path, w.message) for w in scenario.warnings] == [
        ("groups.early.departures.hazard.1.from",
         "the step starts on crackdown = 2024-02-01, after the period ends (2024-01-05): it never applies"),
        ("groups.late.departures.hazard.1.from",
         "the step starts on crackdown = 2024-02-01, after the period ends (2024-01-05): it never applies"),
    ]
    outcome = run_replication(scenario, 0)
    assert daily(outcome, "late", "remaining_stock_people") == [6, 6, 6, 6, 6]
    assert daily(outcome, "all", "crossed_people_cumulative") == [10, 10, 10, 10, 10]


def test_the_resolved_scenario_keeps_the_references(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path))
    resolved = scenario.to_yaml()
    assert "from: crackdown\n" in resolved
    tmp_path.joinpath("resolved.yaml").write_text(resolved)
    assert load_scenario(tmp_path / "resolved.yaml") == scenario


def test_schedule_steps_may_start_at_a_phase() -> None:
    """A schedule placed by a phase starts on its day: nothing departs before 3 Jan."""
    data = deep_merge(base_dict(people=50), {
        "policies": {"go": {"from": "2024-01-03"}},
        "groups": {"everyone": {"departures": {"schedule": [{"from": "go", "per_day": 1_000}]}}},
    })
    del data["groups"]["everyone"]["departures"]["hazard"]
    outcome = run_replication(scenario_from_dict(data), 0)
    departed = daily(outcome, "everyone", "departed_people")
    assert departed[:2] == [0, 0] and sum(departed) == 50


@pytest.mark.parametrize(("edit", "expected"), [
    (("{from: crackdown, rate: 10_000, deported_share: 1.0}\norigins", "{from: crackdwn, rate: 10_000}\norigins"),
     [("F:22: groups.late.departures.hazard.1.from: policy 'crackdwn' is not defined under policies: "
      "(defined: crackdown)")]),
    (("{from: crackdown, rate: 10_000, deported_share: 1.0}\norigins", "{from: crackdown + 2 weeks, rate: 1}\norigins"),
     [("F:22: groups.late.departures.hazard.1.from: from must be a date (2025-04-01) or a policy name with an optional "
      "offset in days (acc_phase, acc_phase + 7d), got 'crackdown + 2 weeks'")]),
    (("crackdown: {from: 2024-01-03", "crackdown: {from: 2024-01-01"),
     [("F:14: groups.early.departures.hazard.1.from: hazard steps must be in increasing date order: "
      "crackdown = 2024-01-01 is not after 2024-01-01"),
      ("F:22: groups.late.departures.hazard.1.from: hazard steps must be in increasing date order: "
      "crackdown = 2024-01-01 is not after 2024-01-01")]),
    (("rate: 10_000, deported_share: 1.0}\n  late", "rate: 10_000, deported_share: 1.5}\n  late"),
     ["F:14: groups.early.departures.hazard.1.deported_share: deported_share must be a share between 0 and 1, got 1.5"]),
])
def test_located_one_line_errors(tmp_path: Path, edit: tuple[str, str], expected: list[str]) -> None:
    old, new = edit
    assert old in PHASES
    path = write(tmp_path, PHASES.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [str(problem).replace(str(path), "F") for problem in caught.value.problems] == expected


def test_a_policy_nobody_refers_to_is_a_warning(tmp_path: Path) -> None:
    text = PHASES.replace("  crackdown: {from: 2024-01-03, reason: removals of the second group begin}\n",
                          "  crackdown: {from: 2024-01-03, reason: removals of the second group begin}\n"
                          "  amnesty: {from: 2024-01-04}\n")
    scenario = load_scenario(write(tmp_path, text))
    assert [(w.line, w.key_path) for w in scenario.warnings] == [(6, "policies.amnesty")]


SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize(("variant", "phase", "moved_steps"), [
    ("arc-2023-2025-no-acc-phase.yaml", "acc_phase",
     {"groups.undocumented.departures.hazard.22.from", "groups.acc_holders.departures.hazard.1.from",
      "groups.acc_holders.departures.hazard.2.from", "groups.acc_holders.departures.hazard.3.from",
      "groups.acc_holders.departures.hazard.4.from"}),
    ("arc-2023-2025-por-2026.yaml", "por_phase",
     {"groups.por_holders.departures.hazard.3.from", "groups.por_holders.departures.hazard.4.from"}),
])
def test_the_arc_variants_move_a_phase_out_of_the_period(variant: str, phase: str, moved_steps: set[str]) -> None:
    """Each variant changes one policy date; exactly the steps placed by that phase stop applying."""
    base = load_scenario(SCENARIOS / "arc-2023-2025.yaml")
    moved = load_scenario(SCENARIOS / variant)
    assert base.warnings == []
    assert moved.policies[phase].from_ > moved.period.end
    assert {warning.key_path for warning in moved.warnings} == moved_steps
    assert moved.groups == base.groups  # the steps themselves are untouched: only the phase moved


def test_set_on_the_command_line_moves_the_phase_in_the_results_folder(tmp_path: Path) -> None:
    """`bordersim run --set policies.crackdown.from=2024-01-04`: the daily table written to the
    results folder has the six deported crossings at `other` on 4 Jan instead of 3 Jan, and the
    resolved scenario keeps the reference with the new date under policies."""
    import pandas as pd
    from typer.testing import CliRunner

    from sim.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(write(tmp_path)), "-n", "1", "-j", "1", "-q", "--format", "csv",
                                      "--out", str(out), "--set", "policies.crackdown.from=2024-01-04"])
    assert result.exit_code == 0, result.output
    daily = pd.read_csv(out / "daily.csv")
    crossed = daily[(daily["node"] == "other") & (daily["metric"] == "crossed_people")]
    assert crossed["value"].tolist() == [0, 0, 0, 6, 0]
    resolved = (out / "scenario.resolved.yaml").read_text()
    assert "crackdown:\n    from: 2024-01-04" in resolved and "from: crackdown\n" in resolved
