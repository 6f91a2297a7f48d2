"""The hostile-input harness: run the real ``bordersim`` command on mutated inputs and judge the outcome.

**The promise under test** (README, docs/RELIABILITY.md): whatever the input, bordersim either does
the job (exit 0) or refuses it (exit 2) with one located line per problem — never exit 1, a
traceback, a hang or a machine brought down by memory.

**How a case runs.** :func:`bordersim` forks this test process and calls the console script's own
entry point (``sim.cli.main``, what ``bordersim`` runs) in the child with the given arguments, its
stdout and stderr going to files. Forking skips the second of interpreter and pandas start-up per
case, so hundreds of cases fit in CI, while each case is still its own process: the parent kills
it after ``timeout_s`` (a hang is a failure, reported as such) and the child runs under an address
space limit (``RLIMIT_AS``), so a case that would allocate without bound fails alone instead of
taking the machine with it. A few cases also go through the installed console script in a fresh
interpreter (:func:`bordersim_script`) to show the two agree.

**Budget.** The number of examples per property comes from the hypothesis profile ``hostile``
(:data:`EXAMPLES`), fixed and derandomised so CI is repeatable and stays within about three minutes
on two cores; ``BORDERSIM_HOSTILE_EXAMPLES=N`` raises it for a long hunt on a workstation.
"""
from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SCENARIOS = REPOSITORY / "scenarios"
BUNDLED = sorted(path.name for path in SCENARIOS.glob("*.yaml"))

EXAMPLES = int(os.environ.get("BORDERSIM_HOSTILE_EXAMPLES", "0")) or None
"""Examples per property beyond the fixed profile (None: the profile's own)."""
CASE_TIMEOUT_S = 60.0
"""A case not finished by then is a hang. Generous: the machine is shared and CI may be slow."""
CASE_MEMORY_BYTES = 8 * 2**30
"""Address-space limit of one case (virtual memory: numpy and pyarrow reserve far more than they use)."""

HARNESS_EXIT = 99
"""Exit code of a child in which an exception escaped the command (printed as a traceback)."""


@dataclass
class Outcome:
    """What one command did: its exit code (or None after a hang), its output, how long it took."""

    args: list[str]
    code: int | None
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        return f"bordersim {' '.join(self.args)} -> exit {self.code} in {self.seconds:.1f} s\n{self.stderr[-2000:]}"


def _child(args: list[str], out_fd: int, err_fd: int, memory_bytes: int, file_size_bytes: int | None) -> None:
    """In the forked child: point stdout/stderr at the files, limit memory, run the command, exit."""
    code = HARNESS_EXIT
    try:
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - lives until _exit
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        signal.signal(signal.SIGINT, signal.default_int_handler)
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        if file_size_bytes is not None:  # a full disk, as the program sees it: writes fail with EFBIG
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_bytes, file_size_bytes))
        sys.argv = ["bordersim", *args]
        from sim.cli import main

        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported to the parent as a traceback
        traceback.print_exc()
        code = HARNESS_EXIT
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def bordersim(*args: str | os.PathLike[str], timeout_s: float = CASE_TIMEOUT_S,
              memory_bytes: int = CASE_MEMORY_BYTES, file_size_bytes: int | None = None) -> Outcome:
    """Run ``bordersim ARGS`` in a forked child of this process (see the module docstring).

    ``file_size_bytes`` limits every file the child writes (``RLIMIT_FSIZE``): a full disk.
    """
    _warm_up()

    texts = [str(arg) for arg in args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            _child(texts, out.fileno(), err.fileno(), memory_bytes, file_size_bytes)
        code = _wait(pid, timeout_s)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Outcome(texts, code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                       seconds)


def _warm_up() -> None:
    """Import, once in this process, what commands import lazily, so that children start warm."""
    import importlib

    for module in WARM_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:  # a module moved by a refactor: the child imports it itself
            pass


WARM_MODULES = ("sim.cli", *(f"sim.cli.{group}" for group in ("scenario_commands", "run_commands", "experiments",
                                                             "credibility", "backtest")),
                "sim.scenario", "sim.runs.study", "sim.outputs.results", "sim.outputs.observed",
                "sim.runs.executors", "sim.analytic.bound", "sim.studies.calibrate", "pandas", "pyarrow.parquet")


def _wait(pid: int, timeout_s: float) -> int | None:
    """The child's exit code; None if it had to be killed after ``timeout_s``; -N if a signal N ended it."""
    deadline = time.monotonic() + timeout_s
    delay = 0.002
    while True:
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def bordersim_script(*args: str | os.PathLike[str], cwd: Path | None = None,
                     timeout_s: float = CASE_TIMEOUT_S, env: dict[str, str] | None = None) -> Outcome:
    """Run the installed console script in a fresh interpreter (``python -m sim``, same entry point)."""
    texts = [str(arg) for arg in args]
    started = time.monotonic()
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), **(env or {})}
    try:
        completed = subprocess.run([sys.executable, "-m", "sim", *texts], capture_output=True, text=True, check=False,
                                   cwd=cwd, timeout=timeout_s, env=environment)
    except subprocess.TimeoutExpired as expired:
        return Outcome(texts, None, str(expired.stdout or ""), str(expired.stderr or ""), timeout_s)
    return Outcome(texts, completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)


# --------------------------------------------------------------------------------------------
# Judging an outcome

LOCATED = re.compile(r"^(error: |warning: )?(--[a-z-]+|[^\s:][^:]*?)(:\d+)?: \S.*$")
"""``file:line: key: message``, ``file: message`` or ``--option: message`` (after an ``error:`` prefix)."""


def assert_clean(outcome: Outcome, names: tuple[str, ...] = ()) -> None:
    """Exit 0, or exit 2 with every stderr line located; never a hang, a crash or a traceback.

    ``names``: on exit 2, at least one line must name one of these (the file or option at fault).
    """
    assert outcome.code is not None, f"hang: killed after {outcome.seconds:.0f} s: {outcome.describe()}"
    assert outcome.code in (0, 2), f"exit {outcome.code} (0 or 2 expected): {outcome.describe()}"
    assert "Traceback" not in outcome.stderr and "internal error" not in outcome.stderr, outcome.describe()
    if outcome.code == 2:
        lines = [line for line in outcome.stderr.splitlines() if line.strip()]
        assert lines, f"exit 2 without a message: {outcome.describe()}"
        errors = [line for line in lines if not line.startswith("warning: ")]
        assert errors, f"exit 2 with only warnings: {outcome.describe()}"
        for line in errors:
            assert LOCATED.match(line), f"not a located one-line message: {line!r}\n{outcome.describe()}"
        if names:
            assert any(name in line for line in errors for name in names), (
                f"no line names any of {names}: {outcome.describe()}")


def copy_scenarios(folder: Path) -> Path:
    """The bundled scenarios (and anything they reference) copied into ``folder``; returns it."""
    shutil.copytree(SCENARIOS, folder, dirs_exist_ok=True)
    return folder
