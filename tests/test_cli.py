"""The ``bordersim`` command end to end: the real console script in a subprocess, real scenario files
in temporary folders, real results folders checked file by file against DESIGN §4 and §5.

Every command of this file is declared once in :data:`INVOCATIONS` (its files and its arguments)
and all of them are started together, in parallel, the first time a test asks for one: a
subprocess spends most of its second importing pandas, so running them side by side keeps the
file fast. Each test then reads the outcome of the invocation it is about.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml

import sim

# --------------------------------------------------------------------------------------------
# Scenarios

TINY_SCENARIO = """\
# A tiny scenario for the CLI tests: one group, a camp, two crossings, a target.
name: tiny
period: {start: 2023-11-01, end: 2023-11-30}
target: {people: 3_000, by: 2023-11-20}
run: {replications: 3, seed: 7}
groups:
  undocumented:
    people: 4_000
    household_size: {dist: poisson, mean: 4, shift: 1}
    origins: {kp: 0.7, balochistan: 0.3}
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

CHILD_SCENARIO = """\
# Same as tiny, with twice the lanes at Torkham.
extends: base.yaml
name: tiny-doubled
crossings:
  torkham: {lanes: 4}
"""

# Deterministic: 20 one-person households leave within minutes of the start; one lane of 2 h,
# always open, passes 12 a day. The 20th crosses at ~40 h, on 2024-01-02: one day after the
# target date, but well within the period.
LATE_TARGET_SCENARIO = """\
name: late
period: {start: 2024-01-01, end: 2024-01-05}
target: {people: 20, by: 2024-01-01}
run: {replications: 1, seed: 1}
groups:
  everyone:
    people: 20
    household_size: {dist: fixed, value: 1}
    origins: {home: 1.0}
    departures:
      hazard:
        - {from: 2024-01-01, rate: 10_000}
origins:
  home:
    routes:
      - {crossing: border, travel: {dist: fixed, value: 0}, voluntary: 1.0}
crossings:
  border:
    lanes: 1
    service: {dist: fixed, value: 2h}
"""

UNKNOWN_KEY = TINY_SCENARIO.replace("    lanes: 1\n", "    lanes: 1\n    lanez: 3\n")
SEVERAL_PROBLEMS = (UNKNOWN_KEY.replace("max_people: 1_000", "max_people: -5")
                    .replace("{kp: 0.7, balochistan: 0.3}", "{kp: 0.7, balochistan: 0.2}"))

SUMMARY_COLUMNS = ["metric", "mean", "ci95_low", "ci95_high", "p05", "p50", "p95"]
REPLICATIONS_COLUMNS = ["replication", "crossed_by_target_date", "target_reached", "target_date",
                        "departed_by_target_date", "peak_queue_people", "peak_waiting_outside_people",
                        "wait_hours_p95", "verdict"]
DAILY_COLUMNS = ["replication", "date", "node", "node_type", "metric", "value"]
VERDICTS = {"reached", "departures bind", "crossing capacity binds"}
DEFAULT_FOLDER = re.compile(r"^results/(?P<name>[^/]+)/run-\d{8}-\d{6}-[0-9a-f]{8}$")
LOCATED_LINE = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+): (?P<path>[\w.]+): (?P<message>.+)$")


# --------------------------------------------------------------------------------------------
# Invocations: files written into a fresh folder, then `bordersim ARGS` run there


@dataclass
class Invocation:
    arguments: list[str]
    files: dict[str, str] = field(default_factory=lambda: {"tiny.yaml": TINY_SCENARIO})
    folders: tuple[str, ...] = ()


def bad_run(text: str, *options: str) -> Invocation:
    return Invocation(["run", "bad.yaml", "-n", "1", "-j", "1", *options], {"bad.yaml": text})


