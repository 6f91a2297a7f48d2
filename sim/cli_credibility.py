"""The ``bound``, ``observed`` and ``calibrate`` commands (registered on :data:`sim.cli.app`).

Thin like the rest of the CLI: parse, call :mod:`sim.bound`, :mod:`sim.observed` or
:mod:`sim.calibrate`, print.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli import BadInput, Debug, Quiet, Sets, _guarded, _load, _progress

Out = Annotated[Path | None, typer.Option("--out", help="Results folder (must not exist, or be empty).")]


def _check_out(out: Path | None) -> None:
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"--out {out}: exists and is not an empty folder; results are never overwritten")


def bound(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    set_values: Sets = None,
    out: Out = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Analytic capacity ceiling by date (lanes × open hours × factors ÷ service time); writes bound.csv."""
    def work():
        _check_out(out)
        scenario = _load(file, set_values or [])
        from sim.bound import capacity_bound, save_bound

        result = capacity_bound(scenario)
        return result, save_bound(result, scenario, out, sys.argv)

    result, folder = _guarded(work, debug)
    if not quiet:
        for line in result.lines():
            typer.echo(line)
    typer.echo(f"results: {folder}")




def observed(
    series: Annotated[str, typer.Option("--series", help="Which consistent series: un or pak_kp.")] = "un",
    until: Annotated[str | None, typer.Option("--until", help="Last date kept (ISO), e.g. 2023-11-22.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="CSV file to write (default: print).")] = None,
    debug: Debug = False,
) -> None:
    """Export one consistent series of the bundled observed figures in the --observed CSV format."""
    def work():
        import datetime as dt

        from sim.observed import select_series

        try:
            last = dt.date.fromisoformat(until) if until else None
        except ValueError:
            raise BadInput(f"--until {until!r}: not an ISO date (YYYY-MM-DD)") from None
        try:
            table = select_series(series, last)
        except ValueError as error:
            raise BadInput(f"--series: {error}") from None
        text = table.to_csv(index=False, lineterminator="\n")
        if out is None:
            return text
        if out.exists():
            raise BadInput(f"--out {out}: exists; choose another file (files are never overwritten)")
        out.write_text(text, encoding="utf-8")
        return f"observed: {out} ({len(table)} dates of series {series})\n"

    typer.echo(_guarded(work, debug), nl=False)


def calibrate(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    observed_file: Annotated[Path, typer.Option("--observed", help="Observed cumulative series CSV "
                                                "(date,value[,series,kind,node,count_from]).")],
    fit: Annotated[list[str], typer.Option("--fit", help="key.path=low:high to fit (repeatable).")],
    replications: Annotated[int, typer.Option("-n", "--replications", min=1,
                                              help="Replications per evaluation (same seeds each time).")] = 4,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed (default: the scenario's).")] = None,
    set_values: Sets = None,
    jobs: Annotated[int, typer.Option("-j", "--jobs", min=1, help="Worker processes per evaluation.")] = 1,
    node: Annotated[str | None, typer.Option("--node", help="Compare with: all (crossings) or a crossing "
                                             "(default: the CSV's node column, else all).")] = None,
    count_from: Annotated[str | None, typer.Option("--count-from", help="First day the observed figures count "
                                                   "(default: the CSV's count_from, else period start).")] = None,
    max_evaluations: Annotated[int, typer.Option("--max-evaluations", min=2, help="Evaluation budget.")] = 120,
    write: Annotated[Path | None, typer.Option("--write", help="Also write the calibrated scenario here.")] = None,
    out: Out = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Fit parameters to an observed cumulative series (common random numbers); fit.csv and calibrated.yaml."""
    def work():
        import datetime as dt

        from sim.calibrate import CalibrationError, FitParameter, save_calibration
        from sim.calibrate import calibrate as run_calibration

        _check_out(out)
        if write is not None and write.exists():
            raise BadInput(f"--write {write}: exists; choose another file (files are never overwritten)")
        try:
            parameters = [FitParameter.parse(text) for text in fit]
            start = dt.date.fromisoformat(count_from) if count_from else None
        except CalibrationError as error:
            raise BadInput(str(error)) from None
        except ValueError:
            raise BadInput(f"--count-from {count_from!r}: not an ISO date (YYYY-MM-DD)") from None
        scenario = _load(file, set_values or [])
        table = _read_observed_with_extras(observed_file)
        try:
            with _progress(quiet, "evaluations") as advance:
                result = run_calibration(scenario, table, parameters, replications, seed, jobs, node, start,
                                         max_evaluations, advance)
        except CalibrationError as error:
            raise BadInput(f"{observed_file}: {error}") from None
        folder, calibrated = save_calibration(result, file, out, sys.argv)
        if write is not None:
            write.write_text(calibrated.read_text(encoding="utf-8"), encoding="utf-8")
        return result, folder, calibrated

    result, folder, calibrated = _guarded(work, debug)
    if not quiet:
        for line in result.lines():
            typer.echo(line)
    typer.echo(f"calibrated scenario: {write or calibrated}")
    typer.echo(f"results: {folder}")


def _read_observed_with_extras(path: Path):
    """The observed series (``read_observed``) with its ``node`` and ``count_from`` columns if present."""
    import pandas as pd

    from sim.cli import _read_observed

    table = _read_observed(path)
    raw = pd.read_csv(path)
    for column in ("node", "count_from"):
        if column in raw.columns and raw[column].notna().any():
            values = raw[column].dropna().unique()
            if len(values) > 1:
                raise BadInput(f"{path}: column {column} must hold one value, got {sorted(map(str, values))}")
            table[column] = values[0]
    return table


def register(app: typer.Typer) -> None:
    app.command()(bound)
    app.command()(observed)
    app.command()(calibrate)
