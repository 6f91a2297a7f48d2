"""Figures and the HTML report: drawn for every bundled scenario, and opened in a real browser.

The browser test opens the report in Debian's ``chromium`` (``/usr/bin/chromium``) wherever one is
found. CI sets ``BORDERSIM_REQUIRE_BROWSER=1`` (``.ci/run``, which installs chromium), and then a
missing browser fails the test: a report nobody has seen render is not tested there. On a fresh
machine without a browser (the README's test command) the same page checks run on the text of the
HTML as Python's parser reads it, and only the screenshot is left out.
"""
from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim import load_scenario, run
from sim.cli import app
from sim.outputs import figures
from sim.outputs.report import NotARunFolder, assumptions, load_run_folder, write_report

ROOT = Path(__file__).resolve().parent.parent
# Every bundled scenario, but of the long arc only its baseline: its variants draw the same figures
# from the same model, at ~3 s a replication each.
SCENARIOS = sorted(path for path in (ROOT / "scenarios").glob("*.yaml") if not path.stem.startswith("arc-2023-2025-"))
SMALL = ROOT / "tests" / "golden" / "small-scenario.yaml"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


REQUIRE_BROWSER = os.environ.get("BORDERSIM_REQUIRE_BROWSER", "") not in ("", "0")


def find_chromium() -> str | None:
    """The chromium executable, or None; with ``BORDERSIM_REQUIRE_BROWSER=1`` a missing one fails."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    assert path or not REQUIRE_BROWSER, ("chromium is required when BORDERSIM_REQUIRE_BROWSER=1 "
                                         "(Debian package 'chromium'; .ci/run installs it)")
    return path


def chromium() -> str:
    path = find_chromium()
    assert path, "no chromium found"
    return path


class _TextOf(HTMLParser):
    """The visible text of an HTML page (what a browser's DOM dump gives, without tags or styles)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag) -> None:
        self._skip -= tag in ("style", "script") and self._skip > 0

    def handle_data(self, data) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(tmp_path: Path, report: Path) -> str:
    """The report's text as rendered: chromium's DOM dump where a browser is found, else the HTML
    parsed by Python (the fallback of a machine without a browser; see the module docstring)."""
    if find_chromium() is not None:
        dom = browser(tmp_path, "--dump-dom", report.as_uri())
        assert dom.returncode == 0, dom.stderr[-2000:]
        html = dom.stdout
    else:
        html = report.read_text(encoding="utf-8")
    parser = _TextOf()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def browser(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
                          capture_output=True, text=True, timeout=180, check=False)


def png_size_and_colours(data: bytes) -> tuple[tuple[int, int], int, float]:
    """(width, height), number of distinct colours, and the share of pixels that are not white."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    pixels = np.asarray(image).reshape(-1, 3)
    distinct = len(np.unique(pixels.view(np.dtype((np.void, 3)))))
    not_white = float((pixels.min(axis=1) < 245).mean())
    return image.size, distinct, not_white


@pytest.fixture(scope="module")
def run_folders(tmp_path_factory) -> dict[str, Path]:
    """Every bundled scenario, 2 replications, saved as a results folder."""
    root = tmp_path_factory.mktemp("runs")
    folders = {}
    for path in SCENARIOS:
        result = run(load_scenario(path), replications=2, jobs=2)
        folders[path.stem] = result.save(root / path.stem)
    return folders


@pytest.mark.parametrize("name", [path.stem for path in SCENARIOS])
def test_figures_for_every_bundled_scenario(run_folders, name):
    folder = load_run_folder(run_folders[name])
    specs = figures.run_figures(folder.tables, target_people=folder.target_people, target_by=folder.target_by,
                                capacities={"camp": folder.capacities("camp"),
                                            "reception": folder.capacities("reception")})
    reached = folder.tables["reached_by_month"]
    # The reached-date figure is drawn once some replication reached the target within the period.
    when = ["reached"] if reached is not None and reached["share_reached"].max() > 0 else []
    # Camps and reception centres are drawn where the scenario has them (the SBC cases have neither).
    places = [name for name, kind in (("camps", "camp"), ("reception", "reception")) if folder.capacities(kind)]
    assert [spec.name for spec in specs] == ["crossed", *when, "daily-crossings", "queues-waits", *places]
    for spec in specs:
        axes = spec.figure.get_axes()
        assert axes and all(ax.has_data() for ax in axes if ax.get_label() != "<colorbar>"), spec.name
        # Dates on the x axes, units on the y axes.
        assert all(ax.get_ylabel() for ax in axes), spec.name
    buffer = io.BytesIO()
    specs[0].figure.savefig(buffer, format="png")
    size, distinct, not_white = png_size_and_colours(buffer.getvalue())
    assert size[0] > 500 and distinct > 20 and not_white > 0.02


def test_report_in_headless_chromium(run_folders, tmp_path):
    folder = run_folders["phase1-2023"]
    result = CliRunner().invoke(app, ["report", str(folder)])  # the command, which calls write_report
    assert result.exit_code == 0, result.output
    report = folder / "report.html"
    assert result.output.strip() == f"report: {report}"
    for name in ("crossed", "daily-crossings", "queues-waits", "camps", "reception", "needs"):
        for suffix in (".png", ".svg"):
            assert (folder / "figures" / f"{name}{suffix}").stat().st_size > 5000, name
    text = report.read_text(encoding="utf-8")
    # Self-contained: no external resource (figures are data: URIs, no script, no style sheet link).
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text)
    assert "<script" not in text and text.count("data:image/png;base64,") == 6  # with the needs figure

    if find_chromium() is not None:
        screenshot = tmp_path / "report.png"
        shot = browser(tmp_path, f"--screenshot={screenshot}", "--window-size=1280,2000", report.as_uri())
        assert screenshot.is_file(), shot.stderr[-2000:]
        size, distinct, not_white = png_size_and_colours(screenshot.read_bytes())
        assert size == (1280, 2000)
        assert distinct > 200, "the page looks blank"
        assert not_white > 0.05, "the page looks blank"

    page = page_text(tmp_path, report)
    summary = pd.read_csv(folder / "summary.csv").set_index("metric")
    p = summary.loc["p_target_reached"]
    crossed = summary.loc["crossed_by_target_date"]
    expected = [
        f"P(target by 2024-01-31) = {p['mean']:.2f} [{p['ci95_low']:.2f}, {p['ci95_high']:.2f}]",
        f"{crossed['p50']:,.0f}",
        f"{crossed['p05']:,.0f}",
        f"{crossed['p95']:,.0f}",
        f"{summary.loc['peak_queue_people', 'p50']:,.0f}",
        f"{summary.loc['wait_hours_p95', 'p50']:.1f} h",
        f"{summary.loc['peak_waiting_outside_people', 'p50']:,.0f}",
        "departures bind",
        "crossings.torkham.lanes",  # assumptions
        "Bugti",  # a source comment from scenario.yaml
        "20231003",  # manifest: seed
    ]
    for fragment in expected:
        assert fragment in page, fragment
    # The answer comes first: before the first figure.
    assert page.index("P(TARGET)" if "P(TARGET)" in page else "P(target)") < page.index("People crossed")


def test_the_text_checked_without_a_browser_is_the_pages_text(run_folders):
    """The fallback of a machine without chromium reads the same answer from the HTML itself."""
    folder = run_folders["phase1-2023"]
    write_report(folder)
    parser = _TextOf()
    parser.feed((folder / "report.html").read_text(encoding="utf-8"))
    text = re.sub(r"\s+", " ", " ".join(parser.parts))
    p = pd.read_csv(folder / "summary.csv").set_index("metric").loc["p_target_reached"]
    assert f"P(target by 2024-01-31) = {p['mean']:.2f} [{p['ci95_low']:.2f}, {p['ci95_high']:.2f}]" in text
    assert "{" not in text.split("P(target")[0][-200:], "style sheet text leaked into the page text"


def test_assumptions_carry_values_and_source_comments(run_folders):
    rows = {row.key: row for row in assumptions(load_run_folder(run_folders["phase1-2023-double-lanes"]))}
    lanes = rows["crossings.torkham.lanes"]
    assert lanes.value == "110" and "2 x the baseline's 55" in lanes.comment
    assert lanes.where.startswith("scenario.yaml:")
    people = rows["groups.undocumented.people"]  # inherited from the base file, with its comment
    assert people.value == "1_730_000" and "Bugti" in people.comment and people.where.startswith("base-1-")
    hazard = rows["groups.undocumented.departures.hazard.0"]
    assert "rate: 0.00055" in hazard.value and "assumption" in hazard.comment


def test_cli_run_report_and_report_command(tmp_path):
    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(SMALL), "-n", "2", "-j", "1", "--out", str(out), "-q", "--report"])
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.html'}" in result.output
    assert (out / "report.html").stat().st_size > 10_000
    assert "P(target by 2023-11-21)" in (out / "report.html").read_text(encoding="utf-8")
    assert (out / "figures" / "crossed.svg").is_file()


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_report_of_a_folder_that_is_not_a_run_exits_2(tmp_path, make):
    target = tmp_path / "x"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("hello")
    result = CliRunner().invoke(app, ["report", str(target)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(target) in lines[0]
    with pytest.raises(NotARunFolder):
        load_run_folder(target)


def _compare_table() -> pd.DataFrame:
    rows = []
    for scenario, shift in (("base", 0.0), ("double-lanes", 1.0)):
        for metric, mean in (("p_target", 0.2), ("target_reached_day", 120.0), ("crossed_by_target_date", 5e5),
                             ("peak_queue_people", 1.5e4), ("wait_hours_p95", 12.0),
                             ("peak_waiting_outside_people", 1e3)):
            value = mean * (1 + 0.3 * shift)
            diff = (value - mean) if shift else math.nan
            rows.append((scenario, f"{scenario}.yaml", metric, value, value * 0.9, value * 1.1, value * 0.8, value,
                         value * 1.2, diff, diff - 0.1 * mean if shift else math.nan,
                         diff + 0.1 * mean if shift else math.nan))
    return pd.DataFrame(rows, columns=["scenario", "file", "metric", "mean", "ci95_low", "ci95_high", "p05", "p50",
                                       "p95", "diff_vs_first", "diff_ci95_low", "diff_ci95_high"])


def test_compare_sweep_and_tornado_figures_from_their_tables():
    assert figures.compare_chart(_compare_table()) is not None
    assert figures.compare_differences_chart(_compare_table()) is not None
    grid = pd.DataFrame([{"point": i, "crossings.torkham.lanes": lanes, "groups.undocumented.never_leave": stay,
                          "replications": 4, "p_target": min(1.0, lanes / 100 - stay),
                          "p_target_ci95_low": 0.0, "p_target_ci95_high": 1.0}
                         for i, (lanes, stay) in enumerate((a, b) for a in (40, 60, 80) for b in (0.2, 0.4))])
    heatmap = figures.sweep_chart(grid)
    assert heatmap is not None and heatmap.get_axes()[0].images
    line = figures.sweep_chart(grid[grid["groups.undocumented.never_leave"] == 0.2]
                               .drop(columns="groups.undocumented.never_leave"))
    assert line is not None and line.get_axes()[0].lines
    sensitivity = pd.DataFrame([
        {"key": "crossings.torkham.lanes", "base_value": 55, "low": 40, "high": 80, "p_target_base": 0.3,
         "p_target_at_low": 0.1, "p_target_at_high": 0.6, "crossed_base": 5e5, "crossed_at_low": 4.5e5,
         "crossed_at_high": 5.6e5},
        {"key": "groups.undocumented.never_leave", "base_value": 0.5, "low": 0.3, "high": 0.6,
         "p_target_base": 0.3, "p_target_at_low": 0.5, "p_target_at_high": 0.25, "crossed_base": 5e5,
         "crossed_at_low": 6e5, "crossed_at_high": 4.8e5},
    ])
    rows = figures.tornado_rows(sensitivity, "p_target")
    assert list(rows["low"].round(2)) == [0.2, -0.2] and list(rows["high"].round(2)) == [-0.05, 0.3]
    tornado = figures.tornado_chart(sensitivity)
    assert tornado is not None and len(tornado.get_axes()) == 2
    dates = pd.date_range("2023-09-15", periods=4, freq="D").strftime("%Y-%m-%d")
    bound = pd.concat([pd.DataFrame({"date": dates, "node": node, "ceiling_people": per_day,
                                     "ceiling_people_cumulative": np.cumsum(per_day)})
                       for node, per_day in (("torkham", [10.0, 10, 0, 10]), ("all", [15.0, 15, 5, 15]))])
    assert figures.bound_series(bound)["ceiling"].tolist() == [15, 30, 35, 50]
    assert figures.bound_daily(bound, "torkham")["ceiling"].tolist() == [10, 10, 0, 10]
    for absent in (None, pd.DataFrame()):
        assert figures.compare_chart(absent) is None and figures.sweep_chart(absent) is None
        assert figures.tornado_chart(absent) is None
