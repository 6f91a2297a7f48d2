"""Figures of a run, each a function of the tidy result tables (DataFrames read from a results folder).

Every function takes the tables it needs (``daily``, ``projection``, ``bound``, ``observed_fit``,
``compare``, ``sweep``, ``sensitivity``) plus plain values (target, capacities) and returns a
:class:`matplotlib.figure.Figure`, or ``None`` when the tables hold nothing to draw. Nothing here
touches pyplot's global state: figures are made with :class:`~matplotlib.figure.Figure` and an
explicit Agg canvas, so this module is safe in worker processes and on machines without a display.
matplotlib is imported lazily, inside the functions: importing :mod:`sim` (and ``bordersim
validate``) never pays for it.

Style: dates on the x axes, units in the axis labels, and every series told apart by line style,
marker or hatching as well as by colour, so a greyscale print stays readable. Bands are p05–p95
across replications, lines are medians.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Colour-blind-safe palette (Okabe–Ito), always paired with a line style and a marker.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
HATCHES = ("///", "\\\\\\", "...", "xxx", "---", "+++")
BAND_ALPHA = 0.25
DPI = 110


def _style(index: int) -> dict[str, Any]:
    return {"color": COLOURS[index % len(COLOURS)], "linestyle": LINESTYLES[index % len(LINESTYLES)]}


def _new_figure(width: float, height: float):
    """A Figure bound to an Agg canvas, without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _date_axis(axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.grid(True, color="#dddddd", linewidth=0.6)


def _people_axis(axes, label: str = "people") -> None:
    from matplotlib.ticker import FuncFormatter

    axes.set_ylabel(label)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: _short_number(value)))


def _short_number(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.2f}".rstrip("0").rstrip(".") + "M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.0f}k"
    if magnitude >= 1e3:
        return f"{value / 1e3:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{value:g}"


def _as_timestamps(values) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(values).astype(str)))


# --------------------------------------------------------------------------------------------
# Bands from the tidy tables


def daily_bands(daily: pd.DataFrame, node: str, metric: str, node_type: str | None = None) -> pd.DataFrame | None:
    """p05/p50/p95 across replications of one daily series: ``date, p05, p50, p95`` (None if absent)."""
    rows = daily[(daily["node"] == node) & (daily["metric"] == metric)]
    if node_type is not None:
        rows = rows[rows["node_type"] == node_type]
    if rows.empty:
        return None
    wide = rows.pivot_table(index="date", columns="replication", values="value", aggfunc="first")
    values = wide.to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        quantiles = np.nanquantile(values, [0.05, 0.5, 0.95], axis=1) if values.size else np.empty((3, 0))
    return pd.DataFrame({"date": _as_timestamps(wide.index), "p05": quantiles[0], "p50": quantiles[1],
                         "p95": quantiles[2]})


def projection_bands(projection: pd.DataFrame, node: str, metric: str) -> pd.DataFrame | None:
    rows = projection[(projection["node"] == node) & (projection["metric"] == metric)]
    if rows.empty:
        return None
    result = pd.DataFrame({"date": _as_timestamps(rows["date"]), "p05": rows["p05"].to_numpy(float),
                           "p50": rows["p50"].to_numpy(float), "p95": rows["p95"].to_numpy(float)})
    if "observed" in rows.columns:
        result["observed"] = pd.to_numeric(rows["observed"], errors="coerce").to_numpy(float)
    return result.sort_values("date").drop_duplicates("date").reset_index(drop=True)


def _bands(daily: pd.DataFrame | None, projection: pd.DataFrame | None, node: str, metric: str,
           node_type: str | None = None) -> pd.DataFrame | None:
    if daily is not None:
        bands = daily_bands(daily, node, metric, node_type)
        if bands is not None:
            return bands
    if projection is not None:
        return projection_bands(projection, node, metric)
    return None


def nodes_of(table: pd.DataFrame | None, node_type: str, metric: str | None = None) -> list[str]:
    """Nodes of a type (in order of first appearance), optionally only those having ``metric``."""
    if table is None or table.empty:
        return []
    rows = table[table["node_type"] == node_type]
    if metric is not None:
        rows = rows[rows["metric"] == metric]
    return list(dict.fromkeys(rows["node"].astype(str)))


def _draw_band(axes, bands: pd.DataFrame, index: int, label: str, hatch: bool = False) -> None:
    style = _style(index)
    axes.fill_between(bands["date"], bands["p05"], bands["p95"], color=style["color"], alpha=BAND_ALPHA,
                      linewidth=0, hatch=HATCHES[index % len(HATCHES)] if hatch else None,
                      label=f"{label}: p05–p95")
    axes.plot(bands["date"], bands["p50"], label=f"{label}: median", linewidth=1.8, **style)


# --------------------------------------------------------------------------------------------
# Observed and bound tables


def observed_points(projection: pd.DataFrame | None) -> pd.DataFrame | None:
    """Observed cumulative people crossed (projection rows with an ``observed`` value)."""
    if projection is None or "observed" not in projection.columns:
        return None
    rows = projection[(projection["node"] == "all") & (projection["metric"] == "crossed_people_cumulative")]
    values = pd.to_numeric(rows["observed"], errors="coerce")
    rows = rows[values.notna()]
    if rows.empty:
        return None
    return (pd.DataFrame({"date": _as_timestamps(rows["date"]), "value": values[values.notna()].to_numpy(float)})
            .drop_duplicates("date").sort_values("date").reset_index(drop=True))


