"""The ``bordersim`` command: parse arguments, call the library, print. Nothing else lives here.

One module per command group registers its commands on :data:`app`; what they share (exit codes,
errors, options, progress) is in :mod:`sim.cli.common`, which imports no command module.
"""
from __future__ import annotations

import os
import sys
from typing import Annotated

# The command line uses no pydantic plugin; without this, pydantic scans the entry points of every
# installed distribution when the scenario models are built (start-up time of every command). An
# explicit setting in the environment is respected.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer

from sim.cli import backtest, credibility, experiments, run_commands, scenario_commands
from sim.cli.common import BAD_INPUT

app = typer.Typer(add_completion=False, no_args_is_help=True)


def _print_version(requested: bool) -> None:
    if requested:
        from sim.version import __version__

        typer.echo(f"bordersim {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main_options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Discrete-event simulation of departures through transit camps and the Torkham and Chaman
    crossings: can N people cross by date D, and what limits it?"""


for _group in (scenario_commands, run_commands, experiments, credibility, backtest):
    _group.register(app)


def _click_exceptions():
    """Click's exception classes as typer uses them (recent typer vendors click as typer._click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer on the real click
        from click import exceptions
    return exceptions


def _interrupt_on_sigterm() -> None:
    """SIGTERM (``kill``, a batch system's time limit) stops a command like Ctrl-C does: through the
    same clean-up, so the temporary folder is removed and nothing half-written stays. Only in this
    process: forked workers keep the default (they are stopped by their parent)."""
    import os
    import signal

    main_pid = os.getpid()

    def interrupt(number, frame) -> None:
        if os.getpid() != main_pid:
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    """Entry point. Usage errors (a bad option value, a missing argument) become one line and exit 2,
    like every other bad input, instead of click's boxed usage text."""
    exceptions = _click_exceptions()
    _interrupt_on_sigterm()
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = app(standalone_mode=False)
    except exceptions.UsageError as error:
        if type(error).__name__ == "NoArgsIsHelpError" and error.ctx is not None:
            typer.echo(error.ctx.get_help())
            sys.exit(0)
        context = f"{error.ctx.command_path}: " if error.ctx is not None else ""
        typer.echo(f"error: {context}{error.format_message()} (see --help)", err=True)
        sys.exit(BAD_INPUT)
    except (typer.Abort, exceptions.Abort, KeyboardInterrupt):  # Ctrl-C or SIGTERM outside a command's guard
        typer.echo("error: interrupted: nothing was written", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
