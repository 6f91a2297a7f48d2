"""The ``bound``, ``observed`` and ``calibrate`` commands (registered on :data:`sim.cli.app`).

Thin like the rest of the CLI: parse, call :mod:`sim.bound`, :mod:`sim.observed` or
:mod:`sim.calibrate`, print.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli import BadInput, Debug, Quiet, Sets, _guarded, _load

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


def register(app: typer.Typer) -> None:
    app.command()(bound)
