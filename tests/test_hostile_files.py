"""Hostile scenario files: each is refused with one located line and never costs the machine anything.

The cases of issue 13, found by trying bordersim as an attacker would: an alias bomb, bytes that are
not UTF-8, ``extends`` pointing at a system file, plus the neighbours of each (an alias loop, deep
nesting, a NUL byte, a byte-order mark, a huge file). Loading goes through the real loader on real
files; the alias bomb also goes through the real console script, whose timeout is only a hang guard.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL_SCENARIO, scenario_problems, write_scenario

from sim.scenario.yaml_lines import MAX_ALIAS_EXPANSION, MAX_FILE_BYTES


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the previous one: width**levels values."""
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\n"


def test_an_alias_bomb_is_refused_at_its_line(tmp_path: Path) -> None:
    (problem,) = scenario_problems(write_scenario(tmp_path, alias_bomb()))
    assert problem.startswith("F:") and "aliases expand this document beyond" in problem
    line = int(problem.split(":")[1])
    assert 1 <= line <= 10


def test_an_alias_bomb_through_the_cli_exits_2_promptly(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, alias_bomb())
    completed = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)], capture_output=True, check=False,
                               text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    assert completed.returncode == 2, completed.stderr
    assert "aliases expand" in completed.stderr and "Traceback" not in completed.stderr


def test_a_few_aliases_are_still_fine(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO.replace("travel: {dist: fixed, value: 6h}", "travel: &six {dist: fixed, value: 6h}")
    text += "reception:\n  omari: {capacity: 100, stay: *six}\n"
    assert scenario_problems(write_scenario(tmp_path, text)) == []


def test_aliases_just_under_the_limit_pass_the_reader(tmp_path: Path) -> None:
    width = 300  # 300 aliases of a 300-item list: 90,000 values, under the limit
    assert width * width < MAX_ALIAS_EXPANSION
    text = "a: &a [" + ", ".join(["1"] * width) + "]\nb: [" + ", ".join(["*a"] * width) + "]\n"
    problems = scenario_problems(write_scenario(tmp_path, MINIMAL_SCENARIO + text))
    assert problems and all("unknown key" in problem for problem in problems)


def test_an_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    (problem,) = scenario_problems(write_scenario(tmp_path, "name: &a [1, *a]\n"))
    assert problem.startswith("F:1: ") and "contains it" in problem


def test_nesting_beyond_the_limit_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    (problem,) = scenario_problems(write_scenario(tmp_path, "name: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert problem.startswith("F:1: ") and "nesting deeper than" in problem


def test_bytes_that_are_not_utf8_are_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert scenario_problems(path) == ["F:1: not UTF-8 text (byte 0: 0xff); save the scenario as UTF-8"]


def test_a_latin1_byte_on_line_three_gives_line_three(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINIMAL_SCENARIO.replace("name: minimal", "name: minimal\n# caf\xe9").encode("latin-1"))
    (problem,) = scenario_problems(path)
    assert problem.startswith("F:2: not UTF-8 text (byte ") and "0xe9" in problem


def test_a_nul_byte_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "nul.yaml"
    path.write_bytes(MINIMAL_SCENARIO.encode() + b"# \x00\n")
    (problem,) = scenario_problems(path)
    assert "not a text file" in problem and problem.startswith(f"F:{MINIMAL_SCENARIO.count(chr(10)) + 1}:")


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL_SCENARIO.encode())
    assert scenario_problems(path) == []


def test_a_huge_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.write(MINIMAL_SCENARIO.encode())
        handle.truncate(MAX_FILE_BYTES + 10)  # sparse: costs no disk
    (problem,) = scenario_problems(path)
    assert "not a scenario file: larger than" in problem


def test_extends_onto_a_system_file_never_echoes_it(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nsecretuser:x:1000:1000::/home/s:/bin/sh\n")
    child = write_scenario(tmp_path, f"name: x\nextends: {secret}\n")
    problems = scenario_problems(child)
    assert len(problems) == 1 and "not a scenario file" in problems[0]
    message = problems[0].replace(str(tmp_path), "")
    assert "root" not in message and "secretuser" not in message and "/bin/" not in message


@pytest.mark.parametrize("content", ["- root\n- daemon\n", "secret_token: abc123\nother: 1\n", "just some text\n",
                                     "KEY=abc123\n", "42\n"])
def test_no_non_scenario_content_reaches_the_message(tmp_path: Path, content: str) -> None:
    base = tmp_path / "notes.txt"
    base.write_text(content)
    for path in (base, write_scenario(tmp_path, "name: x\nextends: notes.txt\n")):
        problems = scenario_problems(path)
        assert len(problems) == 1 and "not a scenario file" in problems[0]
        for word in ("root", "abc123", "secret_token", "some text", "42"):
            assert word not in problems[0].replace(str(tmp_path), "")


@pytest.mark.parametrize("key", ["policies", "uncertain", "slowdowns", "description"])
def test_a_file_with_any_one_scenario_key_is_read_as_a_scenario(tmp_path: Path, key: str) -> None:
    """Only a mapping without a single scenario key is "not a scenario file"; one key suffices."""
    problems = scenario_problems(write_scenario(tmp_path, f"{key}: null\nunknown_thing: 1\n"))
    assert problems and not any("not a scenario file" in problem for problem in problems)
    assert any("unknown_thing" in problem for problem in problems)
