"""The documentation site builds strictly, its generated reference pages match the code, and no page
a user reads depends on files outside the repository.

``mkdocs build --strict`` fails on any warning: a broken link between pages, a missing anchor, a
page that cannot be read. The site is built into a temporary folder, so the tree stays clean.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_site_builds_strictly_in_reading_order(tmp_path):
    site = tmp_path / "site"
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**_environment(), "NO_MKDOCS_2_WARNING": "1"})
    assert completed.returncode == 0, completed.stderr[-4000:]
    for page in ("reference/scenario-format/index.html", "reference/commands/index.html",
                 "reference/outputs/index.html", "tutorial/first-scenario/index.html",
                 "explanation/model/index.html"):
        assert (site / page).is_file(), page
    # The nav hook orders the sections as a reader needs them, whatever pages exist.
    titles = nav_titles((site / "index.html").read_text(encoding="utf-8"))
    sections = [title for title in titles if title in ("Tutorial", "How-to guides", "Reference", "Explanation")]
    assert sections[:4] == ["Tutorial", "How-to guides", "Reference", "Explanation"], titles
    assert titles.index("Scenario format") < titles.index("Commands") < titles.index("Output files, columns and metrics")


def nav_titles(html: str) -> list[str]:
    """The titles of the primary navigation, in order."""
    primary = html[html.find("md-nav--primary"):]
    return re.findall(r'<span class="md-ellipsis">\s*([^<]+?)\s*</span>', primary)


def _environment() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_generated_reference_pages_are_current():
    completed = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_reference.py"), "--check"],
                               cwd=ROOT, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr


def test_every_scenario_model_field_is_in_the_reference():
    from sim.scenario import Scenario

    page = (ROOT / "docs" / "reference" / "scenario-format.md").read_text(encoding="utf-8")
    definitions = Scenario.model_json_schema(by_alias=True)["$defs"]
    for name, model in definitions.items():
        for field in model.get("properties", {}):
            if field != "dist":
                assert f"| `{field}` |" in page, f"{name}.{field}"


USER_FACING = ["README.md", "scenarios/README.md", "results/README.md", "CHANGELOG.md"]


def _user_facing_pages() -> list[Path]:
    pages = [ROOT / name for name in USER_FACING if (ROOT / name).is_file()]
    return pages + sorted((ROOT / "docs").rglob("*.md")) + sorted((ROOT / "scenarios").glob("*.yaml"))


def test_no_user_facing_page_depends_on_files_beside_the_repository():
    offenders = [str(page.relative_to(ROOT)) for page in _user_facing_pages()
                 if "../shared" in (text := page.read_text(encoding="utf-8")) or "/work/shared" in text]
    assert not offenders, f"these pages send readers to ../shared/, which a clone does not have: {offenders}"


def test_the_benchmark_mentions_the_shared_folder_only_as_an_optional_extra():
    for path in sorted((ROOT / "bench").glob("*.*")):
        if path.suffix not in {".py", ".md"}:
            continue
        for mention in re.finditer(r"\.\./shared/\S*", path.read_text(encoding="utf-8")):
            assert "naive_reference.py" in mention.group(0), f"{path.name}: {mention.group(0)}"


def test_every_output_column_and_metric_is_documented():
    """Run the golden scenario (every part of the model) once and look up every column and daily
    metric it writes in docs/reference/outputs.md."""
    from sim import load_scenario, run

    page = (ROOT / "docs" / "reference" / "outputs.md").read_text(encoding="utf-8")
    result = run(load_scenario(ROOT / "tests" / "golden" / "small-scenario.yaml"), replications=2, seed=3, jobs=1)
    names = set(result.daily["metric"]) | set(result.daily["node_type"]) | set(result.summary["metric"])
    for table in (result.daily, result.replications, result.projection, result.summary, result.reached_by_month):
        names |= set(table.columns)
    # One summary row per month end: documented once, as p_reached_by_<YYYY-MM-DD>.
    names = {re.sub(r"^p_reached_by_\d{4}-\d{2}-\d{2}$", "p_reached_by_<YYYY-MM-DD>", name) for name in names}
    missing = sorted(name for name in names if f"`{name}`" not in page and f"{name}," not in page
                     and f", {name}" not in page)
    assert not missing, f"not described in docs/reference/outputs.md: {missing}"


def test_the_readme_starts_with_the_two_commands():
    start = (ROOT / "README.md").read_text(encoding="utf-8").split("\n")[:8]
    assert start == [
        "# bordersim", "",
        "```bash",
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/bordersim run scenarios/phase1-2023.yaml -n 20",
        "```", "```bash",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest -q",
        "```"]
