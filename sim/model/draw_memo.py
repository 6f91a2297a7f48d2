"""Remembered draws: what a named random stream gave last time, served again when asked again.

A calibration evaluates the same replication (same seed, same replication index: common random
numbers) at thousands of parameter values. Most of a replication's draws do not depend on the
values being fitted: the household sizes, the uniform numbers that decide who never leaves and
who is deported, the exponential thresholds that become departure times under the hazard, the
route draws, every household's service time at every crossing and stay in reception. Drawing
them costs about a third of an evaluation of the bundled calibration; remembering them costs
memory.

How it stays exact. Every draw of the model comes from a named stream
(:func:`sim.model.streams.stream`), a fresh ``numpy.random.Generator`` per (seed, replication,
name). Inside :meth:`DrawMemo.active`, ``stream`` returns a :class:`MemoGenerator` instead: each
call (``random(n)``, ``lognormal(mu, sigma, n)`` ...) is looked up by the stream's identity, the
calls made on it before, and this call's method and arguments. A generator's output is a function
of exactly those, so a remembered result is the value the real generator would return. A call
with arguments that cannot be compared (arrays: ``permutation(indices)``) is passed to a real
generator, brought to the same state by replaying the calls before it, and nothing more on that
stream is remembered. Draws whose size changes with the fitted values (the travel times of a
route whose number of travellers changed) are drawn afresh. Results are handed out as copies, so
no caller can change what is remembered.

Memory: per stream only its latest sequence of calls is kept, and whole streams are dropped,
least recently used first, past ``max_bytes``.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from sim.model import streams

DEFAULT_MAX_BYTES = 192 * 2**20
"""About six replications of the bundled baseline's draws (~31 MiB each)."""

StreamKey = tuple[int, int, str]
Call = tuple[str, tuple, tuple]


def _nbytes(value) -> int:
    return value.nbytes if isinstance(value, np.ndarray) else 64


def _handed_out(value):
    return value.copy() if isinstance(value, np.ndarray) else value


class DrawMemo:
    """The remembered calls of named streams (see the module docstring); one per evaluator."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._streams: OrderedDict[StreamKey, list[tuple[Call, object]]] = OrderedDict()
        self._bytes = 0
        # A Dask worker may run two evaluations of one evaluator at once, in two threads.
        self._lock = threading.Lock()

    @contextmanager
    def active(self) -> Iterator[DrawMemo]:
        """Within this block (this thread or task), :func:`sim.model.streams.stream` remembers."""
        with streams.drawing_through(self.stream):
            yield self

    def stream(self, seed: int, replication: int, name: str) -> MemoGenerator:
        return MemoGenerator(self, (seed, replication, name))

    def remembered(self, key: StreamKey, before: list[Call], call: Call):
        """The result of ``call`` on stream ``key`` after the calls ``before``, if remembered."""
        position = len(before)
        with self._lock:
            calls = self._streams.get(key)
            if (calls is None or position >= len(calls) or calls[position][0] != call
                    or any(remembered != made for (remembered, _), made in zip(calls, before))):
                self.misses += 1
                return _MISSING
            self._streams.move_to_end(key)
            self.hits += 1
            return calls[position][1]

    def remember(self, key: StreamKey, position: int, call: Call, result) -> None:
        """Call number ``position`` of stream ``key`` gave ``result``: it replaces whatever was
        remembered from that position on (a different call there starts a different sequence)."""
        if isinstance(result, np.ndarray):
            result = result.copy()
            result.flags.writeable = False
        with self._lock:
            calls = self._streams.pop(key, [])
            self._bytes -= sum(_nbytes(value) for _, value in calls[position:])
            del calls[position:]
            calls.append((call, result))
            self._bytes += _nbytes(result)
            self._streams[key] = calls
            while self._bytes > self.max_bytes and len(self._streams) > 1:
                _, dropped = self._streams.popitem(last=False)
                self._bytes -= sum(_nbytes(value) for _, value in dropped)

    @property
    def nbytes(self) -> int:
        return self._bytes


_MISSING = object()


class MemoGenerator:
    """Stands for ``numpy.random.Generator`` of one named stream: serves remembered results, and
    draws (with a real generator brought to the same state) what is not remembered."""

    def __init__(self, memo: DrawMemo, key: StreamKey) -> None:
        self._memo = memo
        self._key = key
        self._calls: list[Call] = []  # every call made on this stream, in order
        self._real: np.random.Generator | None = None
        self._real_calls = 0  # how many of the calls the real generator has made
        self._remembering = True

    def __getattr__(self, method: str):
        if not callable(getattr(np.random.Generator, method, None)):
            raise AttributeError(f"{type(self).__name__} has no method {method!r}")  # noqa: TRY004 (getattr's)

        def call(*args, **kwargs):
            return self._call(method, args, kwargs)

        return call

    def _call(self, method: str, args: tuple, kwargs: dict):
        call = (method, args, tuple(sorted(kwargs.items())))
        if self._remembering:
            try:
                hash(call)
            except TypeError:  # array arguments: nothing more on this stream is remembered
                self._remembering = False
        position = len(self._calls)
        if self._remembering:
            result = self._memo.remembered(self._key, self._calls, call)
            if result is not _MISSING:
                self._calls.append(call)
                return _handed_out(result)
        result = getattr(self._caught_up(), method)(*args, **kwargs)
        self._calls.append(call)
        self._real_calls += 1
        if self._remembering and not isinstance(result, (np.ndarray, np.generic, float, int)):
            self._remembering = False  # e.g. spawn(): generators are not values to hand out twice
        if self._remembering:
            self._memo.remember(self._key, position, call, result)
        return result

    def _caught_up(self) -> np.random.Generator:
        """The real generator, in the state after every call made so far on this stream."""
        if self._real is None:
            self._real = streams.new_stream(*self._key)
        for method, args, kwargs in self._calls[self._real_calls:]:
            getattr(self._real, method)(*args, **dict(kwargs))
        self._real_calls = len(self._calls)
        return self._real


__all__ = ["DEFAULT_MAX_BYTES", "DrawMemo", "MemoGenerator"]
