"""Markdown for the calibration benchmarks: fits as wall time and as simulation-replication
equivalents (the fit's CPU seconds over one replication's, measured in the same run), and where
their time went, stage by stage (:mod:`bench.fit_probe`)."""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from bench.calibration_units import median
from bench.fit_probe import STAGES

STAGE_WORDS = {
    "screen": "screening chain (emcee ensemble on the fluid path)",
    "replications": "simulation replications (CPU: the tasks, where they ran)",
    "correction": "correction: offset and spread against the fluid path, emulator built",
    "answer": ("answering chains (Metropolis-within-Gibbs, or the ensemble when the budget is too small to warm them "
               "up; fluid path or its emulator)"),
    "tables": "after the chains: emulator check, next round's points, result tables",
}


def units_table(unit: dict[str, list[float]], what: str) -> list[str]:
    """The three units (median CPU and wall seconds, calls) and how they compare."""
    replication, evaluation, fluid = (median(unit[f"{name}_cpu"]) for name in ("replication", "evaluation", "fluid"))
    return [
        "| unit (fresh process, before and after the fits) | median CPU | median wall | calls |",
        "|---|---|---|---|",
        (f"| **one replication**: {what}, `run_replication`, every counter | **{replication:.3f} s** | "
         f"{median(unit['replication_wall']):.3f} s | {len(unit['replication_cpu'])} |"),
        (f"| one of the fit's simulation calls (`CrossedEvaluator`, crossed people only, draws not remembered) | "
         f"{evaluation:.3f} s | {median(unit['evaluation_wall']):.3f} s | {len(unit['evaluation_cpu'])} |"),
        (f"| one fluid-path evaluation (`FluidEvaluator`, points from the priors) | {fluid * 1e3:.2f} ms | "
         f"{median(unit['fluid_wall']) * 1e3:.2f} ms | {len(unit['fluid_cpu'])} |"),
        f"| … one replication costs as much as | {replication / fluid:,.0f} fluid paths | | |",
        "",
    ]


def _stage(fit: dict[str, Any], stage: str) -> tuple[float, float, int]:
    totals = fit["stages"][stage]
    return totals["wall"], totals["cpu"] + totals["worker_cpu"], totals["fluid_calls"]


def breakdown_table(fits: Sequence[dict[str, Any]], replication_cpu: float) -> list[str]:
    """Per stage, the median over the fits of its wall and CPU seconds, its share of the fit's CPU,
    its replication equivalents, and its fluid-path calls and sampler evaluations."""
    lines = [
        "| stage | wall | CPU (all processes) | share of the fit's CPU | replication equivalents | fluid-path calls | sampler evaluations |",
        "|---|---|---|---|---|---|---|",
    ]
    total_cpu = median([fit["cpu_seconds"] for fit in fits])
    for stage in STAGES:
        wall = median([_stage(fit, stage)[0] for fit in fits])
        cpu = median([_stage(fit, stage)[1] for fit in fits])
        calls = median([_stage(fit, stage)[2] for fit in fits])
        evaluations = ""
        if stage == "screen":
            evaluations = f"{median([fit['chain_evaluations']['screen'] for fit in fits]):,.0f}"
        if stage == "answer":
            evaluations = f"{median([fit['chain_evaluations']['answer'] for fit in fits]):,.0f} Metropolis-within-Gibbs"
            ensemble = median([fit["chain_evaluations"].get("ensemble", 0) for fit in fits])
            evaluations += f" + {ensemble:,.0f} ensemble (fallback)" if ensemble else ""
        if stage == "replications":
            evaluations = f"{median([fit['replications'] for fit in fits]):.0f} replications"
        lines.append(f"| {STAGE_WORDS[stage]} | {wall:.1f} s | {cpu:.1f} s | {cpu / total_cpu:.0%} | "
                     f"{cpu / replication_cpu:.0f} | {calls:,.0f} | {evaluations} |")
    idle = median([fit["worker_cpu_seconds"] - fit["stages"]["replications"]["worker_cpu"] for fit in fits])
    lines += [
        (f"| workers outside their tasks (start-up, waiting) | | {idle:.1f} s | {idle / total_cpu:.0%} | "
         f"{idle / replication_cpu:.0f} | | |"),
        (f"| **the fit** | {median([fit['wall_seconds'] for fit in fits]):.1f} s | {total_cpu:.1f} s | 100% | "
         f"{total_cpu / replication_cpu:.0f} | {median([fit['fluid_calls'] for fit in fits]):,.0f} | "
         f"{median([fit['surrogate_evaluations'] for fit in fits]):,.0f} surrogate evaluations |"),
        "",
    ]
    return lines


