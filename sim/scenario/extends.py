"""``extends``: a scenario written as the changes to a base scenario.

The base file is loaded first (its path is relative to the child, and it may itself extend another
file); then the child is merged into it: mappings merge key by key, lists are replaced whole, and
``null`` deletes a key. ``name`` is never inherited: each scenario names itself, so that two
scenarios never write their results under the same name by accident.

Every value keeps the location (file, line) where it was last written, so a problem in an inherited
value points into the base file.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from sim.scenario.errors import NotAScenarioFile, Problem, ScenarioError
from sim.scenario.keypath import KeyPath
from sim.scenario.yaml_lines import Location, LocationMap, locate, plain, read_yaml_file

NOT_INHERITED = ("name", "extends")


def forget_below(locations: LocationMap, path: KeyPath) -> None:
    """Remove the locations of ``path`` and everything under it (the value was replaced)."""
    for known in [known for known in locations if known[: len(path)] == path]:
        del locations[known]


def merge(
    base: dict[str, Any], base_locations: LocationMap, child: dict[str, Any], child_locations: LocationMap,
    path: KeyPath = (),
) -> None:
    """Merge ``child`` into ``base`` in place, with their locations (see the module docstring)."""
    for key, value in child.items():
        key_path = path + (key,)
        if value is None:
            base.pop(key, None)
            forget_below(base_locations, key_path)
            base_locations[key_path] = child_locations[key_path]  # a required key deleted: point here
        elif isinstance(value, dict) and isinstance(base.get(key), dict) and "dist" not in value:
            # A distribution ({dist: ...}) is one value, replaced whole: merging {dist: fixed, value: 1}
            # into {dist: poisson, mean: 5, shift: 1} would leave keys the new kind does not have.
            base_locations[key_path] = child_locations[key_path]
            merge(base[key], base_locations, value, child_locations, key_path)
        else:
            base[key] = value
            forget_below(base_locations, key_path)
            base_locations.update(
                (known, location) for known, location in child_locations.items() if known[: len(key_path)] == key_path
            )


def scenario_keys() -> frozenset[str]:
    """The top-level keys of a scenario, from :class:`sim.scenario.models.Scenario` itself."""
    from sim.scenario.models import Scenario  # here: the models import this module's neighbours

    return frozenset(field.alias or name for name, field in Scenario.model_fields.items())


def _check_is_scenario(document: Any, file: str) -> None:
    """Refuse a file that is no scenario at all, without quoting it.

    ``extends`` may name any path, so the file may be anything readable (``/etc/passwd`` reads as
    one long YAML string): its content must never reach the terminal. A non-empty mapping without
    a single scenario key is refused the same way rather than listing its keys as unknown.
    """
    if isinstance(document, dict) and (not document or scenario_keys().intersection(document)):
        return
    kind = "a list" if isinstance(document, list) else "a mapping without any scenario key" if isinstance(
        document, dict) else "a single value"
    raise NotAScenarioFile([Problem(file, 1, "", f"not a scenario file: it holds {kind}; a scenario is a mapping "
                                                  "of keys (name:, period:, groups:, …)")])


def read_with_extends(
    path: Path, file: str, chain: tuple[tuple[Path, str], ...] = ()
) -> tuple[dict[str, Any], LocationMap, list[Problem], list[str]]:
    """The merged plain data of ``path`` and its bases, their locations, reading problems, and the
    files read (``path`` first, then its base, the base's base, …).

    Raises :class:`ScenarioError` when a file cannot be parsed at all (syntax errors, not a mapping).
    """
    document = read_yaml_file(path, file)
    if document is None:
        document = {}
    _check_is_scenario(document, file)
    locations, problems = locate(document, file)
    data = plain(document)
    extends = data.get("extends")
    if extends is None:
        return data, locations, problems, [file]
    extends_location = locations[("extends",)]
    if not isinstance(extends, str) or not extends.strip():
        problems.append(Problem(file, extends_location.line, "extends", f"extends must be the path of a base scenario file, got {extends!r}"))
        return data, locations, problems, [file]
    base_path = path.parent / extends
    base_file = os.path.normpath(str(base_path))
    try:
        os.stat(base_path)
    except ValueError:
        raise ScenarioError(problems + [Problem(file, extends_location.line, "extends",
                                                "extends holds a NUL character: not a file path")]) from None
    except OSError as error:
        if error.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
            raise ScenarioError(problems + [Problem(file, extends_location.line, "extends",
                                                    f"cannot read base scenario: {error.strerror}")]) from None
    chain = chain + ((Path(os.path.realpath(path)), file),)  # realpath: a symlink loop is "not found", not an error
    if Path(os.path.realpath(base_path)) in [resolved for resolved, _ in chain]:
        names = [name for _, name in chain] + [base_file]
        # Without its base the child is incomplete: its missing keys would only be noise.
        raise ScenarioError(problems + [Problem(file, extends_location.line, "extends", f"extends cycle: {' -> '.join(names)}")])
    if not base_path.is_file():
        raise ScenarioError(
            problems
            + [Problem(file, extends_location.line, "extends", f"base scenario '{extends}' not found (looked for {base_file})")]
        )
    try:
        base, base_locations, base_problems, base_files = read_with_extends(base_path, base_file, chain)
    except NotAScenarioFile as error:
        if error.problems and error.problems[0].file == base_file:  # the base itself, not one further down
            reason = error.problems[0].message
            raise ScenarioError(problems + [Problem(file, extends_location.line, "extends",
                                                    f"base '{extends}': {reason}")]) from None
        raise ScenarioError(problems + error.problems) from None
    except ScenarioError as error:
        raise ScenarioError(problems + error.problems) from None
    for key in NOT_INHERITED:
        base.pop(key, None)
        forget_below(base_locations, (key,))
    base_locations[()] = Location(file, 1)
    merge(base, base_locations, data, locations)
    return base, base_locations, base_problems + problems, [file, *base_files]
