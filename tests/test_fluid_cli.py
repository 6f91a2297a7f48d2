"""``bordersim run --fluid``: the answer block of the deterministic path and its results folder."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_scenario

BORDERSIM = [sys.executable, "-m", "sim"]


def test_run_fluid_prints_the_deterministic_answer_and_writes_the_daily_table(tmp_path: Path):
    out = tmp_path / "fluid"
    done = subprocess.run([*BORDERSIM, "run", "--fluid", str(write_scenario(tmp_path)), "--out", str(out),
                           "--format", "csv"], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Fluid path: the deterministic expected path")
    assert not any(line.startswith("P(target") for line in lines)  # one path gives no probability
    assert lines[-1] == f"results: {out}"
    daily = pd.read_csv(out / "daily.csv")
    crossed = daily[(daily.node == "torkham") & (daily.metric == "crossed_people")]
    # 6,000 at 0.05 a day over 30 days, less the last 6.5 h on the way (see test_fluid).
    assert crossed.value.sum() == pytest.approx(6000 * (1 - math.exp(-0.05 * (30 - 6.5 / 24))), rel=1e-4)
    assert {"queue_people", "wait_hours_p95", "utilisation"} <= set(daily.metric)
    assert set(daily.replication) == {0}


def test_run_fluid_refuses_options_about_replications(tmp_path: Path):
    done = subprocess.run([*BORDERSIM, "run", "--fluid", "-n", "5", str(write_scenario(tmp_path))],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --fluid computes one deterministic path: drop -n/--replications"
    assert not (tmp_path / "results").exists()
