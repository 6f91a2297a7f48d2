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

**Error.** How a reported figure relates to its model quantity — each reporter's error scale and,
on running totals, the correlation of its errors over dates, with the simulation's own randomness
as a covariance across figures — is the likelihood's business:
:mod:`sim.studies.inference.likelihood`.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.observed import people_text
from sim.scenario.observed_sources import BUNDLED_PREFIX

KINDS = ("cumulative", "daily", "period")
"""What one figure counts: a running total from the series' start (``cumulative``), one day
(``daily``), or the days from its ``start`` to its date (``period``: a week, month, quarter, year)."""
SERIES_KINDS = (*KINDS, "mixed")
ALL = "all"
LOWER = "lower"
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "1", "~"), ("false", "no", "0")


class ObservationError(ValueError):
    """Bad observed input: one line, naming the file and row where there is one."""


@dataclass(frozen=True)
class ObservedSeries:
    """One consistent observed series and the model quantity each of its figures measures.

    Series-wide: ``name``, ``node`` and ``count_from``; ``kind`` is the kind its figures share
    (``mixed`` if they differ). Per figure, aligned with ``dates`` (the last day each counts) and
    ``values``: ``kinds``, ``starts`` (the first day a ``period`` figure counts), ``windows`` (the
    first and last possible start of a running total whose start is uncertain, else None),
    ``lower_bound`` and ``approximate`` (bool arrays), ``origins`` (``file:line`` for messages).
    Left out, they follow from ``kind``: a series of one kind needs none of them.
    """

    name: str
    kind: str  # cumulative | daily | period | mixed
    node: str  # "all" or a crossing name
    count_from: dt.date | None  # cumulative: first day counted (None: the period start)
    dates: tuple[dt.date, ...]
    values: np.ndarray = field(repr=False)
    source: str = field(default="", compare=False, repr=False)  # the file it was read from, for messages
    kinds: tuple[str, ...] | None = field(default=None, repr=False)
    starts: tuple[dt.date | None, ...] | None = field(default=None, repr=False)
    windows: tuple[tuple[dt.date, dt.date] | None, ...] | None = field(default=None, repr=False)
    lower_bound: np.ndarray | None = field(default=None, repr=False)
    approximate: np.ndarray | None = field(default=None, repr=False)
    origins: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        count = len(self.dates)
        if self.kind not in SERIES_KINDS:
            raise ValueError(f"series {self.name}: kind {self.kind!r} is not one of {', '.join(SERIES_KINDS)}")
        if self.kinds is None:
            if self.kind not in ("cumulative", "daily"):
                raise ValueError(f"series {self.name}: kind {self.kind!r} needs the kind of every figure (kinds=)")
            object.__setattr__(self, "kinds", (self.kind,) * count)
        defaults = {"starts": tuple(day if kind == "daily" else None for day, kind in zip(self.dates, self.kinds)),
                    "windows": (None,) * count, "lower_bound": np.zeros(count, bool),
                    "approximate": np.zeros(count, bool), "origins": ("",) * count}
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        object.__setattr__(self, "lower_bound", np.asarray(self.lower_bound, bool))
        object.__setattr__(self, "approximate", np.asarray(self.approximate, bool))
        sizes = {len(getattr(self, name)) for name in ("values", "kinds", "starts", "windows", "lower_bound",
                                                       "approximate", "origins")}
        if sizes != {count}:
            raise ValueError(f"series {self.name}: per-figure fields must have one entry per date ({count})")

    @property
    def cumulative(self) -> np.ndarray:
        """Per figure: a running total (its reporter's errors are correlated from date to date)."""
        return np.array([kind == "cumulative" for kind in self.kinds], bool)

    def until(self, cutoff: dt.date | None) -> ObservedSeries | None:
        """The figures known by ``cutoff`` (inclusive): those whose last counted day (the date, the
        end of a period) is on or before it; None if nothing is left."""
        if cutoff is None:
            return self
        keep = [index for index, day in enumerate(self.dates) if day <= cutoff]
        if not keep:
            return None
        return self._take(keep)

    def within(self, after: dt.date, until: dt.date) -> ObservedSeries | None:
        """The figures whose date (last counted day) lies in ``(after, until]``: what a forecast
        made on ``after`` is scored on up to ``until``; None if there is none."""
        keep = [index for index, day in enumerate(self.dates) if after < day <= until]
        return self._take(keep) if keep else None

    def comparable(self, period_start: dt.date, period_end: dt.date) -> ObservedSeries | None:
        """The figures a run of ``period_start..period_end`` can be set beside: dated within it and
        counting from no day before its start (for an uncertain start, the window's first day);
        None if there is none."""
        def first(index: int) -> dt.date:
            window = self.windows[index]
            return window[0] if window else self.first_day(index, period_start)

        keep = [index for index, day in enumerate(self.dates)
                if period_start <= day <= period_end and first(index) >= period_start]
        return self._take(keep) if keep else None

    def exact(self) -> ObservedSeries | None:
        """The figures that are not lower bounds; None if every one is."""
        keep = np.flatnonzero(~self.lower_bound)
        return self._take(keep.tolist()) if keep.size else None

    def followed_by(self, later: ObservedSeries) -> ObservedSeries:
        """One series of this one's figures, then ``later``'s (the same reporter, node and start)."""
        return ObservedSeries(self.name, self.kind if self.kind == later.kind else "mixed", self.node,
                              self.count_from, self.dates + later.dates,
                              np.concatenate([self.values, later.values]), self.source, self.kinds + later.kinds,
                              self.starts + later.starts, self.windows + later.windows,
                              np.concatenate([self.lower_bound, later.lower_bound]),
                              np.concatenate([self.approximate, later.approximate]), self.origins + later.origins)

    def with_values(self, values: np.ndarray) -> ObservedSeries:
        """The same figures (dates, kinds, starts, marks) with other values: simulated data."""
        return replace(self, values=np.asarray(values, float))

    def _take(self, keep: Sequence[int]) -> ObservedSeries:
        def pick(items):
            return tuple(items[i] for i in keep)

        return ObservedSeries(self.name, self.kind, self.node, self.count_from, pick(self.dates), self.values[keep],
                              self.source, pick(self.kinds), pick(self.starts), pick(self.windows),
                              self.lower_bound[keep], self.approximate[keep], pick(self.origins))

    def describe(self) -> str:
        what = "crossed through all crossings" if self.node == ALL else f"crossed at {self.node}"
        if self.kind == "daily":
            return f"{self.name}: daily people {what}"
        if self.kind in ("period", "mixed"):
            return f"{self.name}: people {what} on a day or over a period"
        start = f" since {self.count_from.isoformat()}" if self.count_from else ""
        return f"{self.name}: cumulative people {what}{start}"

    @property
    def where(self) -> str:
        """``file: series NAME`` (or ``series NAME`` for a bundled one) for messages."""
        return f"{self.source}: series {self.name}" if self.source else f"series {self.name}"

    def _at(self, index: int) -> str:
        """Where figure ``index`` is: ``file:line`` if known, else the series."""
        return self.origins[index] or self.where

    def check_against(self, period_start: dt.date, period_end: dt.date, crossings: Sequence[str],
                      total_people: float | None = None) -> None:
        """Raise :class:`ObservationError` if the series cannot be compared with this scenario.

        ``total_people``: all the people of the scenario's groups together; a figure above it cannot
        be a count of this scenario's returns (a typo, or 1e300) and is refused with its line.
        """
        if self.node != ALL and self.node not in crossings:
            raise ObservationError(f"{self.where}: node {self.node!r} is neither 'all' nor a crossing "
                                   f"of the scenario ({', '.join(crossings)})")
        outside = [day for day in self.dates if not period_start <= day <= period_end]
        if outside:
            raise ObservationError(f"{self.where}: date {outside[0].isoformat()} lies outside the period "
                                   f"{period_start}..{period_end}")
        if self.count_from is not None and any(self.cumulative):
            if self.count_from < period_start:
                raise ObservationError(f"{self.where}: count_from {self.count_from} is before the period "
                                       f"start {period_start}")
            if self.dates[0] < self.count_from:
                raise ObservationError(f"{self.where}: date {self.dates[0]} is before its count_from "
                                       f"{self.count_from}")
        for index, (start, window) in enumerate(zip(self.starts, self.windows)):
            first = window[0] if window else start
            if first is not None and first < period_start:
                what = "count_from_earliest" if window else "start"
                raise ObservationError(f"{self._at(index)}: {what} {first} is before the period start {period_start}")
        if total_people is not None:
            above = np.flatnonzero(self.values > total_people)
            if above.size:
                index = int(above[0])
                raise ObservationError(f"{self._at(index)}: value {people_text(self.values[index])} people is more "
                                       f"than all the people of the scenario's groups together ({total_people:,.0f})")

    def model_values(self, daily_crossed: Mapping[str, np.ndarray], period_start: dt.date) -> np.ndarray:
        """The model quantity each figure measures (people), aligned with ``values``.

        ``daily_crossed`` maps ``all`` and each crossing to people crossed per day from the period
        start (index 0). A figure counts the people crossed from its first day to the end of its
        date: ``cumulative[end] - cumulative[first - 1]``. The first day is the date itself
        (``daily``), the period's ``start`` (``period``), ``count_from`` or the period start
        (``cumulative``), or the middle of its window where the start is uncertain (the nominal
        start; :meth:`extra_variance` gives the spread over the window).
        """
        before = self._crossed_before(daily_crossed)
        end = np.array([(day - period_start).days + 1 for day in self.dates], int)
        first = np.array([self._first_day_index(index, period_start) for index in range(len(self.dates))], int)
        return before[end] - before[first]

    def extra_variance(self, daily_crossed: Mapping[str, np.ndarray], period_start: dt.date) -> np.ndarray:
        """People², per figure: how far the model quantity moves as the uncertain start runs over its
        window — the mean squared difference, over every start day of the window (equally likely),
        from the value at the nominal start (:meth:`model_values`). Zero where the start is known.

        It depends on the window only, not on the figure's date: figures sharing a window share one
        unknown start, so their extra errors are one and the same offset (correlated fully between
        them, like a reporter bias in people), not independent ones.
        """
        before = self._crossed_before(daily_crossed)
        variance = np.zeros(len(self.dates))
        for index, window in enumerate(self.windows):
            if window is None:
                continue
            days = np.arange((window[0] - period_start).days, (window[1] - period_start).days + 1)
            nominal = before[self._first_day_index(index, period_start)]
            variance[index] = float(np.mean((before[days] - nominal) ** 2))
        return variance

    def _crossed_before(self, daily_crossed: Mapping[str, np.ndarray]) -> np.ndarray:
        """People crossed before each day: index k = before day k of the period (0 before day 0)."""
        daily = np.asarray(daily_crossed[self.node], float)
        return np.concatenate([[0.0], np.cumsum(daily)])

    def first_day(self, index: int, period_start: dt.date) -> dt.date:
        """The first day figure ``index`` counts: its date (``daily``), its period's ``start``
        (``period``), ``count_from`` or the period start (``cumulative``), or the middle of its
        window where the start is uncertain (the nominal start)."""
        window, start = self.windows[index], self.starts[index]
        if window is not None:
            return window[0] + (window[1] - window[0]) // 2
        if start is not None:
            return start
        return self.count_from or period_start

    def _first_day_index(self, index: int, period_start: dt.date) -> int:
        """The first day figure ``index`` counts, as a day index of the period (0: the period start)."""
        return max(0, (self.first_day(index, period_start) - period_start).days)


