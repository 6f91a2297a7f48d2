"""Joint draws: ``uncertain: {sample: FILE}``, one row of a weighted sample per replication.

Per-key distributions (:mod:`sim.runs.uncertain`) draw each uncertain value on its own, as if the values
were independent. A calibration does not give independent values: a higher departure hazard fits
the same observed crossings only with more stayers (``never_leave``), so the parameters that fit
are *correlated*. A posterior sample keeps that: each row is one set of values that fits together.
``uncertain: {sample: posterior.csv}`` makes every replication draw one row of such a sample, by
its weight, and run with all of that row's values at once.

The file is a CSV whose columns are key paths of the scenario (``groups.undocumented.never_leave``)
and ``weight`` (≥ 0, not all 0; rows are drawn with probability weight ÷ total weight). Its path is
relative to the folder of the scenario file that names it (the base's folder when it comes from an
``extends`` base; the current folder when given by ``--set``). It is read and checked when the
scenario is loaded — every problem located by file and line — and kept in memory once per process
(:func:`read_sample` caches it), never re-read per replication.

The row is drawn from the replication's own stream ``uncertain/sample``, so the row a replication
gets depends only on (seed, replication) — not on the number of replications, the executor, or any
other stream (per-key draws included).
"""
from __future__ import annotations

import csv
import math
import os
import stat
from dataclasses import dataclass

import numpy as np

SAMPLE_KEY = "sample"
"""The key of the ``uncertain:`` block naming the sample file."""
WEIGHT_COLUMN = "weight"
STREAM_NAME = "uncertain/sample"
ROW_TOTAL = "uncertain:sample_row"
"""Per-replication total (a ``replications.csv`` column): the drawn row, 1 for the first data row."""
MAX_REPORTED_PROBLEMS = 10


class SampleError(ValueError):
    """A sample file that cannot be used; ``problems`` are one-line messages, located in the file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, eq=False)
class JointSample:
    """The rows of a sample file: ``values[row, column]`` and the cumulative share of the weights.

    Kept as two numpy arrays (8 bytes per value), so a posterior of 100,000 rows and 5 columns
    costs about 5 MB, held once per process.
    """

    path: str
    columns: tuple[str, ...]
    values: np.ndarray
    cumulative_share: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.cumulative_share)

    def draw_row(self, rng: np.random.Generator) -> int:
        """A row index (0-based), each row with probability weight ÷ total weight."""
        index = int(np.searchsorted(self.cumulative_share, rng.random(), side="right"))
        return min(index, self.rows - 1)  # the last share is 1.0; guard against rounding

    def row_values(self, row: int) -> dict[str, float]:
        return {column: float(value) for column, value in zip(self.columns, self.values[row])}


def display_path(path: str) -> str:
    """``path`` relative to the current folder when it lies below it (shorter messages)."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def resolve_path(written: str, scenario_file: str | None) -> str:
    """The absolute path of a sample file written ``written`` in ``scenario_file`` (relative to its
    folder; to the current folder when the value does not come from a file, e.g. ``--set``)."""
    written = os.path.expanduser(written)
    folder = ""
    if scenario_file and not scenario_file.startswith(("<", "--")) and os.path.isfile(scenario_file):
        folder = os.path.dirname(scenario_file)
    return os.path.abspath(os.path.join(folder, written))


_CACHE: dict[str, tuple[tuple[int, int] | None, JointSample]] = {}
MAX_SAMPLE_BYTES = 100 * 2**20
"""A posterior sample is thousands of rows of a few numbers; a bigger file is not one."""


def remember(sample: JointSample) -> None:
    """Keep ``sample`` in this process's cache (a worker gets the samples with its job, so a Dask
    worker on another machine needs no copy of the file)."""
    _CACHE.setdefault(sample.path, (None, sample))


def cached(path: str) -> JointSample:
    """The sample at ``path``: from this process's cache, else read now (raises :class:`SampleError`)."""
    entry = _CACHE.get(path)
    return entry[1] if entry is not None else read_sample(path)


def read_sample(path: str) -> JointSample:
    """Read and check a sample file (cached per process until the file changes)."""
    if not str(path).strip():
        raise SampleError(["the sample path is empty: give the CSV file of key paths and weight"])
    try:
        status = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        raise SampleError([(f"{display_path(path)}: no such file (a CSV of key paths and weight, relative to "
                            "the folder of the scenario file that names it)")]) from None
    if not stat.S_ISREG(status.st_mode):  # a device or a pipe would be read for ever
        raise SampleError([f"{display_path(path)}: not a regular file (a CSV of key paths and weight)"])
    if status.st_size > MAX_SAMPLE_BYTES:
        raise SampleError([f"{display_path(path)}: larger than {MAX_SAMPLE_BYTES // 2**20} MiB: not a sample file"])
    stamp = (status.st_mtime_ns, status.st_size)
    entry = _CACHE.get(path)
    if entry is not None and entry[0] in (stamp, None):
        return entry[1]
    sample = _parse(path)
    _CACHE[path] = (stamp, sample)
    return sample


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse(path: str) -> JointSample:
    shown = display_path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        reason = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else f"not a CSV text file ({error})"
        raise SampleError([f"{shown}: {reason}"]) from None
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise SampleError([f"{shown}:1: empty file: write a header of key paths and weight, then one row per draw"])
    header = [cell.strip() for cell in lines[0]]
    problems = []
    if WEIGHT_COLUMN not in header:
        problems.append(f"{shown}:1: no '{WEIGHT_COLUMN}' column (the header must hold key paths and weight)")
    seen: set[str] = set()
    for column in header:
        if column in seen or not column:
            problems.append(f"{shown}:1: column {column!r} {'appears twice' if column else 'has no name'}")
        seen.add(column)
    if problems:
        raise SampleError(problems)
    rows: list[list[float]] = []
    for line_number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, e.g. at the end of the file
        if len(cells) != len(header):
            problems.append(f"{shown}:{line_number}: {len(cells)} values for {len(header)} columns")
            continue
        row = []
        for column, cell in zip(header, cells):
            value = _number(cell.strip())
            if value is None:
                problems.append(f"{shown}:{line_number}: column {column}: {cell.strip()!r} is not a (finite) number")
            elif column == WEIGHT_COLUMN and value < 0:
                problems.append(f"{shown}:{line_number}: weight {cell.strip()} is negative (weights must be >= 0)")
            row.append(value if value is not None else math.nan)
        rows.append(row)
    if not rows and not problems:
        problems.append(f"{shown}: no rows: write one row per draw below the header")
    if problems:
        extra = len(problems) - MAX_REPORTED_PROBLEMS
        raise SampleError(problems[:MAX_REPORTED_PROBLEMS] + ([f"{shown}: ... and {extra} more"] if extra > 0 else []))
    table = np.array(rows, dtype=float)
    weight_index = header.index(WEIGHT_COLUMN)
    weights = table[:, weight_index]
    total = float(weights.sum())
    if not total > 0:
        raise SampleError([f"{shown}: every weight is 0: at least one row needs a positive weight"])
    cumulative = np.cumsum(weights) / total
    cumulative[-1] = 1.0
    columns = tuple(column for column in header if column != WEIGHT_COLUMN)
    values = np.ascontiguousarray(np.delete(table, weight_index, axis=1))
    values.setflags(write=False)
    cumulative.setflags(write=False)
    return JointSample(path, columns, values, cumulative)
