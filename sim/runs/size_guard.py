"""Size guards: refuse, before it starts, a run the machine cannot hold or would take hours.

``--set groups.undocumented.people=1000000000`` is a valid scenario (validation allows up to 10⁹
people), but one replication would draw ~170 million households: about 90 GiB, allocated for half a
minute until the process dies, or until the machine does. So before any replication starts, the
run's peak memory and wall time are estimated from what drives them, and a run above the limits is
refused (exit 2) with the estimate and how to proceed.

What drives them (measured on the bundled baseline, 2-core machine, Dec 2026; see
docs/RELIABILITY.md):

- **households** per replication (people ÷ mean household size, at least one person each): each
  replication's worker holds every household's pre-drawn variates and timestamps, ~550 bytes per
  household (phase1: 288,000 households, 151 MiB above the interpreter's 116 MiB, at 1× and at 4×
  the population), and simulates them at ~7 µs per household;
- **daily rows**: days × the daily metrics of every node (8 per crossing, 4 per camp, 3 per
  reception, 4 per group, 3 for ``all``; 57 for phase1). The parent keeps every replication's rows
  (~200 bytes per row with the long table and its copies) and writes them at ~15 µs per row
  (a century of days: 4.2 million rows for two replications, 850 MiB, 64 s);
- **workers**: each worker process holds one replication at a time, plus the interpreter;
- ``--trace`` keeps every departed household of every replication in the parent (~250 bytes each).

The estimates are deliberately simple (linear in what drives them) and err on the high side: the
guard is there to stop runs that are out by orders of magnitude, not to predict to the second.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

INTERPRETER_BYTES = 150 * 2**20
"""One Python process with numpy, pandas and the engine imported (measured 116 MiB), with margin."""
BYTES_PER_HOUSEHOLD = 600
SECONDS_PER_HOUSEHOLD = 7e-6
BYTES_PER_DAILY_ROW = 200
SECONDS_PER_DAILY_ROW = 15e-6
WORKER_BYTES_PER_DAY_NODE = 40
"""A worker's recorder keeps a few float arrays per node and day (measured ~1.6 KiB per day for phase1)."""
TRACE_BYTES_PER_HOUSEHOLD = 250
DEFAULT_MAX_HOURS = 1.0
"""Runs estimated to take longer are refused unless ``--max-hours`` allows them."""

METRICS_PER_NODE = {"crossings": 8, "camps": 4, "reception": 3, "groups": 4}
ALL_NODE_METRICS = 3


class RunTooLarge(ValueError):
    """A run whose estimated memory or time exceeds the limits; the message says by how much and
    what to do instead."""


@dataclass(frozen=True)
class SizeEstimate:
    """What a run is expected to need, and why."""

    households_per_replication: int
    days: int
    daily_rows_per_replication: int
    replications: int
    workers: int
    memory_bytes: int
    seconds: float

    def describe(self) -> str:
        return (f"{self.replications:,} replication(s) of {self.households_per_replication:,} households over "
                f"{self.days:,} days on {self.workers} worker(s): about {format_bytes(self.memory_bytes)} of "
                f"memory and {format_duration(self.seconds)}")


def households_per_replication(scenario) -> int:
    """People ÷ mean household size (at least 1 person per household), summed over the groups."""
    total = 0.0
    for group in scenario.groups.values():
        total += group.people / max(1.0, float(group.household_size.mean()))
    return int(total) + len(scenario.groups)


def daily_rows_per_day(scenario) -> int:
    """Rows the daily table gets per replication and day (one per node and metric)."""
    return ALL_NODE_METRICS + sum(len(getattr(scenario, part)) * count for part, count in METRICS_PER_NODE.items())


