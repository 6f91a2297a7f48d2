"""Same seed, same numbers (DESIGN §4, §5): byte-identical results files whatever the process, the
number of worker processes or the number of replications asked for; a different seed, different
numbers. Checked through the real console script and through the Python API.

The scenario is the golden one (``tests/golden/small-scenario.yaml``): it draws from every random
stream the model has (departures, household sizes, travel, camp stays, service, reroutes,
disruptions, reception stays), so an unseeded or order-dependent draw anywhere shows up here.
The command-line runs are started together, in parallel, the first time a test needs them.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

SCENARIO = Path(__file__).parent / "golden" / "small-scenario.yaml"
SEED = 11
TABLES = ("summary.csv", "replications.csv", "projection.csv", "daily.csv")

RUNS: dict[str, list[str]] = {
    "first": ["-n", "4", "--seed", str(SEED), "-j", "1", "--format", "csv"],
    "again": ["-n", "4", "--seed", str(SEED), "-j", "1", "--format", "csv"],
    "two jobs": ["-n", "4", "--seed", str(SEED), "-j", "2", "--format", "csv"],
    "parquet": ["-n", "4", "--seed", str(SEED), "-j", "1"],
    "fewer replications": ["-n", "2", "--seed", str(SEED), "-j", "1", "--format", "csv"],
    "other seed": ["-n", "4", "--seed", str(SEED + 1), "-j", "1", "--format", "csv"],
}


def bordersim_command() -> list[str]:
    """The installed console script next to this Python (falls back to ``python -m sim.cli``)."""
    script = Path(sys.executable).with_name("bordersim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sim"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Each of :data:`RUNS` as ``bordersim run SCENARIO ... --out <folder> -q``; name → folder."""
    root = tmp_path_factory.mktemp("reproducibility")
    scenario = root / SCENARIO.name
    shutil.copyfile(SCENARIO, scenario)
    folders = {name: root / name.replace(" ", "-") for name in RUNS}

    def launch(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*bordersim_command(), "run", str(scenario), *RUNS[name], "--out", str(folders[name]),
                               "-q"], cwd=root, capture_output=True, text=True, timeout=300, check=False)

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1) as pool:
        completed = dict(zip(RUNS, pool.map(launch, RUNS)))
    for name, process in completed.items():
        assert process.returncode == 0, (name, process.stderr)
    return folders


def read_bytes(folder: Path, name: str) -> bytes:
    data = (folder / name).read_bytes()
    assert data, f"{folder / name} is empty"
    return data


# --------------------------------------------------------------------------------------------
# Through the command line


@pytest.mark.parametrize("table", TABLES)
def test_the_same_seed_twice_gives_byte_identical_tables(runs, table):
    assert read_bytes(runs["first"], table) == read_bytes(runs["again"], table)


@pytest.mark.parametrize("table", TABLES)
def test_one_or_two_worker_processes_give_byte_identical_tables(runs, table):
    assert read_bytes(runs["first"], table) == read_bytes(runs["two jobs"], table)


def test_only_the_manifest_times_differ_between_two_runs(runs):
    import json

    first, again = (json.loads(read_bytes(runs[name], "manifest.json")) for name in ("first", "again"))
    assert first["files"] == again["files"]  # every file's sha256, scenario copies included
    assert first["run_hash"] == again["run_hash"]
    differing = {key for key in first.keys() | again.keys() if first.get(key) != again.get(key)}
    assert differing <= {"started_at", "ended_at", "wall_seconds", "command_line"}


def test_the_daily_parquet_is_byte_identical_to_one_written_by_the_api(runs, tmp_path):
    """The parquet file from the command line and one saved by ``run(...).save()`` in this process:
    two processes, two hash seeds, one file."""
    from sim import load_scenario, run

    result = run(load_scenario(SCENARIO), replications=4, seed=SEED, jobs=1)
    folder = result.save(tmp_path / "api", format="parquet")
    assert read_bytes(folder, "daily.parquet") == read_bytes(runs["parquet"], "daily.parquet")
    for table in ("summary.csv", "replications.csv", "projection.csv"):
        assert read_bytes(folder, table) == read_bytes(runs["parquet"], table), table
    # And the parquet holds the same numbers as the CSV of the same run.
    from_parquet = pd.read_parquet(runs["parquet"] / "daily.parquet")
    from_csv = pd.read_csv(runs["first"] / "daily.csv", parse_dates=["date"])
    pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False)


