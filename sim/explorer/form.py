"""The page's inputs, generated from the scenario format, and the edits read back from them.

Which assumptions the page shows is a choice (the ones capacity questions are about, issue 23):
per crossing its lanes, service time and opening hours; the dated slowdowns and closures; per group
its departure steps and the share that never leaves; the target. How each is shown follows the
format itself: the type, limits and help text of every input come from the JSON Schema of the
pydantic models (``bordersim schema``), so a new constraint in the models appears on the page.

Values travel as the text a person types. An edit is read back per input, typed as the schema
says (numbers and dates as YAML scalars, like ``--set``; texts as typed) and compared with the
original; what differs becomes a change at the granularity ``extends`` merges: a value, a whole
distribution, a whole list.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from sim.scenario.keypath import KeyPath, format_key_path, get_path, parse_key_path, parse_value

SLOWDOWN_COLUMNS = ("at", "from", "to", "factor", "hours", "max_people_per_day", "reason")


class BadEdit(ValueError):
    """A request naming an input the page was never given (not a user's typing mistake)."""


@dataclass(frozen=True)
class Input:
    """One input: its key path (a column name in a table), label, kind and limits, current text."""

    path: str
    label: str
    kind: str  # integer, number, date, text
    value: str = ""
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""


@dataclass(frozen=True)
class Table:
    """A list edited row by row (add, change, remove): slowdowns, departure steps."""

    path: str
    label: str
    columns: list[Input]
    rows: list[list[str]]
    help: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    inputs: list[Input] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@cache
def scenario_schema() -> dict[str, Any]:
    from sim.scenario.models import Scenario

    return Scenario.model_json_schema(by_alias=True)


def _resolve(node: dict[str, Any], value: Any = None) -> dict[str, Any]:
    """Follow ``$ref``; of a union, the branch that fits ``value`` (a distribution's ``dist``), else
    the first that is not null."""
    definitions = scenario_schema()["$defs"]
    while True:
        if "$ref" in node:
            node = {**definitions[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        branches = node.get("anyOf") or node.get("oneOf")
        if not branches:
            return node
        branches = [_resolve(branch) for branch in branches if branch.get("type") != "null"]
        if isinstance(value, dict) and "dist" in value:
            fitting = [branch for branch in branches if _dist_name(branch) == value["dist"]]
            branches = fitting or branches
        merged = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
        if len(branches) > 1 and any(branch.get("format") == "date" for branch in branches):
            return {**merged, "type": "string", "format": "date"}  # a date, or a policy phase (read alike)
        node = {**branches[0], **merged}


def _dist_name(branch: dict[str, Any]) -> str | None:
    dist = branch.get("properties", {}).get("dist", {})
    return dist.get("const") or (dist.get("enum") or [None])[0]


def schema_at(path: KeyPath, data: dict[str, Any]) -> dict[str, Any]:
    """The schema of the value at ``path`` (mapping keys, list items, distribution branches)."""
    node = _resolve(scenario_schema())
    for depth, part in enumerate(path):
        if isinstance(part, int):
            node = _resolve(node["items"])
            continue
        properties = node.get("properties", {})
        try:
            value = get_path(data, path[: depth + 1])
        except ValueError:
            value = None
        child = properties.get(part) if part in properties else node.get("additionalProperties", {})
        node = _resolve(child, value)
    return node


def _kind(schema: dict[str, Any]) -> str:
    if schema.get("format") == "date":
        return "date"
    kinds = {"integer": "integer", "number": "number"}
    return kinds.get(schema.get("type"), "text")


def _limit(schema: dict[str, Any], name: str) -> float | None:
    exclusive = schema.get(f"exclusive{name.capitalize()}")
    if exclusive is not None and schema.get("type") == "integer":
        return exclusive + (1 if name == "minimum" else -1)
    return schema.get(name, exclusive)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return str(int(value))
    return str(value)


def make_input(data: dict[str, Any], path: KeyPath, label: str, column: str | None = None) -> Input:
    """The input for the value at ``path`` of ``data``, typed and limited as the schema says.

    For a table column, ``path`` leads to an item's field and ``column`` names it (no value)."""
    schema = schema_at(path, data)
    help_text = schema.get("description") or schema.get("title") or ""
    try:
        value = "" if column else _text(get_path(data, path))
    except ValueError:
        value = ""
    return Input(column or format_key_path(path), label, _kind(schema), value,
                 _limit(schema, "minimum"), _limit(schema, "maximum"), help_text)


def _table(data: dict[str, Any], path: KeyPath, label: str, columns: tuple[str, ...], help_text: str) -> Table:
    rows_data = get_path(data, path)
    probe = copy.deepcopy(data)  # a list may be empty: ask the schema about an item that exists
    if not rows_data:
        from sim.scenario.keypath import set_path

        set_path(probe, path, [{}])
    inputs = [make_input(probe, path + (0, column), column, column=column) for column in columns]
    rows = [[_text(row.get(column)) for column in columns] for row in rows_data]
    return Table(format_key_path(path), label, inputs, rows, help_text)


def _step_columns(kind: str, steps: list[dict[str, Any]]) -> tuple[str, ...]:
    """A departures table's columns: ``from`` and the speed, plus the optional fields the steps use
    (a table edit rewrites the whole list, so a field without a column would be lost)."""
    columns = ("from", "rate") if kind == "hazard" else ("from", "per_day")
    optional = ("people_per_day", "deported_share") if kind == "hazard" else ("deported_share",)
    return columns + tuple(field for field in optional if any(field in step for step in steps))


def build_form(data: dict[str, Any]) -> list[Section]:
    """The sections of the page for a scenario's merged data (as written: ``from`` keys, texts)."""
    sections = []
    if data.get("target"):
        sections.append(Section("Target", [make_input(data, ("target", "people"), "people crossed"),
                                           make_input(data, ("target", "by"), "by (date)")]))
    for name, crossing in data["crossings"].items():
        inputs = [make_input(data, ("crossings", name, "lanes"), "lanes"),
                  make_input(data, ("crossings", name, "hours"), "opening hours")]
        service = crossing.get("service", {})
        inputs += [make_input(data, ("crossings", name, "service", key), f"service {key}")
                   for key in service if key != "dist"]
        sections.append(Section(f"Crossing: {name}", inputs))
    for name, group in data["groups"].items():
        departures = group.get("departures", {})
        kind = "hazard" if "hazard" in departures else "schedule"
        steps = _table(data, ("groups", name, "departures", kind), f"departures ({kind})",
                       _step_columns(kind, departures.get(kind) or []),
                       "from a date on, each household that will leave departs at rate per day" if kind == "hazard"
                       else "from a date on, people depart at per_day")
        sections.append(Section(f"Group: {name}", [make_input(data, ("groups", name, "never_leave"), "never leave")],
                                [steps]))
    sections.append(Section("Slowdowns and closures", tables=[_table(
        data, ("slowdowns",), "slowdowns", SLOWDOWN_COLUMNS,
        "a dated window at a crossing: factor 0 closes it, 0.5 halves its speed; hours replace its opening hours")]))
    return sections


def form_json(sections: list[Section]) -> list[dict[str, Any]]:
    return [asdict(section) for section in sections]


def _typed(text: Any, kind: str) -> Any:
    """A typed text as the scenario holds it: numbers and dates read like ``--set``; texts as typed."""
    if not isinstance(text, str):
        raise BadEdit(f"values are texts, got {type(text).__name__}")
    text = text.strip()
    if text == "":
        return None
    return text if kind == "text" else parse_value(text)


def read_edits(data: dict[str, Any], sections: list[Section], values: Mapping[str, Any]) -> dict[str, Any]:
    """The changes (key path → value) that the page's ``values`` make to ``data``.

    ``values`` maps an input's path to its text, and a table's path to its rows (lists of texts in
    the table's column order). Only changed values are returned; a distribution parameter changes
    the whole distribution, a table cell the whole list.
    """
    inputs = {item.path: item for section in sections for item in section.inputs}
    tables = {table.path: table for section in sections for table in section.tables}
    changes: dict[str, Any] = {}
    for path_text, value in values.items():
        if path_text in tables:
            new, unit = _rows(tables[path_text], value), parse_key_path(path_text)
        elif path_text in inputs:
            path = parse_key_path(path_text)
            parsed = _typed(value, inputs[path_text].kind)
            parent = get_path(data, path[:-1])
            if isinstance(parent, dict) and "dist" in parent:  # a distribution changes whole
                unit = path[:-1]
                new = copy.deepcopy(changes.get(format_key_path(unit), parent))
                new[path[-1]] = parsed
            else:
                unit, new = path, parsed
        else:
            raise BadEdit(f"no input {path_text!r} on this page")
        if new != _get_or_none(data, unit):
            changes[format_key_path(unit)] = new
    return changes


def _rows(table: Table, rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise BadEdit(f"{table.path}: rows must be lists of texts")
    typed = []
    for row in rows:
        if len(row) != len(table.columns):
            raise BadEdit(f"{table.path}: each row has {len(table.columns)} cells")
        cells = {column.path: _typed(text, column.kind) for column, text in zip(table.columns, row)}
        typed.append({key: value for key, value in cells.items() if value is not None})
    return typed


def _get_or_none(data: dict[str, Any], path: KeyPath) -> Any:
    try:
        return get_path(data, path)
    except ValueError:
        return None
