"""Hostile conditions: concurrency, interruption, a full disk, hand-damaged folders, bad options.

Each test makes the condition for real — two processes at once, a signal mid-run, a file-size
limit on the process (what a full disk looks like to a program; a small tmpfs would need root), a
partial sweep folder edited by hand, a results folder with a file removed — and checks the promise
of docs/RELIABILITY.md: exit 0 with complete, distinct folders, or exit 2 (130 when interrupted)
with one line saying what is wrong, and nothing half-written or lost.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MINIMAL_SCENARIO
from hostile import REPOSITORY, assert_clean, bordersim

from sim.outputs.results import unique_folder, write_results_folder

SLOW_SCENARIO = MINIMAL_SCENARIO.replace("people: 6000", "people: 3_000_000")
"""Half a million households: a replication long enough to be interrupted."""


def entries(folder: Path) -> set[str]:
    """Every file and folder under ``folder`` (hidden ones included), relative."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL_SCENARIO, encoding="utf-8")
    return path


def start(*args: str | Path, cwd: Path) -> subprocess.Popen:
    """The console script's entry point (``sim.cli.main``) started in the background, in a fresh
    interpreter, with Ctrl-C handled as on a terminal: a background job (how CI may start pytest)
    would inherit SIGINT ignored, and Python keeps an ignored SIGINT ignored."""
    return subprocess.Popen([sys.executable, "-c", ENTRY, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPOSITORY)})


ENTRY = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
         "sys.argv[0] = 'bordersim'; from sim.cli import main; main()")


# --------------------------------------------------------------------------------------------
# Two runs into the same parent at once


