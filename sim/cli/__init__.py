"""The ``bordersim`` command: parse arguments, call the library, print. Nothing else lives here.

One module per command group registers its commands on :data:`app`; what they share (exit codes,
errors, options, progress) is in :mod:`sim.cli.common`, which imports no command module.

Start-up is part of every command's time (``bordersim validate`` is run by editors on each save), so
nothing is imported or built before it is needed: :func:`main` builds the command line of the one
command being run (:data:`COMMANDS` says which module registers it) instead of all of them, and the
command modules import the library inside their functions (see docs/DESIGN-NOTES.md, "Start-up:
lazy imports").
"""
from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Sequence
from typing import Annotated

import typer

from sim.cli.common import BAD_INPUT


def _without_pydantic_plugins() -> None:
    """The command line uses no pydantic plugin. Without this, pydantic scans the entry points of
    every installed distribution when the scenario models are built; and even with plugins disabled,
    its plugin loader imports :mod:`importlib.metadata` (and the ``email`` package with it: ~10 ms
    of every command's start-up) only to return none. An explicit setting in the environment is
    respected; when it disables all plugins, the loader is replaced by one that knows there are none."""
    setting = os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if setting in ("__all__", "1", "true") and "pydantic.plugin._loader" not in sys.modules:
        loader = types.ModuleType("pydantic.plugin._loader", "No pydantic plugins (set by sim.cli).")
        loader.get_plugins = lambda: ()
        sys.modules["pydantic.plugin._loader"] = loader


_without_pydantic_plugins()  # before any scenario model is built (sim.scenario is imported by commands)

GROUPS = ("scenario_commands", "run_commands", "experiments", "credibility", "backtest", "sbc", "explore")
"""The modules of :mod:`sim.cli` that register commands, in the order ``--help`` lists them."""
COMMANDS = {
    "validate": "scenario_commands", "schema": "scenario_commands",
    "run": "run_commands", "report": "run_commands",
    "compare": "experiments", "sweep": "experiments", "sensitivity": "experiments",
    "bound": "credibility", "observed": "credibility", "calibrate": "credibility",
    "backtest": "backtest",
    "sbc": "sbc",
    "explore": "explore",
}
"""Each command → the module that registers it: running one builds only that module's commands."""


def _print_version(requested: bool) -> None:
    if requested:
        from sim.version import __version__

        typer.echo(f"bordersim {__version__}")
        raise typer.Exit(0)


def _main_options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Discrete-event simulation of departures through transit camps and the Torkham and Chaman
    crossings: can N people cross by date D, and what limits it?"""


def build_app(groups: Sequence[str] = GROUPS) -> typer.Typer:
    """The command line with the commands of ``groups`` (modules of :mod:`sim.cli`)."""
    built = typer.Typer(add_completion=False, no_args_is_help=True)
    built.callback()(_main_options)
    for group in groups:
        importlib.import_module(f"sim.cli.{group}").register(built)
    return built


def __getattr__(name: str):
    # sim.cli.app, the whole command line (tests, the generated reference), is built when first asked for.
    if name == "app":
        globals()["app"] = build_app()
        return globals()["app"]
    raise AttributeError(f"module 'sim.cli' has no attribute {name!r}")


def _app_for(arguments: Sequence[str]) -> typer.Typer:
    """The command line for ``arguments``: only the named command's module when the first argument
    names a command (typer builds every registered command, ~20 ms for all of them, before it parses
    anything), the whole of it otherwise (``--help``, ``--version``, a mistyped command and its
    suggestions)."""
    group = COMMANDS.get(arguments[0]) if arguments else None
    return build_app((group,)) if group is not None else build_app()


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
        code = _app_for(sys.argv[1:])(standalone_mode=False)
    except exceptions.UsageError as error:
        if type(error).__name__ == "NoArgsIsHelpError" and error.ctx is not None:
            typer.echo(error.ctx.get_help())
            sys.exit(0)
        context = f"{error.ctx.command_path}: " if error.ctx is not None else ""
        typer.echo(f"error: {context}{error.format_message()} (see --help)", err=True)
        sys.exit(BAD_INPUT)
    # (recent typer's vendored click has no Abort of its own: typer's is the one it raises)
    except (typer.Abort, getattr(exceptions, "Abort", typer.Abort), KeyboardInterrupt):  # Ctrl-C or SIGTERM outside a command's guard
        typer.echo("error: interrupted: nothing was written", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
