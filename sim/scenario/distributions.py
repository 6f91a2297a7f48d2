"""Distributions of the scenario format, as data, turned into vectorised numpy samplers.

A scenario never contains code: ``{dist: lognormal, mean: 8h, sd: 4h}`` is parsed into a
:class:`Lognormal` model and sampled with numpy. Durations are hours; a parameter written with a
unit (``45min``, ``6h``, ``2d``) is converted when the file is read. Lognormal and gamma take the
mean and standard deviation of the variable itself (not of its logarithm), as planners quote them.
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

if TYPE_CHECKING:  # numpy is imported where a sample is drawn: `bordersim validate` never needs it
    import numpy as np

_DURATION_PATTERN = re.compile(r"^\s*(-?[0-9]*\.?[0-9]+)\s*(min|h|d)\s*$")
_HOURS_PER_UNIT = {"min": 1 / 60, "h": 1.0, "d": 24.0}


def parse_duration_hours(value: object) -> object:
    """``"45min"`` → 0.75, ``"6h"`` → 6.0, ``"2d"`` → 48.0; a bare number is already hours.

    Anything else is returned unchanged so that pydantic reports it as the wrong type.
    """
    if isinstance(value, str):
        match = _DURATION_PATTERN.match(value)
        if match is None:
            raise ValueError(f"'{value}' is not a duration: write a number of hours or e.g. 45min, 6h, 2d")
        return float(match.group(1)) * _HOURS_PER_UNIT[match.group(2)]
    return value


Hours = Annotated[
    float,
    BeforeValidator(parse_duration_hours),
    # Editors validating against the JSON Schema must accept "45min" as well as 0.75.
    WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+\s*(min|h|d)\s*$"}]}
    ),
]
"""A duration in hours; files may write it with a unit."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built when first used

    def mean(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class Fixed(_Spec):
    """Always the same value: the tool for deterministic scenarios and hand-computed checks."""

    dist: Literal["fixed"]
    value: Hours = Field(ge=0)

    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np
        return np.full(size, self.value, dtype=float)


class Uniform(_Spec):
    dist: Literal["uniform"]
    low: Hours = Field(ge=0)
    high: Hours = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("uniform needs low <= high")
        return self

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)


class Triangular(_Spec):
    dist: Literal["triangular"]
    low: Hours = Field(ge=0)
    mode: Hours = Field(ge=0)
    high: Hours = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError("triangular needs low <= mode <= high")
        return self

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np
        if self.low == self.high:
            return np.full(size, self.low, dtype=float)
        return rng.triangular(self.low, self.mode, self.high, size)


class Exponential(_Spec):
    dist: Literal["exponential"]
    mean_: Hours = Field(alias="mean", gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)


class _MeanAndSd(_Spec):
    """A positive distribution given by its mean and standard deviation; sd 0 means always the mean."""

    dist: str  # narrowed to one name by each subclass (first, as written in scenario files)
    mean_: Hours = Field(alias="mean", gt=0)
    sd: Hours = Field(ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np
        if self.sd == 0:
            return np.full(size, self.mean_, dtype=float)
        return self._sample_spread(rng, size)

    def _sample_spread(self, rng: np.random.Generator, size: int) -> np.ndarray:
        raise NotImplementedError


class Lognormal(_MeanAndSd):
    """Lognormal with the given mean and sd of the variable (not of its log)."""

    dist: Literal["lognormal"]

    def _sample_spread(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma_squared = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - sigma_squared / 2
        return rng.lognormal(mu, math.sqrt(sigma_squared), size)


class Gamma(_MeanAndSd):
    """Gamma with the given mean and sd (shape = (mean/sd)², scale = sd²/mean)."""

    dist: Literal["gamma"]

    def _sample_spread(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = (self.mean_ / self.sd) ** 2
        return rng.gamma(shape, self.sd**2 / self.mean_, size)


class Poisson(_Spec):
    """``shift`` + Poisson(``mean``): household sizes, e.g. 1 + Poisson(5) has mean 6."""

    dist: Literal["poisson"]
    mean_: float = Field(alias="mean", ge=0)
    shift: float = Field(default=0, ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.shift + self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.shift + rng.poisson(self.mean_, size).astype(float)


class Empirical(_Spec):
    """Values drawn with the given weights (weights need not sum to 1; default equal)."""

    dist: Literal["empirical"]
    values: list[Hours] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if any(v < 0 for v in self.values):
            raise ValueError("empirical values must be >= 0")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("empirical needs one weight per value")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("empirical weights must be >= 0 with a positive sum")
        return self

    def _probabilities(self) -> np.ndarray:
        import numpy as np
        weights = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights, float)
        return weights / weights.sum()

    def mean(self) -> float:
        import numpy as np
        return float(np.dot(self.values, self._probabilities()))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np
        return rng.choice(np.asarray(self.values, float), size=size, p=self._probabilities())


Distribution = Annotated[
    Fixed | Uniform | Triangular | Exponential | Lognormal | Gamma | Poisson | Empirical,
    Field(discriminator="dist"),
]
"""Any distribution of the format, chosen by its ``dist`` key."""
