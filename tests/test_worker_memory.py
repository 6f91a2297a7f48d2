"""Local workers: forked with the parent's objects frozen, and keeping freed memory for their next
task (sim/runs/worker_memory.py). Untimed: what is checked is the state a worker is in (frozen
objects, page faults of a reused block), not how fast it is."""
from __future__ import annotations

import gc
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.runs import worker_memory
from sim.runs.executors import ProcessExecutor

BLOCK_BYTES = 2 << 20
BLOCKS = 64
"""What a replication allocates and frees, in miniature: 64 arrays of 2 MiB (128 MiB, more than
glibc gives itself leave to keep whatever its past allocations: its own limit is 64 MiB)."""


def _frozen_count(_task) -> int:
    return gc.get_freeze_count()


def _faults_of_filling(blocks: int) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.ones(BLOCK_BYTES // 8) for _ in range(blocks)]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del arrays
    return faults


LARGE_BLOCKS = 256
"""A replication of a million households, in miniature: 512 MiB freed at its end, more than the
256 MiB kept before session 4 — glibc's trim is all or nothing, so then all of it went back."""


def _faults_of_a_second_round(_task, blocks: int = BLOCKS) -> int:
    """Page faults of filling the blocks after as many were filled and freed (a second replication)."""
    _faults_of_filling(blocks)
    return _faults_of_filling(blocks)


def _faults_of_a_second_large_round(_task) -> int:
    return _faults_of_a_second_round(_task, LARGE_BLOCKS)


def _is_glibc() -> bool:
    return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")


def test_workers_never_collect_the_parents_objects_and_the_parent_is_unfrozen() -> None:
    parent_objects = len(gc.get_objects())
    with ProcessExecutor(2) as executor:
        frozen = list(executor.map_unordered(_frozen_count, range(4)))
        assert gc.get_freeze_count() == 0  # the parent collects its own objects as before
    # Every worker holds (at least) the parent's objects frozen: most of what existed at the fork.
    assert min(frozen) >= parent_objects // 2


def test_a_worker_reuses_freed_memory_instead_of_asking_the_kernel_again() -> None:
    pages = BLOCKS * BLOCK_BYTES // resource.getpagesize()
    with ProcessExecutor(2) as executor:
        faults = list(executor.map_unordered(_faults_of_a_second_round, range(4)))
    if _is_glibc():
        assert max(faults) < pages // 10, faults  # the freed block was reused, not faulted in again
    else:  # elsewhere the allocator is left alone
        assert worker_memory.keep_freed_memory() is False


@pytest.mark.parametrize(("opt_out", "round_name", "blocks"), [
    (None, "_faults_of_a_second_round", BLOCKS),
    ("0", "_faults_of_a_second_round", BLOCKS),
    (None, "_faults_of_a_second_large_round", LARGE_BLOCKS),
])
def test_a_serial_run_keeps_freed_memory_in_this_process_unless_told_not_to(opt_out, round_name, blocks) -> None:
    """``jobs=1`` runs in the caller's process, which pays the same page faults per replication:
    the serial executor keeps freed memory too, unless ``BORDERSIM_KEEP_FREED_MEMORY=0``, where
    the freed blocks go back to the kernel and the next ones are faulted in afresh (glibc's default).

    Measured in a fresh interpreter that imports the executors and runs a serial map: in the
    test process, glibc's thresholds depend on everything the suite allocated and freed before
    (they rise with each large block freed), and the full suite made the second round reuse
    memory without any tuning of ours."""
    pages = blocks * BLOCK_BYTES // resource.getpagesize()
    code = ("import sys; sys.path.insert(0, 'tests'); import test_worker_memory as t; "
            "from sim.runs.executors import SerialExecutor; "
            f"print(next(SerialExecutor().map_unordered(t.{round_name}, [None])))")
    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    environment.pop(worker_memory.OPT_OUT_VARIABLE, None)
    if opt_out is not None:
        environment[worker_memory.OPT_OUT_VARIABLE] = opt_out
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=environment, capture_output=True, text=True,
                          check=True)
    faults = int(done.stdout.split()[-1])
    if not _is_glibc():
        return  # elsewhere the allocator is left alone (checked above)
    if opt_out == "0":
        assert faults > pages // 2, faults
    else:
        assert faults < pages // 10, faults
