"""Results folders: complete or absent, never overwritten, identical for identical runs."""
from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.model.outcome import VERDICT_REACHED, ReplicationOutcome
from sim.outputs import results
from sim.outputs.results import ResultsFolderExistsError, RunResult

PERIOD_START = date(2023, 11, 1)
N_DAYS = 20

STARTED = datetime(2024, 2, 1, 9, 30, 5)
SCENARIO_TEXT = "name: tiny\n# a comment that must survive\nextends: base.yaml\n"
BASE_TEXT = "name: base\nperiod: {start: 2023-11-01, end: 2023-11-20}\n"


class ExplodingTable(pd.DataFrame):
    """A table whose writer fails half-way through writing the folder."""

    def to_csv(self, *args, **kwargs):
        raise RuntimeError("disk full (simulated)")


def make_outcome(replication: int, reach_hours: float, verdict: str, per_day: float,
                 wait_hours_p95: float) -> ReplicationOutcome:
    """A replication in which ``per_day`` people cross every day and the queue grows by 10 a day."""
    days = np.arange(N_DAYS, dtype=float)
    daily = {
        ("all", "all", "crossed_people_cumulative"): per_day * (days + 1),
        ("torkham", "crossing", "crossed_people"): np.full(N_DAYS, per_day),
        ("torkham", "crossing", "queue_people"): 10.0 * days,
        ("torkham", "crossing", "wait_hours_mean"): np.where(days % 3 == 0, np.nan, 2.0 / 3.0 + days),
    }
    totals = {
        "crossed_by_target_date": per_day * N_DAYS,
        "departed_by_target_date": 2 * per_day * N_DAYS,
        "target_reached": float(math.isfinite(reach_hours)),
        "target_reached_hours": reach_hours,
        "peak_queue_people": 10.0 * (N_DAYS - 1),
        "peak_waiting_outside_people": 0.0,
        "wait_hours_p95": wait_hours_p95,
    }
    return ReplicationOutcome(replication, daily, totals, verdict, "")


@pytest.fixture
def scenario_files(tmp_path: Path) -> list[Path]:
    scenario = tmp_path / "scenarios" / "tiny.yaml"
    scenario.parent.mkdir()
    scenario.write_bytes(SCENARIO_TEXT.encode())
    base = tmp_path / "scenarios" / "base.yaml"
    base.write_bytes(BASE_TEXT.encode())
    return [scenario, base]


def make_result(scenario_files: list[Path], replications_order=(0, 1, 2, 3), **overrides) -> RunResult:
    reach = {0: 30.0, 1: 100.0, 2: math.inf, 3: 24.0 * 30}
    outcomes = [
        make_outcome(r, reach_hours=reach[r], verdict=VERDICT_REACHED if r < 2 else "departures bind",
                     per_day=100.0 + r, wait_hours_p95=4.0 + r / 3)
        for r in replications_order
    ]
    arguments = {
        "scenario": SimpleNamespace(name="tiny"),
        "outcomes": outcomes,
        "period_start": PERIOD_START,
        "target_by": PERIOD_START + timedelta(days=N_DAYS - 1),
        "target_people": 1_000.0,
        "seed": 42,
        "command_line": ["bordersim", "run", "tiny.yaml"],
        "scenario_paths": scenario_files,
        "resolved_text": "name: tiny\nperiod: {start: 2023-11-01, end: 2023-11-20}\n",
        "started_at": STARTED,
        "ended_at": STARTED + timedelta(seconds=3),
    }
    arguments.update(overrides)
    return RunResult(**arguments)


def test_run_folder_holds_every_file_of_the_contract(tmp_path, scenario_files):
    result = make_result(scenario_files)
    folder = result.save(results_root=tmp_path / "results")
    assert re.fullmatch(r"run-20240201-093005-[0-9a-f]{8}", folder.name)
    assert folder.parent == tmp_path / "results" / "tiny"
    assert folder.name.endswith(result.hash8)
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "manifest.json", "scenario.yaml", "base-1-base.yaml", "scenario.resolved.yaml",
        "daily.parquet", "replications.csv", "projection.csv", "summary.csv", "reached_by_month.csv",
    ])
    assert (folder / "scenario.yaml").read_bytes() == SCENARIO_TEXT.encode()  # comments kept
    assert (folder / "base-1-base.yaml").read_bytes() == BASE_TEXT.encode()
    assert (folder / "scenario.resolved.yaml").read_text() == result.resolved_text
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "daily.parquet"), result.daily, check_dtype=False)
    replications = pd.read_csv(folder / "replications.csv", keep_default_na=False)
    assert list(replications.columns)[:9] == [
        "replication", "crossed_by_target_date", "target_reached", "target_date", "departed_by_target_date",
        "peak_queue_people", "peak_waiting_outside_people", "wait_hours_p95", "verdict",
    ]
    summary = pd.read_csv(folder / "summary.csv").set_index("metric")
    assert summary.loc["target_reached_day", "p95"] == math.inf  # written as "inf", read back as inf


def test_manifest_records_what_made_the_numbers(tmp_path, scenario_files):
    folder = make_result(scenario_files).save(tmp_path / "out")
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("tool_version", "git_commit", "python_version", "libraries", "command_line",
                "scenario_files", "seed", "replications", "started_at", "ended_at", "wall_seconds", "files"):
        assert key in manifest, key
    assert set(manifest["libraries"]) == {"simpy", "numpy", "scipy", "pandas", "pydantic", "pyarrow"}
    assert manifest["seed"] == 42 and manifest["replications"] == 4
    assert manifest["command_line"] == ["bordersim", "run", "tiny.yaml"]
    assert manifest["wall_seconds"] == 3.0
    assert datetime.fromisoformat(manifest["started_at"]).replace(tzinfo=None) == STARTED
    assert [f["copied_as"] for f in manifest["scenario_files"]] == ["scenario.yaml", "base-1-base.yaml"]
    assert manifest["scenario_files"][0]["sha256"] == results.sha256_file(scenario_files[0])
    assert manifest["files"]["summary.csv"] == results.sha256_file(folder / "summary.csv")


