"""compare: common random numbers make paired differences far tighter than independent runs."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from experiment_scenarios import SCENARIOS, bordersim, write_tiny

from sim.runs.executors import ProcessExecutor
from sim.scenario import load_scenario
from sim.studies import experiments
from sim.studies.compare import COMPARE_COLUMNS, compare

# Shortened so the test stays quick; the target date is deadline day (1 Nov 2023), when Torkham's
# lanes bind, so the number crossed by then depends on capacity (as well as on departures).
SHORT = ["period.end=2023-11-30", "target.by=2023-11-01"]


def test_paired_interval_at_most_half_of_independent_seeds() -> None:
    baseline = load_scenario(SCENARIOS / "phase1-2023.yaml", SHORT)
    doubled = load_scenario(SCENARIOS / "phase1-2023-double-lanes.yaml", SHORT)
    n, seed = 6, 3
    executor = ProcessExecutor(2)
    result = compare([baseline, doubled], replications=n, seed=seed, executor=executor)
    independent = experiments.run_variants([doubled], n, seed + 1, executor)[0]

    metric = "crossed_by_target_date"
    table = result.table
    row = table[(table.scenario == "phase1-2023-double-lanes") & (table.metric == metric)].iloc[0]
    paired_width = row.diff_ci95_high - row.diff_ci95_low
    _, low, high = experiments.unpaired_difference(result.variants[0].values[metric], independent.values[metric])
    assert row.diff_vs_first > 0  # more lanes: more people across by deadline day
    assert 0 < paired_width <= 0.5 * (high - low)
    # The paired difference of the 0/1 indicators of P(target): neither reaches 1 million by 1 Nov.
    p_row = table[(table.scenario == "phase1-2023-double-lanes") & (table.metric == "p_target")].iloc[0]
    assert (p_row.diff_vs_first, p_row.diff_ci95_low, p_row.diff_ci95_high) == (0.0, 0.0, 0.0)
    assert any("Paired difference vs phase1-2023" in line for line in result.lines())


def test_paired_difference_statistics() -> None:
    first = np.array([1.0, 2.0, 3.0, 4.0])
    second = first + np.array([1.0, 1.5, 0.5, 1.0])
    paired = experiments.paired_difference(first, second)
    assert paired["diff"] == pytest.approx(1.0)
    assert paired["diff_ci95_low"] < 1.0 < paired["diff_ci95_high"]
    same = experiments.paired_difference(first, first + 2)
    assert (same["diff"], same["diff_ci95_low"], same["diff_ci95_high"]) == (2.0, 2.0, 2.0)
    never = experiments.paired_difference(np.array([1.0, math.inf]), np.array([1.0, 2.0]))
    assert math.isnan(never["diff"])


def test_compare_command_end_to_end(tmp_path) -> None:
    tiny, doubled = write_tiny(tmp_path)
    completed = bordersim("compare", str(tiny), str(doubled), "-n", "3", "--seed", "2", "-j", "2", "--daily",
                          "--out", "out", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "Paired difference vs tiny" in completed.stdout
    assert "results: out" in completed.stdout
    table = pd.read_csv(tmp_path / "out" / "compare.csv")
    assert list(table.columns) == COMPARE_COLUMNS
    assert set(table.scenario) == {"tiny", "tiny-doubled"}
    assert len(table) == 2 * len(experiments.METRICS)
    doubled_queue = table[(table.scenario == "tiny-doubled") & (table.metric == "peak_queue_people")].iloc[0]
    assert doubled_queue.diff_vs_first < 0
    assert (tmp_path / "out" / "daily.parquet").is_file()
    assert len(pd.read_csv(tmp_path / "out" / "replications.csv")) == 6


@pytest.mark.parametrize("arguments, message", [
    (["compare", "tiny.yaml"], "at least two scenario files"),
    (["compare", "tiny.yaml", "missing.yaml"], "missing.yaml: no such scenario file"),
    (["compare", "tiny.yaml", "tiny-doubled.yaml", "--set", "crossings.nowhere.lanes=3"], "crossings.nowhere"),
])
def test_compare_bad_input_exits_2(tmp_path, arguments, message) -> None:
    write_tiny(tmp_path)
    completed = bordersim(*arguments, cwd=tmp_path)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert not (tmp_path / "results").exists()
