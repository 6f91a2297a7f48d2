"""Reading YAML through libyaml's parser gives what PyYAML alone gives: the same values, the same
lines, the same errors (sim.scenario.yaml_lines.FastLineLoader, used for start-up speed).

The two readers are compared on every bundled scenario and on a few thousand mutated copies of
them (seeded, so a failure is reproducible): wherever the fast reader answers, its answer must be
PyYAML's; wherever it refuses, PyYAML reads the text again (so the user sees PyYAML's message).
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from sim.scenario.errors import ScenarioError
from sim.scenario.yaml_lines import _READ_BY_PYYAML, FastLineLoader, LineLoader, parse_yaml_text

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

# What mutations insert: YAML's indicators and the values the scenario format cares about.
PIECES = list(" \n:-[]{},\"'#&*!%|>?@`") + [
    "  ", "\n  ", ": ", "- ", "08:00", "8:00", '"08:00"', "1_000", "~", "null", "\\", "\r", "\r\n", "\x85",
    "\u2028", "\ufeff", "\t", "é", "\x07", "<<: *a", "&a ", "*a", "---", "...", "%YAML 1.1\n", "!!str ",
    "!!float ", "!!binary ", "!!set ", "!!omap ", "!local ", "? ", "2023-13-01", "0x1F", "0o17", "1e3",
    ".inf", "yes", "190:20:30", "|", ">-", "|+2", "''", "\\x41", " #",
]


def reading(loader: type, text: str) -> tuple:
    """What ``loader`` makes of ``text``: the values with every line and type, or the error."""
    try:
        return ("read", _described(yaml.load(text, Loader=loader)))
    except Exception as error:  # noqa: BLE001 - the error is the answer being compared
        return ("refused", type(error).__name__, str(error))


def _described(value) -> tuple:
    if isinstance(value, dict):
        return (type(value).__name__, [(_described(key), _described(item)) for key, item in value.items()],
                getattr(value, "key_lines", None), getattr(value, "duplicates", None))
    if isinstance(value, list):
        return (type(value).__name__, [_described(item) for item in value], getattr(value, "item_lines", None))
    return (type(value).__name__, repr(value), getattr(value, "line", None))


def mutated(text: str, rng: random.Random) -> str:
    """A few lines of ``text`` with one to four insertions, deletions or copied stretches."""
    lines = text.splitlines(keepends=True)
    start = rng.randrange(len(lines))
    text = "".join(lines[start:start + rng.randint(3, 40)])
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        choice = rng.random()
        if choice < 0.5:
            text = text[:at] + rng.choice(PIECES) + text[at:]
        elif choice < 0.75:
            text = text[:at] + text[at + rng.randint(1, 5):]
        else:
            source = rng.randrange(len(text) + 1)
            text = text[:at] + text[source:source + rng.randint(1, 30)] + text[at:]
    return text


def test_the_fast_reader_is_in_use() -> None:
    """PyYAML's wheels carry libyaml: without it the start-up measurements mean nothing."""
    assert FastLineLoader is not LineLoader


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.name for path in SCENARIOS])
def test_bundled_scenarios_read_alike(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = reading(FastLineLoader, text)
    assert fast[0] == "read"
    assert fast == reading(LineLoader, text)


def test_mutated_scenarios_read_alike() -> None:
    rng = random.Random(20231003)
    texts = [path.read_text(encoding="utf-8") for path in SCENARIOS]
    answered = 0
    for _ in range(1500):
        text = mutated(rng.choice(texts), rng)
        if _READ_BY_PYYAML.search(text):
            continue  # only PyYAML reads these
        fast = reading(FastLineLoader, text)
        if fast[0] == "refused" and fast[1] != "ValueError":
            continue  # parse_yaml_text reads it again with PyYAML
        answered += 1
        assert fast == reading(LineLoader, text), text
    assert answered > 400  # the mutations are not all refused: the comparison compares something


@pytest.mark.parametrize("text", [
    "a:\tb\n",                    # a tab after the colon: libyaml reads it as a space
    "a: {b: 2023-11-01?, c: 1}\n",  # "?" ends a plain scalar in a flow mapping, for PyYAML
    "a: |# note\n  b\n",           # a comment right after a block scalar's "|"
    "a: 1\n\ufeff\n",               # a byte-order mark after the start: libyaml skips it
    "# note\n\ufeff",
])
def test_texts_libyaml_reads_otherwise_are_read_by_pyyaml(text: str) -> None:
    pure = reading(LineLoader, text)
    assert reading(yaml.CSafeLoader, text)[:2] != pure[:2]  # libyaml alone would answer otherwise
    try:
        answer = ("read", _described(parse_yaml_text(text, "f.yaml")))
    except ScenarioError as error:
        assert pure[0] == "refused"
        assert "YAML syntax error" in str(error)
    else:
        assert answer == pure


def test_an_error_is_worded_by_pyyaml() -> None:
    text = "a: [1, 2\nb: 3\n"
    with pytest.raises(yaml.MarkedYAMLError) as pure:
        yaml.load(text, Loader=LineLoader)
    with pytest.raises(ScenarioError) as raised:
        parse_yaml_text(text, "f.yaml")
    assert pure.value.problem in str(raised.value)
    assert str(raised.value).startswith("f.yaml:")


def test_unquoted_time_is_caught_by_the_fast_reader() -> None:
    """libyaml marks plain scalars with style "" where PyYAML has None: the unquoted-time check
    (which looks at the style) must still see them."""
    data = yaml.load("hours: 08:00\nat: 20:00\nquoted: '08:00'\n", Loader=FastLineLoader)
    assert type(data["hours"]).__name__ == "UnquotedTime" and data["hours"].line == 1
    assert type(data["at"]).__name__ == "UnquotedTime" and data["at"].line == 2
    assert type(data["quoted"]) is str
