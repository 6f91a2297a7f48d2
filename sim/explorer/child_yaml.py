"""The edited scenario as a file a person keeps: it ``extends`` the original and holds only the changes.

Like ``scenarios/phase1-2023-double-lanes.yaml``, written by hand for the same question::

    extends: phase1-2023.yaml
    name: phase1-2023-explored
    crossings:
      torkham:
        lanes: 110  # changed in bordersim explore; was 55

Each changed value is one key path (a distribution or a list is changed whole, as ``extends``
replaces them whole), written with a comment saying what it was. Kept beside the original, the file
validates and runs like any other scenario.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from sim.scenario.keypath import get_path, parse_key_path

COMMENT = "changed in bordersim explore"


class _Dumper(yaml.SafeDumper):
    """Flow-style values on one line; texts with a colon quoted (``"05:00-21:00"``, ``"08:00"``)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _quote_colons(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"' if ":" in text else None)


_Dumper.add_representer(str, _quote_colons)


def flow(value: Any) -> str:
    """``value`` as one line of YAML (``{dist: lognormal, mean: 24min, sd: 6min}``, ``110``)."""
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def was(original: Any) -> str:
    """What a changed value was, short enough for a comment."""
    if isinstance(original, list):
        return f"{len(original)} item(s)"
    return "not set" if original is None else flow(original)


def _tree(changes: dict[str, Any]) -> dict[str, Any]:
    """Key paths → nested mappings, leaves marked as ``(path, value)``."""
    tree: dict[str, Any] = {}
    for path_text, value in changes.items():
        path = parse_key_path(path_text)
        node = tree
        for part in path[:-1]:
            node = node.setdefault(str(part), {})
        node[str(path[-1])] = (path_text, value)
    return tree


def _lines(tree: dict[str, Any], original: dict[str, Any], indent: int) -> list[str]:
    pad = "  " * indent
    lines = []
    for key, node in tree.items():
        if isinstance(node, dict):
            lines.append(f"{pad}{key}:")
            lines += _lines(node, original, indent + 1)
            continue
        path_text, value = node
        try:
            before = get_path(original, path_text)
        except (KeyError, ValueError):
            before = None
        comment = f"  # {COMMENT}; was {was(before)}"
        if isinstance(value, list):
            now = f", now {len(value)}" if isinstance(before, list) and len(before) != len(value) else ""
            lines.append(f"{pad}{key}:{comment}{now}")
            lines += [f"{pad}  - {flow(item)}" for item in value]
        else:
            lines.append(f"{pad}{key}: {flow(value)}{comment}")
    return lines


def child_yaml(original_file: str, original_name: str, changes: dict[str, Any], original: dict[str, Any],
               name: str, today: dt.date | None = None) -> str:
    """The text of a scenario that extends ``original_file`` (a name in the same folder) with ``changes``
    (key path → value as the scenario writes it); ``original`` is the original's merged data."""
    today = today or dt.date.today()
    header = [
        f"# {name}: {original_name} with the changes made in bordersim explore on {today.isoformat()}.",
        f"# Keep it in the folder of {original_file}, which it extends; run it with bordersim run.",
        f"extends: {flow(original_file)}",
        f"name: {flow(name)}",
    ]
    return "\n".join(header + _lines(_tree(changes), original, 0)) + "\n"