def test_a_different_seed_gives_different_numbers(runs):
    for table in TABLES:
        assert read_bytes(runs["first"], table) != read_bytes(runs["other seed"], table), table
    first = pd.read_csv(runs["first"] / "replications.csv")
    other = pd.read_csv(runs["other seed"] / "replications.csv")
    # Not one replication repeats: each one's streams depend on the seed (a continuous measure
    # differs in every row; a count may tie by chance in one, not in all).
    assert (first["wait_hours_p95"] != other["wait_hours_p95"]).all()
    assert not first["crossed_by_target_date"].equals(other["crossed_by_target_date"])


def test_a_replication_does_not_depend_on_how_many_run(runs):
    """Replications 0 and 1 of a 2-replication run are those of a 4-replication run."""
    four = read_bytes(runs["first"], "replications.csv").decode().splitlines()
    two = read_bytes(runs["fewer replications"], "replications.csv").decode().splitlines()
    assert len(four) == 1 + 4 and len(two) == 1 + 2
    assert two == four[:3]  # header and the first two rows

    def daily_lines(folder: Path, replications: set[str]) -> list[str]:
        lines = read_bytes(folder, "daily.csv").decode().splitlines()
        return [line for line in lines[1:] if line.split(",", 1)[0] in replications]

    first_two = daily_lines(runs["first"], {"0", "1"})
    assert first_two, "no daily rows for replications 0 and 1"
    assert daily_lines(runs["fewer replications"], {"0", "1"}) == first_two
    assert daily_lines(runs["fewer replications"], {"2", "3"}) == []


# --------------------------------------------------------------------------------------------
# Through the Python API


@pytest.fixture(scope="module")
def scenario():
    from sim import load_scenario

    return load_scenario(SCENARIO)


def frames(result) -> dict[str, pd.DataFrame]:
    return {"daily": result.daily, "replications": result.replications,
            "projection": result.projection, "summary": result.summary}


def test_api_same_seed_gives_equal_tables_whatever_the_jobs(scenario):
    from sim import run

    reference = frames(run(scenario, replications=3, seed=SEED, jobs=1))
    for jobs in (1, 2):
        again = frames(run(scenario, replications=3, seed=SEED, jobs=jobs))
        for name, table in reference.items():
            pd.testing.assert_frame_equal(again[name], table, check_exact=True, obj=f"{name} (jobs={jobs})")


def test_api_and_command_line_write_the_same_files(runs, scenario, tmp_path):
    from sim import run

    folder = run(scenario, replications=4, seed=SEED, jobs=2).save(tmp_path / "api", format="csv")
    for table in TABLES:
        assert read_bytes(folder, table) == read_bytes(runs["first"], table), table


def test_api_a_replication_does_not_depend_on_how_many_run(scenario):
    from sim import run

    two = run(scenario, replications=2, seed=SEED, jobs=1)
    five = run(scenario, replications=5, seed=SEED, jobs=1)
    pd.testing.assert_frame_equal(five.replications.iloc[:2], two.replications, check_exact=True)
    first_two_days = five.daily[five.daily["replication"] < 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(first_two_days, two.daily, check_exact=True)


def test_api_different_seeds_give_different_numbers(scenario):
    from sim import run

    one = run(scenario, replications=2, seed=SEED, jobs=1).replications
    other = run(scenario, replications=2, seed=SEED + 1, jobs=1).replications
    assert not one["crossed_by_target_date"].equals(other["crossed_by_target_date"])
    assert (one["wait_hours_p95"] != other["wait_hours_p95"]).all()
