"""Pydantic validation errors rewritten as located, one-line messages that say what is allowed.

Pydantic reports ``crossings.torkham.lanes: Value error, must be …`` with a ``loc`` tuple that
can contain markers absent from the file (the ``lognormal`` tag of a distribution union,
``function-after[…]``). :func:`translate_errors` turns each error into a ``(key path, message)``
finding whose path exists in the data (so that it can be given a line), and whose message names the
key and the allowed values: ``lanes must be a positive integer, got 0``;
``unknown key 'lane'; allowed keys: lanes, service, hours, …``.
"""
from __future__ import annotations

import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from sim.scenario.keypath import KeyPath

Finding = tuple[KeyPath, str]
"""A problem or warning before it is located in a file: (key path, message)."""


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def data_path(loc: tuple[Any, ...], data: Any) -> KeyPath:
    """The part of a pydantic ``loc`` that names keys and indices of ``data``.

    Union tags and validator markers are dropped; the last element is kept even when absent from
    the data, since it is then the name of a missing key.
    """
    path: list[Any] = []
    node = data
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and node.get("dist") == part:
            continue  # the tag naming which distribution validated this mapping
        elif last and isinstance(part, (str, int)) and not str(part).startswith(("[", "function-")):
            path.append(part)
        else:
            continue  # a tag such as "lognormal" or a validator marker, not a key of the file
    return tuple(path)


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional wrappers from a type annotation."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) == 1:
                annotation = members[0]
            else:
                return annotation
        else:
            return annotation


def _step(annotation: Any, part: Any) -> Any:
    """The annotation one key deeper (``part``) into ``annotation``; None if unknown."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    if origin is dict:
        return typing.get_args(annotation)[1]
    if origin is list:
        return typing.get_args(annotation)[0]
    if origin in (Union, types.UnionType):
        # A distribution: pydantic's loc names the chosen member by its "dist" tag.
        for member in typing.get_args(annotation):
            member = _unwrap(member)
            if (
                isinstance(member, type)
                and issubclass(member, BaseModel)
                and "dist" in member.model_fields
                and part in typing.get_args(member.model_fields["dist"].annotation)
            ):
                return member
        return None
    return None


def annotation_at(root: type[BaseModel], loc: tuple[Any, ...]) -> Any | None:
    """The type annotation validating the value at pydantic ``loc`` (None if it cannot be followed)."""
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    return _unwrap(annotation)


def model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class validating the mapping at pydantic ``loc`` (None if not a model)."""
    annotation = annotation_at(root, loc)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _is_distribution(annotation: Any) -> bool:
    members = typing.get_args(annotation) if typing.get_origin(annotation) in (Union, types.UnionType) else ()
    return bool(members) and all(
        isinstance(member, type) and issubclass(member, BaseModel) and "dist" in member.model_fields
        for member in map(_unwrap, members)
    )


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys a file may write for ``model`` (aliases such as ``from`` where they exist)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _subject(path: KeyPath) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "value"


def _message(error: Any, path: KeyPath, root: type[BaseModel]) -> str:
    kind = error["type"]
    value = error.get("input")
    context = error.get("ctx") or {}
    subject = _subject(path)
    got = f", got {_short(value)}"
    if kind == "missing":
        return f"'{subject}' is required"
    if kind == "extra_forbidden":
        model = model_at(root, tuple(error["loc"][:-1]))
        allowed = ", ".join(allowed_keys(model)) if model is not None else "see the scenario format"
        return f"unknown key '{error['loc'][-1]}'; allowed keys: {allowed}"
    if kind in ("value_error", "assertion_error"):
        text = str(context.get("error", error["msg"]))
        return f"{subject} {text}" if text.startswith("must ") else text
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{subject} must be a whole number{got}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{subject} must be a number{got}"
    if kind in ("string_type", "string_sub_type"):
        return f"{subject} must be text{got}"
    if kind == "string_too_short":
        return f"{subject} must not be empty"
    if kind in ("bool_parsing", "bool_type"):
        return f"{subject} must be true or false{got}"
    if kind.startswith(("date_", "datetime_")):
        return f"{subject} must be an ISO date such as 2023-11-01{got}"
    if kind in ("list_type", "tuple_type"):
        return f"{subject} must be a list ([a, b, ...]){got}"
    if kind == "too_short":
        return f"{subject} must have at least {context.get('min_length', 1)} item(s){got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        symbol = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(context.values())) if context else "?"
        bound = f"{bound:g}" if isinstance(bound, float) else bound
        return f"{subject} must be {symbol} {bound}{got}"
    if kind == "union_tag_invalid":
        expected = str(context.get("expected_tags", "")).replace("'", "")
        return f"unknown distribution '{context.get('tag')}'; allowed dist: {expected}"
    if kind == "union_tag_not_found" or (
        kind in ("dict_type", "model_type", "model_attributes_type") and _is_distribution(annotation_at(root, tuple(error["loc"])))
    ):
        return f"{subject} must be a distribution with a 'dist' key (fixed, uniform, triangular, exponential, " \
               f"lognormal, gamma, poisson, empirical){got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{subject} must be a mapping of keys ({{key: value, ...}}){got}"
    if kind == "literal_error":
        return f"{subject} must be {context.get('expected')}{got}"
    return f"{subject}: {error['msg']}"


def translate_errors(error: ValidationError, data: Any, root: type[BaseModel]) -> list[Finding]:
    """Each pydantic error as a ``(key path, message)`` finding located in ``data``."""
    findings: list[Finding] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        if loc and loc[-1] == "[key]":
            path = data_path(loc[:-1], data)
            findings.append((path, f"keys must be names (text), got {_short(path[-1] if path else loc)}"))
            continue
        path = data_path(loc, data)
        findings.append((path, _message(item, path, root)))
    return findings
