"""The calibration benchmarks' harness runs and accounts for what it measures (never how fast:
bench results are not asserted here). Tiny settings: unconverged fits of a few hundred
evaluations."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import calibrate_phase1, calibration_units
from bench.fit_probe import STAGES, StageClock, chain_evaluations
from bench.sections import replace_section

ROOT = Path(__file__).resolve().parents[1]


def test_chain_evaluations_adds_each_chain_s_last_report():
    lines = [
        "screening chain (fluid path): 100 steps, 2,200 of at most 6,600 evaluations; largest R-hat 1.2",
        "screening chain (fluid path): 200 steps, 4,400 of at most 6,600 evaluations; largest R-hat 1.1",
        "measuring the simulation: 48 replications at draws of the posterior (round 1)",
        ("answering chains, round 1 (the simulation's likelihood): 100 steps, 400 of at most 200,000 evaluations; "
         "adapting the proposal (30% of its last block accepted)"),
        "answering chains, round 1 (the simulation's likelihood): 300 steps, 1,200 of at most 200,000 evaluations; x",
        "answering chains: 2 warm-up blocks; model steps accepted 0.25, error-term steps 0.45",
        # the same chain run again (the emulator failed its check): its count starts again
        "answering chains, round 1 (the simulation's likelihood): 100 steps, 400 of at most 200,000 evaluations; x",
        # the ensemble, where the budget is too small to warm the chains up
        "answering chain, round 2 (the simulation's likelihood): 100 steps, 2,222 of at most 198,400 evaluations; x",
    ]
    assert chain_evaluations(lines) == {"screen": 4400, "answer": 1600, "ensemble": 2222}


def test_the_clock_leaves_the_answer_when_the_chains_say_their_last_line():
    clock = StageClock()
    stages = []
    for line in ["polynomial emulator of the fluid path: worst held-out error 0.100 noise sd",
                 "answering chains, round 1 (the simulation's likelihood): 400 steps, 1,600 of at most 9,000 evaluations",
                 "answering chains: 3 warm-up blocks; model steps accepted 0.24, error-term steps 0.43",
                 ("emulator on 100 draws of the answer: worst error 2.000 noise sd: too large, the answering chain "
                  "runs again on the fluid path"),
                 "answering chains: 4 warm-up blocks; model steps accepted 0.22, error-term steps 0.44"]:
        clock.status(line)
        stages.append(clock.stage)
    assert stages == ["answer", "answer", "tables", "answer", "tables"]


def test_a_section_is_replaced_in_place_or_put_before_the_arc(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n<!-- section: a -->\nold a\n\n<!-- section: b -->\nb\n\n"
                       "<!-- arc-2023-2025 -->\narc\n<!-- /arc-2023-2025 -->\n", encoding="utf-8")
    replace_section(results, "a", ["new a"])
    replace_section(results, "c", ["c"])
    text = results.read_text(encoding="utf-8")
    assert "old a" not in text
    assert text.index("new a") < text.index("<!-- section: b -->") < text.index("<!-- section: c -->") \
        < text.index("<!-- arc-2023-2025 -->")


def test_the_synthetic_bench_runs_and_writes_its_section(tmp_path):
    output = tmp_path / "out.md"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "calibrate-synthetic", "--runs", "1", "--output",
         str(output)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    text = output.read_text(encoding="utf-8")
    assert "<!-- section: calibrate-synthetic -->" in text
    assert "Projected SBC-100 on 2 cores" in text and "QUICK" in text
    assert "| **one replication**" in text


def test_the_phase1_fit_is_probed_stage_by_stage():
    """The fit as the bench runs it (in this process, 2 workers) and its report, from real units."""
    fit = calibrate_phase1.fit_in_this_process(quick=True)
    assert fit["replications"] == len(fit["replication_task_cpu"]) == 8 * fit["rounds"]
    assert sum(fit["stages"][stage]["fluid_calls"] for stage in STAGES) == fit["fluid_calls"] > 0
    # the quick budget is too small to warm up the answering chains: the ensemble answers
    assert fit["chain_evaluations"]["screen"] > 0 and fit["chain_evaluations"]["ensemble"] > 0
    assert fit["stages"]["replications"]["worker_cpu"] > 0  # the replications ran in the workers
    assert all(fit["stages"][stage]["wall"] >= 0 for stage in STAGES)
    unit = calibration_units.unit_costs(str(calibrate_phase1.PHASE1_SCENARIO), calibrate_phase1.UNTIL, [],
                                        list(calibrate_phase1.PRIORS), replications=1, fluid_points=2)
    assert {len(values) for values in unit.values()} == {1, 2}
    lines = calibrate_phase1.report({"units": unit, "fits": [fit], "cli": [], "loads": ["1 / 1 / 1"], "quick": True,
                                     "commit": "test", "machine": "test", "date": "today"})
    text = "\n".join(lines)
    assert "replication equivalents" in text and "QUICK" in text
    assert all(word in text for word in ("screening chain", "simulation replications", "answering chains"))


def test_the_command_is_the_issue_s():
    words = calibrate_phase1.command()
    assert words[:2] == ["calibrate", "scenarios/phase1-2023.yaml"]
    assert words.count("--prior") == 5 and words.count("--observed") == 3
    assert words[-2:] == ["-j", "2"] and "--until" in words