INVOCATIONS: dict[str, Invocation] = {
    "default run": Invocation(["run", "tiny.yaml", "-n", "3", "--seed", "5", "-j", "1"]),
    "csv run": Invocation(
        ["run", "tiny.yaml", "-n", "2", "-j", "1", "--format", "csv", "--out", "out", "-q",
         "--observed", "observed.csv"],
        {"tiny.yaml": TINY_SCENARIO, "observed.csv": "date,value\n2023-11-05,100\n2023-11-15,2000\n"},
        folders=("out",)),
    "extends run": Invocation(
        ["run", "child.yaml", "-n", "2", "-j", "1", "--format", "csv", "-q",
         "--set", "crossings.chaman.lanes=3", "--set", "target.people=2500"],
        {"base.yaml": TINY_SCENARIO, "child.yaml": CHILD_SCENARIO}),
    "late target run": Invocation(["run", "late.yaml", "-j", "1", "--format", "csv", "--out", "out"],
                                  {"late.yaml": LATE_TARGET_SCENARIO}),
    # Bad input to `run`
    "unknown key": bad_run(UNKNOWN_KEY),
    "unquoted time": bad_run(TINY_SCENARIO.replace('at: "08:00"', "at: 08:00")),
    "unknown --set key path": bad_run(TINY_SCENARIO, "--set", "crossings.nowhere.lanes=4"),
    "--format xml": bad_run(TINY_SCENARIO, "--format", "xml"),
    "missing file": Invocation(["run", "nowhere.yaml"], files={}),
    "observed bad date": Invocation(
        ["run", "tiny.yaml", "-n", "1", "-j", "1", "--observed", "observed.csv"],
        {"tiny.yaml": TINY_SCENARIO, "observed.csv": "date,value\n2023-11-05,100\n2023-11-xx,200\n"}),
    "zero replications": Invocation(["run", "tiny.yaml", "-n", "0"]),
    "non-empty --out": Invocation(["run", "tiny.yaml", "-n", "1", "-j", "1", "--out", "out"],
                                  {"tiny.yaml": TINY_SCENARIO, "out/notes.txt": "keep me"}),
    # validate and schema
    "validate good": Invocation(["validate", "tiny.yaml"]),
    "validate bad": Invocation(["validate", "bad.yaml"], {"bad.yaml": SEVERAL_PROBLEMS}),
    "validate several": Invocation(
        ["validate", "a.yaml", "bad.yaml", "c.yaml"],
        {"a.yaml": TINY_SCENARIO, "bad.yaml": TINY_SCENARIO.replace("lanes: 2", "lanes: 0"),
         "c.yaml": TINY_SCENARIO.replace("name: tiny", "name: other")}),
    "validate show": Invocation(["validate", "--show", "tiny.yaml", "--set", "crossings.chaman.lanes=5"]),
    "schema": Invocation(["schema"], files={}),
}


def bordersim_command() -> list[str]:
    """The installed console script next to this Python (falls back to ``python -m sim.cli``)."""
    script = Path(sys.executable).with_name("bordersim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sim"]


@dataclass
class Outcome:
    """One finished invocation: the folder it ran in and what the process did."""

    cwd: Path
    completed: subprocess.CompletedProcess[str]

    @property
    def code(self) -> int:
        return self.completed.returncode

    @property
    def stdout(self) -> str:
        return self.completed.stdout

    @property
    def stderr(self) -> str:
        return self.completed.stderr

    def results_folder(self) -> Path:
        """The folder named on the ``results:`` line."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("results: ")]
        assert len(lines) == 1, (self.code, self.stdout, self.stderr)
        folder = Path(lines[0].removeprefix("results: "))
        return folder if folder.is_absolute() else self.cwd / folder


def _prepare(folder: Path, invocation: Invocation) -> None:
    folder.mkdir(parents=True)
    for name in invocation.folders:
        (folder / name).mkdir()
    for name, text in invocation.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict[str, Outcome]:
    """Every invocation of :data:`INVOCATIONS`, run in parallel, each in its own fresh folder."""
    root = tmp_path_factory.mktemp("cli")
    folders = {name: root / re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") for name in INVOCATIONS}
    for name, invocation in INVOCATIONS.items():
        _prepare(folders[name], invocation)

    def launch(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*bordersim_command(), *INVOCATIONS[name].arguments], cwd=folders[name],
                              capture_output=True, text=True, timeout=300, check=False)

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1) as pool:
        completed = dict(zip(INVOCATIONS, pool.map(launch, INVOCATIONS)))
    return {name: Outcome(folders[name], completed[name]) for name in INVOCATIONS}


def entries(folder: Path) -> set[str]:
    """Everything under ``folder`` (hidden names included), relative to it."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def assert_bad_input(outcome: Outcome, *fragments: str) -> str:
    """Exit 2, exactly one error line on stderr naming each fragment, no traceback."""
    assert outcome.code == 2, (outcome.code, outcome.stdout, outcome.stderr)
    assert "Traceback" not in outcome.stderr, outcome.stderr
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "results:" not in outcome.stdout
    return lines[0]


# --------------------------------------------------------------------------------------------
# bordersim run: a default run (no --out) in a fresh folder


