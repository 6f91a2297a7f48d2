"""The bundled observed figures (``sim/data/``) and the series selected from them."""
from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.outputs.observed import SERIES, bundled_figures, read_observed, select_series


def test_bundled_figures_keep_their_sources_and_end_on_22_november() -> None:
    figures = bundled_figures()
    assert {"date", "series", "metric", "value", "unit", "scope", "crossing", "source"} <= set(figures.columns)
    assert figures["source"].notna().all()
    assert max(figures["date"]) == dt.date(2023, 11, 22)


def test_un_series_counts_from_15_september_point_values_only() -> None:
    table = select_series("un")
    assert list(table.columns) == ["date", "value", "series", "kind", "node", "count_from"]
    assert [(row.date.isoformat(), row.value) for row in table.itertuples()] == [
        ("2023-11-03", 160_000), ("2023-11-13", 261_240), ("2023-11-18", 375_000)]
    assert set(table["node"]) == {"all"} and set(table["count_from"]) == {"2023-09-15"}


def test_pak_kp_series_is_torkham_from_17_september_and_increasing() -> None:
    table = select_series("pak_kp", until=dt.date(2023, 11, 4))
    assert table["value"].is_monotonic_increasing
    assert table["date"].iloc[-1] == dt.date(2023, 11, 4) and set(table["node"]) == {"torkham"}
    assert len(select_series("pak_kp")) == 6


def test_unknown_series() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        select_series("nope")


def test_cli_exports_a_file_read_observed_accepts(tmp_path) -> None:
    out = tmp_path / "obs.csv"
    result = CliRunner().invoke(app, ["observed", "--series", "un", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert read_observed(out)["value"].tolist() == [160_000, 261_240, 375_000]
    assert CliRunner().invoke(app, ["observed", "--series", "un", "--out", str(out)]).exit_code == 2
    bad = CliRunner().invoke(app, ["observed", "--series", "bogus"])
    assert bad.exit_code == 2 and "choose one of" in bad.output
    assert set(SERIES) == {"un", "pak_kp", "pak_federal_daily"}
    daily = select_series("pak_federal_daily")
    assert daily["value"].tolist() == [3_043, 2_668] and set(daily["kind"]) == {"daily"}


def test_run_with_observed_reports_ard_in_summary_and_headline() -> None:
    import pandas as pd

    from builders import build
    from sim.runs.study import run

    # 20 people, households of 1, 2 lanes × 1 h from time 0: 2 cross per hour, all 20 by 10:00 on day 1.
    scenario = build(people=20, household_size=1, lanes=2, service_hours=1.0, days=3)
    observed = pd.DataFrame({"date": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], "value": [25.0, 16.0]})
    result = run(scenario, replications=2, seed=1, jobs=1, observed=observed)
    row = result.summary.set_index("metric").loc["ard_observed"]
    assert row["mean"] == pytest.approx((5 / 25 + 4 / 16) / 2)
    assert any(line.startswith("Observed: ARD 22.5% over 2 dates") for line in result.headline.lines())
    assert "ard_observed" not in set(run(scenario, replications=2, seed=1, jobs=1).summary["metric"])
