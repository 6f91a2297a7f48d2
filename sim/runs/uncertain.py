"""Parameter uncertainty: values of the scenario drawn once per replication.

A scenario's ``uncertain:`` block maps key paths to distributions::

    uncertain:
      groups.undocumented.never_leave: {dist: uniform, low: 0.4, high: 0.6}
      groups.undocumented.departures.hazard.11.rate: {dist: triangular, low: 0.003, mode: 0.0055, high: 0.009}

In each replication every listed value is replaced by one draw from its distribution, taken from
its own stream ``uncertain/<key.path>`` (``sim.model.streams.stream(seed, replication, name)``), so a
replication's draws depend only on (seed, replication, key path) — never on the executor or on
the other keys — and two scenarios with the same ``uncertain:`` block get the same draws (common
random numbers still hold). Projections then carry what we do not know about the parameters, not
only the randomness of households. A value that is an integer in the scenario (lanes, people) is
rounded to the nearest integer; the varied scenario is validated like any ``--set``.

Beside (or instead of) per-key distributions, ``sample: FILE`` draws all the values of one row of a
weighted sample at once, e.g. a posterior from ``bordersim calibrate`` (joint draws, with their
correlations; see :mod:`sim.scenario.uncertain_sample`). A key path is either in the sample or has a
distribution, not both.
"""
from __future__ import annotations

from typing import Any

from sim.model.streams import stream
from sim.scenario import uncertain_sample
from sim.scenario.keypath import get_path
from sim.scenario.uncertain_sample import SAMPLE_KEY, JointSample

STREAM_PREFIX = "uncertain/"
TOTALS_PREFIX = "uncertain:"
"""Drawn values are reported per replication as totals (and ``replications.csv`` columns) named
``uncertain:<key.path>``."""


def distributions(scenario) -> dict[str, Any]:
    """The per-key distributions of the scenario's ``uncertain:`` block (without its ``sample``)."""
    uncertain = getattr(scenario, "uncertain", None) or {}
    return {key: value for key, value in uncertain.items() if key != SAMPLE_KEY}


def sample_of(scenario) -> JointSample | None:
    """The joint sample named by the scenario's ``uncertain: {sample: FILE}``, if any."""
    path = (getattr(scenario, "uncertain", None) or {}).get(SAMPLE_KEY)
    return uncertain_sample.cached(path) if path else None


def drawn_row(scenario, seed: int, replication: int) -> int | None:
    """The sample row (0-based) this replication runs with, from its stream ``uncertain/sample``."""
    sample = sample_of(scenario)
    if sample is None:
        return None
    return sample.draw_row(stream(seed, replication, uncertain_sample.STREAM_NAME))


def draw(scenario, seed: int, replication: int) -> dict[str, float]:
    """This replication's value of every uncertain key path (integers where the scenario has one):
    one row of the joint sample, if any, and one draw per key distribution."""
    uncertain = getattr(scenario, "uncertain", None) or {}
    if not uncertain:
        return {}
    data = scenario.to_yaml_dict()
    values: dict[str, float] = {}
    row = drawn_row(scenario, seed, replication)
    if row is not None:
        values.update(sample_of(scenario).row_values(row))
    for key, distribution in distributions(scenario).items():
        values[key] = float(distribution.sample(stream(seed, replication, STREAM_PREFIX + key), 1)[0])
    for key, value in values.items():
        current = get_path(data, key)
        values[key] = round(value) if isinstance(current, int) and not isinstance(current, bool) else value
    return values


def totals(scenario, seed: int, replication: int) -> dict[str, float]:
    """What a replication reports of its draws (``replications.csv`` columns): ``uncertain:<key>``
    per drawn value, and ``uncertain:sample_row`` (1 = the first data row of the file)."""
    reported = {TOTALS_PREFIX + key: value for key, value in draw(scenario, seed, replication).items()}
    row = drawn_row(scenario, seed, replication)
    if row is not None:
        reported[uncertain_sample.ROW_TOTAL] = row + 1
    return reported


def apply(scenario, seed: int, replication: int):
    """``scenario`` with this replication's draws of its uncertain values (itself if it has none)."""
    values = draw(scenario, seed, replication)
    if not values:
        return scenario
    from sim.scenario.errors import Problem, ScenarioError
    from sim.scenario.loading import scenario_from_dict_with_overrides

    # The replication's scenario is concrete: its uncertain block is dropped, so the sample file is
    # neither re-read nor needed where the replication runs.
    data = scenario.to_yaml_dict()
    data.pop("uncertain", None)
    try:
        return scenario_from_dict_with_overrides(data, values, source=scenario.source or "<scenario>")
    except ScenarioError as error:
        drawn = ", ".join(f"{key}={value:g}" for key, value in values.items())
        raise ScenarioError([Problem(scenario.source or "<scenario>", None, "uncertain",
                                     f"replication {replication} drew values the scenario rejects ({drawn}): "
                                     f"{str(error).splitlines()[0]}")]) from None
