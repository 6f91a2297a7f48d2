"""Loading a scenario: read the YAML, resolve ``extends``, apply ``--set``, validate everything.

The steps, each adding located problems to one list so that the user sees them all at once:

1. read the file safely with line numbers (syntax errors stop here: nothing after them is reliable);
2. ``extends``: load the base first (relative to the child), merge the child into it;
3. ``--set key.path=value`` overrides, in the order given;
4. pydantic validation of the models, and the cross-reference/semantic checks of
   :mod:`sim.scenario.checks` on the same data, both mapped back to file and line.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sim.scenario.checks import check_scenario_data
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.extends import forget_below, read_with_extends
from sim.scenario.keypath import (
    KeyPath,
    KeyPathError,
    format_key_path,
    parse_assignment,
    parse_key_path,
    set_path,
)
from sim.scenario.models import Scenario, register_loader
from sim.scenario.yaml_lines import Location, LocationMap, location_of

if TYPE_CHECKING:
    from sim.scenario.messages import Finding

OVERRIDE_FILE = "--set"
"""The ``file`` of problems in values given on the command line."""


def _drop_nulls(data: Any) -> Any:
    """Remove keys whose value is null: in a scenario, ``key: null`` means "not given"."""
    if isinstance(data, dict):
        return {key: _drop_nulls(value) for key, value in data.items() if value is not None}
    if isinstance(data, list):
        return [_drop_nulls(value) for value in data]
    return data


def apply_overrides(
    data: dict[str, Any], locations: LocationMap, overrides: Sequence[str] | Mapping[str, Any]
) -> list[Problem]:
    """Apply ``key.path=value`` texts (or a ``{key path: value}`` mapping) in place."""
    problems: list[Problem] = []
    if isinstance(overrides, Mapping):
        pairs: list[tuple[str, Any]] = [(str(key), value) for key, value in overrides.items()]
        parsed: list[tuple[str, KeyPath | None, Any]] = []
        for text, value in pairs:
            try:
                parsed.append((text, parse_key_path(text), value))
            except KeyPathError as error:
                problems.append(Problem(OVERRIDE_FILE, None, text, str(error)))
    else:
        parsed = []
        for text in overrides:
            try:
                path, value = parse_assignment(text)
                parsed.append((text.partition("=")[0].strip(), path, value))
            except KeyPathError as error:
                problems.append(Problem(OVERRIDE_FILE, None, text.partition("=")[0].strip(), str(error)))
    for key_text, path, value in parsed:
        try:
            set_path(data, path, value)
        except KeyPathError as error:
            problems.append(Problem(OVERRIDE_FILE, None, key_text, f"unknown key path: {error}"))
            continue
        forget_below(locations, path)
        locations[path] = Location(OVERRIDE_FILE, None)
    return problems


def _locate(findings: list[Finding], locations: LocationMap, source: str) -> list[Problem]:
    default = Location(source, None)
    problems = []
    for path, message in findings:
        file, line = location_of(locations, path, default)
        problems.append(Problem(file, line, format_key_path(path), message))
    return problems


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Problems grouped by file (in order of first appearance), then by line; duplicates removed."""
    order: dict[str, int] = {}
    unique: list[Problem] = []
    for problem in problems:
        order.setdefault(problem.file, len(order))
        if problem not in unique:
            unique.append(problem)
    # Command-line values come last: the file is what the user reads top to bottom.
    return sorted(unique, key=lambda problem: (problem.file == OVERRIDE_FILE, order[problem.file], problem.line or 0))


SAMPLE_PATH = ("uncertain", "sample")


def _resolve_sample_path(data: dict[str, Any], locations: LocationMap, source: str) -> None:
    """Make ``uncertain.sample`` absolute, relative to the folder of the file that wrote it."""
    block = data.get("uncertain")
    if isinstance(block, dict) and isinstance(block.get("sample"), str) and block["sample"].strip():
        from sim.scenario.uncertain_sample import resolve_path  # here: it imports numpy

        file, _ = location_of(locations, SAMPLE_PATH, Location(source, None))
        block["sample"] = resolve_path(block["sample"], file)


OBSERVED_KEY = "observed"


