"""Calibration benchmark: the phase-1 posterior of the how-to (issue 21's first target).

The fit is exactly this command's::

    bordersim calibrate scenarios/phase1-2023.yaml --observed bundled:un --observed bundled:pak_kp \\
        --observed bundled:pak_federal_daily --until 2023-11-22 \\
        --prior 'groups.undocumented.departures.hazard.5.rate=loguniform(0.01, 0.5)' ... -j 2

(:data:`PRIORS` lists the five priors), run as ``fit_posterior`` in a fresh process from the
command's own inputs (``posterior_inputs``, ``load_scenario``, ``make_executor(2)``, a checkpoint
folder as the command keeps one; no results folder written), instrumented from outside
(:mod:`bench.fit_probe`): wall and CPU time (the process and its two workers), whether it
converged, the surrogate evaluations, fluid-path calls and simulation replications, and the time of
each stage. ``--cli`` also runs the command itself once in a subprocess (wall and CPU of the whole
process tree, its ``diagnostics.csv``), as a check that the in-process fit is the command's.

In the same run, before and after the fits, the units (:mod:`bench.calibration_units`): one
replication of phase 1 cut at 22 Nov 2023, one of the fit's simulation calls, one fluid-path
evaluation. The result is reported as wall time and as **simulation-replication equivalents**:
the fit's CPU seconds over one replication's. Issue 21's targets: ≤ 3 minutes wall on 2 cores,
≤ 400 replication equivalents.

``--ensemble N`` (module only) also runs the old answering path (emcee's ensemble,
:mod:`bench.ensemble_answer`) on the first fit's log posterior, up to N evaluations.

``python -m bench.calibrate_phase1`` rewrites only its section of bench/RESULTS.md;
``python -m bench --only calibrate-phase1`` runs it within the whole bench.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import calibration_units as units
from bench.fit_probe import children_cpu
from bench.sections import replace_section
from bench.workloads import (
    PHASE1_SCENARIO,
    ROOT,
    git_commit,
    json_from_fresh_interpreter,
    load_average,
    machine_description,
)

NAME = "calibrate-phase1"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
OBSERVED = ("bundled:un", "bundled:pak_kp", "bundled:pak_federal_daily")
UNTIL = "2023-11-22"
PRIORS = (
    "groups.undocumented.departures.hazard.5.rate=loguniform(0.01, 0.5)",
    "groups.undocumented.departures.hazard.8.rate=loguniform(0.002, 0.1)",
    "groups.undocumented.departures.hazard.9.rate=loguniform(0.001, 0.1)",
    "groups.undocumented.departures.hazard.11.rate=loguniform(0.0005, 0.05)",
    "groups.undocumented.never_leave=uniform(0.1, 0.95)",
)
JOBS = 2
QUICK_OPTIONS = {"max_evaluations": 360, "simulation_replications": 8}
"""--quick: a fit too short to converge (the screen and an ensemble answer of a few steps, 8
replications): it checks the harness, its figures mean nothing."""
TARGET_WALL, TARGET_EQUIVALENTS = 180.0, 400.0


def command(quick: bool = False, out: str | None = None) -> list[str]:
    """The calibration's command line (``bordersim`` as ``python -m sim``)."""
    words = ["calibrate", str(PHASE1_SCENARIO.relative_to(ROOT))]
    for observed in OBSERVED:
        words += ["--observed", observed]
    words += ["--until", UNTIL]
    for prior in PRIORS:
        words += ["--prior", prior]
    words += ["-j", str(JOBS)]
    if quick:
        words += ["--max-evaluations", str(QUICK_OPTIONS["max_evaluations"]), "--sim-replications",
                  str(QUICK_OPTIONS["simulation_replications"]), "--allow-unconverged"]
    if out is not None:
        words += ["--out", out, "-q"]
    return words


def shown_command(quick: bool = False) -> str:
    return "bordersim " + " ".join(f"'{word}'" if " " in word or "(" in word else word for word in command(quick))