def fits_table(fits: Sequence[dict[str, Any]], replication_cpu: float, evaluation_cpu: float) -> list[str]:
    lines = [
        ("| fit | wall | CPU (process + workers) | replication equivalents | … in the fit's own simulation calls | "
        "converged (largest R-hat, smallest bulk ESS) | surrogate evaluations | fluid-path calls | simulation replications (rounds) | "
         "error-term acceptance | answered by |"),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for index, fit in enumerate(fits, 1):
        lines.append(
            f"| {index} | {fit['wall_seconds']:.1f} s | {fit['cpu_seconds']:.1f} s | "
            f"{fit['cpu_seconds'] / replication_cpu:.0f} | {fit['cpu_seconds'] / evaluation_cpu:.0f} | "
            f"{'yes' if fit['converged'] else 'NO'} ({fit['max_rhat']:.3f}, {fit['min_ess']:.0f}) | "
            f"{fit['surrogate_evaluations']:,} | {fit['fluid_calls']:,} | {fit['replications']} ({fit['rounds']}) | "
            f"{_share(fit.get('error_term_acceptance', math.nan))} | {_answered_by(fit)} |")
    if len(fits) > 1:
        lines.append(
            f"| **median** | **{median([f['wall_seconds'] for f in fits]):.1f} s** | "
            f"{median([f['cpu_seconds'] for f in fits]):.1f} s | "
            f"**{median([f['cpu_seconds'] for f in fits]) / replication_cpu:.0f}** | "
            f"{median([f['cpu_seconds'] for f in fits]) / evaluation_cpu:.0f} | "
            f"{sum(f['converged'] for f in fits)} of {len(fits)} | "
            f"{median([f['surrogate_evaluations'] for f in fits]):,.0f} | {median([f['fluid_calls'] for f in fits]):,.0f} | "
            f"{median([f['replications'] for f in fits]):.0f} | | |")
    return lines + [""]


_ROUND_LINE = re.compile(r"^answering chains?, round (\d+)[^:]*: \d+ steps, ([\d,]+) of at most [\d,]+ evaluations; "
                         r"largest R-hat ([\d.]+) \(≤ [\d.]+\), smallest bulk ESS (\d+)")


def answer_rounds(fit: dict[str, Any]) -> str:
    """Each answering round's last report: evaluations, R-hat and ESS it reached, and when."""
    last: dict[str, tuple[float, re.Match]] = {}
    for at, line in fit["status_lines"]:
        match = _ROUND_LINE.match(line)
        if match is not None:
            last[match.group(1)] = (at, match)
    parts = [f"round {number}: {match.group(2)} evaluations, R-hat {match.group(3)}, bulk ESS {match.group(4)} "
             f"(at {at:.0f} s)" for number, (at, match) in last.items()]
    return "; ".join(parts)


def in_fit_costs(fits: Sequence[dict[str, Any]]) -> str:
    """The replications and fluid paths as the fits paid for them (inside the run, at posterior draws)."""
    tasks = [cpu for fit in fits for cpu in fit["replication_task_cpu"]]
    fluid = sum(fit["fluid_cpu_seconds"] for fit in fits) / max(1, sum(fit["fluid_calls"] for fit in fits))
    return (f"Inside the fits: a simulation replication took {median(tasks):.3f} CPU-s (median of {len(tasks)}, "
            f"at draws of the posterior, where they ran), a fluid-path call {fluid * 1e3:.2f} CPU-ms on average "
            f"(all {sum(fit['fluid_calls'] for fit in fits):,} calls).")


def fit_section(measured: dict[str, Any], *, title: str, command: str, unit_words: str,
                targets: tuple[float, float]) -> list[str]:
    """The whole section of the phase-1 benchmark."""
    unit, fits = measured["units"], measured["fits"]
    replication_cpu, evaluation_cpu = median(unit["replication_cpu"]), median(unit["evaluation_cpu"])
    wall, cpu = median([f["wall_seconds"] for f in fits]), median([f["cpu_seconds"] for f in fits])
    equivalents = cpu / replication_cpu
    lines = [
        title, "",
        (f"{measured['date']}, {measured['machine']}, commit {measured['commit']}"
         f"{' — QUICK: a short unconverged fit, figures meaningless' if measured['quick'] else ''}. Command:"), "",
        f"    {command}", "",
        *([f"Note: {measured['note']}.", ""] if measured.get("note") else []),
        (f"run as `fit_posterior` from the command's inputs in a fresh process (`python -m bench.calibrate_phase1`; "
         f"{len(fits)} fit(s), same seed), 2 worker processes for the simulation; the unit is {unit_words}, "
         "measured in fresh processes before and after the fits. **Replication equivalents** = the fit's CPU "
         "seconds (its process and its workers) / one replication's CPU seconds."), "",
        (f"**Median: {wall:.0f} s wall, {equivalents:.0f} replication equivalents** (targets ≤ {targets[0]:.0f} s "
         f"and ≤ {targets[1]:.0f}: {'met' if wall <= targets[0] else 'NOT met'} and "
         f"{'met' if equivalents <= targets[1] else 'NOT met'}); {sum(f['converged'] for f in fits)} of "
         f"{len(fits)} converged (R-hat ≤ 1.01, bulk ESS ≥ 400)."), "",
        *fits_table(fits, replication_cpu, evaluation_cpu),
        *units_table(unit, unit_words),
        "Where the time went (median over the fits, stage by stage; `bench/fit_probe.py`):", "",
        *breakdown_table(fits, replication_cpu),
        in_fit_costs(fits), "",
        ("The answering chains, round by round (fit 1; a second round runs when the answer left the region the "
         f"first round's replications measured): {answer_rounds(fits[0])}."), "",
    ]
    if measured.get("cli"):
        lines += [("The command itself (`python -m sim calibrate ... --out TMP -q`, whole process tree: start-up, "
                  "imports and writing the results folder included; unconverged, it writes nothing and exits 3):"), "",
                  "| run | exit code | wall | CPU | replication equivalents | converged | surrogate evaluations | simulation replications |",
                  "|---|---|---|---|---|---|---|---|"]
        for index, run in enumerate(measured["cli"], 1):
            lines.append(f"| {index} | {run.get('exit_code', 0)} | {run['wall_seconds']:.1f} s | {run['cpu_seconds']:.1f} s | "
                         f"{run['cpu_seconds'] / replication_cpu:.0f} | {'yes' if run['converged'] else 'NO'} | "
                         f"{_count(run['surrogate_evaluations'])} | {_count(run['replications'])} |")
        lines.append("")
    fallback = fits[0]["chain_evaluations"].get("ensemble", 0)
    if fallback:
        lines += [
            (f"The budget was too small to warm up the answering chains (Metropolis-within-Gibbs), so the ensemble "
             f"(the old answering path, from the screen's last positions) answered: {fallback:,} evaluations, "
             f"{'converged' if fits[0]['converged'] else 'NOT converged'} (largest R-hat {fits[0]['max_rhat']:.3f}, "
             f"smallest bulk ESS {fits[0]['min_ess']:.0f})."), "",
        ]
    ensemble = next((fit["ensemble"] for fit in fits if "ensemble" in fit), None)
    if ensemble:
        lines += [ensemble_comparison(ensemble, fits[0]["chain_evaluations"]["answer"], "fit 1"), ""]
    lines += [f"Load averages (1/5/15 min) before, after each fit and after: {'; '.join(measured['loads'])}.", ""]
    return lines


def _count(value: int | None) -> str:
    return "not written" if value is None else f"{value:,}"


def _share(value: float) -> str:
    """An acceptance fraction, or a dash where the ensemble answered (it has no error-term steps)."""
    return "—" if math.isnan(value) else f"{value:.2f}"


def _answered_by(fit: dict[str, Any]) -> str:
    if fit["sampler"] == "metropolis-within-gibbs":
        return f"{fit['chains']} chains (Metropolis-within-Gibbs)"
    return f"{fit['chains']} {fit['sampler']} walkers"


def ensemble_comparison(ensemble: dict, answer_evaluations: int, posterior: str) -> str:
    """One paragraph: the old ensemble answer on ``posterior``'s log posterior against the
    answering chains' (Metropolis-within-Gibbs) evaluations on the same fit."""
    return (f"The old answering path on {posterior}'s log posterior (`bench/ensemble_answer.py`: emcee, "
            f"{ensemble['walkers']} walkers, differential-evolution moves, from draws of the posterior, fluid path, "
            f"the same bounds): {ensemble['evaluations']:,} evaluations in {ensemble['cpu_seconds']:.1f} CPU-s, "
            + ("converged" if ensemble["converged"] else f"NOT converged (cap {ensemble['cap']:,})")
            + f" (largest R-hat {ensemble['max_rhat']:.3f}, smallest bulk ESS {ensemble['min_ess']:.0f}); the "
            f"answering chains (Metropolis-within-Gibbs) of that fit took {answer_evaluations:,} evaluations (model "
            f"paths; their error-term steps need none): the ensemble needed "
            f"{ensemble['evaluations'] / max(answer_evaluations, 1):.1f}× as many.")