OBSERVED_MARKERS = {"point": "D", "shifted": "s", "lower": "^"}
"""How an observed figure is drawn: a running total counted from the period start (diamond), one
counted from a later day and raised by the model's median before that day (square), a lower bound
("more than", upward triangle)."""


def observed_fit_rows(observed_fit: pd.DataFrame | None, node: str, kinds: Sequence[str]) -> pd.DataFrame | None:
    """The figures of ``observed_fit.csv`` (:mod:`sim.studies.observed_fit`) at ``node`` of ``kinds``,
    with ``first_day``/``date`` as timestamps and ``lower`` (a lower bound); None if there are none."""
    if observed_fit is None or observed_fit.empty or not {"node", "kind", "observed"} <= set(observed_fit.columns):
        return None
    rows = observed_fit[(observed_fit["node"].astype(str) == node) & observed_fit["kind"].isin(kinds)]
    if rows.empty:
        return None
    bound = rows["bound"].fillna("").astype(str) if "bound" in rows.columns else pd.Series("", index=rows.index)
    before = rows["model_before_p50"] if "model_before_p50" in rows.columns else pd.Series(0.0, index=rows.index)
    return pd.DataFrame({"first_day": _as_timestamps(rows["first_day"]).to_numpy(),
                         "date": _as_timestamps(rows["date"]).to_numpy(),
                         "observed": pd.to_numeric(rows["observed"], errors="coerce").to_numpy(float),
                         "before": pd.to_numeric(before, errors="coerce").fillna(0.0).to_numpy(float),
                         "lower": (bound == "lower").to_numpy()})


def observed_running_totals(observed_fit: pd.DataFrame | None, node: str,
                            period_start: pd.Timestamp) -> pd.DataFrame | None:
    """Running totals at ``node`` on the axis of people crossed since ``period_start``: ``date,
    value, style`` where a total counted from a later day is raised by the model's median crossed
    before that day (``model_before_p50``) and ``style`` is a key of :data:`OBSERVED_MARKERS`."""
    rows = observed_fit_rows(observed_fit, node, ("cumulative",))
    if rows is None:
        return None
    shifted = rows["first_day"] > period_start
    style = np.where(rows["lower"], "lower", np.where(shifted, "shifted", "point"))
    return pd.DataFrame({"date": rows["date"], "value": rows["observed"] + np.where(shifted, rows["before"], 0.0),
                         "style": style})


OBSERVED_LABELS = {"point": "observed running total", "shifted": "observed, from a later day (+ model median before)",
                   "lower": "observed lower bound (more than)"}


def _draw_observed_totals(axes, points: pd.DataFrame | None) -> None:
    """Observed running totals as black-edged markers, one legend entry per kind of figure."""
    if points is None:
        return
    for style, marker in OBSERVED_MARKERS.items():
        chosen = points[points["style"] == style]
        if not chosen.empty:
            axes.plot(chosen["date"], chosen["value"], linestyle="none", marker=marker, markersize=6,
                      markerfacecolor="white" if style != "shifted" else "#bbbbbb", markeredgecolor="black",
                      label=OBSERVED_LABELS[style])


def _draw_observed_counts(axes, observed_fit: pd.DataFrame | None, node: str) -> float | None:
    """Day and period counts at ``node`` as people per day: a horizontal segment over the days each
    counts, marked at its middle (a lower bound with a triangle); returns the largest value drawn
    (None: nothing drawn)."""
    rows = observed_fit_rows(observed_fit, node, ("daily", "period"))
    if rows is None:
        return None
    end = rows["date"] + pd.Timedelta(days=1)
    per_day = rows["observed"] / ((end - rows["first_day"]).dt.days.clip(lower=1))
    axes.hlines(per_day, rows["first_day"], end, colors="black", linewidth=2.0)
    middle = rows["first_day"] + (end - rows["first_day"]) / 2
    for lower, marker, label in ((False, "D", "observed count per day over its days"),
                                 (True, "^", "observed lower bound per day (more than)")):
        chosen = rows["lower"].to_numpy() == lower
        if chosen.any():
            axes.plot(middle[chosen], per_day[chosen], linestyle="none", marker=marker, markersize=5,
                      markerfacecolor="white", markeredgecolor="black", label=label)
    return float(np.nanmax(per_day))


BOUND_VALUE_COLUMNS = ("ceiling_people_cumulative", "ceiling_people", "ceiling", "bound_people", "bound",
                       "capacity_people_cumulative", "capacity_people", "max_people_cumulative", "max_people",
                       "people_cumulative", "people")


def bound_daily(bound: pd.DataFrame | None, node: str) -> pd.DataFrame | None:
    """The daily capacity ceiling of one node (``date, ceiling``) from ``bound.csv`` (``sim.analytic.bound``:
    ``date, node, ..., ceiling_people, ceiling_people_cumulative``), or None."""
    if bound is None or not {"date", "node", "ceiling_people"} <= set(bound.columns):
        return None
    rows = bound[bound["node"].astype(str) == node]
    if rows.empty:
        return None
    return pd.DataFrame({"date": _as_timestamps(rows["date"]),
                         "ceiling": pd.to_numeric(rows["ceiling_people"], errors="coerce").to_numpy(float)})