@pytest.mark.parametrize("format", ["parquet", "csv"])
def test_identical_outcomes_give_byte_identical_tables(tmp_path, scenario_files, format):
    first = make_result(scenario_files).save(tmp_path / "a", format=format)
    # Replications finishing in another order, at another time: the same tables.
    second = make_result(scenario_files, replications_order=(3, 1, 0, 2),
                         started_at=STARTED + timedelta(hours=1)).save(tmp_path / "b", format=format)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert f"daily.{format}" in names
    for name in names:
        if name != "manifest.json":
            assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_failure_mid_write_leaves_no_folder_and_no_partial_folder(tmp_path, scenario_files):
    result = make_result(scenario_files, extra_tables={"bound": ExplodingTable({"date": ["2023-11-01"]})})
    root = tmp_path / "results"
    with pytest.raises(RuntimeError, match="disk full"):
        result.save(results_root=root)
    # Nothing left: neither the run folder, nor a ".partial" sibling, nor the parents it created.
    assert not root.exists()

    out = tmp_path / "kept"
    out.mkdir()
    (out.parent / "other").mkdir()
    with pytest.raises(RuntimeError):
        result.save(out)
    assert out.is_dir() and not any(out.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "other", "scenarios"]


def test_interrupt_inside_atomic_folder_cleans_up(tmp_path):
    destination = tmp_path / "runs" / "run-1"
    with pytest.raises(KeyboardInterrupt), results.atomic_folder(destination) as folder:
        (folder / "daily.csv").write_text("half")
        raise KeyboardInterrupt
    assert not (tmp_path / "runs").exists()


def test_existing_folder_is_never_overwritten(tmp_path, scenario_files):
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(ResultsFolderExistsError, match="not empty"):
        make_result(scenario_files).save(out)
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_empty_out_directory_is_accepted(tmp_path, scenario_files):
    out = tmp_path / "out"
    out.mkdir()
    folder = make_result(scenario_files).save(out)
    assert (folder / "manifest.json").is_file()


def test_default_folder_gets_a_suffix_when_asked_twice_in_the_same_second(tmp_path, scenario_files):
    result = make_result(scenario_files)
    first = result.save(results_root=tmp_path)
    second = result.save(results_root=tmp_path)
    assert second.name == first.name + "-2"


def test_extra_tables_and_csv_daily(tmp_path, scenario_files):
    bound = pd.DataFrame({"date": pd.to_datetime(["2023-11-01"]), "ceiling_people": [1234.5]})
    folder = make_result(scenario_files, extra_tables={"bound": bound}).save(tmp_path / "out", format="csv")
    assert (folder / "bound.csv").read_text() == "date,ceiling_people\n2023-11-01,1234.5\n"
    daily = pd.read_csv(folder / "daily.csv")
    assert list(daily.columns) == ["replication", "date", "node", "node_type", "metric", "value"]
    assert daily["date"].iloc[0] == PERIOD_START.isoformat()
    with pytest.raises(ValueError):
        make_result(scenario_files).save(tmp_path / "x", format="xlsx")


def test_run_hash_identifies_the_question():
    base = results.run_hash("name: a\n", 1, 100, "run")
    assert re.fullmatch(r"[0-9a-f]{8}", base)
    assert base == results.run_hash("name: a\n", 1, 100, "run")
    assert base != results.run_hash("name: a\n", 2, 100, "run")
    assert base != results.run_hash("name: a\n", 1, 10, "run")
    assert base != results.run_hash("name: a\n", 1, 100, "compare")


def test_tables_are_reachable_as_attributes(scenario_files):
    result = make_result(scenario_files)
    assert len(result.replications) == result.n_replications == 4
    assert [outcome.replication for outcome in result.outcomes] == [0, 1, 2, 3]
    assert result.summary.set_index("metric").loc["p_target_reached", "mean"] == 0.5
    assert result.headline.p_target == 0.5
    assert date.fromisoformat(result.replications["target_date"].iloc[0]) == PERIOD_START + timedelta(days=1)


def test_what_only_the_folder_needs_is_made_when_first_needed(tmp_path, scenario_files):
    """``sim.run`` hands over the resolved text and the capacity ceiling as functions: a caller who
    only reads the tables never pays for them; saving (or the run hash) makes each exactly once."""
    calls = []

    def resolve() -> str:
        calls.append("text")
        return "name: tiny\n"

    def ceiling() -> pd.DataFrame:
        calls.append("bound")
        return pd.DataFrame({"day": [0], "ceiling_people": [1.0]})

    result = make_result(scenario_files, resolved_text=None, resolve_text=resolve, extra_tables={"bound": ceiling})
    assert not result.summary.empty and calls == []
    folder = result.save(tmp_path / "out")
    result.save(tmp_path / "again")
    assert sorted(calls) == ["bound", "text"]
    assert (folder / "scenario.resolved.yaml").read_text() == "name: tiny\n"
    assert pd.read_csv(folder / "bound.csv")["ceiling_people"].tolist() == [1.0]
    assert folder.name == "out" and result.hash8 == results.run_hash("name: tiny\n", 42, 4, "run")
