"""Small scenarios shared by the compare / sweep / sensitivity / uncertain / executor tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SCENARIOS = REPOSITORY / "scenarios"
BORDERSIM = [str(Path(sys.executable).parent / "bordersim")]

# A tiny scenario with a target, a camp and two crossings; Torkham's lanes bind (queues form).
TINY = """\
name: tiny
period: {start: 2023-11-01, end: 2023-11-20}
target: {people: 3_000, by: 2023-11-15}
run: {replications: 4, seed: 7}
groups:
  undocumented:
    people: 4_000
    household_size: {dist: poisson, mean: 4, shift: 1}
    origins: {kp: 0.7, balochistan: 0.3}
    never_leave: 0.1
    departures:
      hazard:
        - {from: 2023-11-01, rate: 0.08}
origins:
  kp:
    routes:
      - {crossing: torkham, via: landi_kotal, travel: {dist: lognormal, mean: 8h, sd: 3h}, voluntary: 1.0}
  balochistan:
    routes:
      - {crossing: chaman, travel: {dist: fixed, value: 6h}, voluntary: 1.0}
camps:
  landi_kotal:
    capacity: 300
    stay: {dist: triangular, low: 2h, mode: 8h, high: 1d}
    dispatch: {days: [mon, tue, wed, thu, fri, sat, sun], at: "08:00", max_people: 1_000}
crossings:
  torkham:
    lanes: 2
    service: {dist: lognormal, mean: 40min, sd: 20min}
    hours: "06:00-21:00"
  chaman:
    lanes: 1
    service: {dist: lognormal, mean: 45min, sd: 25min}
"""

TINY_DOUBLED = """\
extends: tiny.yaml
name: tiny-doubled
crossings:
  torkham: {lanes: 4}
"""


def write_tiny(folder: Path) -> tuple[Path, Path]:
    """``tiny.yaml`` and ``tiny-doubled.yaml`` (which extends it) in ``folder``."""
    tiny = folder / "tiny.yaml"
    tiny.write_text(TINY, encoding="utf-8")
    doubled = folder / "tiny-doubled.yaml"
    doubled.write_text(TINY_DOUBLED, encoding="utf-8")
    return tiny, doubled


def bordersim(*arguments: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """The ``bordersim`` console script in a subprocess, without Dask in the environment."""
    environment = {key: value for key, value in os.environ.items() if key != "DASK_SCHEDULER_ADDRESS"}
    return subprocess.run([*BORDERSIM, *arguments], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=environment, check=False)


def stop_after(count: int):
    """A serial executor interrupted (as by Ctrl-C) once ``count`` tasks are done: a resumable study
    (sbc's data sets, a backtest's cutoffs) keeps those and stops."""
    from sim.runs.executors import SerialExecutor

    class StopAfter(SerialExecutor):
        def map_unordered(self, fn, tasks):
            for done, result in enumerate(super().map_unordered(fn, tasks), start=1):
                yield result
                if done == count:
                    raise KeyboardInterrupt

    return StopAfter()
