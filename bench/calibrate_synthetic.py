"""Calibration benchmark: one data set of the SBC synthetic case, and what SBC-100 costs from it.

``bordersim sbc scenarios/sbc-synthetic.yaml --observed scenarios/sbc-synthetic-dates.csv --fit
groups.everyone.departures.hazard.1.rate=0.004:0.06 --fit groups.everyone.never_leave=0:0.7``
fits each data set with :class:`sim.studies.inference.sbc.DatasetFit`: a truth drawn from the
priors, one replication with its own seed, figures through the observation model, then
``fit_posterior`` serially inside one worker (``-j 2`` runs two data sets at a time). Here data sets
0, 1, ... are made and fitted exactly so, one after another in one fresh process (as a worker of
``sbc`` does), the fit probed from outside (:mod:`bench.fit_probe`): per data set its wall and
CPU seconds, whether it converged, the surrogate evaluations and replications, the stages. In the
same run, before and after: one replication of the synthetic case cut at its last date (the unit
of replication equivalents) and one fluid-path evaluation (:mod:`bench.calibration_units`).

The projected SBC-100 on 2 cores is 100 × the mean CPU seconds of a data set / 2 (the two workers
busy all the time, nothing else on the machine): an estimate, beside the measured run recorded in
:data:`MEASURED_SBC_100` (not rerun here: it takes the whole machine for a quarter of an hour).
Issue 21's target: SBC with 100 data sets ≤ 30 minutes.

``python -m bench.calibrate_synthetic`` rewrites only its section of bench/RESULTS.md;
``python -m bench --only calibrate-synthetic`` runs it within the whole bench.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import calibration_units as units
from bench.calibration_report import breakdown_table, ensemble_comparison, in_fit_costs, units_table
from bench.fit_probe import children_cpu
from bench.sections import replace_section
from bench.workloads import ROOT, git_commit, json_from_fresh_interpreter, load_average, machine_description

NAME = "calibrate-synthetic"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SCENARIO = ROOT / "scenarios" / "sbc-synthetic.yaml"
DATES = ROOT / "scenarios" / "sbc-synthetic-dates.csv"
FIT = ("groups.everyone.departures.hazard.1.rate=0.004:0.06", "groups.everyone.never_leave=0:0.7")
QUICK_OPTIONS = {"max_evaluations": 200, "simulation_replications": 6}
"""--quick: a fit too short to converge; checks the harness only."""
TARGET_SBC_100 = 30 * 60.0
MEASURED_SBC_100 = {
    "command": ("bordersim sbc scenarios/sbc-synthetic.yaml --observed scenarios/sbc-synthetic-dates.csv --fit "
                "groups.everyone.departures.hazard.1.rate=0.004:0.06 --fit groups.everyone.never_leave=0:0.7 "
                "--datasets 100 -j 2"),
    "when": "7 Dec 2026, 00:30–00:43 UTC, commit 1e03a7e, this 2-core machine with other work running",
    "wall_seconds": 785.7,
    "results": "/work/dev/sbc/n100-240k.keep/ (coverage.csv, manifest.json)",
    "coverage": ("90 % intervals covered 93 of 100 truths for both parameters (95 % Clopper–Pearson 0.86–0.97), "
                 "50 % intervals 52 and 59 of 100 (hazard, never_leave)"),
}
"""The lead's SBC-100 run (manifest.json's wall_seconds and coverage.csv), recorded by hand."""


def until() -> str:
    """The last observed date (the fit and the unit replication are cut there)."""
    lines = DATES.read_text(encoding="utf-8").strip().splitlines()[1:]
    return max(line.split(",", 1)[0] for line in lines)


def datasets_in_this_process(datasets: int, quick: bool, ensemble_cap: int = 0) -> list[dict[str, Any]]:
    """Data sets 0 .. ``datasets`` − 1 made and fitted as ``bordersim sbc`` does, one after another;
    with ``ensemble_cap``, the old ensemble answer (:mod:`bench.ensemble_answer`) on data set 0's
    log posterior too, after its fit was measured."""
    from bench.fit_probe import probed_fit, without_result
    from sim.cli.fit_options import default_fit_options, posterior_inputs
    from sim.runs.executors import SerialExecutor
    from sim.scenario import load_scenario
    from sim.studies.inference.sbc import DatasetFit
    from sim.studies.posterior import fit_posterior

    priors, error_priors, series = posterior_inputs(list(FIT), [], [str(DATES)])
    scenario = load_scenario(SCENARIO)
    options = {**default_fit_options(), **(QUICK_OPTIONS if quick else {})}
    probes: list[dict[str, Any]] = []

    def fit(*args, jobs: int = 1, **kwargs):  # what DatasetFit calls: fit_posterior, serially, probed
        probes.append(probed_fit(fit_posterior, SerialExecutor(), *args, **kwargs))
        return probes[-1]["result"]

    task = DatasetFit(scenario, priors, series, error_priors, options, scenario.run.seed, fit=fit)
    measured = []
    for dataset in range(datasets):
        wall, cpu = time.perf_counter(), time.process_time()
        task(dataset)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        probe = without_result(probes[-1])
        probe.update(dataset=dataset, dataset_wall_seconds=wall, dataset_cpu_seconds=cpu)
        if ensemble_cap and dataset == 0:
            from bench.ensemble_answer import ensemble_answer

            probe["ensemble"] = ensemble_answer(probes[-1]["result"], ensemble_cap, scenario.run.seed + 1)
        measured.append(probe)
    return measured


def datasets_in_subprocess(datasets: int, quick: bool, ensemble_cap: int = 0) -> dict[str, Any]:
    code = ("import json\n"
            "from bench.calibrate_synthetic import datasets_in_this_process\n"
            f"print(json.dumps({{'fits': datasets_in_this_process({datasets}, {quick}, {ensemble_cap})}}))\n")
    wall, cpu = time.perf_counter(), children_cpu()
    measured = json_from_fresh_interpreter(code)
    measured["process_wall_seconds"] = time.perf_counter() - wall
    measured["process_cpu_seconds"] = children_cpu() - cpu
    return measured


def _log(message: str) -> None:
    print(f"[bench {NAME}] {message}", file=sys.stderr, flush=True)


def measure(runs: int, quick: bool, ensemble_cap: int = 0) -> dict[str, Any]:
    count, points = (2, 4) if quick else (6, 30)
    arguments = {"scenario_path": SCENARIO, "until": until(), "fit": list(FIT), "prior": []}
    loads = [load_average()]
    before = units.unit_costs_in_subprocess(**arguments, replications=count, fluid_points=points)
    _log(f"units before: replication CPU {[round(x, 4) for x in before['replication_cpu']]} s (load {loads[-1]})")
    fitted = datasets_in_subprocess(runs, quick, ensemble_cap)
    loads.append(load_average())
    for fit in fitted["fits"]:
        _log(f"data set {fit['dataset']}: wall {fit['dataset_wall_seconds']:.1f} s, CPU {fit['dataset_cpu_seconds']:.1f} s, "
             f"converged {fit['converged']}, {fit['surrogate_evaluations']:,} surrogate evaluations")
    after = units.unit_costs_in_subprocess(**arguments, replications=count, fluid_points=points)
    loads.append(load_average())
    return {"units": units.merged([before, after]), "fits": fitted["fits"], "process": fitted, "loads": loads,
            "quick": quick, "commit": git_commit(), "machine": machine_description(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def report(measured: dict[str, Any]) -> list[str]:
    unit, fits = measured["units"], measured["fits"]
    replication_cpu = units.median(unit["replication_cpu"])
    mean_cpu = sum(fit["dataset_cpu_seconds"] for fit in fits) / len(fits)
    projected = 100 * mean_cpu / 2
    lines = [
        "## Calibration: SBC on the synthetic case (bench/calibrate_synthetic.py)", "",
        (f"{measured['date']}, {measured['machine']}, commit {measured['commit']}"
         f"{' — QUICK: short unconverged fits, figures meaningless' if measured['quick'] else ''}. "
         f"Data sets 0–{len(fits) - 1} of `{MEASURED_SBC_100['command'].replace(' --datasets 100 -j 2', '')}`, "
         "made and fitted as `sbc` does (`DatasetFit`: truth from the priors, one replication with its own seed, "
         "figures through the observation model, `fit_posterior` serially), one after another in one fresh "
         "process (`python -m bench.calibrate_synthetic`). The unit: one replication of "
         f"`scenarios/sbc-synthetic.yaml` cut at {until()}, measured in fresh processes before and after."), "",
        "| data set | wall | CPU (data and fit) | replication equivalents | converged (largest R-hat, smallest bulk ESS) | surrogate evaluations | fluid-path calls | simulation replications (rounds) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for fit in fits:
        lines.append(f"| {fit['dataset']} | {fit['dataset_wall_seconds']:.1f} s | {fit['dataset_cpu_seconds']:.1f} s | "
                     f"{fit['dataset_cpu_seconds'] / replication_cpu:.0f} | {'yes' if fit['converged'] else 'NO'} "
                     f"({fit['max_rhat']:.3f}, {fit['min_ess']:.0f}) | {fit['surrogate_evaluations']:,} | "
                     f"{fit['fluid_calls']:,} | {fit['replications']} ({fit['rounds']}) |")
    lines += [
        "",
        (f"**Projected SBC-100 on 2 cores: {projected:.0f} s** (100 × {mean_cpu:.1f} CPU-s, the mean of these data "
         f"sets, / 2 workers; target ≤ {TARGET_SBC_100:.0f} s: {'met' if projected <= TARGET_SBC_100 else 'NOT met'}). "
         f"**Measured** (recorded by hand, not rerun by the bench): `{MEASURED_SBC_100['command']}` took "
         f"**{MEASURED_SBC_100['wall_seconds']:.0f} s** wall ({MEASURED_SBC_100['when']}; "
         f"{MEASURED_SBC_100['results']}); {MEASURED_SBC_100['coverage']}."), "",
        *units_table(unit, "one replication of `scenarios/sbc-synthetic.yaml`"),
        ("Where the time of a data set's fit went (median over the data sets; `bench/fit_probe.py`; serial, so "
        "the replications' CPU is this process's):"), "",
        *breakdown_table(fits, replication_cpu),
        in_fit_costs(fits), "",
    ]
    ensemble = fits[0].get("ensemble")
    if ensemble:
        lines += [ensemble_comparison(ensemble, fits[0]["chain_evaluations"]["answer"], "data set 0"), ""]
    lines += [f"Load averages (1/5/15 min) before, after the fits and after: {'; '.join(measured['loads'])}.", ""]
    return lines


def bench_calibrate_synthetic(runs: int, quick: bool) -> list[str]:
    return report(measure(runs, quick))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.calibrate_synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="data sets fitted (0, 1, ...)")
    parser.add_argument("--quick", action="store_true", help="short unconverged fits: checks the harness, not figures")
    parser.add_argument("--ensemble", type=int, default=0, metavar="N",
                        help="also run the old ensemble answer on data set 0's posterior, up to N evaluations")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    parser.add_argument("--report-from", type=Path, metavar="JSON",
                        help="measure nothing: write the section from raw figures kept by --json")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    if arguments.report_from is not None:
        measured = json.loads(arguments.report_from.read_text(encoding="utf-8"))
    else:
        measured = measure(arguments.runs, arguments.quick, arguments.ensemble)
    if arguments.json and arguments.report_from is None:
        arguments.json.write_text(json.dumps(measured, indent=1, default=str) + "\n", encoding="utf-8")
    lines = report(measured)
    replace_section(arguments.output, NAME, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
