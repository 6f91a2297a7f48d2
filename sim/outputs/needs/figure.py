"""The needs figure of the report: each item's need per week (month, day) at each node, median and
p05–p95 over replications, one panel per item and place."""
from __future__ import annotations

import math

import pandas as pd

from sim.outputs.figures import _as_timestamps, _date_axis, _draw_band, _new_figure, _panel_grid, _people_axis
from sim.outputs.needs.table import PEAK_SPAN


def needs_chart(needs: pd.DataFrame | None):
    """One panel per item and place with a band per node; None without a ``needs.csv``."""
    if needs is None or needs.empty:
        return None
    periodic = needs[needs["span"] != PEAK_SPAN]
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
        _people_axis(axes, f"{rows['unit'].iloc[0]} per {span}")
        axes.legend(fontsize=7, loc="upper right")
    figure.suptitle(f"Needs per {span}: median and p05–p95 over replications")
    return figure
