"""The scenario file format: what a user writes, and everything that checks it.

A scenario is one YAML file (optionally ``extends`` a base) read safely with the line of every key
(:mod:`~sim.scenario.yaml_lines`), merged (:mod:`~sim.scenario.extends`), overridden by ``--set``
key paths (:mod:`~sim.scenario.keypath`), validated as pydantic models (:mod:`~sim.scenario.models`,
:mod:`~sim.scenario.types`, :mod:`~sim.scenario.distributions`) and cross-checked
(:mod:`~sim.scenario.checks`); every problem is reported located by file, line and key path
(:mod:`~sim.scenario.errors`, :mod:`~sim.scenario.messages`). :mod:`~sim.scenario.loading` ties the
steps together. This layer knows nothing of the model that simulates a scenario.
"""
from __future__ import annotations

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.loading import load_scenario, load_scenario_with_warnings, scenario_from_dict
from sim.scenario.models import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "load_scenario", "load_scenario_with_warnings",
           "scenario_from_dict"]
