"""What the explorer answers, request by request, independent of HTTP: a JSON value in, one out.

Every answer is computed from the scenario read at start-up and the values the page sends: no
request names a file. The only files written are a kept scenario (in the scenario's own folder,
under a new name, never over an existing file) and the runs' results folders (under the results
root); the only files read after start-up are those results folders, to zip one for download.
"""
from __future__ import annotations

import io
import os
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

from sim.explorer import form
from sim.explorer.child_yaml import child_yaml, was
from sim.explorer.jobs import MAX_REPLICATIONS, RunRefused, Runs
from sim.explorer.preview import preview
from sim.explorer.workspace import Checked, Workspace
from sim.scenario.keypath import get_path

DEFAULT_REPLICATIONS = 4
EXPLORED_SUFFIX = "-explored"


class RequestError(ValueError):
    """A request the page should not have sent, or a run refused: HTTP 400 with this message."""


def observed_points(scenario) -> list[tuple[str, float, bool]]:
    """Bundled observed running totals counted like the scenario's total crossings (all crossings,
    from its period start) and dated within its period: ``[(date, people, is_lower_bound), ...]``;
    none for a scenario that starts on another day."""
    from sim.outputs.observed import BUNDLED, bundled_table

    start = scenario.period.start.isoformat()
    points = []
    for name, series in BUNDLED.items():
        if series.node != "all" or series.count_from != start:
            continue
        table = bundled_table(name)
        table = table[(table["kind"] == "cumulative") & (table["count_from"] == start)]
        points += [(day.isoformat(), float(value), bound == "lower")
                   for day, value, bound in zip(table["date"], table["value"], table["bound"])
                   if scenario.period.start <= day <= scenario.period.end]
    return sorted(points)


class ExplorerApp:
    """The explorer of one scenario file (see the module docstring)."""

    def __init__(self, scenario_path: str | os.PathLike[str], results_root: str | os.PathLike[str]) -> None:
        self.workspace = Workspace(scenario_path, results_root)
        self.raw = self.workspace.raw()
        self.sections = form.build_form(self.raw)
        self.observed = observed_points(self.workspace.baseline)
        self.runs = Runs(self.workspace, self.observed)
        self._baseline_preview: dict[str, Any] | None = None
        self._baseline_lock = threading.Lock()
        # Drawn while the browser opens, so that the page's first preview is ready when it asks.
        threading.Thread(target=self.baseline_preview, daemon=True, name="baseline-preview").start()

    @property
    def name(self) -> str:
        return self.workspace.baseline.name

    def baseline_preview(self) -> dict[str, Any]:
        with self._baseline_lock:
            if self._baseline_preview is None:
                self._baseline_preview = preview(self.workspace.baseline)
            return self._baseline_preview

    def form(self) -> dict[str, Any]:
        """The page's inputs, the unchanged scenario's preview and observed figures."""
        return {"scenario": self.name, "file": self.workspace.path.name, "sections": form.form_json(self.sections),
                "preview": self.baseline_preview(), "observed": self.observed,
                "replications": DEFAULT_REPLICATIONS, "max_replications": MAX_REPLICATIONS}

    def checked(self, request: dict[str, Any]) -> Checked:
        values = request.get("values", {})
        if not isinstance(values, dict):
            raise RequestError("values must be a mapping of input paths to texts")
        try:
            changes = form.read_edits(self.raw, self.sections, values)
        except (form.BadEdit, ValueError) as error:
            raise RequestError(str(error)) from None
        return self.workspace.check(changes)

    def check(self, request: dict[str, Any]) -> dict[str, Any]:
        """Validate the page's values; with no problem, the preview of the edited scenario."""
        checked = self.checked(request)
        return {
            "ok": checked.ok,
            "changes": [{"path": path, "now": was(value), "was": was(_get(self.raw, path))}
                        for path, value in checked.changes.items()],
            "problems": [{"key_path": problem.key_path, "text": str(problem)} for problem in checked.problems],
            "warnings": [{"key_path": problem.key_path, "text": str(problem)} for problem in checked.warnings],
            "preview": preview(checked.scenario) if checked.ok else None,
        }

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        replications = request.get("replications", DEFAULT_REPLICATIONS)
        if not isinstance(replications, int) or isinstance(replications, bool):
            raise RequestError("replications must be a whole number")
        try:
            job = self.runs.start(self.checked(request), replications)
        except RunRefused as error:
            raise RequestError(str(error)) from None
        return job.status()

    def job(self, job_id: str) -> dict[str, Any]:
        job = self.runs.jobs.get(job_id)
        if job is None:
            raise RequestError(f"no run {job_id!r}")
        return job.status()

    def scenario_yaml(self, request: dict[str, Any]) -> tuple[str, str]:
        """(file name, text) of the edited scenario as a file extending the original."""
        checked = self.checked(request)
        if not checked.ok:
            raise RequestError("the scenario has problems: fix the inputs marked in red first")
        name = f"{self.name}{EXPLORED_SUFFIX}"
        text = child_yaml(self.workspace.path.name, self.name, checked.changes, self.raw, name)
        return f"{self.workspace.path.stem}{EXPLORED_SUFFIX}.yaml", text

    def keep(self, request: dict[str, Any]) -> dict[str, Any]:
        """Write the edited scenario beside the original, under a name no file has yet."""
        file_name, text = self.scenario_yaml(request)
        stem = Path(file_name).stem
        # Written whole to a temporary file, then linked under the first free name: a link never
        # replaces an existing file, and no reader ever sees half a scenario.
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.workspace.folder, prefix=f".{stem}-",
                                         suffix=".tmp", delete=False) as handle:
            handle.write(text)
        try:
            for number in range(1, 1000):
                path = self.workspace.folder / (file_name if number == 1 else f"{stem}-{number}.yaml")
                try:
                    os.link(handle.name, path)
                    return {"path": str(path)}
                except FileExistsError:
                    continue
        finally:
            os.unlink(handle.name)
        raise RequestError(f"{self.workspace.folder}: too many kept scenarios named {stem}-N.yaml")

    def results_zip(self, job_id: str) -> tuple[str, bytes]:
        """(file name, bytes) of a finished run's results folder as a zip."""
        job = self.runs.jobs.get(job_id)
        if job is None or job.folder is None:
            raise RequestError(f"no finished run {job_id!r}")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(job.folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.write(path, Path(job.folder.name) / path.relative_to(job.folder))
        return f"{job.folder.name}.zip", buffer.getvalue()


def _get(data: dict[str, Any], path: str) -> Any:
    try:
        return get_path(data, path)
    except ValueError:
        return None
