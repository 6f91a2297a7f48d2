"""``bordersim explore``: the app over HTTP, and the page in a real browser.

The browser test drives Debian's ``chromium`` (``/usr/bin/chromium``) with Playwright pointed at that
executable (Playwright never downloads a browser here). As in tests/test_report.py, CI sets
``BORDERSIM_REQUIRE_BROWSER=1`` and then a missing browser (or Playwright) fails the test; on a
machine without them the same steps (load the baseline, double Torkham's lanes, see the preview
change, run 4 replications, read P(target), download the YAML and validate it) run over HTTP
against the JSON API the page itself calls.

The HTTP tests use a copy of the scenario in a temporary folder, so what the app writes (a kept
scenario, results folders) lands there.
"""
from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_report import CHROMIUM_FLAGS, REQUIRE_BROWSER, find_chromium
from typer.testing import CliRunner

from sim import load_scenario
from sim.cli import app as cli_app
from sim.explorer.app import ExplorerApp, observed_points
from sim.explorer.jobs import RunRefused, check_size
from sim.explorer.server import make_server

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "phase1-2023.yaml"
SMALL = ROOT / "tests" / "golden" / "small-scenario.yaml"
ARC = ROOT / "scenarios" / "arc-2023-2025.yaml"
LANES = "crossings.torkham.lanes"
SCREENSHOT = os.environ.get("BORDERSIM_EXPLORE_SCREENSHOT")
"""Set to a PNG path to save the browser test's page there (how docs/images/explore.png is made)."""


