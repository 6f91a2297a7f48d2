"""Named random-number streams: one per source of randomness, stable under any change elsewhere.

Each stream is ``numpy.random.SeedSequence(seed, spawn_key=(replication, stable_hash(name)))``:
a replication's draws depend only on (seed, replication, name), never on how many replications,
workers or other streams there are. Two scenarios that differ only in capacity therefore give every
household the same sizes, departures, routes and service times (common random numbers).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np


def stable_hash(name: str) -> int:
    """First 4 bytes of the BLAKE2b digest of ``name``: fixed across runs, machines and Pythons
    (unlike ``hash()``, which is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest(), "big")


def new_stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """A fresh generator of stream ``name`` (e.g. ``"service/torkham"``) in one replication."""
    sequence = np.random.SeedSequence(seed, spawn_key=(replication, stable_hash(name)))
    return np.random.Generator(np.random.PCG64(sequence))


_source: ContextVar[Callable[[int, int, str], np.random.Generator] | None] = ContextVar("stream_source",
                                                                                         default=None)


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator of stream ``name`` in one replication: a fresh one, or, inside
    :func:`drawing_through`, what its source gives (``sim.model.draw_memo``: remembered draws)."""
    source = _source.get()
    return new_stream(seed, replication, name) if source is None else source(seed, replication, name)


@contextmanager
def drawing_through(source: Callable[[int, int, str], np.random.Generator]) -> Iterator[None]:
    """Within this block, :func:`stream` calls ``source(seed, replication, name)``."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)