def bound_series(bound: pd.DataFrame | None) -> pd.DataFrame | None:
    """The capacity ceiling by date (``date, ceiling``) from ``bound.csv``, whatever its exact layout.

    Accepts a wide table (``date`` and a ceiling column such as ``ceiling_people``) or a tidy one
    (``node``/``metric``/``value``): the ``all`` (or total) rows are taken, else crossings summed.
    """
    if bound is None or bound.empty or "date" not in bound.columns:
        return None
    table = bound
    if "node" in table.columns:
        totals = table[table["node"].astype(str).isin(["all", "total", "all crossings"])]
        if not totals.empty:
            table = totals
    if "metric" in table.columns and "value" in table.columns:
        metrics = list(dict.fromkeys(table["metric"].astype(str)))
        chosen = next((m for m in metrics if "cumulative" in m or "ceiling" in m), metrics[0])
        table = table[table["metric"] == chosen]
        column = "value"
    else:
        column = next((c for c in BOUND_VALUE_COLUMNS if c in table.columns), None)
        if column is None:
            numeric = [c for c in table.columns if c != "date" and pd.api.types.is_numeric_dtype(table[c])]
            ceiling_like = [c for c in numeric if re.search(r"ceil|bound|cumul", c)]
            column = (ceiling_like or numeric or [None])[0]
        if column is None:
            return None
    series = (pd.DataFrame({"date": _as_timestamps(table["date"]),
                            "ceiling": pd.to_numeric(table[column], errors="coerce").to_numpy(float)})
              .groupby("date", as_index=False)["ceiling"].sum())
    return series.dropna()


# --------------------------------------------------------------------------------------------
# Run figures


