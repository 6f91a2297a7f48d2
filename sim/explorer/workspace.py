"""The scenario the explorer was started on, and every edit checked as ``bordersim validate`` would.

The file (and the bases it ``extends``) is read once, when the app starts: after that the app reads
no scenario file, whatever a page sends. An edit is a set of changed values by key path, applied to
a copy of the merged data exactly as ``--set`` applies them (:func:`sim.scenario.loading.apply_overrides`)
and validated by the same code (:func:`sim.scenario.loading.validate_data`). So the problems are the
one-line messages ``bordersim validate FILE --set key.path=value`` prints, e.g.
``--set: crossings.torkham.lanes: must be at least 1, got 0``.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.extends import read_with_extends
from sim.scenario.loading import apply_overrides, validate_data
from sim.scenario.models import Scenario


@dataclass(frozen=True)
class Checked:
    """An edit after validation: the scenario (None when invalid), and its problems and warnings."""

    changes: dict[str, Any]
    scenario: Scenario | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.scenario is not None


class Workspace:
    """One scenario file, read once; :meth:`check` validates edits of it without reading again.

    ``folder`` is the scenario's own folder, where a kept scenario is written (never overwriting);
    ``results_root`` is the one other folder the app writes, the runs' results folders.
    """

    def __init__(self, path: str | os.PathLike[str], results_root: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.source = os.path.normpath(str(self.path))
        self.folder = self.path.parent
        self.results_root = Path(results_root)
        if not self.path.is_file():
            raise ScenarioError([Problem(self.source, None, "", "scenario file not found")])
        self._data, self._locations, self._read_problems, self.files = read_with_extends(self.path, self.source)
        self.baseline = self.check({}).scenario
        if self.baseline is None:  # the original itself does not validate: say why, as validate would
            raise ScenarioError(self.check({}).problems)

    def raw(self) -> dict[str, Any]:
        """The merged data as written (durations as text, ``from`` keys): what the page shows."""
        return copy.deepcopy(self._data)

    def check(self, changes: Mapping[str, Any]) -> Checked:
        """``changes`` (key path → plain value) applied to the original as ``--set`` would, validated."""
        data = copy.deepcopy(self._data)
        locations = dict(self._locations)
        problems = apply_overrides(data, locations, changes)
        try:
            scenario = validate_data(data, locations, self.source, list(self._read_problems) + problems)
        except ScenarioError as error:
            return Checked(dict(changes), None, list(error.problems))
        scenario._source_files = list(self.files)
        return Checked(dict(changes), scenario, [], scenario.warnings)