def _resolve_observed(data: dict[str, Any], locations: LocationMap, source: str) -> list[Finding]:
    """Check the ``observed:`` entries (bundled names, files) and make their paths absolute, relative
    to the folder of the file that wrote them; the problems by key path."""
    written = data.get(OBSERVED_KEY)
    if not isinstance(written, list):
        return []
    from sim.scenario.observed_sources import resolve_sources

    file, _ = location_of(locations, (OBSERVED_KEY,), Location(source, None))
    data[OBSERVED_KEY], problems = resolve_sources(written, file)
    return [((OBSERVED_KEY, index), message) for index, message in problems]


def _sample_problems(data: dict[str, Any], scenario: Scenario | None) -> list[Finding]:
    """The sample file's problems (read once, cached), located at ``uncertain.sample``."""
    block = data.get("uncertain")
    if not isinstance(block, dict):
        return []
    from sim.scenario.uncertain_paths import check_sample  # here: it imports numpy

    fields = dict(scenario) if scenario is not None else {}
    return [(SAMPLE_PATH, message) for message in check_sample(fields, block, set(Scenario.model_fields))]


def validate_data(
    data: Mapping[str, Any], locations: LocationMap, source: str, earlier: list[Problem] = ()
) -> Scenario:
    """Turn merged plain data into a :class:`Scenario`, or raise every problem at once."""
    data = _drop_nulls(copy.deepcopy(dict(data)))
    _resolve_sample_path(data, locations, source)
    observed_problems = _resolve_observed(data, locations, source)
    problems = list(earlier)
    checks = check_scenario_data(data)
    for path, date in checks.clips:
        set_path(data, path, date)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        from sim.scenario.messages import translate_errors  # only a file with problems needs it

        findings = translate_errors(error, data, Scenario)
        if data.get("extends") is not None:
            findings = [
                (path, f"{message} (name is not inherited from the base scenario)" if path == ("name",) else message)
                for path, message in findings
            ]
        problems += _locate(findings, locations, source)
        scenario = None
    problems += _locate(checks.problems, locations, source)
    problems += _locate(observed_problems, locations, source)
    problems += _locate(_sample_problems(data, scenario), locations, source)
    if problems or scenario is None:
        raise ScenarioError(_sorted(problems))
    scenario._warnings = _sorted(_locate(checks.warnings, locations, source))
    scenario._source = source
    return scenario


def load(path: str | Path, overrides: Sequence[str] | Mapping[str, Any] = ()) -> Scenario:
    """Read, merge, override and validate one scenario file (see the module docstring)."""
    path = Path(path)
    source = os.path.normpath(str(path))
    if not path.is_file():
        raise ScenarioError([Problem(source, None, "", "scenario file not found")])
    data, locations, problems, files = read_with_extends(path, source)
    problems += apply_overrides(data, locations, overrides)
    scenario = validate_data(data, locations, source, problems)
    scenario._source_files = files
    return scenario


def scenario_from_dict_with_overrides(
    data: Mapping[str, Any], overrides: Sequence[str] | Mapping[str, Any], source: str
) -> Scenario:
    """Validate plain scenario data after applying overrides (used by sweeps and calibration)."""
    data = copy.deepcopy(dict(data))
    locations: LocationMap = {(): Location(source, None)}
    problems = apply_overrides(data, locations, overrides)
    return validate_data(data, locations, source, problems)


def load_scenario_with_warnings(
    path: str | Path, overrides: Sequence[str] = ()
) -> tuple[Scenario, list[Problem]]:
    """Load a scenario file (resolving ``extends``, then ``--set`` overrides) and its warnings.

    Raises :class:`ScenarioError` listing every problem, each located by file, line and key path.
    """
    scenario = load(path, overrides)
    return scenario, scenario.warnings


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load and validate a scenario file; warnings are on ``scenario.warnings``.

    ``overrides`` are ``key.path=value`` texts as given to ``--set``, e.g.
    ``["crossings.torkham.lanes=30", "slowdowns.0.factor=0.5"]``.
    """
    return load_scenario_with_warnings(path, overrides)[0]


def scenario_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate plain scenario data (already merged, no ``extends`` resolution) with all checks."""
    return scenario_from_dict_with_overrides(data, (), source=source)


register_loader(lambda data, values, source: scenario_from_dict_with_overrides(data, values, source=source))