def fan_chart(
    daily: pd.DataFrame | None,
    projection: pd.DataFrame | None = None,
    *,
    target_people: float | None = None,
    target_by: date | str | None = None,
    bound: pd.DataFrame | None = None,
    observed_fit: pd.DataFrame | None = None,
):
    """Cumulative people crossed: median and p05–p95 band, the target, observed points, the ceiling.

    Observed points come from ``observed_fit`` (every running total of all crossings) when given,
    else from the ``observed`` column of ``projection``."""
    bands = _bands(daily, projection, "all", "crossed_people_cumulative")
    if bands is None or bands.empty:
        return None
    figure = _new_figure(9.5, 4.6)
    axes = figure.add_subplot()
    axes.fill_between(bands["date"], bands["p05"], bands["p95"], color=COLOURS[0], alpha=BAND_ALPHA,
                      linewidth=0, label="simulated, p05–p95 of replications")
    axes.plot(bands["date"], bands["p50"], color=COLOURS[0], linewidth=2.2, label="simulated, median")
    departed = _bands(daily, projection, "all", "departed_people_cumulative")
    if departed is not None:
        axes.plot(departed["date"], departed["p50"], color="#555555", linewidth=1.2, linestyle=":",
                  label="departed (median)")
    ceiling = bound_series(bound)
    if ceiling is not None and not ceiling.empty:
        axes.plot(ceiling["date"], ceiling["ceiling"], color=COLOURS[1], linestyle="-.", linewidth=1.6,
                  label="capacity ceiling (bound.csv)")
    observed = observed_running_totals(observed_fit, "all", bands["date"].min())
    if observed is None:
        observed = observed_points(projection)
        if observed is not None:
            observed["style"] = "point"
    _draw_observed_totals(axes, observed)
    if target_people is not None:
        axes.axhline(float(target_people), color="black", linestyle="--", linewidth=1.2,
                     label=f"target {target_people:,.0f}")
    if target_by is not None:
        by = pd.Timestamp(str(target_by))
        axes.axvline(by, color="black", linestyle=(0, (1, 2)), linewidth=1.2, label=f"target date {by:%Y-%m-%d}")
        at = bands[bands["date"] <= by]
        if not at.empty:
            last = at.iloc[-1]
            text = f"median {last['p50']:,.0f}"
            if target_people:
                text += f"\n= {last['p50'] / float(target_people):.0%} of target"
            axes.annotate(text, (last["date"], last["p50"]), xytext=(-12, -4), textcoords="offset points",
                          ha="right", va="top", fontsize=9,
                          bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#888888"})
            axes.plot([last["date"]], [last["p50"]], marker="o", color=COLOURS[0], markersize=6)
    top = max(float(np.nanmax(bands["p95"])), float(target_people or 0),
              float(observed["value"].max()) if observed is not None else 0.0)
    axes.set_ylim(0, top * 1.08 if top > 0 else 1)
    axes.set_title("People crossed (cumulative, all crossings)")
    _date_axis(axes)
    _people_axis(axes, "people crossed (cumulative)")
    axes.legend(loc="upper left", fontsize=8, frameon=True)
    return figure


def reached_chart(reached_by_month: pd.DataFrame | None, *, target_people: float | None = None,
                  target_by: date | str | None = None):
    """When the target is reached: the share of replications reaching it in each month (bars) and
    by each month end (line), and the share that never reached it within the period."""
    if reached_by_month is None or reached_by_month.empty or "share_reached" not in reached_by_month.columns:
        return None
    table = reached_by_month.sort_values("month_end")
    month_end = _as_timestamps(table["month_end"])
    share = table["share_reached"].astype(float).to_numpy()
    if not np.any(share > 0):
        return None
    in_month = np.diff(np.concatenate([[0.0], share]))
    never = 1.0 - share[-1]
    figure = _new_figure(9.5, 4.2)
    axes = figure.add_subplot()
    width_days = 20
    axes.bar(month_end - pd.Timedelta(days=width_days / 2 + 2), in_month * 100, width=width_days,
             color=COLOURS[0], alpha=0.55, hatch=HATCHES[0], edgecolor=COLOURS[0],
             label="reached in that month")
    axes.step(month_end, share * 100, where="post", color="black", linewidth=2,
              label="reached by the month end (cumulative)")
    axes.plot(month_end, share * 100, linestyle="none", marker="o", markersize=3, color="black")
    axes.axhline(50, color="#888888", linestyle=":", linewidth=1)
    if target_by is not None:
        by = pd.Timestamp(str(target_by))
        axes.axvline(by, color="black", linestyle=(0, (1, 2)), linewidth=1.2, label=f"target date {by:%Y-%m-%d}")
    axes.set_ylim(0, 105)
    axes.set_ylabel("% of replications")
    what = f"the target of {target_people:,.0f}" if target_people else "the target"
    title = f"When is {what} reached? (share of replications)"
    if never > 0:
        title += f"; not within the period: {never:.0%}"
    axes.set_title(title)
    _date_axis(axes)
    axes.legend(loc="upper left", fontsize=8, frameon=True)
    return figure


def _panel_grid(figure, count: int, columns: int = 2):
    rows = math.ceil(count / columns)
    return [figure.add_subplot(rows, columns, index + 1) for index in range(count)]


def daily_crossings(daily: pd.DataFrame | None, projection: pd.DataFrame | None = None,
                    bound: pd.DataFrame | None = None, observed_fit: pd.DataFrame | None = None):
    """People crossed per day at each crossing (median, p05–p95), plus all crossings together.

    With ``observed_fit``, each panel shows the observed day and period counts at its node as
    people per day over the days they count. With an ``observed`` column in ``projection`` (one
    ``--observed`` CSV) and no counts of all crossings, the all-crossings panel shows the observed
    average per day between consecutive observed cumulative figures.
    """
    if daily is None:
        return None
    crossings = nodes_of(daily, "crossing", "crossed_people")
    if not crossings:
        return None
    panels = ["all crossings", *crossings]
    figure = _new_figure(9.5, 2.9 * math.ceil(len(panels) / 2) + 0.4)
    axes_list = _panel_grid(figure, len(panels))
    rows = daily[(daily["node_type"] == "crossing") & (daily["metric"] == "crossed_people")]
    total = rows.groupby(["replication", "date"], as_index=False)["value"].sum()
    total["node"], total["metric"] = "all crossings", "crossed_people"
    observed = observed_points(projection)
    for index, (axes, name) in enumerate(zip(axes_list, panels)):
        source = total if name == "all crossings" else daily
        bands = daily_bands(source, name, "crossed_people")
        _draw_band(axes, bands, index, "simulated", hatch=False)
        ceiling = bound_daily(bound, "all" if name == "all crossings" else name)
        if ceiling is not None:
            axes.step(ceiling["date"], ceiling["ceiling"], where="post", color="black", linestyle="-.",
                      linewidth=1.0, label="capacity ceiling")
            axes.set_ylim(0, max(float(np.nanmax(bands["p95"])) * 1.6, 1.0))
        counted = _draw_observed_counts(axes, observed_fit, "all" if name == "all crossings" else name)
        if counted is not None and counted > axes.get_ylim()[1]:
            axes.set_ylim(0, counted * 1.08)
        if name == "all crossings" and counted is None and observed is not None and len(observed) > 1:
            days = observed["date"].diff().dt.days.to_numpy()[1:]
            rate = np.diff(observed["value"].to_numpy()) / np.where(days > 0, days, np.nan)
            middle = observed["date"].iloc[:-1] + (observed["date"].diff().iloc[1:].to_numpy() / 2)
            axes.plot(middle, rate, linestyle="none", marker="D", markerfacecolor="white",
                      markeredgecolor="black", markersize=5, label="observed, average per day")
        axes.set_title(name)
        _date_axis(axes)
        _people_axis(axes, "people crossed per day")
        axes.legend(fontsize=7, loc="upper right")
    figure.suptitle("Daily crossings")
    return figure


def crossing_running_totals(daily: pd.DataFrame | None, observed_fit: pd.DataFrame | None):
    """People crossed at each crossing that observed running totals count (cumulative: median and
    p05–p95 over replications) with those figures; None if no figure counts one crossing."""
    if daily is None or observed_fit is None:
        return None
    crossings = [name for name in nodes_of(daily, "crossing", "crossed_people")
                 if observed_fit_rows(observed_fit, name, ("cumulative",)) is not None]
    if not crossings:
        return None
    figure = _new_figure(9.5, 3.2 * math.ceil(len(crossings) / 2) + 0.4)
    for index, (axes, name) in enumerate(zip(_panel_grid(figure, len(crossings), min(2, len(crossings))),
                                             crossings)):
        rows = daily[(daily["node"] == name) & (daily["node_type"] == "crossing")
                     & (daily["metric"] == "crossed_people")].sort_values(["replication", "date"])
        rows = rows.assign(value=rows.groupby("replication")["value"].cumsum(), metric="crossed_people_cumulative")
        bands = daily_bands(rows, name, "crossed_people_cumulative")
        _draw_band(axes, bands, index + 1, "simulated")
        _draw_observed_totals(axes, observed_running_totals(observed_fit, name, bands["date"].min()))
        axes.set_title(f"{name}: people crossed (cumulative)")
        _date_axis(axes)
        _people_axis(axes, "people crossed (cumulative)")
        axes.legend(fontsize=7, loc="upper left")
    figure.suptitle("Observed running totals at one crossing")
    return figure


def queues_and_waits(daily: pd.DataFrame | None):
    """Per crossing: people queued (end of day and daily peak) and the p95 wait (hours)."""
    if daily is None:
        return None
    crossings = nodes_of(daily, "crossing", "queue_people")
    if not crossings:
        return None
    figure = _new_figure(9.5, 2.7 * len(crossings) + 0.4)
    for row, name in enumerate(crossings):
        queue_axes = figure.add_subplot(len(crossings), 2, 2 * row + 1)
        peak = daily_bands(daily, name, "queue_people_peak", "crossing")
        if peak is not None:
            _draw_band(queue_axes, peak, 1, "daily peak", hatch=True)
        end = daily_bands(daily, name, "queue_people", "crossing")
        _draw_band(queue_axes, end, 0, "end of day")
        queue_axes.set_title(f"{name}: people queued")
        _date_axis(queue_axes)
        _people_axis(queue_axes, "people in queue")
        queue_axes.legend(fontsize=7, loc="upper right")
        wait_axes = figure.add_subplot(len(crossings), 2, 2 * row + 2)
        wait = daily_bands(daily, name, "wait_hours_p95", "crossing")
        if wait is not None:
            _draw_band(wait_axes, wait, 2, "p95 wait")
        wait_axes.set_title(f"{name}: wait (95th percentile per person)")
        _date_axis(wait_axes)
        wait_axes.set_ylabel("hours")
        wait_axes.legend(fontsize=7, loc="upper right")
    figure.suptitle("Queues and waits at the crossings")
    return figure


def occupancy(
    daily: pd.DataFrame | None,
    capacities: Mapping[str, float] | None = None,
    node_type: str = "camp",
):
    """Occupancy (end of day) of each camp or reception centre against its capacity.

    For camps a last panel shows the people waiting outside all camps together.
    """
    if daily is None:
        return None
    nodes = nodes_of(daily, node_type, "occupancy_people")
    if not nodes:
        return None
    capacities = capacities or {}
    panels = list(nodes)
    waiting = None
    if node_type == "camp":
        rows = daily[(daily["node_type"] == "camp") & (daily["metric"] == "waiting_outside_people")]
        if not rows.empty:
            waiting = rows.groupby(["replication", "date"], as_index=False)["value"].sum()
            waiting["node"], waiting["metric"] = "outside", "waiting_outside_people"
            panels.append("waiting outside (all camps)")
    columns = 2 if len(panels) > 1 else 1
    figure = _new_figure(9.5, 2.5 * math.ceil(len(panels) / columns) + 0.5)
    axes_list = _panel_grid(figure, len(panels), columns)
    for index, (axes, name) in enumerate(zip(axes_list, panels)):
        if name == "waiting outside (all camps)":
            bands = daily_bands(waiting, "outside", "waiting_outside_people")
            _draw_band(axes, bands, 3, "waiting outside", hatch=True)
            axes.set_title("waiting outside camps (all camps)")
        else:
            bands = daily_bands(daily, name, "occupancy_people", node_type)
            _draw_band(axes, bands, 0, "occupancy")
            capacity = capacities.get(name)
            if capacity is not None:
                axes.axhline(float(capacity), color="black", linestyle="--", linewidth=1.2,
                             label=f"capacity {capacity:,.0f}")
                over = bands["p95"] > float(capacity)
                if over.any():
                    axes.fill_between(bands["date"], float(capacity), bands["p95"], where=over.to_numpy(),
                                      facecolor="none", edgecolor=COLOURS[1], hatch="xxx", linewidth=0,
                                      label="over capacity (p95)")
            axes.set_title(f"{name}: occupancy")
        _date_axis(axes)
        _people_axis(axes, "people")
        axes.legend(fontsize=7, loc="upper right")
    what = "Transit camps" if node_type == "camp" else "Reception centres"
    figure.suptitle(f"{what}: occupancy (end of day) against capacity")
    return figure


# --------------------------------------------------------------------------------------------
# compare / sweep / sensitivity tables (written by other commands; read loosely by column names)

KEY_METRICS = (
    ("p_target", "P(target reached)", "share of replications"),
    ("p_target_reached", "P(target reached)", "share of replications"),
    ("crossed_by_target_date", "people crossed by the target date", "people"),
    ("target_reached_day", "day the target is reached (days from start)", "days"),
    ("peak_queue_people", "peak queue", "people"),
    ("wait_hours_p95", "p95 wait", "hours"),
    ("peak_waiting_outside_people", "peak waiting outside camps", "people"),
)
_SCENARIO_COLUMNS = ("scenario", "name", "scenario_name", "variant", "file")
_VALUE_COLUMNS = ("mean", "value", "estimate", "p50")


def _interval_columns(columns: Sequence[str], stem: str) -> tuple[str, str] | None:
    """``(<stem>_ci95_low, <stem>_ci95_high)`` or a similar pair present in ``columns`` (bare names for stem "")."""
    for low, high in (("ci95_low", "ci95_high"), ("low", "high"), ("lo", "hi"), ("ci_low", "ci_high")):
        pair = (f"{stem}_{low}", f"{stem}_{high}") if stem else (low, high)
        if pair[0] in columns and pair[1] in columns:
            return pair
    return None


def _first(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def _compare_panels(compare: pd.DataFrame, value: str, low: str, high: str) -> list[tuple[str, str, pd.DataFrame]]:
    """(title, unit, frame of scenario/value/low/high) per key metric of a long ``compare.csv``."""
    metrics = list(dict.fromkeys(compare["metric"].astype(str)))
    ordered = [m for m, _t, _u in KEY_METRICS if m in metrics] or metrics[:6]
    scenario_column = _first(list(compare.columns), _SCENARIO_COLUMNS)
    panels = []
    for metric in ordered:
        rows = compare[compare["metric"].astype(str) == metric]
        frame = pd.DataFrame({"scenario": rows[scenario_column].astype(str).to_numpy(),
                              "value": pd.to_numeric(rows[value], errors="coerce").to_numpy(float),
                              "low": pd.to_numeric(rows[low], errors="coerce").to_numpy(float)
                              if low in rows else np.nan,
                              "high": pd.to_numeric(rows[high], errors="coerce").to_numpy(float)
                              if high in rows else np.nan})
        frame = frame[np.isfinite(frame["value"])]
        if not frame.empty:
            title, unit = _metric_label(metric)
            panels.append((title, unit, frame))
    return panels


def _interval_panels(panels: list[tuple[str, str, pd.DataFrame]], title: str, zero_line: bool = False):
    scenarios = list(dict.fromkeys(s for _t, _u, frame in panels for s in frame["scenario"]))
    rows_per_panel = max(len(frame) for _t, _u, frame in panels)
    figure = _new_figure(9.5, 1.0 + math.ceil(len(panels) / 2) * (0.4 * rows_per_panel + 1.3))
    axes_list = _panel_grid(figure, len(panels))
    for axes, (panel_title, unit, frame) in zip(axes_list, panels):
        positions = np.arange(len(frame))[::-1]
        for position, row in zip(positions, frame.itertuples(index=False)):
            index = scenarios.index(row.scenario)
            error = None
            if np.isfinite(row.low) and np.isfinite(row.high):
                error = [[max(row.value - row.low, 0)], [max(row.high - row.value, 0)]]
            axes.errorbar([row.value], [position], xerr=error, fmt=MARKERS[index % len(MARKERS)],
                          color=COLOURS[index % len(COLOURS)], capsize=4, markersize=6)
        if zero_line:
            axes.axvline(0, color="black", linewidth=0.8, linestyle="--")
        axes.set_yticks(positions, list(frame["scenario"]), fontsize=7)
        axes.set_ylim(-0.7, len(frame) - 0.3)
        axes.set_title(panel_title, fontsize=9)
        axes.set_xlabel(unit or "value")
        axes.grid(True, axis="x", color="#dddddd")
    figure.suptitle(title)
    return figure


def compare_chart(compare: pd.DataFrame | None):
    """The key metrics of each compared scenario side by side, with 95% intervals.

    Reads the long ``compare.csv`` (``scenario, file, metric, mean, ci95_low, ci95_high, p05, p50,
    p95, diff_vs_first, diff_ci95_low, diff_ci95_high``).
    """
    if compare is None or compare.empty or "metric" not in compare.columns:
        return None
    columns = list(compare.columns)
    if _first(columns, _SCENARIO_COLUMNS) is None or "mean" not in columns:
        return None
    panels = _compare_panels(compare, "mean", "ci95_low", "ci95_high")
    if not panels:
        return None
    return _interval_panels(panels, "Scenarios compared: mean and 95% interval (common random numbers)")


def compare_differences_chart(compare: pd.DataFrame | None):
    """Paired difference of each scenario against the first, with its 95% interval."""
    if compare is None or compare.empty or "diff_vs_first" not in compare.columns:
        return None
    if _first(list(compare.columns), _SCENARIO_COLUMNS) is None or "metric" not in compare.columns:
        return None
    panels = _compare_panels(compare, "diff_vs_first", "diff_ci95_low", "diff_ci95_high")
    if not panels:
        return None
    first = str(compare[_first(list(compare.columns), _SCENARIO_COLUMNS)].iloc[0])
    return _interval_panels(panels, f"Paired difference against {first} (95% interval; 0 = no change)",
                            zero_line=True)


def _metric_label(metric: str) -> tuple[str, str]:
    for name, title, unit in KEY_METRICS:
        if metric == name:
            return title, unit
    unit = "people" if "people" in metric or "crossed" in metric else ("hours" if "hours" in metric else "")
    return metric.replace("_", " "), unit


def _sweep_parameters(sweep: pd.DataFrame) -> list[str]:
    """Parameter columns: key paths (with a dot) or columns prefixed ``param``/``vary``/``set``."""
    parameters = [c for c in sweep.columns if "." in c or re.match(r"^(param|vary|set)[_:.]", c)]
    return parameters


def sweep_chart(sweep: pd.DataFrame | None):
    """P(target) over the swept parameters: a line (one parameter), a heatmap (a grid of two), or
    one scatter panel per parameter (Latin hypercube or more dimensions)."""
    if sweep is None or sweep.empty:
        return None
    parameters = _sweep_parameters(sweep)
    columns = list(sweep.columns)
    metric = _first(columns, ("p_target", "p_target_reached", "p_target_mean", "p_target_reached_mean"))
    if metric is None:
        metric = _first(columns, ("crossed_by_target_date", "crossed_by_target_date_mean",
                                  "crossed_by_target_date_p50"))
    if not parameters or metric is None:
        return None
    title, unit = _metric_label(metric.removesuffix("_mean"))
    values = pd.to_numeric(sweep[metric], errors="coerce")
    interval = _interval_columns(columns, metric) or _interval_columns(columns, metric.removesuffix("_mean"))
    numeric = {p: pd.to_numeric(sweep[p], errors="coerce") for p in parameters}
    if len(parameters) == 2 and all(numeric[p].notna().all() for p in parameters):
        x, y = parameters
        grid = pd.DataFrame({"x": numeric[x], "y": numeric[y], "v": values}).pivot_table(
            index="y", columns="x", values="v", aggfunc="mean")
        if grid.notna().to_numpy().mean() > 0.8:
            figure = _new_figure(8, 5.5)
            axes = figure.add_subplot()
            limits = {"vmin": 0.0, "vmax": 1.0} if metric.startswith("p_target") else {}
            image = axes.imshow(grid.to_numpy(float), origin="lower", aspect="auto", cmap="viridis", **limits)
            axes.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns], fontsize=7)
            axes.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index], fontsize=7)
            for (row, column), value in np.ndenumerate(grid.to_numpy(float)):
                if not math.isnan(value):
                    axes.text(column, row, f"{value:.2f}" if value <= 1 else _short_number(value),
                              ha="center", va="center", fontsize=7, color="white" if value < 0.5 else "black")
            axes.set_xlabel(x)
            axes.set_ylabel(y)
            figure.colorbar(image, ax=axes, label=title + (f" ({unit})" if unit else ""))
            figure.suptitle(f"Sweep: {title}")
            return figure
    figure = _new_figure(9.5, 3.2 * math.ceil(len(parameters) / 2) + 0.4)
    axes_list = _panel_grid(figure, len(parameters), 2 if len(parameters) > 1 else 1)
    for index, (axes, parameter) in enumerate(zip(axes_list, parameters)):
        x = numeric[parameter]
        if len(parameters) == 1 and x.notna().all():
            order = np.argsort(x.to_numpy())
            if interval:
                axes.fill_between(x.to_numpy()[order], pd.to_numeric(sweep[interval[0]]).to_numpy()[order],
                                  pd.to_numeric(sweep[interval[1]]).to_numpy()[order], color=COLOURS[0],
                                  alpha=BAND_ALPHA, hatch="///", label="95% interval")
            axes.plot(x.to_numpy()[order], values.to_numpy()[order], marker="o", **_style(0), label=title)
            axes.legend(fontsize=7)
        else:
            axes.plot(x, values, linestyle="none", marker=MARKERS[index % len(MARKERS)],
                      color=COLOURS[index % len(COLOURS)])
        axes.set_xlabel(parameter)
        axes.set_ylabel(f"{title} {('(' + unit + ')') if unit else ''}".strip())
        axes.grid(True, color="#dddddd")
    figure.suptitle(f"Sweep: {title} by parameter")
    return figure


