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

Through 31 Mar 2025. ``observed_returns_2023-11-23_to_2025-03-31.csv`` carries the figures on to the
eve of the ACC phase. The figures are used *as they are*: ``observed_figures_use.csv`` says, for every
row of both files, which bundled series of :data:`BUNDLED` it belongs to and how to read it — a running
total, one day's count, or a count over a period (``start`` to the date); a lower bound ("more than");
approximate ("~"); a start known only to lie in a window (``count_from_earliest``/``count_from_latest``)
— or, for a row that is not a count of returns, why it is left out. :func:`listing` shows both
(``bordersim observed``); :func:`select_series` exports any series in the ``--observed`` format.
The three phase-1 selections of :data:`SERIES` (point figures to 22 Nov 2023) stay as they were, for
the bundled phase-1 fits.
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

# The bundled series' names and descriptions live below the scenario format (its observed: key names them).
from sim.scenario.observed_sources import BUNDLED, SERIES, BundledSeries, SeriesSelection  # noqa: F401

KINDS = ("cumulative", "daily")


def read_observed(path: str | Path, most_people: float | None = None) -> pd.DataFrame:
    """Read an observed series into ``date, value`` (cumulative people), sorted by date.

    ``most_people``: all the people of the scenario it is compared with; a figure above it is refused.

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
    if most_people is not None and (values > most_people).any():
        row = int((values > most_people).to_numpy().argmax())
        raise ValueError(f"row {row + 2}: value {people_text(values.iloc[row])} people is more than all the people of the "
                         f"scenario's groups together ({most_people:,.0f})")
    observed = pd.DataFrame({"date": dates.dt.date, "value": values}).sort_values("date", kind="stable")
    if kinds == {"daily"}:
        observed["value"] = observed["value"].cumsum()
    return observed.reset_index(drop=True)


def people_text(value: float) -> str:
    """A count of people as a message shows it: 1,234,567; an absurd one short (1e+300)."""
    return f"{value:,.0f}" if value < 1e12 else f"{value:.3g}"


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
DATA_FILES = (DATA_FILE, "observed_returns_2023-11-23_to_2025-03-31.csv")
"""Every bundled file of dated figures, in date order: together they run to 31 Mar 2025."""
USE_FILE = "observed_figures_use.csv"
"""How each bundled figure is read: its series and kind, or why it is not used."""


def _data_path(name: str):
    from importlib.resources import files

    return files("sim") / "data" / name


def bundled_figures(files: tuple[str, ...] = (DATA_FILE,)) -> pd.DataFrame:
    """The bundled figures of ``files`` (default: the phase-1 file, to 22 Nov 2023; :data:`DATA_FILES`:
    all of them): ``date, series, metric, value, unit, scope, crossing, source`` and where each row is,
    ``file`` and ``line`` (the header is line 1)."""
    tables = []
    for name in files:
        with _data_path(name).open("r", encoding="utf-8") as handle:
            table = pd.read_csv(handle)
        tables.append(table.assign(file=name, line=np.arange(len(table)) + 2))
    table = pd.concat(tables, ignore_index=True)
    table["date"] = pd.to_datetime(table["date"], format="%Y-%m-%d").dt.date
    return table


def select_series(name: str, until: date | None = None) -> pd.DataFrame:
    """One consistent series of the bundled figures in the ``--observed`` format.

    A series of :data:`BUNDLED`: see :func:`bundled_table`. A phase-1 selection of :data:`SERIES`:
    columns ``date, value, series, kind`` (kind ``cumulative``) plus ``node`` and ``count_from``,
    one row per date (where a source reports twice on a day, the later row of the file), up to
    ``until`` if given. Raises ``ValueError`` for an unknown name.
    """
    if name in BUNDLED:
        return bundled_table(name, until)
    if name not in SERIES:
        raise ValueError(f"unknown observed series {name!r}; choose one of {', '.join([*BUNDLED, *SERIES])}")
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


# --------------------------------------------------------------------------------------------
# The bundled series through 31 Mar 2025: every figure as it is, or the reason it is not used

EXPORT_COLUMNS = ["date", "value", "series", "kind", "node", "count_from", "start", "end", "bound", "approximate",
                  "count_from_earliest", "count_from_latest", "note", "source"]


def figure_uses() -> pd.DataFrame:
    """Every bundled figure beside how it is read: the columns of :func:`bundled_figures` (all files)
    and ``use_series`` (empty: not used), ``kind, start, bound, approximate, count_from_earliest,
    count_from_latest, value_used, reason``. Raises ``ValueError`` if the two files disagree."""
    figures = bundled_figures(DATA_FILES)
    with _data_path(USE_FILE).open("r", encoding="utf-8") as handle:
        uses = pd.read_csv(handle, dtype=str, keep_default_na=False)
    uses["line"] = uses["line"].astype(int)
    table = figures.merge(uses.rename(columns={"series": "use_series", "date": "use_date", "value": "use_value"}),
                          on=["file", "line"], how="outer", indicator=True, validate="one_to_one")
    unmatched = table[(table["_merge"] != "both")
                      | (table["use_date"] != table["date"].astype(str))
                      | (table["use_value"] != table["value"].astype(str))]
    if not unmatched.empty:
        row = unmatched.iloc[0]
        raise ValueError(f"{USE_FILE}: the row for {row['file']}:{row['line']} does not match the figure there")
    unknown = set(table["use_series"]) - set(BUNDLED) - {""}
    if unknown:
        raise ValueError(f"{USE_FILE}: unknown series {', '.join(sorted(unknown))}")
    return table.drop(columns=["_merge", "use_date", "use_value"])


def bundled_table(name: str, until: date | None = None, where: bool = False) -> pd.DataFrame:
    """A series of :data:`BUNDLED` in the ``--observed`` format (:data:`EXPORT_COLUMNS`), by date.

    ``start``/``end`` are set on period counts, ``count_from`` on running totals with a known start,
    ``count_from_earliest``/``count_from_latest`` where the start lies in a window. ``where`` adds
    a ``where`` column (``file:line`` of each figure) for messages.
    """
    selection = BUNDLED[name]
    table = figure_uses()
    rows = table[table["use_series"] == name]
    if until is not None:
        rows = rows[rows["date"] <= until]
    rows = rows.sort_values(["date", "file", "line"], kind="stable")
    period = rows["kind"] == "period"
    windowed = rows["count_from_earliest"] != ""
    values = rows["value_used"].where(rows["value_used"] != "", rows["value"].astype(str)).astype(float)
    result = pd.DataFrame({
        "date": rows["date"].to_numpy(), "value": values.to_numpy(), "series": name, "kind": rows["kind"].to_numpy(),
        "node": selection.node,
        "count_from": np.where((rows["kind"] == "cumulative") & ~windowed, selection.count_from, ""),
        "start": np.where(period, rows["start"], ""),
        "end": np.where(period, rows["date"].astype(str), ""),
        "bound": rows["bound"].to_numpy(), "approximate": rows["approximate"].to_numpy(),
        "count_from_earliest": rows["count_from_earliest"].to_numpy(),
        "count_from_latest": rows["count_from_latest"].to_numpy(),
        "note": rows["reason"].to_numpy(), "source": rows["source"].to_numpy(),
    }, columns=EXPORT_COLUMNS)
    if where:
        result["where"] = ("sim/data/" + rows["file"] + ":" + rows["line"].astype(str)).to_numpy()
    return result


def listing(until: date | None = None) -> list[str]:
    """``bordersim observed``: every bundled series (figures, dates, kinds) and every figure left
    out, with its reason, up to ``until`` (default: all, to 31 Mar 2025)."""
    table = figure_uses()
    if until is not None:
        table = table[table["date"] <= until]
    if table.empty:
        return [f"No bundled figure up to {until}: the first is dated {min(figure_uses()['date'])}."]
    lines = [f"Bundled observed series (sim/data/, figures to {max(table['date'])}); export one with --series NAME:"]
    for name, selection in BUNDLED.items():
        rows = table[table["use_series"] == name]
        if rows.empty:
            continue
        lines.append(f"  {name:<24} {len(rows):>3} figure{'s' if len(rows) > 1 else ' '} {min(rows['date'])}..{max(rows['date'])}  "
                     f"[{_kinds(rows)}]  at {selection.node}")
        lines.append(f"  {'':<24} {selection.description}")
    lines.append("Phase-1 selections (point figures to 2023-11-22, as fitted in phase 1): " + ", ".join(SERIES))
    excluded = table[table["use_series"] == ""].sort_values(["date", "file", "line"], kind="stable")
    lines.append(f"Not used ({len(excluded)} figures), with the reason:")
    for row in excluded.itertuples():
        lines.append(f"  {row.date} {row.series} {row.metric} {float(row.value):,.0f}: {row.reason} "
                     f"[{row.file}:{row.line}]")
    return lines


def _kinds(rows: pd.DataFrame) -> str:
    """What a series' figures are: '3 cumulative, 2 period; 1 lower bound, 2 approximate, 1 start window'."""
    counts = rows["kind"].value_counts()
    kinds = ", ".join(f"{int(counts[kind])} {kind}" for kind in ("cumulative", "daily", "period") if kind in counts)
    marks = [(int((rows["bound"] == "lower").sum()), "lower bound"), (int((rows["approximate"] == "true").sum()),
             "approximate"), (int((rows["count_from_earliest"] != "").sum()), "start window")]
    marked = ", ".join(f"{count} {what}{'s' if count > 1 and what != 'approximate' else ''}"
                       for count, what in marks if count)
    return kinds + (f"; {marked}" if marked else "")
