"""Needs (issue 24): the needs: block, needs.csv against hand computation, compare and the report."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MINIMAL_SCENARIO, scenario_problems, write_scenario

from builders import SMALL_CAMP, build
from sim.outputs.needs import NeedSeries, needs_table
from sim.runs.study import run
from sim.scenario.needs_defaults import bundled_needs
from sim.studies.compare import compare

# 10 households of 2 leave at ~00:00 on 1 Jan 2024 for one crossing with 5 lanes of 1 h (open all
# day): 5 households start at ~00:00, the other 5 wait for them and start at ~01:00. All reach the
# reception centre on day 1 and stay exactly 48 h, so its occupancy at the end of days 1..5 is
# 20, 20, 0, 0, 0 people.
RECEPTION = {
    "crossings": {"border": {"reception": "centre"}},
    "reception": {"centre": {"capacity": 100, "stay": {"dist": "fixed", "value": 48}}},
}
NEEDS = {
    "water": "bundled",                               # 15 litres per person-day at reception
    "living_space": "bundled",                        # 3.5 m² per person present at reception
    "cash_grant": {"amount": 10_000},                 # bundled, amount replaced: per arriving household
    "drinking_water_waiting": {"at": ["queue"]},      # bundled 3 litres per person-day, queue only
    "blankets": {"amount": 1, "unit": "blankets", "per": "arrival", "at": "queue", "source": "assumption"},
}


def deterministic(needs=NEEDS, **patch):
    return build({**RECEPTION, "needs": needs, "run": {"replications": 3, "seed": 1}, **patch},
                 people=20, household_size=2, lanes=5, days=10)


def rows(table: pd.DataFrame, item: str, span: str) -> pd.DataFrame:
    return table[(table["item"] == item) & (table["span"] == span)].reset_index(drop=True)


def test_needs_csv_by_hand_from_a_deterministic_run(tmp_path: Path) -> None:
    """Water: 15 L x 20 people on days 1 and 2 = 300 L each, 600 L in week 1, 0 in week 2; space:
    3.5 m² x 20 = 70 m² (the week's largest day); cash: 10 households x 10,000 AFN on day 1;
    blankets: 20 people joined the queue on day 1; queue water: 5 households of 2 waited ~1 h,
    10 person-hours = 10/24 person-days x 3 L. Identical replications: every quantile is the mean."""
    result = run(deterministic(), jobs=1)
    table = result.needs_table
    water = rows(table, "water", "week")
    assert water["date"].dt.date.tolist() == [date(2024, 1, 1), date(2024, 1, 8)]
    assert water["mean"].tolist() == [600.0, 0.0]
    assert water["p05"].tolist() == water["p95"].tolist() == [600.0, 0.0]
    assert (water["node"].unique().tolist(), water["unit"].iloc[0]) == (["centre"], "litres")
    assert "Sphere" in water["source"].iloc[0]
    assert rows(table, "living_space", "week")["mean"].tolist() == [70.0, 0.0]
    assert rows(table, "cash_grant", "week")["mean"].tolist() == [100_000.0, 0.0]
    assert rows(table, "blankets", "week")[["node", "at", "mean"]].values.tolist()[0] == ["border", "queue", 20.0]
    queue_water = rows(table, "drinking_water_waiting", "week")["mean"].iloc[0]
    assert queue_water == pytest.approx(3 * 10 / 24, abs=0.01)
    peak = rows(table, "water", "peak_day").iloc[0]
    assert (peak["date"].date(), peak["p05"], peak["p50"], peak["p95"]) == (date(2024, 1, 1), 300.0, 300.0, 300.0)

    folder = result.save(tmp_path / "run")
    written = pd.read_csv(folder / "needs.csv")
    assert written.columns.tolist()[:8] == ["date", "node", "item", "unit", "mean", "p05", "p50", "p95"]
    assert len(written) == len(table)


def test_needs_in_and_outside_a_camp_by_hand() -> None:
    """The small camp of tests/test_engine_deterministic.py: 10 one-person households reach a camp of 4 at
    ~00:00, 3 a day are dispatched at 08:00. Occupancy at the end of days 1-5: 4, 4, 1, 0, 0; people
    outside at the end of day 1: 3, and 6 x 8 h + 3 x 16 h = 4 person-days outside on day 1, 1 on
    day 2; 10 households arrive on day 1."""
    patch = {
        **SMALL_CAMP,
        "needs": {
            "mats": {"amount": 1, "unit": "mats", "per": "person", "at": ["camps", "outside_camps"], "source": "s"},
            "drinking_water_waiting": "bundled",  # 3 litres per person-day in the queue and outside camps
            "kits": {"amount": 1, "unit": "kits", "per": "household_arrival", "at": "camps", "source": "s"},
        },
    }
    result = run(build(patch, people=10, lanes=10), jobs=1, replications=1, every="day")
    table = result.needs_table
    mats = rows(table, "mats", "day")
    assert mats[mats["at"] == "camps"]["mean"].tolist() == [4.0, 4.0, 1.0, 0.0, 0.0]
    assert mats[mats["at"] == "outside_camps"]["mean"].tolist() == [3.0, 0.0, 0.0, 0.0, 0.0]
    outside = rows(table, "drinking_water_waiting", "day")
    outside = outside[outside["at"] == "outside_camps"]["mean"].tolist()
    assert outside[:3] == pytest.approx([12.0, 3.0, 0.0], abs=0.05)
    assert rows(table, "kits", "day")["mean"].tolist() == [10.0, 0.0, 0.0, 0.0, 0.0]


def test_every_day_gives_daily_needs_and_daily_projection_rows() -> None:
    result = run(deterministic(), jobs=1, every="day")
    water = rows(result.needs_table, "water", "day")
    assert water["mean"].tolist() == [300.0, 300.0] + [0.0] * 8
    projection = result.projection
    assert projection["date"].nunique() == 10


def test_quantiles_are_over_replications_of_each_weeks_total() -> None:
    """Five replications whose week-1 totals are 7, 14, 21, 28, 35 (one constant per day): mean 21,
    linear quantiles p05 = 7 + 0.2 x 7 = 8.4, p50 = 21, p95 = 35 - 0.2 x 7 = 33.6. A level item
    takes the week's largest day instead; the peak day is each replication's largest day."""
    values = np.repeat(np.arange(1.0, 6.0)[:, None], 8, axis=1)
    values[:, 7] = 100.0  # day 8: the second week, and everyone's peak
    consumed = NeedSeries("water", "centre", "reception", "person_day", 1.0, "litres", "s", values)
    level = NeedSeries("space", "centre", "reception", "person", 1.0, "m²", "s", values)
    table = needs_table([consumed, level], date(2024, 1, 1))
    week = rows(table, "water", "week").iloc[0]
    assert (week["mean"], week["p05"], week["p50"], week["p95"]) == pytest.approx((21.0, 8.4, 21.0, 33.6))
    assert rows(table, "space", "week")["p50"].tolist() == [3.0, 100.0]
    peak = rows(table, "water", "peak_day").iloc[0]
    assert (peak["date"].date(), peak["p50"]) == (date(2024, 1, 8), 100.0)


def test_compare_pairs_the_peak_needs() -> None:
    """Same replications, water at 20 L instead of 15: the peak day needs 5 L x 20 people more in
    every replication, so the paired difference is exactly +100 L with no spread."""
    more_water = deterministic({**NEEDS, "water": {"amount": 20}})
    result = compare([deterministic(), more_water], replications=3, seed=1)
    table = result.table
    row = table[table.metric == "peak need: water at centre (litres)"].iloc[1]
    assert (row.p50, row.diff_vs_first, row.diff_ci95_low, row.diff_ci95_high) == (400.0, 100.0, 100.0, 100.0)
    text = "\n".join(result.lines())
    assert "Peak-day needs, paired difference vs" in text and "+100 [+100, +100]" in text


def test_the_report_has_a_needs_section_and_figure(tmp_path: Path) -> None:
    from sim.outputs.report import write_report

    folder = run(deterministic(), jobs=1).save(tmp_path / "run")
    html = write_report(folder).read_text(encoding="utf-8")
    assert '<h2 id="needs">Needs</h2>' in html and 'id="fig-needs"' in html
    assert (folder / "figures" / "needs.png").is_file()
    assert "Sphere Handbook 2018" in html


def test_a_scenario_without_needs_writes_no_needs_csv(tmp_path: Path) -> None:
    result = run(deterministic(needs={}), jobs=1)
    assert result.needs_table is None
    assert not (result.save(tmp_path / "run") / "needs.csv").exists()
    assert "needs" not in result.scenario.to_yaml()


def test_bundled_items_each_have_a_source() -> None:
    bundled = bundled_needs()
    assert {"water", "living_space", "latrines", "food", "cash_grant"} <= set(bundled)
    assert all(item["source"] and item["amount"] > 0 for item in bundled.values())
    assert bundled["cash_grant"]["per"] == "household_arrival"


@pytest.mark.parametrize(("needs", "message"), [
    ("  soap: bundled\n", "F:21: needs.soap: is not a bundled item (those are water, "),
    ("  water: {per: weekly}\n", ("F:21: needs.water.per: per must be 'person', 'person_day', 'arrival' or "
                                 "'household_arrival', got 'weekly'")),
    ("  water: {at: [tents]}\n", ("F:21: needs.water.at.0: at must be 'reception', 'camps', 'queue' or "
                                 "'outside_camps', got 'tents'")),
    ("  cash_grant: {at: outside_camps}\n", ("F:21: needs.cash_grant: per household_arrival cannot be needed "
                                            "at outside_camps")),
    ("  tents: {amount: 1, unit: tents, per: person, at: reception}\n", ("F:21: needs.tents.source: 'source' "
                                                                         "is required")),
    ("  water: {amount: -1}\n", "F:21: needs.water.amount: amount must be >= 0, got -1"),
    ("  water: {unit: \"\"}\n", "F:21: needs.water.unit: unit must not be empty"),
])
def test_bad_needs_are_located_one_line_errors(tmp_path: Path, needs: str, message: str) -> None:
    path = write_scenario(tmp_path, MINIMAL_SCENARIO + "needs:\n" + needs)
    problems = scenario_problems(path)
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_an_uncertain_amount_is_drawn_per_replication() -> None:
    """Water drawn between 10 and 20 litres per person-day in each replication: week 1 needs 40
    person-days times that replication's amount (the draws are in replications.csv)."""
    scenario = deterministic(uncertain={"needs.water.amount": {"dist": "uniform", "low": 10, "high": 20}})
    result = run(scenario, jobs=1, replications=5)
    drawn = result.replications["uncertain:needs.water.amount"].to_numpy()
    assert len(set(drawn)) == 5 and all(10 <= amount <= 20 for amount in drawn)
    week = rows(result.needs_table, "water", "week").iloc[0]
    assert week["mean"] == pytest.approx(40 * drawn.mean())
    assert week["p95"] == pytest.approx(40 * np.quantile(drawn, 0.95))


def test_a_need_at_a_place_the_scenario_lacks_is_a_located_warning(tmp_path: Path) -> None:
    from sim.scenario import load_scenario

    path = write_scenario(tmp_path, MINIMAL_SCENARIO + "needs:\n  water: bundled\n")
    warnings = [str(warning) for warning in load_scenario(path).warnings]
    assert warnings == [(f"{path}:21: needs.water: needed at reception, but the scenario has no reception "
                        "centres: it is never needed there")]