def test_run_exits_0_and_prints_the_summary_and_the_folder(cli):
    outcome = cli["default run"]
    assert outcome.code == 0, outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert "Target: 3,000 people crossed by 2023-11-20 (3 replications)" in outcome.stdout
    assert re.search(r"^P\(target by 2023-11-20\) = \d\.\d\d \[\d\.\d\d, \d\.\d\d\]$", outcome.stdout, re.MULTILINE)
    assert re.search(r"^Verdict: reached \d+%, departures bind \d+%, crossing capacity binds \d+%",
                     outcome.stdout, re.MULTILINE), outcome.stdout
    assert outcome.stdout.rstrip().splitlines()[-1].startswith("results: ")


def test_run_writes_the_default_folder_layout(cli):
    outcome = cli["default run"]
    printed = outcome.stdout.rstrip().splitlines()[-1].removeprefix("results: ")
    match = DEFAULT_FOLDER.match(printed)
    assert match, printed
    assert match["name"] == "tiny"
    folder = outcome.cwd / printed
    assert folder.is_dir()
    # Only the finished folder: no temporary ".partial" sibling left behind.
    assert [path.name for path in (outcome.cwd / "results" / "tiny").iterdir()] == [folder.name]
    assert sorted(path.name for path in outcome.cwd.iterdir()) == ["results", "tiny.yaml"]


def test_run_folder_holds_the_design_files(cli):
    assert entries(cli["default run"].results_folder()) == {
        "manifest.json", "scenario.yaml", "scenario.resolved.yaml", "daily.parquet",
        "replications.csv", "projection.csv", "summary.csv", "bound.csv", "reached_by_month.csv"}


