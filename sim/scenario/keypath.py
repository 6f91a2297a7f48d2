"""Key paths: one grammar to name any value of a scenario.

``crossings.torkham.lanes``, ``groups.undocumented.departures.hazard.3.rate``, ``slowdowns.0.factor``:
dotted mapping keys, with integer parts indexing lists. The same grammar serves ``--set``,
``--vary``, ``--range``, ``--fit`` and ``uncertain:``, so sweeps and calibration reuse these helpers
on the plain (already merged) scenario data.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from sim.scenario.yaml_scalars import read_unreadable_scalars_as_text

KeyPart = str | int
KeyPath = tuple[KeyPart, ...]

_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}$")


class KeyPathError(ValueError):
    """A key path that is malformed or does not lead to a value of the scenario."""


def parse_key_path(text: str) -> KeyPath:
    """``"slowdowns.0.factor"`` → ``("slowdowns", 0, "factor")``; integer parts index lists."""
    if not isinstance(text, str) or not text.strip():
        raise KeyPathError("empty key path: write dotted keys, e.g. crossings.torkham.lanes")
    parts: list[KeyPart] = []
    for part in text.strip().split("."):
        if part == "":
            raise KeyPathError(f"malformed key path '{text}': empty part between dots")
        parts.append(int(part) if part.isdigit() else part)
    return tuple(parts)


def format_key_path(path: tuple[object, ...]) -> str:
    """The dotted text of a key path (the inverse of :func:`parse_key_path`)."""
    return ".".join(str(part) for part in path)


def _child(node: Any, part: KeyPart, path: KeyPath, depth: int) -> Any:
    """The child of ``node`` named ``part``, or a :class:`KeyPathError` saying what exists there."""
    where = format_key_path(path[:depth]) or "the scenario"
    if isinstance(node, dict):
        for key in _candidate_keys(part):
            if key in node:
                return node[key]
        existing = ", ".join(sorted(str(key) for key in node)) or "none"
        raise KeyPathError(f"{where} has no key '{part}' (existing keys: {existing})")
    if isinstance(node, list):
        if not isinstance(part, int):
            raise KeyPathError(f"{where} is a list: index it with a number 0..{len(node) - 1}, got '{part}'")
        if part >= len(node):
            raise KeyPathError(f"{where} has {len(node)} item(s): index {part} is out of range")
        return node[part]
    raise KeyPathError(f"{where} is a single value, not a mapping or list: cannot look up '{part}'")


def _candidate_keys(part: KeyPart) -> list[object]:
    # A mapping key that looks numeric (a group called "2023") is still reachable by its text.
    return [part, str(part)] if isinstance(part, int) else [part]


def get_path(data: Any, path: KeyPath | str) -> Any:
    """The value at ``path`` in nested mappings/lists; :class:`KeyPathError` if it does not exist."""
    path = parse_key_path(path) if isinstance(path, str) else tuple(path)
    node = data
    for depth, part in enumerate(path):
        node = _child(node, part, path, depth)
    return node


def set_path(data: Any, path: KeyPath | str, value: Any, *, create_leaf: bool = True) -> None:
    """Set the value at ``path`` in place.

    Every step but the last must exist. The last may be a new key of an existing mapping when
    ``create_leaf`` (so ``--set crossings.torkham.max_people_per_day=5000`` works when the file left
    the quota out; a misspelt new key is then rejected by validation as an unknown key). List
    indices must exist: a list is never extended by a key path.
    """
    path = parse_key_path(path) if isinstance(path, str) else tuple(path)
    if not path:
        raise KeyPathError("empty key path")
    parent = get_path(data, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        for key in _candidate_keys(last):
            if key in parent:
                parent[key] = value
                return
        if not create_leaf:
            _child(parent, last, path, len(path) - 1)  # raises, listing the existing keys
        parent[last if isinstance(last, str) else str(last)] = value
        return
    if isinstance(parent, list):
        _child(parent, last, path, len(path) - 1)  # raises unless the index exists
        parent[last] = value  # type: ignore[index]
        return
    _child(parent, last, path, len(path) - 1)


def parse_value(text: str) -> Any:
    """A command-line value read as a YAML scalar or flow collection, safely.

    ``30`` → 30, ``1_000_000`` → 1000000, ``0.6`` → 0.6, ``2023-11-03`` → a date, ``null`` → None,
    ``{dist: fixed, value: 2h}`` → a mapping. A time of day (``08:00``) stays text: the shell has
    already removed any quotes, so demanding them here would be hostile.
    """
    stripped = text.strip()
    if _TIME_OF_DAY.match(stripped):
        return stripped
    try:
        return yaml.load(stripped, Loader=_ValueLoader) if stripped else ""
    except RecursionError:
        raise KeyPathError(f"value nested too deeply (at most {_MAX_VALUE_DEPTH} levels)") from None
    except yaml.YAMLError as error:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise KeyPathError(f"cannot read value '{shown}' as YAML: {str(error).splitlines()[0]}") from None


_MAX_VALUE_DEPTH = 20


class _ValueLoader(yaml.SafeLoader):
    """Safe YAML for one command-line value: no aliases (a value has nothing to refer back to, and
    an alias may make it contain itself or expand without bound), at most a few levels deep."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a --set value",
                                              self.peek_event().start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > _MAX_VALUE_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {_MAX_VALUE_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# "2023-02-30" looks like a date to YAML but is none, and "!!int abc" is no integer: kept as text,
# validation says which key holds them rather than the YAML library failing with a bare error.
read_unreadable_scalars_as_text(_ValueLoader)


def parse_assignment(text: str) -> tuple[KeyPath, Any]:
    """``"crossings.torkham.lanes=30"`` → ``(("crossings", "torkham", "lanes"), 30)``."""
    key, separator, value = text.partition("=")
    if not separator:
        raise KeyPathError(f"'{text}' is not an assignment: write key.path=value, e.g. crossings.torkham.lanes=30")
    return parse_key_path(key), parse_value(value)
