"""The release is one number, ``sim.__version__``, and every place a user reads it says the same:
``bordersim --version``, the changelog's newest entry, CITATION.cff and each results folder's manifest."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

import sim

ROOT = Path(__file__).resolve().parents[1]


def bordersim_command() -> list[str]:
    script = Path(sys.executable).with_name("bordersim")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sim"]


def test_version_is_semantic():
    assert re.fullmatch(r"\d+\.\d+\.\d+", sim.__version__)


def test_bordersim_version_prints_the_release():
    completed = subprocess.run([*bordersim_command(), "--version"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"bordersim {sim.__version__}"


def test_pyproject_takes_the_version_from_the_package():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in text
    assert 'version = { attr = "sim.version.__version__" }' in text


def test_changelog_newest_entry_is_this_release():
    headings = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert headings and headings[0] == sim.__version__


def test_citation_names_this_release():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    assert str(citation["version"]) == sim.__version__
    assert citation["title"] and citation["authors"]


def test_a_manifest_records_the_release(tmp_path):
    out = tmp_path / "bound"
    completed = subprocess.run(
        [*bordersim_command(), "bound", str(ROOT / "scenarios" / "phase1-2023.yaml"), "--out", str(out), "-q"],
        capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tool_version"] == sim.__version__
