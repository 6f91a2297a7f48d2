"""Needs: how much of each item (water, space, latrines, food, cash) must be ready where people are.

A scenario's ``needs:`` block (:class:`sim.scenario.models.Need`) gives each item an amount per
person present, per person-day, per arriving person or per arriving household, at reception
centres, inside transit camps, in the crossings' queues or outside full camps. Each replication's
daily series (occupancy, arrivals, queue) times that amount is the item's daily need in that
replication (:mod:`sim.outputs.needs.series`); ``needs.csv`` gives its mean and quantiles over
replications per week (or day, or month) and the peak day (:mod:`sim.outputs.needs.table`), and
the report draws it (:mod:`sim.outputs.needs.figure`).
"""
from sim.outputs.needs.series import NeedSeries, need_series
from sim.outputs.needs.table import NEEDS_COLUMNS, needs_table, peak_needs

__all__ = ["NEEDS_COLUMNS", "NeedSeries", "need_series", "needs_table", "peak_needs"]