def fit_in_this_process(quick: bool, ensemble_cap: int = 0) -> dict[str, Any]:
    """The fit as ``bordersim calibrate`` makes it, probed (:func:`bench.fit_probe.probed_fit`)."""
    import datetime as dt

    from bench.fit_probe import probed_fit, without_result
    from sim.cli.fit_options import posterior_inputs
    from sim.runs.executors import make_executor
    from sim.scenario import load_scenario
    from sim.studies.posterior import fit_posterior

    priors, error_priors, series = posterior_inputs([], list(PRIORS), list(OBSERVED))
    scenario = load_scenario(PHASE1_SCENARIO)
    options = dict(QUICK_OPTIONS) if quick else {}
    with tempfile.TemporaryDirectory(prefix="bench-calibrate-") as checkpoint:
        probe = probed_fit(fit_posterior, make_executor(JOBS, None), scenario, series, priors, None,
                           cutoff=dt.date.fromisoformat(UNTIL), error_priors=error_priors,
                           checkpoint=Path(checkpoint) / "chain", echo=_log, **options)
    if ensemble_cap:
        from bench.ensemble_answer import ensemble_answer

        probe["ensemble"] = ensemble_answer(probe["result"], ensemble_cap, scenario.run.seed + 1)
    return without_result(probe)


def fit_in_subprocess(quick: bool, ensemble_cap: int = 0) -> dict[str, Any]:
    """:func:`fit_in_this_process` in a fresh interpreter; adds the whole process's wall and CPU
    seconds (interpreter start-up and imports included)."""
    code = ("import json\n"
            "from bench.calibrate_phase1 import fit_in_this_process\n"
            f"print(json.dumps(fit_in_this_process({quick}, {ensemble_cap})))\n")
    wall, cpu = time.perf_counter(), children_cpu()
    probe = json_from_fresh_interpreter(code, show_stderr=True)
    probe["process_wall_seconds"] = time.perf_counter() - wall
    probe["process_cpu_seconds"] = children_cpu() - cpu
    return probe


UNCONVERGED_EXIT = 3
"""``calibrate``'s exit code when the chains did not converge within the budget (nothing written)."""


def cli_in_subprocess(quick: bool) -> dict[str, Any]:
    """The command itself (``python -m sim calibrate ...``): wall and CPU seconds of its process
    tree, its exit code, and what its ``diagnostics.csv`` says (when it converged; unconverged it
    writes nothing and exits 3, saying its evaluations on standard error)."""
    import re

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="bench-calibrate-cli-") as folder:
        out = str(Path(folder) / "fit")
        wall, cpu = time.perf_counter(), children_cpu()
        completed = subprocess.run([sys.executable, "-m", "sim", *command(quick, out)], cwd=ROOT, capture_output=True,
                                   text=True, check=False)
        wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
        measured = {"wall_seconds": wall, "cpu_seconds": cpu, "exit_code": completed.returncode}
        if completed.returncode == UNCONVERGED_EXIT:
            said = re.search(r"NOT CONVERGED \(([\d,]+) evaluations", completed.stderr)
            return {**measured, "converged": False,
                    "surrogate_evaluations": int(said.group(1).replace(",", "")) if said else None,
                    "replications": None}
        if completed.returncode != 0:
            raise RuntimeError(f"calibrate exited {completed.returncode}: {completed.stderr[-2000:]}")
        table = pd.read_csv(Path(out) / "diagnostics.csv")
    value = {row.quantity: row.value for row in table.itertuples() if not isinstance(row.parameter, str)
             or row.parameter == ""}
    return {**measured, "converged": bool(value["converged"]),
            "surrogate_evaluations": int(value["surrogate_evaluations"]),
            "replications": int(value["simulation_replications"]), "fit_wall_seconds": float(value["wall_seconds"])}


def _log(message: str) -> None:
    print(f"[bench {NAME}] {message}", file=sys.stderr, flush=True)


