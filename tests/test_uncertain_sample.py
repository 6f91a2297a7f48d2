"""uncertain: {sample: FILE}: one row of a weighted sample per replication, from its own stream."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from experiment_scenarios import bordersim, write_tiny

from sim import run
from sim.model.engine import run_replication
from sim.model.streams import stream
from sim.runs import uncertain
from sim.runs.runner import ReplicationJob, run_replications
from sim.scenario import ScenarioError, load_scenario, uncertain_sample

NEVER = "groups.undocumented.never_leave"
LANES = "crossings.torkham.lanes"
SAMPLE_TEXT = f"""{NEVER},{LANES},weight
0.05,2,0
0.5,3.4,1
0.2,1.6,3
"""


def _with_sample(folder, text=SAMPLE_TEXT, name="posterior.csv", block=None):
    """tiny.yaml plus a child scenario whose uncertain block names ``name`` (written with ``text``)."""
    write_tiny(folder)
    (folder / name).write_text(text, encoding="utf-8")
    child = folder / "tiny-sample.yaml"
    child.write_text(f"extends: tiny.yaml\nname: tiny-sample\nuncertain:\n  sample: {name}\n" + (block or ""),
                     encoding="utf-8")
    return child


def test_each_replication_draws_a_row_by_weight_from_its_own_stream(tmp_path) -> None:
    scenario = load_scenario(_with_sample(tmp_path))
    rows = [uncertain.drawn_row(scenario, 11, replication) for replication in range(4000)]
    # By hand: the row is where a uniform draw of stream uncertain/sample falls in the cumulative
    # weights 0, 1/4, 4/4.
    for replication in (0, 1, 2, 3999):
        u = stream(11, replication, "uncertain/sample").random()
        assert rows[replication] == (1 if u < 0.25 else 2)
    counts = np.bincount(rows, minlength=3)
    assert counts[0] == 0  # weight 0: never drawn
    share = counts[1] / 4000  # expected 0.25, sd 0.0068
    assert abs(share - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 4000)
    drawn = uncertain.draw(scenario, 11, 0)
    assert drawn[NEVER] == (0.5 if rows[0] == 1 else 0.2)
    assert drawn[LANES] == (3 if rows[0] == 1 else 2)  # lanes are an integer: rounded
    assert isinstance(drawn[LANES], int)


def test_rows_depend_only_on_seed_and_replication(tmp_path) -> None:
    child = _with_sample(tmp_path, block="  crossings.chaman.lanes: {dist: uniform, low: 1, high: 3}\n")
    with_distribution = load_scenario(child)
    (tmp_path / "other").mkdir()
    alone = load_scenario(_with_sample(tmp_path / "other"))
    for replication in range(20):
        # Adding a per-key distribution does not move the rows drawn (separate streams) ...
        assert uncertain.drawn_row(with_distribution, 5, replication) == uncertain.drawn_row(alone, 5, replication)
    # ... and the per-key draw is the one it would be without a sample.
    expected = 1 + 2 * stream(5, 3, "uncertain/crossings.chaman.lanes").uniform(0, 1)
    assert uncertain.draw(with_distribution, 5, 3)["crossings.chaman.lanes"] == round(expected)
    # Row r of a run of 3 replications is row r of a run of 8.
    short = run_replications(alone, range(3), seed=5)
    long = run_replications(alone, range(8), seed=5)
    assert [o.totals for o in short] == [o.totals for o in long[:3]]


def test_replications_run_with_their_row_and_report_it(tmp_path) -> None:
    scenario = load_scenario(_with_sample(tmp_path))
    result = run(scenario, replications=6, seed=2, jobs=2)
    table = result.replications
    assert {f"uncertain:{NEVER}", f"uncertain:{LANES}", "uncertain:sample_row"} <= set(table.columns)
    for _, row in table.iterrows():
        index = int(row["uncertain:sample_row"]) - 1
        assert index in (1, 2)
        assert row[f"uncertain:{NEVER}"] == [0.05, 0.5, 0.2][index]
        drawn = uncertain.draw(scenario, 2, int(row["replication"]))
        direct = run_replication(scenario.with_values(drawn).model_copy(update={"uncertain": {}}),
                                 int(row["replication"]), 2)
        assert row["departed_by_target_date"] == direct.totals["departed_by_target_date"]
    # never_leave 0.5 vs 0.2: the rows make visibly different numbers of people leave.
    by_row = table.groupby("uncertain:sample_row")["departed_by_target_date"].mean()
    if len(by_row) == 2:
        assert by_row.loc[3] > 1.3 * by_row.loc[2]


def test_the_job_carries_the_sample_to_workers_without_the_file(tmp_path) -> None:
    scenario = load_scenario(_with_sample(tmp_path))
    job = ReplicationJob(scenario, 4)
    expected = job(1).totals
    packed = pickle.dumps(job)
    (tmp_path / "posterior.csv").unlink()
    uncertain_sample._CACHE.clear()  # as in a fresh worker on another machine
    assert pickle.loads(packed)(1).totals == expected


def test_path_is_relative_to_the_file_that_names_it_through_extends(tmp_path) -> None:
    base_folder = tmp_path / "base"
    base_folder.mkdir()
    base = _with_sample(base_folder)  # base/tiny-sample.yaml names posterior.csv (in base/)
    child = tmp_path / "elsewhere" / "child.yaml"
    child.parent.mkdir()
    child.write_text(f"extends: ../base/{base.name}\nname: child\n", encoding="utf-8")
    scenario = load_scenario(child)
    assert scenario.uncertain["sample"] == str((base_folder / "posterior.csv").resolve())
    assert uncertain.sample_of(scenario).rows == 3
    # The resolved scenario loads back to the same draws (it holds the absolute path).
    again = (tmp_path / "resolved.yaml")
    again.write_text(scenario.to_yaml(), encoding="utf-8")
    assert uncertain.draw(load_scenario(again), 1, 0) == uncertain.draw(scenario, 1, 0)


def test_the_file_is_read_once_per_process(tmp_path, monkeypatch) -> None:
    scenario = load_scenario(_with_sample(tmp_path))
    reads = []
    original = uncertain_sample._parse
    monkeypatch.setattr(uncertain_sample, "_parse", lambda path: reads.append(path) or original(path))
    load_scenario(tmp_path / "tiny-sample.yaml")
    run_replications(scenario, range(5), seed=1)
    assert reads == []


@pytest.mark.parametrize("text, block, message", [
    (None, None, "posterior.csv: no such file"),
    (f"{NEVER},weight\n0.1,1\nabc,1\n", "", "posterior.csv:3: column groups.undocumented.never_leave: 'abc' is not a (finite) number"),
    (f"{NEVER},weight\n0.1,-1\n0.2,1\n", "", "posterior.csv:2: weight -1 is negative (weights must be >= 0)"),
    (f"{NEVER},weight\n0.1,0\n0.2,0\n", "", "every weight is 0"),
    (f"{NEVER}\n0.1\n", "", "posterior.csv:1: no 'weight' column"),
    ("crossings.nowhere.lanes,weight\n3,1\n", "", "posterior.csv:1: column crossings.nowhere.lanes: unknown key path"),
    ("crossings.torkham.hours,weight\n3,1\n", "", "must name a numeric value"),
    (f"{NEVER},weight\n0.1,1,7\n", "", "posterior.csv:2: 3 values for 2 columns"),
    (f"{NEVER},weight\n", "", "no rows"),
    (f"{NEVER},weight\n0.1,1\n", f"  {NEVER}: {{dist: uniform, low: 0, high: 1}}\n", "also given a distribution"),
])
def test_bad_samples_are_located_one_line_errors(tmp_path, text, block, message) -> None:
    child = _with_sample(tmp_path, text=text or "", block=block)
    if text is None:
        (tmp_path / "posterior.csv").unlink()
    with pytest.raises(ScenarioError) as error:
        load_scenario(child)
    problems = [str(problem) for problem in error.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{child}:4: uncertain.sample: ") or problems[0].startswith(
        f"{child.relative_to(child.anchor)}"), problems
    assert message in problems[0]


def test_validate_exits_2_with_the_located_line(tmp_path) -> None:
    child = _with_sample(tmp_path, text=f"{NEVER},weight\n0.1,x\n")
    completed = bordersim("validate", child.name, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.strip() == (
        "tiny-sample.yaml:4: uncertain.sample: posterior.csv:2: column weight: 'x' is not a (finite) number")


def test_a_row_the_scenario_rejects_is_reported(tmp_path) -> None:
    scenario = load_scenario(_with_sample(tmp_path, text=f"{NEVER},weight\n2.0,1\n"))
    with pytest.raises(ScenarioError, match="replication 0 drew values the scenario rejects"):
        run_replications(scenario, range(1), seed=1)


def test_dask_workers_draw_the_same_rows_without_the_file(tmp_path) -> None:
    from dask.distributed import Client, LocalCluster

    from sim.runs.executors import DaskExecutor

    scenario = load_scenario(_with_sample(tmp_path))
    serial = run_replications(scenario, range(4), seed=6)
    (tmp_path / "posterior.csv").unlink()  # the workers (separate processes) can only get it from the job
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        remote = run_replications(scenario, range(4), seed=6, executor=DaskExecutor(client=client))
    assert [o.totals for o in remote] == [o.totals for o in serial]
    assert {o.totals["uncertain:sample_row"] for o in remote} <= {2, 3}