class Served:
    """An explorer serving a copy of ``scenario`` on a free port, in this process."""

    def __init__(self, scenario: Path, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.scenario = folder / scenario.name
        shutil.copy(scenario, self.scenario)
        self.results = folder / "results"
        self.app = ExplorerApp(self.scenario, self.results)
        self.server = make_server(self.app, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def get(self, path: str) -> tuple[int, bytes, dict]:
        return self._open(urllib.request.Request(self.url + path))

    def post(self, path: str, body) -> tuple[int, bytes, dict]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self._open(urllib.request.Request(self.url + path, data=data, method="POST",
                                                 headers={"Content-Type": "application/json"}))

    def json(self, path: str, body=None) -> dict:
        status, data, _ = self.get(path) if body is None else self.post(path, body)
        assert status == 200, data[:500]
        return json.loads(data)

    @staticmethod
    def _open(request) -> tuple[int, bytes, dict]:
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def wait(self, job_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.json(f"/api/job/{job_id}")
            if status["state"] != "running":
                return status
            time.sleep(0.2)
        raise AssertionError(f"run {job_id} did not finish in {timeout} s")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    served = Served(SMALL, tmp_path_factory.mktemp("small"))
    yield served
    served.close()


def validate_cli(path: Path, *sets: str) -> tuple[int, str]:
    arguments = ["validate", str(path)] + [part for value in sets for part in ("--set", value)]
    result = CliRunner().invoke(cli_app, arguments)
    return result.exit_code, result.output


def test_form_is_generated_from_the_scenario_models(small):
    form = small.json("/api/form")
    inputs = {item["path"]: item for section in form["sections"] for item in section["inputs"]}
    tables = {table["path"]: table for section in form["sections"] for table in section["tables"]}
    lanes = inputs[LANES]
    assert (lanes["kind"], lanes["value"], lanes["minimum"]) == ("integer", "2", 1)  # PositiveInt in the model
    assert inputs["groups.undocumented.never_leave"]["maximum"] == 1  # Share: 0..1
    assert inputs["target.by"]["kind"] == "date"
    assert [column["path"] for column in tables["slowdowns"]["columns"]][:4] == ["at", "from", "to", "factor"]
    assert tables["groups.por.departures.schedule"]["columns"][1]["path"] == "per_day"
    assert form["preview"]["crossed_cumulative"][-1] > 0


def page_values(form: dict) -> dict:
    """Every input's text and every table's rows, unchanged: what the page sends before any edit."""
    values = {item["path"]: item["value"] for section in form["sections"] for item in section["inputs"]}
    values.update({table["path"]: table["rows"] for section in form["sections"] for table in section["tables"]})
    return values


def test_a_departures_table_keeps_every_field_its_steps_use(tmp_path):
    """The arc's steps give rate or people_per_day, and a deportation share: a table edit rewrites
    the whole list, so each of them has a column (an edit elsewhere in the table loses nothing)."""
    explorer = ExplorerApp(ARC, tmp_path / "results")
    form = explorer.form()
    tables = {table["path"]: table for section in form["sections"] for table in section["tables"]}
    hazard = tables["groups.undocumented.departures.hazard"]
    assert [column["path"] for column in hazard["columns"]] == ["from", "rate", "people_per_day", "deported_share"]
    values = page_values(form)
    rows = [list(row) for row in values[hazard["path"]]]
    assert rows[13][:3] == ["2024-01-01", "", "330"]
    rows[13][2] = "400"
    changes = explorer.checked({"values": {**values, hazard["path"]: rows}}).changes
    steps = changes[hazard["path"]]
    assert steps[13] == {"from": datetime.date(2024, 1, 1), "people_per_day": 400, "deported_share": 0.03}
    assert steps[3] == {"from": datetime.date(2023, 10, 25), "rate": 0.0092}


@pytest.mark.parametrize("scenario", [SMALL, BASELINE])
def test_unchanged_inputs_make_no_change(tmp_path, scenario):
    explorer = ExplorerApp(scenario, tmp_path / "results")
    values = page_values(explorer.form())
    checked = explorer.checked({"values": values})
    assert checked.ok and checked.changes == {}
    assert explorer.checked({"values": {**values, LANES: " 3 "}}).changes == {LANES: 3}


def test_observed_figures_only_where_the_scenario_counts_like_them():
    points = observed_points(load_scenario(BASELINE))  # UN running totals since 15 Sep 2023
    assert ("2023-11-13", 261240.0, False) in points and ("2023-11-24", 400000.0, True) in points
    assert all("2023-09-15" <= day <= "2024-01-31" for day, _, _ in points)
    assert observed_points(load_scenario(SMALL)) == []  # starts on 1 Nov 2023: nothing counts like it


def test_an_edit_is_validated_with_the_messages_of_validate(small):
    answer = small.json("/api/check", {"values": {LANES: "0"}})
    code, output = validate_cli(small.scenario, f"{LANES}=0")
    assert code == 2 and not answer["ok"] and answer["preview"] is None
    assert [problem["text"] for problem in answer["problems"]] == [line for line in output.splitlines() if line]
    assert answer["problems"][0]["key_path"] == LANES


def test_changes_preview_and_slowdown_rows(small):
    form = small.json("/api/form")
    rows = next(table for section in form["sections"] for table in section["tables"]
                if table["path"] == "slowdowns")["rows"]
    closed = rows + [["torkham", "2023-11-10", "2023-11-12", "0", "", "", "what if: closed three days"]]
    answer = small.json("/api/check", {"values": {LANES: "4", "slowdowns": closed}})
    assert answer["ok"], answer["problems"]
    assert [change["path"] for change in answer["changes"]] == [LANES, "slowdowns"]
    assert answer["preview"]["ceiling_by_target_date"] != form["preview"]["ceiling_by_target_date"]
    bad_row = small.json("/api/check", {"values": {"slowdowns": rows + [["torkham", "2023-11-12", "2023-11-10",
                                                                         "0", "", "", ""]]}})
    assert not bad_row["ok"] and bad_row["problems"][0]["key_path"].startswith(f"slowdowns.{len(rows)}")


def test_two_tabs_run_at_once_with_common_random_numbers(small):
    jobs = [small.json("/api/run", {"values": {LANES: lanes}, "replications": 2}) for lanes in ("1", "4")]
    finished = [small.wait(job["id"]) for job in jobs]
    assert [job["state"] for job in finished] == ["done", "done"], [job["message"] for job in finished]
    one_lane, four_lanes = (job["result"] for job in finished)
    # The same unchanged scenario (same replications) behind both, different edits in front.
    assert one_lane["chart"]["unchanged"] == four_lanes["chart"]["unchanged"]
    assert one_lane["chart"]["edited"] != four_lanes["chart"]["edited"]
    queue = {row["metric"]: row for row in one_lane["table"]}["peak_queue_people"]
    assert queue["difference"].startswith("+") and queue["unchanged"] != queue["edited"]
    folder = Path(one_lane["folder"])
    assert folder.is_relative_to(small.results) and (folder / "manifest.json").is_file()
    status, data, headers = small.get(f"/api/results/{jobs[0]['id']}")
    assert status == 200 and data[:2] == b"PK" and folder.name in headers["Content-Disposition"]


def test_keep_writes_beside_the_original_never_over_a_file(small):
    body = {"values": {LANES: "3"}}
    first, second = small.json("/api/keep", body)["path"], small.json("/api/keep", body)["path"]
    assert Path(first).parent == small.scenario.parent and first != second
    assert not list(small.scenario.parent.glob(".*.tmp"))  # the temporary file is gone
    assert validate_cli(Path(second))[0] == 0
    assert load_scenario(first).crossings["torkham"].lanes == 3


@pytest.mark.parametrize("request_", [
    ("POST", "/api/check", b"not json"),
    ("POST", "/api/check", {"values": {"run.seed": "1"}}),  # not an input of the page
    ("POST", "/api/check", {"values": {"slowdowns": "a text, not rows"}}),
    ("POST", "/api/run", {"values": {}, "replications": 100_000}),
    ("POST", "/api/check", b"x" * (2 << 20)),
    ("GET", "/api/results/../../etc/passwd", None),
    ("GET", "/api/job/run999", None),
    ("GET", "/etc/passwd", None),
])
def test_bad_requests_are_refused_and_read_nothing(small, request_):
    method, path, body = request_
    status, data, _ = small.get(path) if method == "GET" else small.post(path, body)
    assert status in (400, 404) and "error" in json.loads(data)


def test_runs_beyond_the_caps_or_the_size_guard_are_refused(small):
    status, data, _ = small.post("/api/run", {"values": {"target.people": "3550"}, "replications": 201})
    assert status == 400 and "between 1 and 200" in json.loads(data)["error"]
    baseline = load_scenario(BASELINE)
    huge = baseline.with_values({"groups.undocumented.people": 300_000_000})
    with pytest.raises(RunRefused, match="explore run (too large|would take hours)"):
        check_size(baseline, huge, 200)
    check_size(baseline, baseline, 4)  # the browser test's run passes


def test_command_prints_its_address_and_serves(tmp_path):
    scenario = tmp_path / SMALL.name
    shutil.copy(SMALL, scenario)
    process = subprocess.Popen([sys.executable, "-m", "sim", "explore", str(scenario), "--port", "0",
                                "--results", str(tmp_path / "results")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("bordersim explore: http://127.0.0.1:"), (line, process.stderr.read())
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=30) as response:
            assert b"bordersim explore" in response.read()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_command_refuses_a_bad_scenario_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.read_text().replace("lanes: 2", "lanes: 0"))
    result = CliRunner().invoke(cli_app, ["explore", str(bad), "--port", "0"])
    assert result.exit_code == 2 and "lanes" in result.output


def test_a_failure_inside_is_one_line_and_the_app_keeps_serving(small, monkeypatch):
    def broken(scenario):
        raise RuntimeError("the preview broke")

    monkeypatch.setattr("sim.explorer.app.preview", broken)
    status, data, _ = small.post("/api/check", {"values": {LANES: "3"}})
    assert status == 500 and json.loads(data) == {"error": "internal error: RuntimeError: the preview broke"}
    monkeypatch.undo()
    assert small.json("/api/check", {"values": {LANES: "3"}})["ok"]

# ------------------------------------------------------------------------------------------------
# The walk-through: in chromium where there is one, else the same steps over HTTP.


def have_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        assert not REQUIRE_BROWSER, "Playwright is required when BORDERSIM_REQUIRE_BROWSER=1 (pip install playwright)"
        return False
    return True


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    served = Served(BASELINE, tmp_path_factory.mktemp("baseline"))
    yield served
    served.close()


def test_double_torkham_lanes_run_and_keep_the_scenario(baseline, tmp_path):
    chromium = find_chromium()
    if chromium is not None and have_playwright():
        p_target, yaml_text = _walk_through_in_browser(baseline, chromium, tmp_path)
    else:
        p_target, yaml_text = _walk_through_over_http(baseline)
    assert 0.0 <= p_target <= 1.0
    kept = baseline.scenario.parent / "phase1-2023-explored.yaml"
    kept.write_text(yaml_text, encoding="utf-8")
    code, output = validate_cli(kept)
    assert code == 0, output
    assert "extends: phase1-2023.yaml" in yaml_text and "# changed in bordersim explore; was 55" in yaml_text
    assert load_scenario(kept).crossings["torkham"].lanes == 110


def _walk_through_over_http(served: Served) -> tuple[float, str]:
    before = served.json("/api/form")["preview"]
    checked = served.json("/api/check", {"values": {**page_values(served.json("/api/form")), LANES: "110"}})
    assert [change["path"] for change in checked["changes"]] == [LANES]
    assert checked["preview"]["ceiling_by_target_date"] > before["ceiling_by_target_date"]
    job = served.wait(served.json("/api/run", {"values": {LANES: "110"}, "replications": 4})["id"])
    assert job["state"] == "done" and job["result"]["replications"] == 4
    status, data, headers = served.post("/api/scenario", {"values": {LANES: "110"}})
    assert status == 200 and "phase1-2023-explored.yaml" in headers["Content-Disposition"]
    return job["result"]["p_target"], data.decode()


def _walk_through_in_browser(served: Served, chromium: str, tmp_path: Path) -> tuple[float, str]:
    from playwright.sync_api import sync_playwright

    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=flags)
        try:
            page = browser.new_page(accept_downloads=True, viewport={"width": 1400, "height": 1100})
            page.goto(served.url + "/")
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            preview = page.locator("#preview-line")
            ceiling = preview.get_attribute("data-ceiling")
            lanes = page.locator(f'input[data-path="{LANES}"]')
            assert lanes.input_value() == "55"
            lanes.fill("110")
            page.wait_for_function(f"document.querySelector('#preview-line').dataset.ceiling !== '{ceiling}'",
                                   timeout=60_000)
            assert float(preview.get_attribute("data-ceiling")) > float(ceiling)
            assert "changed" in lanes.get_attribute("class")
            assert page.locator("#changes").inner_text() == "Changed: crossings.torkham.lanes 55 → 110"
            # A second tab: its own edits, no effect on the first.
            other = browser.new_page()
            other.goto(served.url + "/")
            other.wait_for_selector("body[data-ready='1']", timeout=60_000)
            assert other.locator(f'input[data-path="{LANES}"]').input_value() == "55"
            other.locator(f'input[data-path="{LANES}"]').fill("0")
            other.wait_for_selector(".msg:has-text('lanes must be a positive integer')", timeout=30_000)
            assert other.locator("#run").is_disabled()
            other.close()
            page.fill("#replications", "4")
            page.click("#run")
            page.wait_for_selector("#answer:not([hidden])", timeout=120_000)
            p_target = float(page.locator("#p-target").inner_text())
            assert page.locator("#metrics tr[data-metric='crossed_by_target_date']").count() == 1
            assert page.locator("#difference-chart path").count() >= 3  # the band, zero and the median
            assert "4 replications" in page.locator("#run-status").inner_text()
            with page.expect_download() as download:
                page.click("#download-yaml")
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            if SCREENSHOT:
                page.screenshot(path=SCREENSHOT, full_page=True)
        finally:
            browser.close()
    return p_target, saved.read_text(encoding="utf-8")

