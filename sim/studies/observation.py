"""The observation model: what each observed series measures in the model, and with what error.

Observed figures are not the model's quantities themselves. Each **series** names

* the **node** it counts at: ``all`` crossings, or one crossing (``torkham``);
* its **kind**: ``cumulative`` (people counted from the series' own start date ``count_from``
  to the end of each date) or ``daily`` (one day's count);
* its **start date** ``count_from`` (cumulative series): the model quantity is the difference of
  the cumulative crossings at the end of the date and at the end of the day before ``count_from``.

The bundled series (:mod:`sim.outputs.observed`): ``un`` = cumulative crossed through all crossings since
15 Sep 2023; ``pak_kp`` = Torkham cumulative since 17 Sep 2023. A user CSV has
``date,value[,series,kind,node,count_from]`` (missing: one series, cumulative, node ``all``,
counted from the period start).

**Error.** A reported figure *y* of series *s* relates to the model value *m* as

    log(1 + y) = log(1 + m) + b_s + e_i,    e_i ~ Normal(0, sigma_s^2 + v_s),   b_s ~ Normal(0, beta^2)

* ``sigma_s`` — the series' multiplicative error scale (0.1 ≈ ±10 %), **fitted**, prior
  half-normal(0.2) by default: positive, most mass below ~40 % (reporters of the same event differ
  by tens of percent, not by factors), and finite at 0 so that a few points fitted closely do not
  make it collapse (a log-uniform prior would pile up near its lower bound in that case: the
  posterior ∝ sigma^-(n+1) near zero, a "lucky point" that overstates what three figures show).
* ``v_s`` — the simulator's own noise (household randomness) in log units, measured from a few
  replications at the starting point and added to the variance: about 0.5 % on the bundled
  calibration, far below the observation error, but not on a tiny scenario.
* ``b_s`` — an optional **reporter bias** shared by all the figures of a series (``bias_sd`` = beta,
  default 0: off). A reporter that counts differently (the UN's all-crossings total vs the KP
  officials' Torkham count) is off by a similar factor every time; with independent errors only,
  the level would be pinned to ±sigma/√n and two disagreeing series would be averaged into false
  precision. With beta > 0 the level keeps the uncertainty the disagreement implies.

``sigma_s`` is integrated out of the likelihood numerically (a midpoint rule on 400 quantiles of its
prior, so any prior works), which keeps the sampler's dimension to the model parameters; each
posterior sample then draws its ``sigma_s`` from the exact conditional posterior on that grid.
``b_s`` is integrated out in closed form (Sherman–Morrison for a diagonal plus rank-one covariance).
``log(1 + ·)`` keeps a zero count (a closed day) finite; for counts in the thousands it is the log.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.studies.priors import Prior

KINDS = ("cumulative", "daily")
ALL = "all"
DEFAULT_SIGMA_PRIOR = "halfnormal(0.2)"
SIGMA_GRID_POINTS = 400
BUNDLED_PREFIX = "bundled:"


class ObservationError(ValueError):
    """Bad observed input: one line, naming the file and row where there is one."""


@dataclass(frozen=True)
class ObservedSeries:
    """One consistent observed series and the model quantity it measures."""

    name: str
    kind: str  # cumulative | daily
    node: str  # "all" or a crossing name
    count_from: dt.date | None  # cumulative: first day counted (None: the period start)
    dates: tuple[dt.date, ...]
    values: np.ndarray = field(repr=False)
    source: str = field(default="", compare=False, repr=False)  # the file it was read from, for messages

    def until(self, cutoff: dt.date | None) -> ObservedSeries | None:
        """The series up to ``cutoff`` (inclusive); None if nothing is left."""
        if cutoff is None:
            return self
        keep = [index for index, day in enumerate(self.dates) if day <= cutoff]
        if not keep:
            return None
        return ObservedSeries(self.name, self.kind, self.node, self.count_from,
                              tuple(self.dates[i] for i in keep), self.values[keep], self.source)

    def describe(self) -> str:
        what = "crossed through all crossings" if self.node == ALL else f"crossed at {self.node}"
        if self.kind == "daily":
            return f"{self.name}: daily people {what}"
        start = f" since {self.count_from.isoformat()}" if self.count_from else ""
        return f"{self.name}: cumulative people {what}{start}"

    @property
    def where(self) -> str:
        """``file: series NAME`` (or ``series NAME`` for a bundled one) for messages."""
        return f"{self.source}: series {self.name}" if self.source else f"series {self.name}"

    def check_against(self, period_start: dt.date, period_end: dt.date, crossings: Sequence[str]) -> None:
        """Raise :class:`ObservationError` if the series cannot be compared with this scenario."""
        if self.node != ALL and self.node not in crossings:
            raise ObservationError(f"{self.where}: node {self.node!r} is neither 'all' nor a crossing "
                                   f"of the scenario ({', '.join(crossings)})")
        outside = [day for day in self.dates if not period_start <= day <= period_end]
        if outside:
            raise ObservationError(f"{self.where}: date {outside[0].isoformat()} lies outside the period "
                                   f"{period_start}..{period_end}")
        if self.count_from is not None:
            if self.count_from < period_start:
                raise ObservationError(f"{self.where}: count_from {self.count_from} is before the period "
                                       f"start {period_start}")
            if self.dates[0] < self.count_from:
                raise ObservationError(f"{self.where}: date {self.dates[0]} is before its count_from "
                                       f"{self.count_from}")

    def model_values(self, daily_crossed: Mapping[str, np.ndarray], period_start: dt.date) -> np.ndarray:
        """The model quantity this series measures, on each of its dates.

        ``daily_crossed`` maps ``all`` and each crossing to people crossed per day from the period
        start (index 0). Cumulative: crossings from ``count_from`` to the end of each date.
        """
        daily = np.asarray(daily_crossed[self.node], float)
        index = np.array([(day - period_start).days for day in self.dates])
        if self.kind == "daily":
            return daily[index]
        cumulative = np.cumsum(daily)
        offset = 0.0
        if self.count_from is not None and self.count_from > period_start:
            offset = cumulative[(self.count_from - period_start).days - 1]
        return cumulative[index] - offset


# --------------------------------------------------------------------------------------------
# Reading observations


def _date(value, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ObservationError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def series_from_table(table: pd.DataFrame, source: str = "<observed>", default_name: str = "observed"
                      ) -> list[ObservedSeries]:
    """Series from a table of ``date,value[,series,kind,node,count_from]`` (one per ``series``)."""
    missing = {"date", "value"} - set(table.columns)
    if missing:
        raise ObservationError(f"{source}: needs columns date,value (optional series,kind,node,count_from); "
                               f"missing {', '.join(sorted(missing))}")
    table = table.reset_index(drop=True)
    names = table["series"].fillna(default_name).astype(str) if "series" in table.columns \
        else pd.Series(default_name, index=table.index)
    result = []
    for name in dict.fromkeys(names):
        rows = table[names == name]
        where = f"{source}: series {name}"
        settings = {}
        for column, default in (("kind", "cumulative"), ("node", ALL), ("count_from", None)):
            values = rows[column].dropna().astype(str).str.strip().unique() if column in rows.columns else []
            if len(values) > 1:
                raise ObservationError(f"{where}: column {column} must hold one value per series, got "
                                       f"{', '.join(sorted(values))}")
            settings[column] = values[0] if len(values) else default
        if settings["kind"] not in KINDS:
            raise ObservationError(f"{where}: kind {settings['kind']!r} is not one of {', '.join(KINDS)}")
        dates, values = [], []
        for index, row in rows.iterrows():
            line = f"{source}:{index + 2}"
            dates.append(_date(row["date"], f"{line}: date"))
            try:
                value = float(row["value"])
            except (TypeError, ValueError):
                raise ObservationError(f"{line}: value {row['value']!r} is not a number") from None
            if not math.isfinite(value) or value < 0:
                raise ObservationError(f"{line}: value {row['value']!r} must be a count >= 0")
            values.append(value)
        if len(set(dates)) != len(dates):
            raise ObservationError(f"{where}: a date appears twice (one figure per date and series)")
        order = np.argsort(np.array(dates, dtype="datetime64[D]"), kind="stable")
        count_from = _date(settings["count_from"], f"{where}: count_from") if settings["count_from"] else None
        result.append(ObservedSeries(name, settings["kind"], settings["node"], count_from,
                                     tuple(dates[i] for i in order), np.array(values, float)[order],
                                     "" if source.startswith("<") else source))
    return result


def read_observations(source: str | Path) -> list[ObservedSeries]:
    """The series of one ``--observed`` argument: a CSV path, or ``bundled:NAME`` (``bundled:un``)."""
    text = str(source)
    if text.startswith(BUNDLED_PREFIX):
        return [bundled_series(text[len(BUNDLED_PREFIX):])]
    path = Path(text)
    if not path.is_file():
        raise ObservationError(f"{path}: no such observed file (or write bundled:un, bundled:pak_kp)")
    from sim.outputs.observed import read_csv_table

    try:
        table = read_csv_table(path)  # text cells; refuses what is not a UTF-8 CSV table, in one line
    except OSError as error:
        raise ObservationError(f"{path}: cannot read: {error.strerror or error}") from None
    except ValueError as error:
        raise ObservationError(f"{path}: {error}") from None
    if table.empty and {"date", "value"} <= set(table.columns):
        raise ObservationError(f"{path}: no observations: the CSV has a header but no rows")
    return series_from_table(table, str(path), default_name=path.stem)


def bundled_series(name: str, until: dt.date | None = None) -> ObservedSeries:
    """A bundled consistent series (``un``, ``pak_kp``) as an :class:`ObservedSeries`."""
    from sim.outputs.observed import SERIES, select_series

    if name not in SERIES:
        raise ObservationError(f"unknown bundled series {name!r}; choose one of {', '.join(SERIES)}")
    table = select_series(name, until)
    table["date"] = [day.isoformat() for day in table["date"]]
    return series_from_table(table, f"bundled:{name}", name)[0]


def combine(groups: Sequence[Sequence[ObservedSeries]]) -> list[ObservedSeries]:
    """All series of several ``--observed`` arguments; names must be distinct."""
    result: list[ObservedSeries] = []
    for group in groups:
        for series in group:
            if any(series.name == other.name for other in result):
                raise ObservationError(f"series {series.name!r} given twice; name series apart with a series column")
            result.append(series)
    return result


def as_series(observations) -> list[ObservedSeries]:
    """Observations given as a list of series, or as a table with a ``series`` column."""
    if isinstance(observations, pd.DataFrame):
        table = observations.copy()
        table["date"] = [str(pd.Timestamp(day).date()) for day in table["date"]]
        return series_from_table(table)
    return list(observations)


def observations_table(series: Sequence[ObservedSeries]) -> pd.DataFrame:
    """One row per observed figure: series, kind, node, count_from, date, value."""
    rows = [{"series": s.name, "kind": s.kind, "node": s.node,
             "count_from": s.count_from.isoformat() if s.count_from else "", "date": day.isoformat(),
             "value": float(value)} for s in series for day, value in zip(s.dates, s.values)]
    return pd.DataFrame(rows, columns=["series", "kind", "node", "count_from", "date", "value"])


# --------------------------------------------------------------------------------------------
# The error model


@dataclass
class SeriesError:
    """The error of one series: the prior of its scale sigma, on a quantile grid, and its bias sd."""

    prior: Prior
    bias_sd: float = 0.0
    sim_variance: float = 0.0  # the simulator's own noise, log units squared
    grid: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Midpoints of SIGMA_GRID_POINTS equal-probability cells: each carries prior mass 1/K.
        quantiles = (np.arange(SIGMA_GRID_POINTS) + 0.5) / SIGMA_GRID_POINTS
        self.grid = self.prior.ppf(quantiles)

    def log_likelihoods(self, observed: np.ndarray, model: np.ndarray) -> np.ndarray:
        """log p(observed | model, sigma) for every sigma of the grid (bias integrated out)."""
        residual = np.log1p(np.asarray(observed, float)) - np.log1p(np.maximum(np.asarray(model, float), 0.0))
        n = residual.size
        variance = np.repeat((self.grid ** 2 + self.sim_variance)[:, None], n, axis=1)  # grid × points
        inverse = 1.0 / variance
        a = (residual ** 2 * inverse).sum(axis=1)
        b = (residual * inverse).sum(axis=1)
        c = inverse.sum(axis=1)
        beta2 = self.bias_sd ** 2
        quadratic = a - beta2 * b ** 2 / (1.0 + beta2 * c)
        log_det = np.log(variance).sum(axis=1) + np.log1p(beta2 * c)
        return -0.5 * (n * math.log(2 * math.pi) + log_det + quadratic)

    def log_marginal(self, observed: np.ndarray, model: np.ndarray) -> float:
        """log p(observed | model) with sigma integrated over its prior."""
        from scipy.special import logsumexp

        return float(logsumexp(self.log_likelihoods(observed, model)) - math.log(SIGMA_GRID_POINTS))

    def draw_sigma(self, observed: np.ndarray, model: np.ndarray, rng: np.random.Generator) -> float:
        """One draw of sigma from its posterior given the model values (on the grid)."""
        log_weights = self.log_likelihoods(observed, model)
        weights = np.exp(log_weights - log_weights.max())
        return float(self.grid[rng.choice(self.grid.size, p=weights / weights.sum())])

    def simulate(self, model: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Figures a reporter of this series could publish for the model values ``model``: the
        error model run forwards (simulation-based calibration makes its data sets with it).

        Its scale sigma is drawn from its prior, a bias shared by all the figures from Normal(0,
        ``bias_sd``²) when ``bias_sd`` > 0, and each figure's own error from Normal(0, sigma²), all on
        log(1 + ·). Not rounded or clipped: exactly what the likelihood assumes (a figure may fall
        below 0 where the model value is 0, since log(1 + y) is only required to be finite).
        ``sim_variance`` plays no part: the simulator's noise is in ``model`` already."""
        sigma = float(self.prior.ppf(rng.uniform()))
        bias = self.bias_sd * rng.standard_normal() if self.bias_sd > 0 else 0.0
        noise = rng.normal(0.0, sigma, np.shape(model))
        return np.expm1(np.log1p(np.maximum(np.asarray(model, float), 0.0)) + bias + noise)


def error_models(series: Sequence[ObservedSeries], priors: Mapping[str, Prior] | None = None,
                 bias_sd: float = 0.0) -> dict[str, SeriesError]:
    """One :class:`SeriesError` per series: its sigma prior from ``priors`` (by series name) or the
    default half-normal(0.2)."""
    priors = dict(priors or {})
    unknown = set(priors) - {s.name for s in series}
    if unknown:
        raise ObservationError(f"error-scale prior for unknown series {', '.join(sorted(unknown))}")
    result = {}
    for s in series:
        prior = priors.get(s.name) or Prior.from_text(f"sigma.{s.name}", DEFAULT_SIGMA_PRIOR)
        if prior.range()[0] < 0:
            raise ObservationError(f"error scale of {s.name}: its prior {prior.describe()} allows negative values")
        result[s.name] = SeriesError(prior, bias_sd)
    return result


__all__ = ["ALL", "BUNDLED_PREFIX", "DEFAULT_SIGMA_PRIOR", "KINDS", "ObservationError", "ObservedSeries",
           "SeriesError", "as_series", "bundled_series", "combine", "error_models", "observations_table",
           "read_observations", "series_from_table"]
