"""Where the time of one posterior calibration goes, measured from outside ``fit_posterior``.

``sim.studies.posterior.fit_posterior`` is not changed for the benchmark: it already takes the
three hooks a measurement needs, and this module fills them.

* ``executor`` — :class:`TimedExecutor` wraps the executor the command would use and times every
  simulation replication *inside the worker that runs it* (CPU seconds of that task), so the
  replications' cost is known even when other processes do them.
* ``surrogate`` — :class:`CountingSurrogate` wraps the fluid path (``default_surrogate``) and
  counts its calls and their CPU seconds; the fit's own count (``result.evaluations``) also
  includes the emulator's evaluations, which cost microseconds.
* ``status`` — :class:`StageClock` reads the lines the fit says as it goes and charges the wall
  and CPU time between two of them to the stage the fit is in (see :data:`STAGES`).

A stage is entered when the fit announces it (``measuring the simulation``: before its
replications) or when the executor starts; the chains report *after* each block, so the clock
switches to ``answer`` when the emulator's line says the answering chains are about to start,
and leaves it when the chains' last line (``answering chains: N warm-up blocks; model steps
accepted ...``) is said. Everything after that line is the result's tables (the fit table evaluates the fluid path at up to 1,000 draws) and, when an
emulator answered, its check on 100 draws.
"""
from __future__ import annotations

import os
import re
import resource
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sim.runs.executors import Executor

STAGES = ("screen", "replications", "correction", "answer", "tables")
"""The stages of a fit, in the order they first happen: the screening chain on the fluid path; the
simulation's replications (a round each); the correction — the simulation's offset and spread
measured against the fluid path at the replications' points, the emulator built and checked; the
answering chains; the result's tables."""


def cpu_now() -> float:
    """CPU seconds (user + system) of this process so far."""
    return time.process_time()


def children_cpu() -> float:
    """CPU seconds of this process's children that have ended and been waited for (a pool's
    workers, once the pool is shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class StageTotals:
    """Wall and CPU seconds charged to one stage, and the fluid-path calls made in it."""

    wall: float = 0.0
    cpu: float = 0.0  # this process
    worker_cpu: float = 0.0  # replications run in other processes
    fluid_calls: int = 0
    fluid_cpu: float = 0.0


@dataclass
class StageClock:
    """Charges time to the stage the fit is in; :meth:`status` is the fit's ``status`` callback."""

    stage: str = "screen"
    totals: dict[str, StageTotals] = field(default_factory=lambda: {name: StageTotals() for name in STAGES})
    lines: list[tuple[float, str]] = field(default_factory=list)
    _wall: float = field(default_factory=time.perf_counter)
    _cpu: float = field(default_factory=cpu_now)
    _started: float = field(default_factory=time.perf_counter)
    echo: Callable[[str], None] | None = None  # also gets every line, with the seconds since the start

    def switch(self, stage: str) -> None:
        """Charge the time since the last switch to the current stage, then enter ``stage``."""
        wall, cpu = time.perf_counter(), cpu_now()
        totals = self.totals[self.stage]
        totals.wall += wall - self._wall
        totals.cpu += cpu - self._cpu
        self._wall, self._cpu, self.stage = wall, cpu, stage

    def status(self, line: str) -> None:
        self.lines.append((time.perf_counter() - self._started, line))
        if self.echo is not None:
            self.echo(f"{self.lines[-1][0]:7.1f} s  {line}")
        if line.startswith("polynomial emulator"):
            self.switch("answer")  # the answering chains start now (the line comes after the emulator is built)
        elif line.startswith("answering chains:"):
            self.switch("tables")  # the chains are done: what follows is the emulator's check or the tables
        elif line.startswith("emulator on") and "runs again" in line:
            self.switch("answer")

    def finish(self) -> None:
        self.switch(self.stage)


@dataclass
class _Timed:
    """``fn(task)`` in a worker, returned with the CPU seconds it took there and the worker's pid."""

    fn: Callable[[Any], Any]

    def __call__(self, task):
        started = cpu_now()
        result = self.fn(task)
        return os.getpid(), cpu_now() - started, result


class TimedExecutor(Executor):
    """An executor that runs its tasks on ``inner`` and keeps, per task, the CPU seconds it took
    where it ran. The clock is switched to ``replications`` while tasks run, and to ``correction``
    after them (the fit then measures the offset and builds the emulator)."""

    def __init__(self, inner: Executor, clock: StageClock) -> None:
        self.inner = inner
        self.clock = clock
        self.name = inner.name
        self.workers = inner.workers
        self.task_cpu: list[float] = []
        self.out_of_process_cpu = 0.0
        self._wrapped: dict[int, _Timed] = {}  # the same wrapper for the same fn: a pool starts once

    def describe(self) -> str:
        return self.inner.describe()

    def map_unordered(self, fn, tasks: Iterable[Any]) -> Iterator[Any]:
        wrapped = self._wrapped.setdefault(id(fn), _Timed(fn))
        self.clock.switch("replications")
        try:
            for pid, cpu, result in self.inner.map_unordered(wrapped, tasks):
                self.task_cpu.append(cpu)
                if pid != os.getpid():
                    self.out_of_process_cpu += cpu
                    self.clock.totals["replications"].worker_cpu += cpu
                yield result
        finally:
            self.clock.switch("correction")

    def close(self) -> None:
        self.inner.close()


