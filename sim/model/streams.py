"""Named random-number streams: one per source of randomness, stable under any change elsewhere.

Each stream is ``numpy.random.SeedSequence(seed, spawn_key=(replication, stable_hash(name)))``:
a replication's draws depend only on (seed, replication, name), never on how many replications,
workers or other streams there are. Two scenarios that differ only in capacity therefore give every
household the same sizes, departures, routes and service times (common random numbers).
"""
from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(name: str) -> int:
    """First 4 bytes of the BLAKE2b digest of ``name``: fixed across runs, machines and Pythons
    (unlike ``hash()``, which is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest(), "big")


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator of stream ``name`` (e.g. ``"service/torkham"``) in one replication."""
    sequence = np.random.SeedSequence(seed, spawn_key=(replication, stable_hash(name)))
    return np.random.Generator(np.random.PCG64(sequence))