_PARAMETER_COLUMNS = ("key", "parameter", "param", "key_path", "name", "variable")
TORNADO_METRICS = (("p_target", "P(target reached)", "share"),
                   ("crossed", "people crossed by target date", "people"))


def tornado_rows(sensitivity: pd.DataFrame, metric: str) -> pd.DataFrame | None:
    """``parameter, low, high`` effects on ``metric`` (against the base run) from ``sensitivity.csv``.

    The table (``sim.studies.sensitivity``) has ``key, base_value, low, high`` and, for ``metric`` in
    ``p_target`` and ``crossed``, ``<metric>_base``, ``<metric>_at_low``, ``<metric>_at_high``.
    Rows keep the table's order (largest effect first) and are returned largest last, for barh.
    """
    columns = list(sensitivity.columns)
    parameter = _first(columns, _PARAMETER_COLUMNS)
    names = (f"{metric}_at_low", f"{metric}_at_high", f"{metric}_base")
    if parameter is None or not set(names) <= set(columns):
        return None
    base = pd.to_numeric(sensitivity[names[2]], errors="coerce").to_numpy(float)
    labels = sensitivity[parameter].astype(str).to_numpy()
    if {"low", "high"} <= set(columns):
        labels = np.array([f"{key}\n{_plain_value(low)} → {_plain_value(high)}" for key, low, high
                           in zip(labels, sensitivity["low"], sensitivity["high"])])
    frame = pd.DataFrame({
        "parameter": labels,
        "low": pd.to_numeric(sensitivity[names[0]], errors="coerce").to_numpy(float) - base,
        "high": pd.to_numeric(sensitivity[names[1]], errors="coerce").to_numpy(float) - base,
        "base": base,
    })
    return frame.iloc[::-1].reset_index(drop=True)


