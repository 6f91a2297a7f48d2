"""The ``validate`` and ``schema`` commands: check scenario files, print the format's JSON Schema."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import BAD_INPUT, BadInput, Debug, Sets, guarded, load


def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    show: Annotated[bool, typer.Option("--show", help="Print the resolved scenario (after extends).")] = False,
    set_values: Sets = None,
    debug: Debug = False,
) -> None:
    """Check scenario files: every problem of a file at once, located by file, line and key path."""
    failed = guarded(lambda: _validate_files(files, show, set_values or [], debug), debug)
    if failed:
        raise typer.Exit(BAD_INPUT)


def _validate_files(files: list[Path], show: bool, set_values: list[str], debug: bool) -> bool:
    """Check each file, printing its problems (or ok); whether any failed. Anything unexpected goes
    to :func:`guarded` (a one-line internal error, never a traceback without --debug)."""
    from sim.scenario import ScenarioError

    failed = False
    for path in files:
        try:
            scenario = load(path, set_values)
        except (ScenarioError, BadInput) as error:
            if debug:
                raise
            failed = True
            for line in str(error).splitlines():
                typer.echo(line, err=True)
            continue
        if show:
            typer.echo(scenario.to_yaml())
        else:
            typer.echo(f"{path}: ok ({scenario.name})")
    return failed


def schema() -> None:
    """Print the JSON Schema of the scenario format (for editors)."""
    import json

    from sim.scenario import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(schema)