def measure(runs: int, quick: bool, cli_runs: int = 0, ensemble_cap: int = 0,
            keep: Path | None = None) -> dict[str, Any]:
    """Units before, the fits (and the command itself), units after; everything as plain numbers,
    also written to ``keep`` (JSON) after every step, so that a long run stopped half-way keeps
    what it measured."""
    count, points = (2, 4) if quick else (6, 30)
    fits_units = {"scenario_path": PHASE1_SCENARIO, "until": UNTIL, "fit": [], "prior": list(PRIORS)}
    loads = [load_average()]
    measured: dict[str, Any] = {"units": {}, "fits": [], "cli": [], "loads": loads, "quick": quick,
                                "commit": git_commit(), "machine": machine_description(),
                                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    before = units.unit_costs_in_subprocess(**fits_units, replications=count, fluid_points=points)
    measured["units"] = before
    _keep(measured, keep)
    _log(f"units before: replication CPU {[round(x, 3) for x in before['replication_cpu']]} s, fluid CPU median "
         f"{units.median(before['fluid_cpu']) * 1e3:.1f} ms (load {loads[-1]})")
    fits = measured["fits"]
    for run in range(runs):
        fits.append(fit_in_subprocess(quick, ensemble_cap if run == 0 else 0))
        loads.append(load_average())
        _keep(measured, keep)
        _log(f"fit {run + 1}/{runs}: wall {fits[-1]['wall_seconds']:.1f} s, CPU {fits[-1]['cpu_seconds']:.1f} s, "
             f"converged {fits[-1]['converged']}, {fits[-1]['surrogate_evaluations']:,} surrogate evaluations, "
             f"{fits[-1]['replications']} replications (load {loads[-1]})")
    clis = measured["cli"]
    for _ in range(cli_runs):
        clis.append(cli_in_subprocess(quick))
        loads.append(load_average())
        _keep(measured, keep)
        _log(f"command: exit {clis[-1]['exit_code']}, wall {clis[-1]['wall_seconds']:.1f} s, CPU "
             f"{clis[-1]['cpu_seconds']:.1f} s (load {loads[-1]})")
    after = units.unit_costs_in_subprocess(**fits_units, replications=count, fluid_points=points)
    loads.append(load_average())
    measured["units"] = units.merged([before, after])
    _keep(measured, keep)
    return measured


def _keep(measured: dict[str, Any], path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(measured, indent=1, default=str) + "\n", encoding="utf-8")


def report(measured: dict[str, Any]) -> list[str]:
    """The section of RESULTS.md (see :mod:`bench.calibration_report`)."""
    from bench.calibration_report import fit_section

    return fit_section(
        measured,
        title="## Calibration: the phase-1 posterior (bench/calibrate_phase1.py)",
        command=shown_command(measured["quick"]),
        unit_words="one replication of `scenarios/phase1-2023.yaml` cut at 22 Nov 2023",
        targets=(TARGET_WALL, TARGET_EQUIVALENTS))


def bench_calibrate_phase1(runs: int, quick: bool, cli_runs: int = 0, ensemble_cap: int = 0) -> list[str]:
    return report(measure(runs, quick, cli_runs, ensemble_cap))



def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.calibrate_phase1", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fits (median reported; each takes minutes)")
    parser.add_argument("--quick", action="store_true", help="a short unconverged fit: checks the harness, not figures")
    parser.add_argument("--cli", type=int, default=1, metavar="N", help="also run the command itself N times (default 1)")
    parser.add_argument("--ensemble", type=int, default=0, metavar="N",
                        help="also run the old ensemble answer on the first fit's posterior, up to N evaluations")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here (after every step)")
    parser.add_argument("--report-from", type=Path, metavar="JSON",
                        help="measure nothing: write the section from raw figures kept by --json (e.g. of a stopped run)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    if arguments.report_from is not None:
        measured = json.loads(arguments.report_from.read_text(encoding="utf-8"))
    else:
        measured = measure(arguments.runs, arguments.quick, arguments.cli, arguments.ensemble, arguments.json)
    lines = report(measured)
    replace_section(arguments.output, NAME, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
