"""Observed series for backtests (``--observed``): a CSV of ``date,value`` and optional ``series,kind``.

``kind`` is ``cumulative`` (the default) or ``daily``; a daily series is accumulated so that it can
be set beside the projected ``crossed_people_cumulative``. A file holding several ``series`` must be
narrowed to one first: series count from different start dates and never mix.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

KINDS = ("cumulative", "daily")


def read_observed(path: str | Path) -> pd.DataFrame:
    """Read an observed series into ``date, value`` (cumulative people), sorted by date."""
    table = pd.read_csv(path)
    missing = {"date", "value"} - set(table.columns)
    if missing:
        raise ValueError(f"observed CSV needs columns date,value (optional series,kind); missing {sorted(missing)}")
    if "series" in table.columns and table["series"].nunique() > 1:
        raise ValueError(f"observed CSV mixes series {sorted(table['series'].unique())}: keep one")
    kinds = set(table["kind"].dropna().unique()) if "kind" in table.columns else {"cumulative"}
    if not kinds <= set(KINDS) or len(kinds) > 1:
        raise ValueError(f"observed CSV kind must be one of {', '.join(KINDS)} (one per file), got {sorted(kinds)}")
    dates = pd.to_datetime(table["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        row = int(dates.isna().to_numpy().argmax())
        raise ValueError(f"row {row + 2}: date {table['date'].iloc[row]!r} is not an ISO date (YYYY-MM-DD)")
    values = pd.to_numeric(table["value"], errors="coerce")
    if values.isna().any():
        row = int(values.isna().to_numpy().argmax())
        raise ValueError(f"row {row + 2}: value {table['value'].iloc[row]!r} is not a number")
    dates = dates.dt.date
    values = values.astype(float)
    observed = pd.DataFrame({"date": dates, "value": values}).sort_values("date", kind="stable")
    if kinds == {"daily"}:
        observed["value"] = observed["value"].cumsum()
    return observed.reset_index(drop=True)
