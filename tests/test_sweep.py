"""sweep (grid, Latin hypercube, interruption and --resume) and sensitivity."""
from __future__ import annotations

import pandas as pd
import pytest
from experiment_scenarios import bordersim, write_tiny

from sim.runs.executors import SerialExecutor
from sim.scenario import load_scenario
from sim.studies import sweep
from sim.studies.sensitivity import sensitivity


@pytest.fixture()
def tiny(tmp_path):
    return load_scenario(write_tiny(tmp_path)[0])


def test_parse_vary_and_range() -> None:
    assert sweep.parse_vary("crossings.torkham.lanes=2:6:2") == ("crossings.torkham.lanes", [2, 4, 6])
    assert sweep.parse_vary("a.b=0.1:0.3:0.1") == ("a.b", [0.1, 0.2, 0.3])
    assert sweep.parse_vary("a.b=1,2.5,7") == ("a.b", [1, 2.5, 7])
    assert sweep.parse_range("a.b=0.2:0.4") == ("a.b", 0.2, 0.4)
    for bad in ("a.b", "a.b=1:2", "a.b=3:1:1", "a.b=1:3:0", "a.b=x:2:1", "=1,2"):
        with pytest.raises(sweep.SweepError):
            sweep.parse_vary(bad)
    for bad in ("a.b=1", "a.b=2:1", "a.b=1:x"):
        with pytest.raises(sweep.SweepError):
            sweep.parse_range(bad)


def test_grid_and_lhs_points(tiny) -> None:
    points = sweep.grid_points(tiny, ["crossings.torkham.lanes=1:2:1", "groups.undocumented.never_leave=0.1,0.3"])
    assert points == [{"crossings.torkham.lanes": 1, "groups.undocumented.never_leave": 0.1},
                      {"crossings.torkham.lanes": 1, "groups.undocumented.never_leave": 0.3},
                      {"crossings.torkham.lanes": 2, "groups.undocumented.never_leave": 0.1},
                      {"crossings.torkham.lanes": 2, "groups.undocumented.never_leave": 0.3}]
    lhs = sweep.lhs_points(tiny, ["crossings.torkham.lanes=1:9", "groups.undocumented.never_leave=0:0.5"], 8, seed=3)
    assert lhs == sweep.lhs_points(tiny, ["crossings.torkham.lanes=1:9", "groups.undocumented.never_leave=0:0.5"], 8, 3)
    shares = sorted(point["groups.undocumented.never_leave"] for point in lhs)
    # Latin hypercube: one point in each eighth of the range.
    assert [int(share / 0.5 * 8) for share in shares] == list(range(8))
    assert all(isinstance(point["crossings.torkham.lanes"], int) and 1 <= point["crossings.torkham.lanes"] <= 9
               for point in lhs)
    with pytest.raises(sweep.SweepError, match="unknown key path"):
        sweep.grid_points(tiny, ["crossings.nowhere.lanes=1,2"])
    with pytest.raises(sweep.SweepError, match="not a valid scenario"):
        sweep.build_variants(tiny, sweep.grid_points(tiny, ["crossings.torkham.lanes=0,1"]))


class _InterruptAfter:
    """An executor that stops (like Ctrl-C) after some results."""

    def __init__(self, results: int) -> None:
        self.results = results

    def describe(self) -> str:
        return "interrupting"

    def map_unordered(self, fn, tasks):
        for count, result in enumerate(SerialExecutor().map_unordered(fn, tasks)):
            if count == self.results:
                raise KeyboardInterrupt
            yield result


def test_interrupted_sweep_keeps_points_and_resume_completes_it(tiny, tmp_path) -> None:
    points = sweep.grid_points(tiny, ["crossings.torkham.lanes=1:3:1"])
    whole = sweep.plan_sweep(tiny, points, seed=4, replications=2, design="grid", out=tmp_path / "whole",
                             command_line=["test"])
    expected = sweep.run_sweep(whole, SerialExecutor()).table
    assert not whole.partial.exists()

    plan = sweep.plan_sweep(tiny, points, seed=4, replications=2, design="grid", out=tmp_path / "cut",
                            command_line=["test"], daily=True)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(plan, _InterruptAfter(5))  # points 0 and 1 finished, point 2 half done
    assert not (tmp_path / "cut").exists()
    resumed = sweep.load_plan(tmp_path / "cut")  # the folder name or its .partial
    assert sorted(resumed.done) == [0, 1]
    result = sweep.run_sweep(resumed, SerialExecutor())
    assert result.resumed_points == 2
    pd.testing.assert_frame_equal(result.table, expected)
    written = pd.read_csv(tmp_path / "cut" / "sweep.csv")
    assert list(written["crossings.torkham.lanes"]) == [1, 2, 3]
    assert (tmp_path / "cut" / "daily-point-0002.parquet").is_file()
    assert not plan.partial.exists()
    # more lanes: a shorter peak queue, replication by replication on the same draws
    assert written["peak_queue_people_mean"].is_monotonic_decreasing


def test_sensitivity_tornado(tiny) -> None:
    result = sensitivity(tiny, ["crossings.torkham.lanes=1:4", "groups.undocumented.never_leave=0:0.6"],
                         replications=2, seed=1)
    table = result.table
    sizes = [(abs(p), abs(c)) for p, c in zip(table["p_target_effect"], table["crossed_effect"])]
    assert sizes == sorted(sizes, reverse=True)
    stayers = table[table.key == "groups.undocumented.never_leave"].iloc[0]
    assert stayers.crossed_effect < 0 and stayers.crossed_at_high < stayers.crossed_base < stayers.crossed_at_low
    assert any("Effect of high vs low" in line for line in result.lines())


def test_sweep_and_sensitivity_commands(tmp_path) -> None:
    write_tiny(tmp_path)
    completed = bordersim("sweep", "tiny.yaml", "--lhs", "3", "--range", "crossings.torkham.lanes=1:4",
                          "-n", "2", "-j", "2", "--out", "lhs", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    table = pd.read_csv(tmp_path / "lhs" / "sweep.csv")
    assert len(table) == 3 and {"point", "crossings.torkham.lanes", "p_target", "p_target_ci95_low",
                                "crossed_by_target_date_mean", "wait_hours_p95_ci95_high"} <= set(table.columns)
    completed = bordersim("sensitivity", "tiny.yaml", "--range", "crossings.torkham.lanes=1:3", "-n", "2",
                          "-j", "1", "--out", "tornado", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "crossings.torkham.lanes" in completed.stdout
    assert len(pd.read_csv(tmp_path / "tornado" / "sensitivity.csv")) == 1


@pytest.mark.parametrize("arguments, message", [
    (["sweep", "tiny.yaml", "--vary", "crossings.torkham.lanes=1:3"], "start:stop:step"),
    (["sweep", "tiny.yaml", "--vary", "crossings.nowhere.lanes=1,2"], "unknown key path"),
    (["sweep", "tiny.yaml"], "nothing to sweep"),
    (["sweep", "tiny.yaml", "--vary", "crossings.torkham.lanes=1,2", "--lhs", "2"], "not both"),
    (["sweep", "--resume", "nowhere"], "not an interrupted sweep"),
    (["sensitivity", "tiny.yaml", "--range", "crossings.torkham.lanes=3:1"], "below low"),
    (["sensitivity", "tiny.yaml"], "--range"),
])
def test_bad_sweep_input_exits_2(tmp_path, arguments, message) -> None:
    write_tiny(tmp_path)
    completed = bordersim(*arguments, cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