def _plain_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def tornado_chart(sensitivity: pd.DataFrame | None):
    """Tornado: the effect on P(target) and on people crossed by the target date of setting each
    parameter to its low and its high value (one at a time, common random numbers), largest on top."""
    if sensitivity is None or sensitivity.empty:
        return None
    panels = [(metric, tornado_rows(sensitivity, metric)) for metric, _t, _u in TORNADO_METRICS]
    panels = [(metric, rows) for metric, rows in panels if rows is not None and not rows.empty]
    if not panels:
        return None
    height = max(len(rows) for _m, rows in panels)
    figure = _new_figure(10.5, 1.6 + 0.55 * height)
    for index, (metric, rows) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), index + 1)
        positions = np.arange(len(rows))
        axes.barh(positions, rows["low"], color=COLOURS[0], hatch="///", edgecolor="black", linewidth=0.5,
                  label="parameter at low value")
        axes.barh(positions, rows["high"], color=COLOURS[1], hatch="...", edgecolor="black", linewidth=0.5,
                  alpha=0.8, label="parameter at high value")
        axes.axvline(0, color="black", linewidth=0.8)
        axes.set_yticks(positions, list(rows["parameter"]), fontsize=7)
        title, unit = next((t, u) for m, t, u in TORNADO_METRICS if m == metric)
        axes.set_xlabel(f"change ({unit})")
        axes.set_title(f"{title}: base {rows['base'].iloc[-1]:,.{2 if metric == 'p_target' else 0}f}", fontsize=9)
        axes.grid(True, axis="x", color="#dddddd")
        axes.legend(fontsize=7, loc="lower right")
    figure.suptitle("Sensitivity (one at a time, against the base scenario)")
    return figure


