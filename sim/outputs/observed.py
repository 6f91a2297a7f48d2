"""Observed series for backtests (``--observed``): a CSV of ``date,value`` and optional ``series,kind``.

``kind`` is ``cumulative`` (the default) or ``daily``; a daily series is accumulated so that it can
be set beside the projected ``crossed_people_cumulative``. A file holding several ``series`` must be
narrowed to one first: series count from different start dates and never mix.

Bundled data. ``sim/data/`` ships the dated figures gathered up to 22 Nov 2023 (the day the
1-million target was announced), one row per reported figure with its source
(``observed_returns_until_2023-11-22.csv``), and the notes on them (``FACTS.md``).
:func:`bundled_figures` reads them all; :func:`select_series` picks one *consistent* series —
same reporter, same counting start, same scope, point values only (no lower bounds) — from
:data:`SERIES`, in the ``--observed`` format (``bordersim observed --series un --out obs.csv``).
Two extra columns say what the figures count: ``node`` (``all`` crossings, or one crossing) and
``count_from`` (the first day counted); :mod:`sim.studies.calibrate` compares like with like through them.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

KINDS = ("cumulative", "daily")


def read_observed(path: str | Path) -> pd.DataFrame:
    """Read an observed series into ``date, value`` (cumulative people), sorted by date.

    Raises :class:`ValueError` with one line saying what is wrong (and on which row) for anything
    that is not such a series: bytes that are not UTF-8, no rows, missing columns, dates that are
    not ISO or appear twice, values that are not finite non-negative numbers, mixed series or kinds.
    The file's cells are never echoed beyond the one at fault, and then shortened.
    """
    table = read_csv_table(Path(path))
    missing = {"date", "value"} - set(table.columns)
    if missing:
        raise ValueError(f"observed CSV needs columns date,value (optional series,kind); missing {sorted(missing)}")
    if table.empty:
        raise ValueError("no observations: the CSV has a header but no rows")
    if "series" in table.columns and table["series"].nunique() > 1:
        raise ValueError(f"observed CSV mixes series {sorted(map(_cell, table['series'].dropna().unique()))}: keep one")
    kinds = set(table["kind"].dropna().unique()) if "kind" in table.columns else {"cumulative"}
    kinds = kinds or {"cumulative"}
    if not kinds <= set(KINDS) or len(kinds) > 1:
        raise ValueError(f"observed CSV kind must be one of {', '.join(KINDS)} (one per file), "
                         f"got {sorted(map(_cell, kinds))}")
    dates = pd.to_datetime(table["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        row = int(dates.isna().to_numpy().argmax())
        raise ValueError(f"row {row + 2}: date {_cell(table['date'].iloc[row])} is not an ISO date (YYYY-MM-DD)")
    repeated = dates.duplicated()
    if repeated.any():
        row = int(repeated.to_numpy().argmax())
        first = int((dates == dates.iloc[row]).to_numpy().argmax())
        raise ValueError(f"row {row + 2}: date {dates.iloc[row].date()} appears twice (first on row {first + 2}); "
                         "one figure per date")
    values = pd.to_numeric(table["value"], errors="coerce")
    if values.isna().any():
        row = int(values.isna().to_numpy().argmax())
        raise ValueError(f"row {row + 2}: value {_cell(table['value'].iloc[row])} is not a number")
    values = values.astype(float)
    for bad, what in ((~np.isfinite(values), "must be a finite number"), (values < 0, "is negative: people count from 0")):
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise ValueError(f"row {row + 2}: value {_cell(table['value'].iloc[row])} {what}")
    observed = pd.DataFrame({"date": dates.dt.date, "value": values}).sort_values("date", kind="stable")
    if kinds == {"daily"}:
        observed["value"] = observed["value"].cumsum()
    return observed.reset_index(drop=True)


MAX_OBSERVED_BYTES = 10 * 2**20
"""An observed series is a few hundred dated figures; a bigger file is not one."""


def read_csv_table(path: Path) -> pd.DataFrame:
    """The CSV as a table of text cells, or a one-line :class:`ValueError` for what is not a CSV table."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_OBSERVED_BYTES + 1)
    if len(data) > MAX_OBSERVED_BYTES:
        raise ValueError(f"larger than {MAX_OBSERVED_BYTES // 2**20} MiB: not an observed series")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte {error.start}); save the CSV as UTF-8") from None
    if not text.strip():
        raise ValueError("no observations: the file is empty (expected a header date,value and one row per date)")
    if "\x00" in text:
        raise ValueError("not a text file (a NUL byte); expected a CSV of date,value")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"not a CSV table: {detail[:120]}") from None