def test_scenario_copy_is_byte_identical_and_the_resolved_one_is_the_same_scenario(cli):
    from sim import load_scenario

    outcome = cli["default run"]
    folder = outcome.results_folder()
    scenario = outcome.cwd / "tiny.yaml"
    assert (folder / "scenario.yaml").read_bytes() == scenario.read_bytes()
    resolved = yaml.safe_load((folder / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert resolved["name"] == "tiny"
    assert resolved["crossings"]["torkham"]["lanes"] == 2
    assert load_scenario(folder / "scenario.resolved.yaml") == load_scenario(scenario)


def test_manifest_says_what_made_the_numbers(cli):
    outcome = cli["default run"]
    folder = outcome.results_folder()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 5
    assert manifest["replications"] == 3
    assert manifest["tool_version"] == sim.__version__
    assert manifest["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert {"simpy", "numpy", "pandas"} <= set(manifest["libraries"])
    assert manifest["command_line"][1:] == INVOCATIONS["default run"].arguments
    assert "git_commit" in manifest
    assert manifest["started_at"] and manifest["ended_at"]
    assert manifest["wall_seconds"] >= 0
    [source] = manifest["scenario_files"]
    assert source["sha256"] == hashlib.sha256((outcome.cwd / "tiny.yaml").read_bytes()).hexdigest()
    assert Path(source["resolved_path"]) == (outcome.cwd / "tiny.yaml").resolve()
    # Every file's recorded hash is that of the file as it is in the folder.
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    assert set(manifest["files"]) == entries(folder) - {"manifest.json"}


def test_replications_csv_has_one_row_per_replication(cli):
    table = pd.read_csv(cli["default run"].results_folder() / "replications.csv", keep_default_na=False)
    assert list(table.columns[:len(REPLICATIONS_COLUMNS)]) == REPLICATIONS_COLUMNS
    assert table["replication"].tolist() == [0, 1, 2]
    assert set(table["verdict"]) <= VERDICTS
    assert (table["crossed_by_target_date"] <= table["departed_by_target_date"]).all()
    assert (table["crossed_by_target_date"] > 0).all()


def test_summary_csv_has_the_design_columns(cli):
    table = pd.read_csv(cli["default run"].results_folder() / "summary.csv")
    assert list(table.columns) == SUMMARY_COLUMNS
    assert {"crossed_by_target_date", "peak_queue_people", "p_target_reached"} <= set(table["metric"])
    row = table.set_index("metric").loc["crossed_by_target_date"]
    assert row["ci95_low"] <= row["mean"] <= row["ci95_high"]
    assert row["p05"] <= row["p50"] <= row["p95"]


def test_projection_csv_has_weekly_rows_and_the_target_date(cli):
    table = pd.read_csv(cli["default run"].results_folder() / "projection.csv")
    assert {"date", "metric", "mean", "p05", "p50", "p95", "p_target_reached"} <= set(table.columns)
    dates = set(table["date"])
    assert {"2023-11-01", "2023-11-08", "2023-11-15", "2023-11-20", "2023-11-22"} <= dates
    assert len(dates) <= 7  # weekly rows and the target date, not daily ones
    assert "crossed_people_cumulative" in set(table["metric"])
    assert table["p_target_reached"].between(0, 1).all()


def test_daily_parquet_is_the_tidy_long_table(cli):
    table = pd.read_parquet(cli["default run"].results_folder() / "daily.parquet")
    assert list(table.columns) == DAILY_COLUMNS
    assert sorted(set(table["replication"])) == [0, 1, 2]
    assert {"crossing", "camp", "group", "all"} <= set(table["node_type"])
    assert {"torkham", "chaman", "landi_kotal", "undocumented", "all"} <= set(table["node"])
    days = pd.to_datetime(table["date"])
    assert (days.min(), days.max()) == (pd.Timestamp("2023-11-01"), pd.Timestamp("2023-11-30"))


# --------------------------------------------------------------------------------------------
# bordersim run --format csv --out DIR -q --observed CSV


def test_format_csv_writes_daily_csv_into_an_empty_out_folder(cli):
    outcome = cli["csv run"]
    assert outcome.code == 0, outcome.stderr
    folder = outcome.results_folder()
    assert folder.resolve() == (outcome.cwd / "out").resolve()
    assert "daily.csv" in entries(folder) and "daily.parquet" not in entries(folder)
    daily = pd.read_csv(folder / "daily.csv")
    assert list(daily.columns) == DAILY_COLUMNS
    assert sorted(set(daily["replication"])) == [0, 1]
    assert sorted(path.name for path in outcome.cwd.iterdir()) == ["observed.csv", "out", "tiny.yaml"]  # no results/
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["seed"], manifest["replications"]) == (7, 2)  # the scenario's run.seed


def test_quiet_prints_only_the_results_line(cli):
    outcome = cli["csv run"]
    assert outcome.stdout.strip().splitlines() == ["results: out"]


def test_observed_series_appear_beside_the_projection(cli):
    outcome = cli["csv run"]
    assert outcome.code == 0, outcome.stderr
    table = pd.read_csv(outcome.results_folder() / "projection.csv")
    assert "observed" in table.columns
    crossed = table[(table["node"] == "all") & (table["metric"] == "crossed_people_cumulative")]
    assert crossed.set_index("date").loc["2023-11-15", "observed"] == 2000
    assert crossed["observed"].notna().sum() == 1  # 2023-11-05 is not a projection date


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, one located line, nothing written

BAD_RUN_FRAGMENTS = {
    "unknown key": ["bad.yaml:", "crossings.chaman.lanez", "unknown key"],
    "unquoted time": ["bad.yaml:", "camps.landi_kotal.dispatch.at", "quoted"],
    "unknown --set key path": ["--set", "crossings.nowhere.lanes"],
    "--format xml": ["--format", "xml"],
}


@pytest.mark.parametrize("case", list(BAD_RUN_FRAGMENTS))
def test_bad_input_exits_2_with_one_located_line_and_writes_nothing(cli, case):
    outcome = cli[case]
    assert_bad_input(outcome, *BAD_RUN_FRAGMENTS[case])
    assert entries(outcome.cwd) == {"bad.yaml"}


def test_a_scenario_error_gives_the_line_of_the_key(cli):
    line = assert_bad_input(cli["unknown key"])
    number = int(re.search(r"bad\.yaml:(\d+):", line).group(1))
    assert UNKNOWN_KEY.splitlines()[number - 1].strip() == "lanez: 3"


def test_a_missing_scenario_file_exits_2(cli):
    outcome = cli["missing file"]
    assert_bad_input(outcome, "nowhere.yaml")
    assert entries(outcome.cwd) == set()


def test_an_unreadable_observed_series_exits_2_with_one_line(cli):
    outcome = cli["observed bad date"]
    assert_bad_input(outcome, "observed.csv", "2023-11-xx")
    assert entries(outcome.cwd) == {"tiny.yaml", "observed.csv"}


def test_a_bad_option_value_exits_2_and_writes_nothing(cli):
    outcome = cli["zero replications"]
    assert outcome.code == 2, (outcome.stdout, outcome.stderr)
    assert "Traceback" not in outcome.stderr
    assert "--replications" in outcome.stderr
    assert entries(outcome.cwd) == {"tiny.yaml"}


def test_an_existing_non_empty_out_folder_is_never_overwritten(cli):
    outcome = cli["non-empty --out"]
    assert_bad_input(outcome, "out", "not empty")
    assert entries(outcome.cwd) == {"tiny.yaml", "out", "out/notes.txt"}  # no .partial sibling either
    assert (outcome.cwd / "out" / "notes.txt").read_text(encoding="utf-8") == "keep me"


# --------------------------------------------------------------------------------------------
# bordersim validate and schema


def test_validate_a_good_file_exits_0(cli):
    outcome = cli["validate good"]
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.strip() == "tiny.yaml: ok (tiny)"
    assert outcome.stderr == ""
    assert entries(outcome.cwd) == {"tiny.yaml"}


def test_validate_reports_every_problem_of_a_bad_file_located(cli):
    outcome = cli["validate bad"]
    assert outcome.code == 2
    assert "Traceback" not in outcome.stderr
    lines = outcome.stderr.strip().splitlines()
    located = [LOCATED_LINE.match(line) for line in lines]
    assert len(lines) >= 3 and all(located), lines
    paths = {match["path"] for match in located}
    assert {"crossings.chaman.lanez", "camps.landi_kotal.dispatch.max_people"} <= paths
    assert any(path.startswith("groups.undocumented.origins") for path in paths), paths
    assert {match["file"] for match in located} == {"bad.yaml"}
    assert entries(outcome.cwd) == {"bad.yaml"}


def test_validate_several_files_checks_them_all(cli):
    outcome = cli["validate several"]
    assert outcome.code == 2
    assert outcome.stdout.strip().splitlines() == ["a.yaml: ok (tiny)", "c.yaml: ok (other)"]
    [problem] = outcome.stderr.strip().splitlines()
    match = LOCATED_LINE.match(problem)
    assert match and (match["file"], match["path"]) == ("bad.yaml", "crossings.torkham.lanes"), problem


def test_validate_show_prints_the_resolved_scenario(cli):
    outcome = cli["validate show"]
    assert outcome.code == 0, outcome.stderr
    shown = yaml.safe_load(outcome.stdout)
    assert shown["name"] == "tiny"
    assert shown["crossings"]["chaman"]["lanes"] == 5  # --set applied
    assert shown["crossings"]["torkham"]["hours"] == "06:00-21:00"
    assert shown["camps"]["landi_kotal"]["dispatch"]["at"] == "08:00"
    assert "ok (tiny)" not in outcome.stdout


def test_schema_prints_the_json_schema_of_the_format(cli):
    outcome = cli["schema"]
    assert outcome.code == 0, outcome.stderr
    schema = json.loads(outcome.stdout)
    assert "crossings" in schema["properties"]
    assert {"period", "groups", "origins", "crossings"} <= set(schema.get("required", []))


# --------------------------------------------------------------------------------------------
# extends + --set through run


def test_extends_and_set_through_run(cli):
    outcome = cli["extends run"]
    assert outcome.code == 0, outcome.stderr
    folder = outcome.results_folder()
    assert folder.parent.name == "tiny-doubled"  # the child's name: `name` is not inherited
    resolved = yaml.safe_load((folder / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert resolved["name"] == "tiny-doubled"
    assert resolved.get("extends") is None
    assert resolved["crossings"]["torkham"]["lanes"] == 4  # from the child
    assert resolved["crossings"]["torkham"]["hours"] == "06:00-21:00"  # merged from the base
    assert resolved["crossings"]["chaman"]["lanes"] == 3  # from --set
    assert resolved["target"]["people"] == 2500  # from --set
    assert resolved["groups"]["undocumented"]["people"] == 4000  # from the base


def test_extends_manifest_lists_and_copies_both_files(cli):
    outcome = cli["extends run"]
    folder = outcome.results_folder()
    child, base = outcome.cwd / "child.yaml", outcome.cwd / "base.yaml"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [Path(entry["resolved_path"]) for entry in manifest["scenario_files"]] == [child.resolve(),
                                                                                      base.resolve()]
    copies = [entry["copied_as"] for entry in manifest["scenario_files"]]
    assert copies[0] == "scenario.yaml"
    assert (folder / copies[0]).read_bytes() == child.read_bytes()
    assert (folder / copies[1]).read_bytes() == base.read_bytes()
    assert manifest["target_people"] == 2500


# --------------------------------------------------------------------------------------------
# What the outputs say about a target reached late


def test_a_target_reached_after_its_date_is_dated_within_the_period(cli):
    """DESIGN §3.10 and §4: only a replication that never reaches the target *within the period*
    counts as +inf, and the terminal prints the date it is reached. Here 20 people have crossed by
    ~40 h (2024-01-02): not by the target date 2024-01-01, but within the period."""
    outcome = cli["late target run"]
    assert outcome.code == 0, outcome.stderr
    table = pd.read_csv(outcome.results_folder() / "replications.csv", keep_default_na=False)
    row = table.iloc[0]
    assert not row["target_reached"]
    assert row["verdict"] == "crossing capacity binds"
    assert row["target_date"] == "2024-01-02"
    assert "reached: median 2024-01-02" in outcome.stdout