# --------------------------------------------------------------------------------------------
# All figures of a run


@dataclass(frozen=True)
class FigureSpec:
    """A figure made for a report: its file stem, caption, and the drawn Figure."""

    name: str
    caption: str
    figure: Any


def run_figures(
    tables: Mapping[str, pd.DataFrame | None],
    *,
    target_people: float | None = None,
    target_by: date | str | None = None,
    capacities: Mapping[str, Mapping[str, float]] | None = None,
) -> list[FigureSpec]:
    """Every figure the tables allow, in reading order; a figure whose table is absent is skipped.

    ``tables`` maps ``daily``, ``projection``, ``bound``, ``observed_fit``, ``compare``, ``sweep``,
    ``sensitivity`` to DataFrames (or None). ``capacities`` maps ``camp``/``reception`` to ``{node: capacity}``.
    """
    capacities = capacities or {}
    daily, projection, observed_fit = tables.get("daily"), tables.get("projection"), tables.get("observed_fit")
    candidates = [
        ("crossed", ("People crossed, cumulative: median and p05–p95 over replications, with the target"
                    " (and the analytic capacity ceiling and observed figures when available: running totals of"
                    " all crossings as diamonds, those counted from a later day raised by the model's median"
                    " crossed before it as squares, lower bounds as triangles)."),
         lambda: fan_chart(daily, projection, target_people=target_people, target_by=target_by,
                           bound=tables.get("bound"), observed_fit=observed_fit)),
        ("reached", ("When the target is reached: the share of replications that reached it in each month"
                     " (bars) and by each month end (line); replications that never reach it stay in the"
                     " denominator."),
         lambda: reached_chart(tables.get("reached_by_month"), target_people=target_people, target_by=target_by)),
        ("daily-crossings", ("People crossed per day at each crossing (median and p05–p95), with the"
                            " analytic capacity ceiling per day when bound.csv is present and the observed"
                            " day and period counts as people per day over the days they count."),
         lambda: daily_crossings(daily, projection, tables.get("bound"), observed_fit)),
        ("observed-crossings", ("People crossed at one crossing, cumulative (median and p05–p95), with the"
                               " observed running totals that count that crossing alone."),
         lambda: crossing_running_totals(daily, observed_fit)),
        ("queues-waits", ("People queued at each crossing (end of day and daily peak) and the 95th percentile"
                         " wait per person, by day of service start."),
         lambda: queues_and_waits(daily)),
        ("camps", ("Transit camps: occupancy at the end of each day against capacity (dashed), and people"
                  " waiting outside for a place."),
         lambda: occupancy(daily, capacities.get("camp"), "camp")),
        ("reception", ("Reception centres in Afghanistan: occupancy against capacity (overcrowding is"
                      " reported, it never blocks the border)."),
         lambda: occupancy(daily, capacities.get("reception"), "reception")),
        ("compare", "Compared scenarios: key metrics with 95% intervals.", lambda: compare_chart(tables.get("compare"))),
        ("compare-differences", ("Paired differences against the first scenario (same seeds, so shared noise"
                                " cancels), with 95% intervals."),
         lambda: compare_differences_chart(tables.get("compare"))),
        ("sweep", "Sweep: P(target) over the varied parameters.", lambda: sweep_chart(tables.get("sweep"))),
        ("sensitivity", "Sensitivity tornado: effect of each parameter's low and high value.",
         lambda: tornado_chart(tables.get("sensitivity"))),
    ]
    figures = []
    for name, caption, make in candidates:
        figure = make()
        if figure is not None:
            figures.append(FigureSpec(name, caption, figure))
    return figures


def save_figure(figure, stem: str | Path) -> tuple[Path, Path]:
    """Write ``<stem>.png`` and ``<stem>.svg``; return their paths."""
    stem = Path(stem)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
    figure.set_layout_engine("none")  # laid out by the PNG pass; the SVG reuses it (half the time)
    figure.savefig(svg, format="svg", metadata={"Date": None})
    return png, svg
