"""Regenerate the golden summary, ``tests/golden/summary.csv``.

``tests/test_golden.py`` runs ``small-scenario.yaml`` through the ``bordersim`` command with the
fixed replications and seed below and compares the ``summary.csv`` it writes with the golden file,
character for character. Any change to the model, the random streams or the statistics that
moves a number makes that test fail: that is its purpose.

Run this script **only when a change of results is deliberate** (a model fix, a new semantics, a
change of random streams) — never to make a failing test pass without understanding why it
failed. Then look at the diff of ``summary.csv``, check that it moves the way the change says it
should, and commit it together with the change, saying in the commit message why the results
changed::

    .venv/bin/python tests/golden/refresh.py
    git diff tests/golden/summary.csv
    git add tests/golden/summary.csv && git commit -m "Golden summary: <why the numbers changed>"

The script and the test share :func:`golden_summary`, so they always run the same command.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

GOLDEN_FOLDER = Path(__file__).resolve().parent
SCENARIO = GOLDEN_FOLDER / "small-scenario.yaml"
GOLDEN_SUMMARY = GOLDEN_FOLDER / "summary.csv"
REPLICATIONS = 6
SEED = 20231101
REFRESH_COMMAND = ".venv/bin/python tests/golden/refresh.py"


def bordersim_command() -> list[str]:
    """The installed console script next to this Python (falls back to ``python -m sim.cli``)."""
    script = Path(sys.executable).with_name("bordersim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sim"]


def golden_summary(work_folder: Path) -> str:
    """Run the golden scenario with ``bordersim run`` into ``work_folder/run``; its summary.csv text."""
    out = Path(work_folder) / "run"
    completed = subprocess.run(
        [*bordersim_command(), "run", str(SCENARIO), "-n", str(REPLICATIONS), "--seed", str(SEED),
         "-j", "1", "--format", "csv", "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bordersim run failed with exit {completed.returncode}:\n{completed.stderr}")
    return (out / "summary.csv").read_bytes().decode("utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as work_folder:
        text = golden_summary(Path(work_folder))
    previous = GOLDEN_SUMMARY.read_bytes().decode("utf-8") if GOLDEN_SUMMARY.exists() else None
    GOLDEN_SUMMARY.write_bytes(text.encode("utf-8"))
    if previous == text:
        print(f"{GOLDEN_SUMMARY}: unchanged")
    else:
        print(f"{GOLDEN_SUMMARY}: rewritten; review `git diff {GOLDEN_SUMMARY}` and say why in the commit")


if __name__ == "__main__":
    main()
