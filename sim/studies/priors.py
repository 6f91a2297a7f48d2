"""Prior distributions of fitted parameters: ``--fit key=low:high`` (uniform) and ``--prior key=DIST``.

A prior says what is believed about a parameter before the observations are seen. ``DIST`` is
written like a function call, its arguments numbers::

    uniform(0.3, 0.7)          flat between low and high (what --fit key=low:high means)
    loguniform(0.001, 0.05)    flat in log(value): every factor of ten equally likely
    triangular(0.3, 0.5, 0.7)  low, mode, high
    normal(0.5, 0.1)           mean, sd (truncated to >= 0 for values that cannot be negative: see
                               bounds below)
    lognormal(0.005, 0.002)    mean and sd of the value itself (as in scenario files), not of its log
    gamma(0.005, 0.002)        mean and sd of the value itself
    halfnormal(0.2)            scale: for error scales (0 at the mode, rarely above 2.5 x scale)
    beta(2, 2)                 on [0, 1]: for shares such as never_leave

The density is scipy's (``scipy.stats``), so the log density, quantiles and draws are one
well-tested implementation.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.studies.prior_density import log_density_inside

_CALL = re.compile(r"^\s*([a-z_]+)\s*\(([^()]*)\)\s*$")
ARGUMENTS = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("mean", "sd"),
    "gamma": ("mean", "sd"),
    "halfnormal": ("scale",),
    "beta": ("a", "b"),
}
"""Each family and the names of its arguments, in order."""


class PriorError(ValueError):
    """A malformed ``--prior`` or ``--fit``: one line saying what is allowed."""


def _frozen(family: str, args: tuple[float, ...]):
    """The scipy.stats frozen distribution of ``family(args)``; raises PriorError on bad arguments."""
    from scipy import stats

    if family == "uniform":
        low, high = args
        if not low < high:
            raise PriorError("uniform(low, high) needs low < high")
        return stats.uniform(low, high - low)
    if family == "loguniform":
        low, high = args
        if not 0 < low < high:
            raise PriorError("loguniform(low, high) needs 0 < low < high")
        return stats.loguniform(low, high)
    if family == "triangular":
        low, mode, high = args
        if not (low <= mode <= high and low < high):
            raise PriorError("triangular(low, mode, high) needs low <= mode <= high and low < high")
        return stats.triang((mode - low) / (high - low), loc=low, scale=high - low)
    if family == "normal":
        mean, sd = args
        if not sd > 0:
            raise PriorError("normal(mean, sd) needs sd > 0")
        return stats.norm(mean, sd)
    if family in ("lognormal", "gamma"):
        mean, sd = args
        if not (mean > 0 and sd > 0):
            raise PriorError(f"{family}(mean, sd) needs mean > 0 and sd > 0")
        if family == "gamma":
            shape = (mean / sd) ** 2
            return stats.gamma(shape, scale=mean / shape)
        sigma2 = math.log1p((sd / mean) ** 2)
        return stats.lognorm(math.sqrt(sigma2), scale=mean / math.sqrt(1 + (sd / mean) ** 2))
    if family == "halfnormal":
        (scale,) = args
        if not scale > 0:
            raise PriorError("halfnormal(scale) needs scale > 0")
        return stats.halfnorm(scale=scale)
    if family == "beta":
        a, b = args
        if not (a > 0 and b > 0):
            raise PriorError("beta(a, b) needs a > 0 and b > 0")
        return stats.beta(a, b)
    raise PriorError(f"unknown prior {family!r}")  # pragma: no cover - parse() checks the name first


@dataclass(frozen=True)
class Prior:
    """The prior of one fitted key path: a family and its arguments, e.g. ``uniform(0.3, 0.7)``."""

    key: str
    family: str
    args: tuple[float, ...]
    dist: Any = field(default=None, compare=False, repr=False)
    _support: tuple[float, float] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.dist is None:
            object.__setattr__(self, "dist", _frozen(self.family, self.args))
        object.__setattr__(self, "_support", tuple(float(edge) for edge in self.dist.support()))

    @classmethod
    def uniform(cls, key: str, low: float, high: float) -> Prior:
        return cls(key, "uniform", (float(low), float(high)))

    @classmethod
    def parse(cls, text: str, option: str = "--prior") -> Prior:
        """``"groups.g.never_leave=beta(2, 2)"`` → Prior. Raises :class:`PriorError`."""
        key, sep, dist_text = text.partition("=")
        if not sep or not key.strip():
            raise PriorError(f"{option} {text!r}: write key.path=DIST, e.g. groups.g.never_leave=uniform(0.3, 0.7)")
        return cls.from_text(key.strip(), dist_text, option)

    @classmethod
    def from_text(cls, key: str, dist_text: str, option: str = "--prior") -> Prior:
        match = _CALL.match(dist_text)
        allowed = ", ".join(f"{name}({', '.join(args)})" for name, args in ARGUMENTS.items())
        if match is None or match.group(1) not in ARGUMENTS:
            raise PriorError(f"{option} {key}={dist_text}: not a distribution; allowed: {allowed}")
        family = match.group(1)
        try:
            args = tuple(float(part) for part in match.group(2).split(",")) if match.group(2).strip() else ()
        except ValueError:
            raise PriorError(f"{option} {key}={dist_text}: arguments must be numbers") from None
        if len(args) != len(ARGUMENTS[family]) or not all(math.isfinite(a) for a in args):
            raise PriorError(f"{option} {key}={dist_text}: {family} takes {len(ARGUMENTS[family])} numbers: "
                             f"{family}({', '.join(ARGUMENTS[family])})")
        try:
            return cls(key, family, args)
        except PriorError as error:
            raise PriorError(f"{option} {key}={dist_text}: {error}") from None

    def as_record(self) -> dict[str, Any]:
        """The prior as plain JSON data (every digit of its arguments kept): :meth:`from_record`."""
        return {"key": self.key, "family": self.family, "args": list(self.args)}

    @classmethod
    def from_record(cls, record: Any) -> Prior:
        """The prior of :meth:`as_record`'s data; ValueError saying what is wrong."""
        if not isinstance(record, dict):
            raise ValueError("a prior must be an object with key, family and args")  # noqa: TRY004
        try:
            return cls(str(record["key"]), str(record["family"]), tuple(float(a) for a in record["args"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"unreadable prior {record!r}: {error}") from None

    def describe(self) -> str:
        return f"{self.family}({', '.join(f'{a:g}' for a in self.args)})"

    def logpdf(self, value: float) -> float:
        return float(self.log_density(np.asarray(value, float)))

    def log_density(self, values: np.ndarray) -> np.ndarray:
        """The log density at every value: closed forms inside the support (an MCMC chain asks for
        it at every step, and scipy's frozen distributions cost ~0.2 ms a call:
        :mod:`sim.studies.prior_density`), scipy's on and outside its edges."""
        values = np.asarray(values, float)
        density, inside = log_density_inside(self.family, self.args, values, self._support)
        if not inside.all():
            density = np.where(inside, density, self.dist.logpdf(values))
        return np.asarray(density, float)

    def ppf(self, quantile: np.ndarray) -> np.ndarray:
        return np.asarray(self.dist.ppf(quantile), float)

    def cdf(self, value: np.ndarray) -> np.ndarray:
        return np.asarray(self.dist.cdf(value), float)

    def range(self, tail: float = 0.005) -> tuple[float, float]:
        """The support if it is bounded, else the central 99 % (``tail`` in each tail)."""
        low, high = self.dist.support()
        if not math.isfinite(low):
            low = float(self.dist.ppf(tail))
        if not math.isfinite(high):
            high = float(self.dist.ppf(1 - tail))
        return float(low), float(high)


def as_prior(parameter) -> Prior:
    """A :class:`Prior` from a Prior or a ``FitParameter`` (key, low, high: uniform)."""
    if isinstance(parameter, Prior):
        return parameter
    return Prior.uniform(parameter.key, parameter.low, parameter.high)


__all__ = ["ARGUMENTS", "Prior", "PriorError", "as_prior"]