class CountingSurrogate:
    """The fluid path of ``default_surrogate``, counting its calls and their CPU seconds (charged
    to the clock's current stage)."""

    def __init__(self, inner: Callable, clock: StageClock) -> None:
        self.inner = inner
        self.clock = clock
        self.calls = 0
        self.cpu = 0.0

    def __call__(self, values, replication: int = 0):
        started = cpu_now()
        result = self.inner(values, replication)
        spent = cpu_now() - started
        self.calls += 1
        self.cpu += spent
        totals = self.clock.totals[self.clock.stage]
        totals.fluid_calls += 1
        totals.fluid_cpu += spent
        return result


def counting_surrogate_factory(clock: StageClock, made: list[CountingSurrogate]):
    """A ``surrogate(scenario, until)`` for ``fit_posterior`` that wraps the default fluid path in a
    :class:`CountingSurrogate` (appended to ``made``, so the caller can read its counts)."""
    from sim.studies.posterior import default_surrogate

    def factory(scenario, until):
        surrogate = CountingSurrogate(default_surrogate(scenario, until), clock)
        made.append(surrogate)
        return surrogate

    return factory


_CHAIN_LINE = re.compile(r"^(screening chain|answering chains?)[^:]*: \d+ steps, ([\d,]+) of at most")


def chain_evaluations(lines: Iterable[str]) -> dict[str, int]:
    """Evaluations of the screening chain, of the answering chains (Metropolis-within-Gibbs: their
    model paths; all rounds and reruns added up) and of the ensemble that answers instead when the
    budget is too small to warm them up ("answering chain, round ..."), from the fit's status lines: each chain reports its evaluations
    so far after every block, so a chain's count is its last report (a count that drops is a new
    chain under the same name)."""
    totals = {"screen": 0, "answer": 0, "ensemble": 0}
    last: dict[str, int] = {}
    for line in lines:
        match = _CHAIN_LINE.match(line)
        if match is None:
            continue
        label = line.split(":", 1)[0]
        stage = {"screening chain": "screen", "answering chains": "answer"}.get(match.group(1), "ensemble")
        count = int(match.group(2).replace(",", ""))
        previous = last.get(label, 0)
        totals[stage] += count - previous if count >= previous else count
        last[label] = count
    return totals


def probed_fit(fit: Callable, executor: Executor, *args, echo: Callable[[str], None] | None = None,
               **kwargs) -> dict[str, Any]:
    """Call ``fit`` (``fit_posterior`` or a wrapper of it) with ``executor`` timed, the fluid path
    counted and the stages clocked; return the result's figures and the breakdown as plain numbers.
    The executor is closed before the workers' CPU time is read. ``echo`` gets the fit's status
    lines as they come."""
    clock = StageClock(echo=echo)
    timed = TimedExecutor(executor, clock)
    made: list[CountingSurrogate] = []
    wall, cpu, children = time.perf_counter(), cpu_now(), children_cpu()
    try:
        result = fit(*args, executor=timed, status=clock.status, surrogate=counting_surrogate_factory(clock, made),
                     **kwargs)
        clock.finish()
    finally:
        timed.close()
    wall, cpu, children = time.perf_counter() - wall, cpu_now() - cpu, children_cpu() - children
    fluid = made[0] if made else CountingSurrogate(lambda *a: None, clock)
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu + children,  # this process, and every worker it started (waited for at close)
        "parent_cpu_seconds": cpu,
        "worker_cpu_seconds": children,
        "converged": bool(result.converged),
        "surrogate_evaluations": int(result.evaluations),
        "fluid_calls": fluid.calls,
        "fluid_cpu_seconds": fluid.cpu,
        "replications": int(result.replications),
        "rounds": int(result.rounds),
        "replication_task_cpu": timed.task_cpu,
        "sampler": result.sampler,
        "chains": int(result.walkers),
        "steps": int(result.steps),
        "samples": len(result.samples),
        "max_rhat": float(result.diagnostics.query("quantity == 'rhat_rank'")["value"].max()),
        "min_ess": float(result.diagnostics.query("quantity == 'ess_bulk'")["value"].min()),
        "error_term_acceptance": result.diagnostic("error_term_acceptance"),
        "stages": {name: vars(totals) for name, totals in clock.totals.items()},
        "chain_evaluations": chain_evaluations(line for _, line in clock.lines),
        "status_lines": [[round(at, 2), line] for at, line in clock.lines],
        "result": result,  # dropped before JSON (see without_result)
    }


def without_result(probe: dict[str, Any]) -> dict[str, Any]:
    """The probe's figures without the fit's result object (what a child process prints as JSON)."""
    return {key: value for key, value in probe.items() if key != "result"}
