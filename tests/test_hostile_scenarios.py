"""Hostile scenarios and ``--set`` values through the real command: exit 0, or exit 2 located — nothing else.

Mutations of the bundled scenarios (:mod:`tests.hostile_mutations`: types, values, structure,
bytes, aliases, sizes) go through ``bordersim validate``; a smaller share of valid-looking ones
also through ``bordersim run -n 1``, whose size guard must refuse what would not fit. Every case
is a separate process under a timeout and a memory limit (:mod:`tests.hostile`).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hostile import BUNDLED, EXAMPLES, assert_clean, bordersim, bordersim_script, copy_scenarios
from hostile_mutations import (
    HOSTILE_VALUES,
    any_mutation,
    key_paths,
    scenario_data,
    size_mutation,
    structured_mutation,
    write_case,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

PROFILE = {"deadline": None, "derandomize": True, "database": None, "print_blob": True,
           "phases": [Phase.explicit, Phase.generate],  # no shrinking: the label says what was done
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large]}


def budget(examples: int) -> settings:
    """A fixed example budget (``BORDERSIM_HOSTILE_EXAMPLES`` overrides it for a long hunt)."""
    return settings(max_examples=EXAMPLES or examples, **PROFILE)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The bundled scenarios copied into a scratch folder; mutants are written beside them."""
    return copy_scenarios(tmp_path_factory.mktemp("hostile"))


@budget(100)
@given(case=any_mutation())
def test_validate_a_mutated_scenario(folder: Path, case: tuple[str, bytes]) -> None:
    _label, content = case
    path = write_case(folder, content)
    # A base file (extends) may be what is at fault: its own path, in the scratch folder, names it.
    assert_clean(bordersim("validate", path), names=("mutant.yaml", "phase1-2023", str(folder)))


@budget(8)
@given(case=st.one_of(size_mutation(), structured_mutation(["phase1-2023-everyone-leaves.yaml"])))
def test_run_a_mutated_scenario(folder: Path, case: tuple[str, bytes], tmp_path_factory) -> None:
    _label, content = case
    path = write_case(folder, content, "mutant-run.yaml")
    out = tmp_path_factory.mktemp("out") / "run"
    outcome = bordersim("run", path, "-n", "1", "-j", "1", "-q", "--out", out, "--max-hours", "0.01")
    assert_clean(outcome, names=("mutant-run.yaml", "too large", "would take hours", "--"))
    assert out.is_dir() == (outcome.code == 0)


PATHS = sorted({".".join(map(str, path)) for path in key_paths(scenario_data("phase1-2023.yaml"))})
GARBAGE_PATHS = st.sampled_from(["", ".", "..", "groups..people", "groups.undocumented.", "slowdowns.99.factor",
                                 "slowdowns.-1.factor", "slowdowns.x", "name.first", "period.start.year",
                                 "crossings.torkham.lanes.0", "uncertain.a.b", "=", "a=b", "groups.*.people",
                                 "x" * 300, "groups.undocumented.departures.hazard.1e3.rate"])


@budget(40)
@given(key=st.one_of(st.sampled_from(PATHS), GARBAGE_PATHS, st.text(max_size=20)),
       value=st.one_of(HOSTILE_VALUES.map(str), st.text(max_size=20),
                       st.sampled_from(["[1, 2", "{a: 1}", "&a [*a]", "!!python/object:os.system", "'"])))
def test_validate_with_a_hostile_set(folder: Path, key: str, value: str) -> None:
    outcome = bordersim("validate", folder / "phase1-2023.yaml", "--set", f"{key}={value}")
    assert_clean(outcome, names=("--set", "phase1-2023.yaml"))


@pytest.mark.parametrize("name", BUNDLED)
def test_the_bundled_scenarios_themselves_validate(folder: Path, name: str) -> None:
    outcome = bordersim("validate", folder / name)
    assert outcome.code == 0, outcome.describe()


def test_the_forked_command_and_the_console_script_agree(folder: Path) -> None:
    """The harness's forked entry point and a fresh ``python -m sim`` give the same answer."""
    path = write_case(folder, b"name: x\nextends: /etc/passwd\n", "agree.yaml")
    forked, script = bordersim("validate", path), bordersim_script("validate", path)
    assert (forked.code, forked.stderr) == (script.code, script.stderr) and forked.code == 2


@pytest.mark.parametrize("tagged", ["!!int abc", "!!float xyz", "!!bool maybe", "!!timestamp soon",
                                    "!!timestamp 2023-13-01", "!!int 1.5"])
def test_a_value_tagged_with_a_type_it_does_not_have_is_refused_at_its_key(folder: Path, tagged: str) -> None:
    """PyYAML's own constructors fail on these with a bare ValueError, KeyError or AttributeError
    (once an internal error, exit 1): the value reaches validation as its text, which names the key."""
    path = write_case(folder, f"extends: phase1-2023.yaml\nrun:\n  seed: {tagged}\n".encode(), "tagged.yaml")
    for outcome in (bordersim("validate", path), bordersim("validate", folder / "phase1-2023.yaml",
                                                            "--set", f"run.seed={tagged}")):
        assert_clean(outcome)
        assert outcome.code == 2 and "run.seed" in outcome.stderr, outcome.describe()