def estimate(scenario, replications: int, workers: int, trace: bool = False, keep_daily: bool = True) -> SizeEstimate:
    """Peak memory and wall time of ``replications`` of ``scenario`` on ``workers`` processes.

    ``keep_daily`` is false for commands that reduce each replication as it arrives (compare,
    sweep and sensitivity without ``--daily``): their parent holds a few numbers per replication.
    """
    households = households_per_replication(scenario)
    days = (scenario.period.end - scenario.period.start).days + 1
    rows_per_day = daily_rows_per_day(scenario)
    rows = days * rows_per_day
    workers = max(1, min(workers, replications))
    per_worker = INTERPRETER_BYTES + households * BYTES_PER_HOUSEHOLD + rows * WORKER_BYTES_PER_DAY_NODE
    parent = INTERPRETER_BYTES + (replications * rows * BYTES_PER_DAILY_ROW if keep_daily else 0)
    if trace:
        parent += replications * households * TRACE_BYTES_PER_HOUSEHOLD
    # With one worker the replication runs in the parent; otherwise workers and parent coexist.
    memory = parent + (per_worker - INTERPRETER_BYTES if workers == 1 else workers * per_worker)
    simulate_seconds = replications * households * SECONDS_PER_HOUSEHOLD / workers
    table_seconds = replications * rows * SECONDS_PER_DAILY_ROW if keep_daily else 0.0
    return SizeEstimate(households, days, rows, replications, workers, int(memory), simulate_seconds + table_seconds)


def combine(estimates: list[SizeEstimate]) -> SizeEstimate:
    """Several runs one after the other (the variants of a compare or a sweep): the largest memory,
    the sum of the times, the largest population and period."""
    first = max(estimates, key=lambda estimated: estimated.memory_bytes)
    return SizeEstimate(max(e.households_per_replication for e in estimates), max(e.days for e in estimates),
                        first.daily_rows_per_replication, sum(e.replications for e in estimates), first.workers,
                        first.memory_bytes, sum(e.seconds for e in estimates))


def available_memory_bytes() -> int | None:
    """Memory this process may still use: the least of MemAvailable, the cgroup's limit and RLIMIT_AS."""
    limits = []
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as handle:
                text = handle.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            limits.append(int(text))
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            limits.append(soft)
    except (ImportError, ValueError, OSError):
        pass
    if not limits and hasattr(os, "sysconf"):
        try:
            limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
        except (ValueError, OSError):
            pass
    return min(limits) if limits else None


def check(estimated: SizeEstimate, max_memory_bytes: int | None = None, max_hours: float | None = DEFAULT_MAX_HOURS,
          command: str = "run") -> None:
    """Raise :class:`RunTooLarge` when ``estimated`` exceeds the memory limit (default: what this
    machine has available now) or ``max_hours`` (``None``: no time limit)."""
    limit = available_memory_bytes() if max_memory_bytes is None else max_memory_bytes
    if limit is not None and estimated.memory_bytes > limit:
        raise RunTooLarge(
            f"{command} too large: {estimated.describe()}, more than the {format_bytes(limit)} "
            f"{'available' if max_memory_bytes is None else 'allowed by --max-memory'}; "
            "run fewer replications, fewer workers (-j), a smaller population or a shorter period"
            + (", or raise --max-memory" if max_memory_bytes is not None else ""))
    if max_hours is not None and estimated.seconds > max_hours * 3600:
        raise RunTooLarge(
            f"{command} would take hours: {estimated.describe()}, more than --max-hours {max_hours:g}; "
            "run fewer replications first (-n), more workers (-j or --scheduler), "
            "or allow it with --max-hours")


def parse_bytes(text: str) -> int:
    """``"8G"``, ``"512MiB"``, ``"2.5GB"`` or a number of bytes → bytes (binary units)."""
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    factor = units.get(cleaned[-1:], 1) if cleaned else 1
    number = cleaned[:-1] if cleaned[-1:] in units else cleaned
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"--max-memory must be a size such as 8G or 512M, got {text!r}") from None
    if not value > 0 or value * factor > 2**62:
        raise ValueError(f"--max-memory must be a positive size such as 8G or 512M, got {text!r}")
    return int(value * factor)


def format_bytes(count: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if count >= size:
            return f"{count / size:,.1f} {unit}"
    return f"{count / 2**10:,.0f} KiB"


def format_duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:,.1f} hours"
    if seconds >= 60:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds:,.0f} s"
