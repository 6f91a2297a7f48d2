"""How a local worker process (:class:`sim.runs.executors.ProcessExecutor`) treats memory.

Two things make a forked worker slower per replication than the same replications run one after
another in the parent, and neither has to do with the model:

* **Copy-on-write after the fork.** A worker shares the parent's memory pages until it writes to
  one. CPython's cyclic garbage collector writes into every object it examines, so a worker's first
  full collection copies every page of the parent's heap (on phase1-2023 about 20,000 pages, 80 MiB,
  per worker). :func:`frozen_objects` hides the parent's objects from the collector while the
  workers are forked (``gc.freeze``), so a worker never examines them.
* **Fresh pages for every replication.** glibc's allocator gives large blocks (numpy's arrays of a
  value per household) back to the kernel when they are freed, and asks for new ones on the next
  replication: on phase1-2023 about 40 MiB, 10,000 page faults, each page zeroed by the kernel —
  some 5 % of a replication's CPU time. :func:`keep_freed_memory` lets a worker keep that memory
  for its next replication. A worker runs replications of one size, so its peak is unchanged.
  Replications run in the caller's own process (``jobs=1``) pay the same toll — measured on the
  reference workload at 200,000 households through ``sim.run``: 20,000–27,000 page faults and a
  quarter of the CPU time per replication — so :func:`keep_freed_memory_here` does the same there,
  once, unless the caller opts out (``BORDERSIM_KEEP_FREED_MEMORY=0``): the process then keeps up
  to 1 GiB of freed memory for reuse instead of returning it to the kernel at once.

Neither changes a number: results are identical with and without them.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import os
from collections.abc import Iterator

M_TRIM_THRESHOLD = -1
"""glibc ``mallopt`` parameter: free memory at the top of the heap kept before it is returned."""
M_MMAP_THRESHOLD = -3
"""glibc ``mallopt`` parameter: blocks at least this large get their own mapping, returned on free."""
KEEP_FREED_BYTES = 1 << 30
"""Freed memory a worker keeps for its next task instead of returning it to the kernel.

glibc's trim is all or nothing: once the free memory at the top of the heap exceeds this, all of it
but a few pages goes back to the kernel. So the threshold has to exceed what one replication frees
at its end, or every replication returns everything and faults it in again: a replication of the
reference workload at 1,000,000 households frees about 450 MiB; at 256 MiB (the value of session 3)
each one faulted in ~44,000 fresh pages after a memory-hungry neighbour (0.3–0.6 s of 1.2–1.9 s).
What is kept is only ever memory the process has used: its peak is unchanged."""
OWN_MAPPING_BYTES = 32 << 20
"""Blocks from this size on (glibc's largest threshold) still get a mapping of their own."""


@contextlib.contextmanager
def frozen_objects() -> Iterator[None]:
    """Within the block, the garbage collector ignores every object that exists now (in this process
    and in the processes forked within it, which keep them frozen for good); unfrozen at the end,
    so this process's own collections are as before."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def keep_freed_memory() -> bool:
    """In a worker process: keep freed memory for the next task (glibc only; elsewhere nothing is
    changed). True if the allocator took the settings."""
    if not _is_glibc():
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    # Setting either value turns off glibc's own adjustment of both, so both are set.
    return bool(mallopt(M_MMAP_THRESHOLD, OWN_MAPPING_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES))


OPT_OUT_VARIABLE = "BORDERSIM_KEEP_FREED_MEMORY"
"""Set to ``0`` to leave the allocator of a process running replications itself (``jobs=1``) as it is."""

_kept_here: list[bool] = []


def keep_freed_memory_here() -> bool:
    """In the process that runs replications itself: :func:`keep_freed_memory`, once, unless
    ``BORDERSIM_KEEP_FREED_MEMORY=0``. True if the allocator keeps freed memory now."""
    if not _kept_here:
        wanted = os.environ.get(OPT_OUT_VARIABLE, "1").strip() != "0"
        _kept_here.append(wanted and keep_freed_memory())
    return _kept_here[0]


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # not a POSIX system, or no such name
        return False


__all__ = ["OPT_OUT_VARIABLE", "frozen_objects", "keep_freed_memory", "keep_freed_memory_here"]
