"""Start-up: a command imports and builds what it needs, nothing more (docs/DESIGN-NOTES.md,
"Start-up: lazy imports"). Not timed (speed is measured in bench/, section start-up): these tests
check *what* a fresh ``bordersim`` process loads, which is what its start-up time is made of.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import sim.cli

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "phase1-2023.yaml"

# Run bordersim's entry point in a fresh interpreter, then print the modules it had loaded.
CHILD = """\
import json, sys
sys.argv = ["bordersim", *json.loads(sys.argv[1])]
from sim.cli import main
try:
    main()
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

# Libraries that checking a scenario never needs (the simulation, the tables, the figures, the
# cluster, the calibration), the layers above the scenario, and importlib.metadata (pydantic's
# plugin loader would import it, with the email package, only to find no plugin).
NOT_FOR_VALIDATE = ("numpy", "pandas", "scipy", "matplotlib", "dask", "distributed", "simpy", "emcee",
                    "pyarrow", "rich", "importlib.metadata", "email", "sim.model", "sim.runs", "sim.studies",
                    "sim.outputs", "sim.analytic")
OTHER_COMMAND_MODULES = ("sim.cli.run_commands", "sim.cli.experiments", "sim.cli.credibility", "sim.cli.backtest")


def loaded_modules(*arguments: str) -> tuple[int, set[str]]:
    """The exit code of ``bordersim arguments`` in a fresh interpreter, and the modules it loaded."""
    completed = subprocess.run([sys.executable, "-c", CHILD, json.dumps(arguments)], capture_output=True,
                               text=True, cwd=ROOT, check=False)
    report = json.loads(completed.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def imported(modules: set[str], package: str) -> list[str]:
    return sorted(name for name in modules if name == package or name.startswith(package + "."))


def test_validate_imports_only_what_checking_a_scenario_needs() -> None:
    code, modules = loaded_modules("validate", str(BASELINE))
    assert code == 0
    assert "sim.scenario.models" in modules  # the check did run
    for package in NOT_FOR_VALIDATE + OTHER_COMMAND_MODULES:
        assert not imported(modules, package), f"bordersim validate imported {imported(modules, package)}"


def test_validate_with_problems_imports_no_more() -> None:
    code, modules = loaded_modules("validate", str(BASELINE), "--set", "crossings.torkham.lanes=0")
    assert code == 2
    for package in NOT_FOR_VALIDATE:
        assert not imported(modules, package), f"bordersim validate imported {imported(modules, package)}"


@pytest.mark.parametrize("arguments", [["--help"], ["run", "--help"], ["--version"]])
def test_help_imports_no_library(arguments: list[str]) -> None:
    """Help is the command line's own text: no simulation, table or scenario library behind it."""
    code, modules = loaded_modules(*arguments)
    assert code == 0
    for package in ("numpy", "pandas", "scipy", "matplotlib", "dask", "simpy", "emcee", "pyarrow", "sim.scenario",
                    "sim.model", "sim.runs", "sim.studies", "sim.outputs", "importlib.metadata"):
        assert not imported(modules, package), f"bordersim {' '.join(arguments)} imported {imported(modules, package)}"


def test_the_command_table_names_every_command_of_the_command_line() -> None:
    """``main`` builds only the named command's module (sim.cli.COMMANDS): the table must list every
    command, with the module that registers it."""
    whole = typer.main.get_command(sim.cli.app)
    assert set(sim.cli.COMMANDS) == set(whole.commands)
    for command, group in sim.cli.COMMANDS.items():
        assert command in typer.main.get_command(sim.cli.build_app((group,))).commands


@pytest.mark.parametrize("command", sorted(sim.cli.COMMANDS))
def test_a_command_built_alone_reads_its_arguments_as_in_the_whole_command_line(command: str) -> None:
    alone = sim.cli.build_app((sim.cli.COMMANDS[command],))
    for arguments in ([command, "--help"], [command, "--no-such-option"]):
        expected = CliRunner().invoke(sim.cli.app, arguments, prog_name="bordersim")
        got = CliRunner().invoke(alone, arguments, prog_name="bordersim")
        assert (got.exit_code, got.output) == (expected.exit_code, expected.output)


def test_output_piped_into_a_reader_that_stops_early_ends_quietly() -> None:
    """``bordersim sbc --help | head -1``: the reader closes the pipe; click's exit 1, no traceback."""
    child = subprocess.Popen([sys.executable, "-c", "from sim.cli import main; main()", "sbc", "--help"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "80"})
    child.stdout.readline()
    child.stdout.close()  # the reader went away after one line
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 1
    assert "Traceback" not in stderr, stderr