def scenario_people(scenario) -> int:
    """All the people of a scenario's groups together: no observed count of it can be larger."""
    return sum(group.people for group in scenario.groups.values())


def check_series(series: Sequence[ObservedSeries], scenario) -> None:
    """:meth:`ObservedSeries.check_against` for every series of *reported* figures, against this
    scenario and all its people (figures simulated through the error model may exceed them: check
    those without ``total_people``)."""
    for item in series:
        item.check_against(scenario.period.start, scenario.period.end, list(scenario.crossings),
                           scenario_people(scenario))


# --------------------------------------------------------------------------------------------
# Reading observations


def _date(value, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ObservationError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


SERIES_COLUMNS = (("node", ALL), ("count_from", None))
"""Columns holding one value per series (missing: the default)."""
FIGURE_COLUMNS = ("kind", "start", "end", "bound", "approximate", "count_from_earliest", "count_from_latest")
"""Columns read on every row (optional; empty cells take the default)."""


def series_from_table(table: pd.DataFrame, source: str = "<observed>", default_name: str = "observed",
                      origins: Sequence[str] | None = None) -> list[ObservedSeries]:
    """Series from a table of ``date,value`` (one per ``series``) and the optional columns

    * per series: ``series``, ``node`` (``all`` or a crossing), ``count_from`` (first day of the
      running totals);
    * per figure: ``kind`` (``cumulative``, ``daily``, ``period``; ``period`` where ``start`` is
      given), ``start``/``end`` (a period count: its first and last day; ``end`` may stand for
      ``date``), ``bound`` (``lower``: the figure says "more than"), ``approximate`` (true/false,
      "~"), ``count_from_earliest``/``count_from_latest`` (a running total whose first day lies in
      that window).

    ``origins`` (``file:line`` per row) name the rows in messages; default ``source:line``.
    """
    missing = {"date", "value"} - set(table.columns)
    if missing:
        raise ObservationError(f"{source}: needs columns date,value (optional series,kind,node,count_from,start,end,"
                               f"bound,approximate,count_from_earliest,count_from_latest); "
                               f"missing {', '.join(sorted(missing))}")
    table = table.reset_index(drop=True)
    lines = list(origins) if origins is not None else [f"{source}:{index + 2}" for index in range(len(table))]
    names = table["series"].fillna(default_name).astype(str) if "series" in table.columns \
        else pd.Series(default_name, index=table.index)
    return [_one_series(table[names == name], name, source, lines) for name in dict.fromkeys(names)]


def _one_series(rows: pd.DataFrame, name: str, source: str, lines: Sequence[str]) -> ObservedSeries:
    where = f"{source}: series {name}"
    settings = {}
    for column, default in SERIES_COLUMNS:
        values = rows[column].dropna().astype(str).str.strip().unique() if column in rows.columns else []
        values = [value for value in values if value]
        if len(values) > 1:
            raise ObservationError(f"{where}: column {column} must hold one value per series, got "
                                   f"{', '.join(sorted(values))}")
        settings[column] = values[0] if len(values) else default
    count_from = _date(settings["count_from"], f"{where}: count_from") if settings["count_from"] else None
    figures = [_figure(row, lines[index]) for index, row in rows.iterrows()]
    seen: dict[tuple, str] = {}
    for figure in figures:
        key = (figure["start"] if figure["kind"] == "period" else None, figure["kind"] == "daily", figure["date"])
        if key in seen:
            what = f"period {figure['start']}..{figure['date']}" if key[0] else f"date {figure['date']}"
            raise ObservationError(f"{figure['origin']}: {what} appears twice (first on {seen[key]}); "
                                   "one figure per date (or period) and series")
        seen[key] = figure["origin"]
    order = sorted(range(len(figures)), key=lambda index: figures[index]["date"])

    def column(key: str) -> tuple:
        return tuple(figures[index][key] for index in order)

    kinds = column("kind")
    kind = kinds[0] if len(set(kinds)) == 1 else "mixed"
    return ObservedSeries(name, kind, settings["node"], count_from, column("date"), np.array(column("value"), float),
                          "" if source.startswith("<") else source, kinds, column("start"), column("window"),
                          np.array(column("lower"), bool), np.array(column("approximate"), bool), column("origin"))


def _cell(row: pd.Series, column: str) -> str:
    """A cell as text ('' when the column is missing or the cell is empty)."""
    if column not in row.index or pd.isna(row[column]):
        return ""
    return str(row[column]).strip()


def _figure(row: pd.Series, line: str) -> dict:
    """One figure of a row: its date (last day counted), value, kind, start, window and marks."""
    date_text, end_text = _cell(row, "date"), _cell(row, "end")
    day = _date(date_text or end_text, f"{line}: date")
    if date_text and end_text and _date(end_text, f"{line}: end") != day:
        raise ObservationError(f"{line}: end {end_text!r} differs from date {date_text!r}: give one last day")
    value = _value(row["value"], line)
    start_text = _cell(row, "start")
    start = _date(start_text, f"{line}: start") if start_text else None
    kind = _cell(row, "kind") or ("period" if start else "cumulative")
    if kind not in KINDS:
        raise ObservationError(f"{line}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if kind == "period":
        if start is None:
            raise ObservationError(f"{line}: kind period needs a start (its first day)")
        if start > day:
            raise ObservationError(f"{line}: start {start} is after the period's last day {day}")
    elif start is not None and not (kind == "daily" and start == day):
        raise ObservationError(f"{line}: start {start} is given on a {kind} figure: write kind period")
    bound = _cell(row, "bound").lower()
    if bound not in ("", LOWER, "none"):
        raise ObservationError(f"{line}: bound {_cell(row, 'bound')!r} is not 'lower' (or empty): only lower bounds "
                               "('more than', 'at least') are modelled")
    return {"date": day, "value": value, "kind": kind, "start": day if kind == "daily" else start,
            "window": _window(row, line, kind, day), "lower": bound == LOWER,
            "approximate": _flag(row, "approximate", line), "origin": line}


def _value(text, line: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ObservationError(f"{line}: value {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ObservationError(f"{line}: value {text!r} must be a count >= 0")
    return value


def _flag(row: pd.Series, column: str, line: str) -> bool:
    text = _cell(row, column).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS or not text:
        return False
    raise ObservationError(f"{line}: {column} {_cell(row, column)!r} is not true or false")


def _window(row: pd.Series, line: str, kind: str, day: dt.date) -> tuple[dt.date, dt.date] | None:
    """The window of possible first days of a running total (``count_from_earliest/latest``), or None;
    it replaces the series' ``count_from`` for this figure."""
    earliest, latest = _cell(row, "count_from_earliest"), _cell(row, "count_from_latest")
    if not earliest and not latest:
        return None
    if not (earliest and latest):
        raise ObservationError(f"{line}: give both count_from_earliest and count_from_latest (or neither)")
    if kind != "cumulative":
        raise ObservationError(f"{line}: count_from_earliest/latest apply to cumulative figures, not {kind}")
    window = (_date(earliest, f"{line}: count_from_earliest"), _date(latest, f"{line}: count_from_latest"))
    if window[0] > window[1]:
        raise ObservationError(f"{line}: count_from_earliest {window[0]} is after count_from_latest {window[1]}")
    if window[1] > day:
        raise ObservationError(f"{line}: count_from_latest {window[1]} is after the figure's date {day}")
    return window


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
    """A bundled series as an :class:`ObservedSeries`: one of
    :data:`sim.outputs.observed.BUNDLED` (to 31 Mar 2025, every figure as it is, its messages naming
    the data file's line) or a phase-1 selection (``un``, ``pak_kp``, ``pak_federal_daily``)."""
    from sim.outputs.observed import BUNDLED, SERIES, bundled_table, select_series

    if name not in SERIES and name not in BUNDLED:
        raise ObservationError(f"unknown bundled series {name!r}; choose one of {', '.join([*BUNDLED, *SERIES])}")
    if name in BUNDLED:
        table = bundled_table(name, until, where=True)
        origins = list(table.pop("where"))
    else:
        table, origins = select_series(name, until), None
    if table.empty:
        raise ObservationError(f"bundled series {name!r} has no figure" + (f" up to {until}" if until else ""))
    table["date"] = [day.isoformat() for day in table["date"]]
    return series_from_table(table, f"bundled:{name}", name, origins)[0]


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
    """One row per observed figure, in the ``--observed`` format: series, kind, node, count_from,
    date, value, and start, end, bound, approximate, count_from_earliest, count_from_latest."""
    def text(day: dt.date | None) -> str:
        return day.isoformat() if day else ""

    rows = [{"series": s.name, "kind": kind, "node": s.node, "count_from": text(s.count_from), "date": day.isoformat(),
             "value": float(value), "start": text(start) if kind == "period" else "",
             "end": day.isoformat() if kind == "period" else "", "bound": LOWER if lower else "",
             "approximate": "true" if approximate else "", "count_from_earliest": text(window[0] if window else None),
             "count_from_latest": text(window[1] if window else None)}
            for s in series
            for day, value, kind, start, window, lower, approximate
            in zip(s.dates, s.values, s.kinds, s.starts, s.windows, s.lower_bound, s.approximate)]
    return pd.DataFrame(rows, columns=["series", "kind", "node", "count_from", "date", "value", *FIGURE_COLUMNS[1:]])



__all__ = ["ALL", "BUNDLED_PREFIX", "KINDS", "ObservationError", "ObservedSeries", "as_series", "bundled_series",
           "check_series", "combine", "observations_table", "read_observations", "scenario_people",
           "series_from_table"]