def _cell(value) -> str:
    """A cell as shown in a message: quoted, and shortened (a cell may be anything)."""
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


# --------------------------------------------------------------------------------------------
# The bundled observed figures

DATA_FILE = "observed_returns_until_2023-11-22.csv"


@dataclass(frozen=True)
class SeriesSelection:
    """How to pick one consistent series out of the bundled figures."""

    description: str
    series: str  # the reporter, the file's ``series`` column
    metric: str  # e.g. cumulative_returns
    scope_pattern: str  # regular expression the ``scope`` text must match (the counting convention)
    crossing: str | None  # the file's ``crossing`` column must equal this (None: any)
    node: str  # what the model compares with: "all" crossings or a crossing's name
    count_from: str  # ISO date of the first day the figures count ("" for daily tallies)
    kind: str = "cumulative"  # or "daily": each figure is one day's count


SERIES: dict[str, SeriesSelection] = {
    "un": SeriesSelection(
        "UN agencies/IOM: people returned through all crossings since 15 Sep 2023 (point figures)",
        "un", "cumulative_returns", r"since 15 Sep|past two months", None, "all", "2023-09-15"),
    "pak_kp": SeriesSelection(
        "Khyber Pakhtunkhwa/Torkham officials (Dawn): people returned via Torkham since 17 Sep 2023",
        "pak_kp", "cumulative_returns", r"since 17 Sep", "Torkham", "torkham", "2023-09-17"),
    "pak_federal_daily": SeriesSelection(
        "Pakistan federal tally: people who left on one day through Torkham and Chaman (daily figures)",
        "pak_federal", "daily_returns", r"federal tally|repatriated on", None, "all", "", "daily"),
}
"""The consistent series of the bundled data. ``un`` counts like the 1-million target (all
returns from 15 Sep 2023): 160,000 on 3 Nov, 261,240 on 13 Nov, ~375,000 on 18 Nov; the UN's lower
bounds ("327,000+") and its count since 3 Oct are left out. ``pak_kp`` is the densest dated series:
Torkham only, daily from 31 Oct to 5 Nov 2023. ``pak_federal_daily`` is one day's departures
through both crossings (3,043 on 12 Nov, 2,668 on 22 Nov): the only figures on the rate after
mid-November (kind ``daily``; :mod:`sim.studies.observation` compares it with one day's crossings)."""


def _data_path(name: str):
    from importlib.resources import files

    return files("sim") / "data" / name


def bundled_figures() -> pd.DataFrame:
    """Every bundled figure: ``date, series, metric, value, unit, scope, crossing, source``."""
    with _data_path(DATA_FILE).open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle)
    table["date"] = pd.to_datetime(table["date"], format="%Y-%m-%d").dt.date
    return table


def select_series(name: str, until: date | None = None) -> pd.DataFrame:
    """One consistent series of the bundled figures in the ``--observed`` format.

    Columns ``date, value, series, kind`` (kind ``cumulative``) plus ``node`` and ``count_from``,
    one row per date (where a source reports twice on a day, the later row of the file), up to
    ``until`` if given. Raises ``ValueError`` for an unknown name.
    """
    if name not in SERIES:
        raise ValueError(f"unknown observed series {name!r}; choose one of {', '.join(SERIES)}")
    selection = SERIES[name]
    table = bundled_figures()
    chosen = (
        (table["series"] == selection.series)
        & (table["metric"] == selection.metric)
        & table["scope"].str.contains(selection.scope_pattern, regex=True)
        & ~table["unit"].str.contains("lower bound")
    )
    if selection.crossing is not None:
        chosen &= table["crossing"] == selection.crossing
    if until is not None:
        chosen &= table["date"] <= until
    rows = table[chosen].drop_duplicates("date", keep="last").sort_values("date")
    return pd.DataFrame({
        "date": rows["date"].to_numpy(), "value": rows["value"].astype(float).to_numpy(),
        "series": name, "kind": selection.kind, "node": selection.node, "count_from": selection.count_from,
    })