def test_two_runs_at_once_into_the_default_results_folder_both_complete(tiny: Path) -> None:
    """Same scenario, same seed, started together: the same default folder name in the same second."""
    runs = [start("run", tiny, "-n", "2", "-j", "1", "-q", cwd=tiny.parent) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    folders = [Path(tiny.parent, out.strip().removeprefix("results: ")) for out, _ in outputs]
    assert folders[0] != folders[1]
    for folder in folders:
        assert (folder / "manifest.json").is_file() and (folder / "summary.csv").is_file()
    assert not [name for name in entries(tiny.parent / "results") if ".partial" in name]


def test_two_runs_at_once_into_sibling_out_folders(tiny: Path) -> None:
    parent = tiny.parent / "shared"
    runs = [start("run", tiny, "-n", "2", "-j", "1", "-q", "--out", parent / name, cwd=tiny.parent)
            for name in ("a", "b")]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert {path.name for path in parent.iterdir()} == {"a", "b"}


def test_a_default_name_taken_meanwhile_moves_to_the_next_suffix(tmp_path: Path) -> None:
    """The race itself, made certain: both writers picked the name before either wrote it."""
    name = tmp_path / "results" / "tiny" / "run-20231101-000000-abcd1234"
    first, second = unique_folder(name), unique_folder(name)
    assert first == second == name
    tables = {"summary.csv": __import__("pandas").DataFrame({"metric": ["x"], "mean": [1.0]})}
    written = [write_results_folder(path, tables=tables, manifest={"n": index})
               for index, path in enumerate((first, second))]
    assert written[0] == name and written[1] == name.with_name(name.name + "-2")
    assert json.loads((written[1] / "manifest.json").read_text())["n"] == 1


def test_an_explicit_out_taken_meanwhile_is_refused_not_overwritten(tmp_path: Path) -> None:
    tables = {"summary.csv": __import__("pandas").DataFrame({"metric": ["x"], "mean": [1.0]})}
    out = tmp_path / "out"
    write_results_folder(out, tables=tables, manifest={"n": 0})
    with pytest.raises(FileExistsError):
        write_results_folder(out, tables=tables, manifest={"n": 1})
    assert json.loads((out / "manifest.json").read_text())["n"] == 0


# --------------------------------------------------------------------------------------------
# Interruption: SIGINT and SIGTERM mid-run


@pytest.mark.parametrize(("sent", "jobs"), [(signal.SIGINT, "1"), (signal.SIGTERM, "1"), (signal.SIGINT, "2")])
def test_a_signal_mid_run_exits_130_and_writes_nothing(tmp_path: Path, sent: int, jobs: str) -> None:
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(SLOW_SCENARIO, encoding="utf-8")
    # 60 replications take ~30 s on two idle cores (6 took 3 s: on an idle machine the run could be
    # finishing, its signal handlers already reset, when the signal came at 3 s).
    run = start("run", scenario, "-n", "60", "-j", jobs, "--out", tmp_path / "out", cwd=tmp_path)
    time.sleep(3.0)  # past start-up and loading: the replications are running
    assert run.poll() is None, run.communicate()
    run.send_signal(sent)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert "interrupted: nothing was written" in stderr and "Traceback" not in stderr
    assert entries(tmp_path) == {"slow.yaml"}


# --------------------------------------------------------------------------------------------
# A write failure (a full disk) while the results folder is written


def test_a_full_disk_while_writing_leaves_no_folder_and_says_so(tiny: Path) -> None:
    out = tiny.parent / "out"
    outcome = bordersim("run", tiny, "-n", "3", "-j", "1", "-q", "--format", "csv", "--out", out,
                        file_size_bytes=20_000)
    assert_clean(outcome)
    assert outcome.code == 2, outcome.describe()
    assert "cannot write the results folder" in outcome.stderr and "nothing was written" in outcome.stderr
    assert "File too large" in outcome.stderr
    assert entries(tiny.parent) == {"tiny.yaml"}  # neither out nor a hidden .out.partial-* sibling


def test_an_out_inside_a_file_is_refused_before_running(tiny: Path) -> None:
    outcome = bordersim("run", tiny, "-n", "1", "-j", "1", "--out", tiny / "out")
    assert_clean(outcome, names=("--out",))
    assert outcome.code == 2 and "not a folder" in outcome.stderr


# --------------------------------------------------------------------------------------------
# sweep --resume on a partial folder damaged by hand


@pytest.fixture
def partial_sweep(tmp_path: Path, tiny: Path) -> Path:
    """A real sweep of two points, interrupted after its first point was kept."""
    from sim import load_scenario
    from sim.runs.executors import SerialExecutor
    from sim.studies import sweep as sweeps

    plan = sweeps.plan_sweep(load_scenario(tiny), [{"crossings.torkham.lanes": 3}, {"crossings.torkham.lanes": 5}],
                             seed=1, replications=2, design="grid", out=tmp_path / "sweep")

    def stop(done: int, total: int | None = None) -> None:
        if done >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweeps.run_sweep(plan, SerialExecutor(), stop)
    assert len((plan.partial / "points.jsonl").read_text().splitlines()) == 1
    return plan.partial


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


DAMAGE = {
    "garbage line before a point": ("points.jsonl", lambda text: "garbage\n" + text, "points.jsonl:1"),
    "a point out of range": ("points.jsonl", lambda text: text.replace('"point": 0', '"point": 7'), "point 7"),
    "a value that is no number": ("points.jsonl", lambda text: re.sub(r"\[[^,\]]+", '["x"', text, count=1),
                                  "not a number"),
    "spec not JSON": ("spec.json", lambda text: text[: len(text) // 2], "unreadable spec.json"),
    "spec without its seed": ("spec.json", lambda text: text.replace('"seed"', '"sead"'), "'seed'"),
    "replications as text": ("spec.json", lambda text: text.replace('"replications": 2', '"replications": "2"'),
                             "'replications'"),
    "scenario removed": ("scenario.resolved.yaml", None, "scenario.resolved.yaml is missing"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_resume_of_a_damaged_partial_sweep_exits_2_and_keeps_everything(partial_sweep: Path, case: str) -> None:
    name, edit, fragment = DAMAGE[case]
    target = partial_sweep / name
    if edit is None:
        target.unlink()
    else:
        target.write_text(edit(target.read_text()))
    before = _snapshot(partial_sweep)
    outcome = bordersim("sweep", "--resume", partial_sweep, "-j", "1", "-q")
    assert_clean(outcome, names=(str(partial_sweep.name),))
    assert outcome.code == 2 and fragment in outcome.stderr, outcome.describe()
    assert _snapshot(partial_sweep) == before  # nothing finished is lost, nothing is touched


def test_a_line_cut_short_at_the_end_is_rerun_and_the_sweep_finishes(partial_sweep: Path) -> None:
    points = partial_sweep / "points.jsonl"
    points.write_text(points.read_text() + '{"point": 1, "values": {"p_tar')
    outcome = bordersim("sweep", "--resume", partial_sweep, "-j", "1")
    assert outcome.code == 0, outcome.describe()
    assert "Resumed: 1 of 2 points were already done" in outcome.stdout
    assert not partial_sweep.exists() and (partial_sweep.parent / "sweep" / "sweep.csv").is_file()


# --------------------------------------------------------------------------------------------
# report on a results folder with a file missing or changed


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    (folder / "tiny.yaml").write_text(MINIMAL_SCENARIO, encoding="utf-8")
    outcome = bordersim("run", folder / "tiny.yaml", "-n", "2", "-j", "1", "-q", "--out", folder / "out")
    assert outcome.code == 0, outcome.describe()
    return folder / "out"


RUN_FILES = ["manifest.json", "summary.csv", "replications.csv", "projection.csv", "daily.parquet", "bound.csv",
             "scenario.yaml", "scenario.resolved.yaml"]


@pytest.mark.parametrize("name", RUN_FILES)
def test_report_on_a_folder_with_a_file_missing_names_it(run_folder: Path, name: str, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(run_folder, folder)
    (folder / name).unlink()
    outcome = bordersim("report", folder)
    assert_clean(outcome, names=(name,))
    assert outcome.code == 2, outcome.describe()


@pytest.mark.parametrize("name", [name for name in RUN_FILES if name != "manifest.json"])
@pytest.mark.parametrize("damage", ["truncated", "emptied", "not text"])
def test_report_on_a_folder_with_a_file_damaged_never_crashes(run_folder: Path, name: str, damage: str,
                                                               tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(run_folder, folder)
    data = (folder / name).read_bytes()
    (folder / name).write_bytes({"truncated": data[: len(data) // 2], "emptied": b"",
                                 "not text": b"\xff\xfe\x00" + data[3:]}[damage])
    outcome = bordersim("report", folder)
    assert_clean(outcome, names=(name,))


# --------------------------------------------------------------------------------------------
# Bad options (some also in test_cli.py): exit 2, one line naming the option, nothing written

BAD_OPTIONS = {
    "-n 0": ["-n", "0"], "-n -3": ["-n", "-3"], "-n many": ["-n", "many"],
    "-j 0": ["-j", "0"], "-j -1": ["-j", "-1"],
    "--seed -1": ["--seed", "-1"], "--seed abc": ["--seed", "abc"], "--seed 1.5": ["--seed", "1.5"],
    "--format xml": ["--format", "xml"], "--max-memory lots": ["--max-memory", "lots"],
    "--max-memory 0": ["--max-memory", "0"], "--max-hours -1": ["--max-hours", "-1"],
    "--set without =": ["--set", "crossings.torkham.lanes"], "--set unknown path": ["--set", "crossings.nowhere.lanes=3"],
    "--set wrong type": ["--set", "crossings.torkham.lanes=many"], "--set index past the end": ["--set", "slowdowns.5.factor=1"],
    "--set a list into a number": ["--set", "crossings.torkham.lanes=[1, 2]"],
    "--set an impossible date": ["--set", "period.end=2023-02-30"],
    "--observed missing": ["--observed", "nowhere.csv"],
    "--scheduler nonsense": ["--scheduler", "not-an-address"],
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_a_bad_option_exits_2_and_writes_nothing(tiny: Path, case: str) -> None:
    outcome = bordersim("run", tiny, "-q", "--out", tiny.parent / "out", *BAD_OPTIONS[case], timeout_s=120)
    assert_clean(outcome)
    assert outcome.code == 2, outcome.describe()
    assert entries(tiny.parent) == {"tiny.yaml"}


def test_out_onto_a_non_empty_folder_is_refused_and_kept(tiny: Path) -> None:
    out = tiny.parent / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    outcome = bordersim("run", tiny, "-n", "1", "-j", "1", "--out", out)
    assert_clean(outcome, names=("--out",))
    assert outcome.code == 2 and (out / "notes.txt").read_text() == "keep me" and len(list(out.iterdir())) == 1
