"""The needs figure of the report: each item's need per week (month, day) at each node, median and
p05–p95 over replications, one panel per item and place (nodes that never need anything left out)."""
from __future__ import annotations

import math

import pandas as pd

from sim.outputs.figures import (
    FigureSpec,
    _as_timestamps,
    _date_axis,
    _draw_band,
    _new_figure,
    _panel_grid,
    _people_axis,
)
from sim.outputs.needs.series import LEVEL_BASIS
from sim.outputs.needs.table import PEAK_SPAN

CAPTION = ("Needs per week (month, day) at each place: median and p05–p95 over replications of the scenario's"
           " needs: figures times the simulated occupancy, arrivals or queue (needs.csv).")


def needs_figures(needs: pd.DataFrame | None) -> list[FigureSpec]:
    """The report's needs figure, if the folder has a ``needs.csv``."""
    figure = needs_chart(needs)
    return [] if figure is None else [FigureSpec("needs", CAPTION, figure)]


def needs_chart(needs: pd.DataFrame | None):
    """One panel per item and place with a band per node; None without a ``needs.csv``."""
    if needs is None or needs.empty:
        return None
    periodic = needs[needs["span"] != PEAK_SPAN]
    # Places where no replication ever needed anything (a camp nobody waited outside) only crowd a panel.
    needed = periodic.groupby(["item", "at", "node"], sort=False)["p95"].transform("max") > 0
    periodic = periodic[needed]
    panels = list(dict.fromkeys(zip(periodic["item"], periodic["at"])))
    if not panels:
        return None
    span = str(periodic["span"].iloc[0])
    columns = 2 if len(panels) > 1 else 1
    figure = _new_figure(9.5, 2.5 * math.ceil(len(panels) / columns) + 0.5)
    for axes, (item, at) in zip(_panel_grid(figure, len(panels), columns), panels):
        rows = periodic[(periodic["item"] == item) & (periodic["at"] == at)]
        for index, (node, group) in enumerate(rows.groupby("node", sort=False)):
            bands = pd.DataFrame({"date": _as_timestamps(group["date"]), "p05": group["p05"].to_numpy(float),
                                  "p50": group["p50"].to_numpy(float), "p95": group["p95"].to_numpy(float)})
            _draw_band(axes, bands, index, str(node))
        axes.set_title(f"{item} at {at.replace('_', ' ')}")
        _date_axis(axes)
        level = rows["per"].iloc[0] == LEVEL_BASIS  # needed at one time: a span's largest day
        _people_axis(axes, f"{rows['unit'].iloc[0]}, {span}'s largest day" if level
                     else f"{rows['unit'].iloc[0]} per {span}")
        axes.legend(fontsize=7, loc="upper right")
    figure.suptitle(f"Needs per {span}: median and p05–p95 over replications")
    return figure
