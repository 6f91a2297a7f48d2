"""Size guards: runs too big for the machine, or too long, are refused before they start.

The estimator is checked against what drives it (households, days, workers) and against a real
measurement of the baseline; the commands are checked end to end: refused with exit 2 and the
estimate, nothing written, and quickly (the refusal must come before any replication).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hostile import REPOSITORY, assert_clean, bordersim

from sim import load_scenario
from sim.runs import size_guard

BASELINE = REPOSITORY / "scenarios" / "phase1-2023.yaml"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def test_households_and_daily_rows_of_the_baseline(baseline) -> None:
    # 1,730,000 people in households of mean 6 (1 + Poisson(5)); 2 crossings, 7 camps, 2 receptions, 1 group.
    assert size_guard.households_per_replication(baseline) == pytest.approx(1_730_000 / 6, abs=2)
    assert size_guard.daily_rows_per_day(baseline) == 3 + 2 * 8 + 7 * 4 + 2 * 3 + 1 * 4 == 57


def test_the_estimate_grows_with_what_drives_it(baseline) -> None:
    one = size_guard.estimate(baseline, replications=10, workers=1)
    assert size_guard.estimate(baseline, replications=20, workers=1).seconds == pytest.approx(2 * one.seconds)
    assert size_guard.estimate(baseline, replications=10, workers=2).seconds < one.seconds
    assert size_guard.estimate(baseline, replications=10, workers=2).memory_bytes > one.memory_bytes
    bigger = baseline.with_values({"groups.undocumented.people": 17_300_000})
    assert size_guard.estimate(bigger, 10, 1).memory_bytes > 5 * (one.memory_bytes - size_guard.INTERPRETER_BYTES)
    assert size_guard.estimate(baseline, 10, 1, keep_daily=False).memory_bytes < one.memory_bytes
    assert size_guard.estimate(baseline, 10, 1, trace=True).memory_bytes > one.memory_bytes


def test_the_baseline_estimate_errs_high_but_not_wildly(baseline) -> None:
    """Measured (docs/RELIABILITY.md): one replication in-process peaks ~270 MiB and takes ~1.5 s."""
    estimated = size_guard.estimate(baseline, replications=1, workers=1)
    assert 270 * 2**20 <= estimated.memory_bytes <= 3 * 270 * 2**20
    assert 1.0 <= estimated.seconds <= 10.0


def test_a_billion_people_is_refused_with_the_estimate(baseline) -> None:
    huge = baseline.with_values({"groups.undocumented.people": 1_000_000_000})
    with pytest.raises(size_guard.RunTooLarge, match=r"166,666,66\d households.*GiB of memory.*--max-memory"):
        size_guard.check(size_guard.estimate(huge, 1, 1), max_memory_bytes=16 * 2**30)


def test_hours_are_refused_unless_allowed(baseline) -> None:
    long_run = size_guard.estimate(baseline, replications=10_000, workers=2)
    with pytest.raises(size_guard.RunTooLarge, match=r"would take hours: .*--max-hours"):
        size_guard.check(long_run, max_memory_bytes=2**50, max_hours=1)
    size_guard.check(long_run, max_memory_bytes=2**50, max_hours=None)  # --max-hours inf


@pytest.mark.parametrize(("text", "expected"), [("8G", 8 * 2**30), ("512M", 512 * 2**20), ("2.5GiB", int(2.5 * 2**30)),
                                                ("1T", 2**40), ("1000", 1000), ("64kb", 64 * 2**10)])
def test_max_memory_sizes(text: str, expected: int) -> None:
    assert size_guard.parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0", "G", "nan", "1e30T"])
def test_max_memory_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--max-memory"):
        size_guard.parse_bytes(text)


def test_available_memory_is_known_here() -> None:
    available = size_guard.available_memory_bytes()
    assert available is not None and available > 2**27


COMMANDS = {
    "run": ["run", BASELINE, "-n", "1", "-j", "1"],
    "compare": ["compare", BASELINE, REPOSITORY / "scenarios" / "phase1-2023-double-lanes.yaml", "-n", "1", "-j", "1"],
    "sweep": ["sweep", BASELINE, "--vary", "crossings.torkham.lanes=40,50", "-n", "1", "-j", "1"],
    "sensitivity": ["sensitivity", BASELINE, "--range", "crossings.torkham.lanes=40:50", "-n", "1", "-j", "1"],
    "calibrate": ["calibrate", BASELINE, "--observed", "bundled:un", "--fit", "groups.undocumented.never_leave=0.1:0.5",
                  "-j", "1"],
    "backtest": ["backtest", BASELINE, "--observed", "bundled:un", "--cutoff", "2023-11-13", "--fit",
                 "groups.undocumented.never_leave=0.1:0.5", "-j", "1"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_that_simulates_refuses_a_billion_people(command: str, tmp_path: Path) -> None:
    outcome = bordersim(*COMMANDS[command], "--set", "groups.undocumented.people=1000000000",
                        "--out", tmp_path / "out", timeout_s=120)
    assert_clean(outcome)
    assert outcome.code == 2 and "too large" in outcome.stderr and "GiB of memory" in outcome.stderr, outcome.describe()
    assert not (tmp_path / "out").exists()


def test_max_memory_lowers_the_limit_and_says_so(tmp_path: Path) -> None:
    outcome = bordersim("run", BASELINE, "-n", "2", "-j", "1", "--max-memory", "100M", "--out", tmp_path / "out")
    assert outcome.code == 2 and "allowed by --max-memory" in outcome.stderr, outcome.describe()


def test_max_hours_refuses_a_long_run_and_says_how_to_proceed(tmp_path: Path) -> None:
    outcome = bordersim("run", BASELINE, "-n", "5000", "--max-memory", "1T", "--out", tmp_path / "out")
    assert outcome.code == 2, outcome.describe()
    assert "would take hours" in outcome.stderr and "--max-hours" in outcome.stderr and "-n" in outcome.stderr


@pytest.mark.parametrize("plan", [["--lhs", "1000000000", "--range", "crossings.torkham.lanes=40:80"],
                                  ["--vary", "crossings.torkham.lanes=1:1000000000:1"],
                                  ["--vary", "crossings.torkham.lanes=1:1000:1", "--vary", "run.seed=1:1000:1"]])
def test_a_sweep_of_a_billion_points_is_refused_before_it_is_built(plan: list[str], tmp_path: Path) -> None:
    outcome = bordersim("sweep", BASELINE, *plan, "-n", "1", "--out", tmp_path / "out", memory_bytes=2**31)
    assert_clean(outcome, names=("--vary", "--lhs"))
    assert outcome.code == 2 and "at most 10,000" in outcome.stderr, outcome.describe()
