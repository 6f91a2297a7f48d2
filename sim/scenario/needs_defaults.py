"""The bundled needs: Sphere Handbook minimum standards and the cash grant per family, each with its source.

A scenario's ``needs:`` block names the items a planner provides at reception centres, to people
waiting at the crossings and outside camps (see :class:`sim.scenario.models.Need`). An item named
after a bundled one takes the bundled amount, unit, basis, places and source (``water: bundled``);
any of them written under it replaces the bundled value (``cash_grant: {amount: 15000}``). The bundled figures live in ``sim/data/needs_defaults.csv`` (columns
``item, amount, unit, per, at, source``; ``at`` lists places separated by spaces), so that the
source of every figure stays next to it.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

DEFAULTS_FILE = "needs_defaults.csv"
BUNDLED = "bundled"
"""The value of an item taken as bundled (``water: bundled``)."""


@cache
def bundled_needs() -> dict[str, dict[str, Any]]:
    """The bundled items by name, as the fields of a ``needs:`` item (read once)."""
    text = (files("sim") / "data" / DEFAULTS_FILE).read_text(encoding="utf-8")
    return {row["item"]: {"amount": float(row["amount"]), "unit": row["unit"], "per": row["per"],
                          "at": row["at"].split(), "source": row["source"]}
            for row in csv.DictReader(io.StringIO(text))}


def with_bundled(block: Any) -> Any:
    """A ``needs:`` block with every bundled item's missing fields filled in (anything else is
    returned as written, for the models to judge)."""
    if not isinstance(block, Mapping):
        return block
    bundled = bundled_needs()
    filled: dict[Any, Any] = {}
    for name, item in block.items():
        if name in bundled and (item == BUNDLED or isinstance(item, Mapping)):
            filled[name] = {**bundled[name], **(item if isinstance(item, Mapping) else {})}
        else:
            filled[name] = item
    return filled
