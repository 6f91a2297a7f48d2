"""Scalars that are not what their tag or their look says, read as their text.

A date that does not exist (``2023-13-01``), or a value tagged with a type it does not have
(``!!int abc``, ``!!float x``, ``!!bool maybe``, ``!!timestamp soon``): PyYAML's constructors fail
on those with a bare ``ValueError``, ``KeyError`` or ``AttributeError``, which would surface as an
internal error. Kept as text, the value reaches validation, which says which key holds it and what
that key allows. Used by the file loaders (:mod:`sim.scenario.yaml_lines`) and by ``--set`` values
(:mod:`sim.scenario.keypath`).
"""
from __future__ import annotations

import functools
from typing import Any

import yaml


def read_unreadable_scalars_as_text(loader_class: type[yaml.constructor.SafeConstructor]) -> None:
    """Make ``loader_class`` read a scalar that is not what its tag or its look says as its text
    (see :func:`text_if_unreadable`): dates, numbers and booleans."""
    for tag, construct in (("timestamp", yaml.SafeLoader.construct_yaml_timestamp),
                           ("int", yaml.SafeLoader.construct_yaml_int),
                           ("float", yaml.SafeLoader.construct_yaml_float),
                           ("bool", yaml.SafeLoader.construct_yaml_bool)):
        loader_class.add_constructor(f"tag:yaml.org,2002:{tag}", functools.partial(text_if_unreadable, construct))


def text_if_unreadable(construct, loader: yaml.constructor.SafeConstructor, node: yaml.ScalarNode) -> Any:
    """The scalar as ``construct`` reads it, or its text when it is not what it says (see above)."""
    try:
        return construct(loader, node)
    except (ValueError, KeyError, AttributeError, TypeError):
        return node.value
