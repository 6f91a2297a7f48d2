"""Results folders: one folder per command, written whole or not at all.

A run's folder is what a planner cites and an analyst reloads, so it holds everything needed to
defend the numbers: the scenario as written (with its comments and its ``extends`` bases) and as
resolved, the tables, and a ``manifest.json`` saying which code, libraries, seed and command made
them. Layout (DESIGN §4)::

    results/<scenario-name>/<command>-<YYYYmmdd-HHMMSS>-<hash8>/
        manifest.json  scenario.yaml  base-1-<file>.yaml ...  scenario.resolved.yaml
        daily.parquet (or daily.csv)  replications.csv  projection.csv  summary.csv  [bound.csv ...]
        [needs.csv: with a needs: block]

``hash8`` is the first 8 hex digits of a SHA-256 over the resolved scenario text, seed,
replications and command: two folders with the same hash8 came from the same question.

Atomicity. The folder is written under a hidden sibling name (``.<name>.partial-<hex>``) and
renamed into place only once every file is written, so an interrupted or failed run (including
Ctrl-C) leaves no half folder; the temporary folder is removed on any exception.

Existing destinations. A results folder is never overwritten. An explicit ``--out DIR`` that
exists is accepted only when it is an empty directory (users often ``mkdir`` it first, and an
empty directory holds nothing to lose); otherwise the write fails with
:class:`ResultsFolderExistsError` before any work. The default timestamped folder only collides
when the same question is asked twice in the same second; it then gets a ``-2``, ``-3`` … suffix
rather than failing, because the user did not choose that name.

Determinism. Identical outcomes give byte-identical tables: CSVs use a fixed float format
(:data:`CSV_FLOAT_FORMAT`) and ``\\n`` line ends; parquet files are written by pyarrow, whose
metadata holds library versions but no write time. Only the manifest's times (and the folder
name) differ between two runs with the same seed.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model.outcome import ReplicationOutcome
from sim.outputs import analysis

TABLE_FORMATS: tuple[str, ...] = ("parquet", "csv")
CSV_FLOAT_FORMAT = "%.12g"
"""12 significant digits: exact for any count of people (≤ 10^9 by validation) and for sums of
them, while hiding the last-bit noise that a different summation order could introduce."""

PARQUET_COMPRESSION = "zstd"
LIBRARIES: tuple[str, ...] = ("simpy", "numpy", "scipy", "pandas", "pydantic", "pyarrow")
DEFAULT_RESULTS_ROOT = Path("results")
DISTRIBUTION_NAME = "bordersim"
MANIFEST_NAME = "manifest.json"
SCENARIO_COPY_NAME = "scenario.yaml"
RESOLVED_SCENARIO_NAME = "scenario.resolved.yaml"
RESERVED_NAMES = frozenset({MANIFEST_NAME, SCENARIO_COPY_NAME, RESOLVED_SCENARIO_NAME})


class ResultsFolderExistsError(FileExistsError):
    """The destination of a results folder already exists and is not an empty directory."""


class ResultsWriteError(OSError):
    """The results folder could not be written (disk full, read-only folder, …); nothing was left
    behind. The message says where and why, in one line."""


# --------------------------------------------------------------------------------------------
# Names and hashes


def run_hash(resolved_text: str, seed: int | None, replications: int, command: str) -> str:
    """First 8 hex digits of SHA-256 over what defines the question a run answers."""
    digest = hashlib.sha256()
    for part in (resolved_text, f"seed={seed}", f"replications={replications}", f"command={command}"):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")  # separator: ("ab", "c") and ("a", "bc") must hash differently
    return digest.hexdigest()[:8]


def safe_folder_name(name: str) -> str:
    """A scenario name made safe as one path component (no separators, no leading dots)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned or "scenario"


def default_run_folder(
    scenario_name: str,
    command: str,
    started_at: datetime,
    hash8: str,
    results_root: str | os.PathLike[str] = DEFAULT_RESULTS_ROOT,
) -> Path:
    """``<results_root>/<scenario-name>/<command>-<YYYYmmdd-HHMMSS>-<hash8>`` (local start time)."""
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    return Path(results_root) / safe_folder_name(scenario_name) / f"{safe_folder_name(command)}-{stamp}-{hash8}"


_MOVABLE: dict[Path, Path] = {}
"""Folders named by :func:`unique_folder` (absolute) → the name they were derived from. Such a name
was not chosen by the user, so when another process takes it first (two runs of the same question
in the same second), :func:`atomic_folder` moves on to the next free suffix instead of failing."""


def unique_folder(path: Path) -> Path:
    """``path`` if free, else the first free ``path-2``, ``path-3`` … (re-checked when the folder is
    moved into place: see :data:`_MOVABLE`)."""
    candidate = _first_free(path)
    _MOVABLE[Path(candidate).absolute()] = Path(path).absolute()
    return candidate


def _first_free(path: Path, counter: int = 1) -> Path:
    candidate = path if counter == 1 else path.with_name(f"{path.name}-{counter}")
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.name}-{counter}")
    return candidate


def changed_files(folder: str | os.PathLike[str]) -> list[str]:
    """Files of a results folder whose SHA-256 no longer matches its manifest (missing ones included);
    ``[manifest.json]`` when the manifest lists no files to check (it is then what cannot be trusted)."""
    folder = Path(folder)
    try:
        listed = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return [MANIFEST_NAME]
    if not isinstance(listed, dict) or not listed:
        return [MANIFEST_NAME]
    changed = []
    for name, digest in listed.items():
        path = folder / str(name)
        try:
            if sha256_file(path) != digest:
                changed.append(str(name))
        except OSError:
            changed.append(str(name))
    return changed


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Table writers


def write_csv(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """CSV with fixed float formatting, ISO dates, empty cells for NaN and ``\\n`` line ends."""
    table.to_csv(
        path,
        index=False,
        float_format=CSV_FLOAT_FORMAT,
        date_format="%Y-%m-%d",
        lineterminator="\n",
        encoding="utf-8",
    )


def write_parquet(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Parquet through pyarrow, without the pandas index; deterministic bytes for equal tables."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path, compression=PARQUET_COMPRESSION)


def write_table(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write by the file's extension: ``.csv`` or ``.parquet``."""
    suffix = Path(path).suffix
    if suffix == ".csv":
        write_csv(table, path)
    elif suffix == ".parquet":
        write_parquet(table, path)
    else:
        raise ValueError(f"unknown table file type {suffix!r} for {path}; use .csv or .parquet")


def _table_file_name(name: str) -> str:
    """``bound`` → ``bound.csv``; ``bound.csv`` and ``x.parquet`` stay as they are."""
    if "/" in name or "\\" in name or name.startswith(".") or not name:
        raise ValueError(f"table name {name!r} must be a plain file name")
    return name if Path(name).suffix in (".csv", ".parquet") else f"{name}.csv"


# --------------------------------------------------------------------------------------------
# The atomic folder


def _check_destination_free(destination: Path) -> None:
    if destination.is_dir():
        if any(destination.iterdir()):
            raise ResultsFolderExistsError(
                f"results folder {destination} already exists and is not empty; "
                "choose another --out or remove it (results are never overwritten)"
            )
    elif destination.exists():
        raise ResultsFolderExistsError(f"{destination} exists and is not a directory; choose another --out")


def _make_parents(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing ancestors; return those created, outermost first."""
    missing = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    directory.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _make_temporary_sibling(destination: Path) -> Path:
    # os.mkdir (not tempfile.mkdtemp) so the folder gets the user's umask, not mode 0700: a
    # results folder is meant to be read by colleagues.
    while True:
        candidate = destination.parent / f".{destination.name}.partial-{secrets.token_hex(4)}"
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            continue


@contextmanager
def atomic_folder(destination: str | os.PathLike[str], moved_to: list[Path] | None = None) -> Iterator[Path]:
    """Yield a temporary sibling folder to fill; rename it to ``destination`` when the block ends.

    On any exception (KeyboardInterrupt included) the temporary folder and any parent folders
    this call created are removed and the exception propagates, so no half folder is left; a
    failure to write (disk full, read-only folder) becomes :class:`ResultsWriteError`, saying so.
    ``destination`` must not exist, or be an empty directory (see the module docstring), unless
    :func:`unique_folder` named it: then another free suffix is taken if it is gone by the end.
    The folder's final path is appended to ``moved_to`` when given.
    """
    destination = Path(destination).absolute()
    base = _MOVABLE.get(destination)
    if base is None:
        _check_destination_free(destination)
    created_parents: list[Path] = []
    temporary: Path | None = None
    try:
        created_parents = _make_parents(destination.parent)
        temporary = _make_temporary_sibling(destination)
        yield temporary
        final = _move_into_place(temporary, destination, base)
        if moved_to is not None:
            moved_to.append(final)
    except BaseException as error:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        for parent in reversed(created_parents):
            try:
                parent.rmdir()
            except OSError:
                break
        if isinstance(error, OSError) and not isinstance(error, (ResultsFolderExistsError, ResultsWriteError)):
            raise ResultsWriteError(
                f"cannot write the results folder {destination}: {error.strerror or error}"
                f"{f' ({error.filename})' if getattr(error, 'filename', None) else ''}; "
                "nothing was written (the partial folder was removed)") from error
        raise


def _move_into_place(temporary: Path, destination: Path, base: Path | None) -> Path:
    """Rename ``temporary`` to ``destination`` (or, for a name :func:`unique_folder` chose from
    ``base``, to the next free suffix when another process took it meanwhile); return where it went."""
    counter = 1
    while True:
        if base is None:
            _check_destination_free(destination)  # someone may have written there meanwhile
            if destination.is_dir():
                destination.rmdir()  # the accepted empty --out directory
        elif destination.exists():
            counter += 1
            destination = _first_free(base, counter)
            continue
        try:
            os.rename(temporary, destination)
            return destination
        except OSError as error:
            if base is not None and destination.exists():
                continue  # taken between the check and the rename: try the next suffix
            raise ResultsFolderExistsError(f"could not move results into {destination}: {error}") from error


# --------------------------------------------------------------------------------------------
# Manifest


def _version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _git(directory: Path, *arguments: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(directory), *arguments],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def git_state() -> dict[str, Any]:
    """Commit (and whether the working tree has uncommitted changes) of the code that ran.

    The package's own directory is asked first (it is the code that produced the numbers), then
    the current directory; ``commit`` is None when neither is a git checkout or git is missing.
    """
    package_directory = Path(__file__).resolve().parent
    for directory in (package_directory, Path.cwd()):
        commit = _git(directory, "rev-parse", "HEAD")
        if commit:
            status = _git(directory, "status", "--porcelain", "--untracked-files=no")
            return {"commit": commit, "dirty": bool(status) if status is not None else None,
                    "directory": str(directory)}
    return {"commit": None, "dirty": None, "directory": None}


def environment_versions() -> dict[str, Any]:
    """Tool, Python and library versions (libraries from package metadata: none is imported).

    The tool's version is ``sim.__version__``, the code that ran, not the metadata of whatever
    installation happens to be on the path (an editable install keeps the version it was installed at).
    """
    from sim.version import __version__

    return {
        "tool": DISTRIBUTION_NAME,
        "tool_version": __version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "libraries": {name: _version_of(name) for name in LIBRARIES},
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive = local time; record the offset so it is unambiguous
    return moment.isoformat(timespec="seconds")


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"manifest value of type {type(value).__name__} is not JSON serialisable")


# --------------------------------------------------------------------------------------------
# Writing a folder


def write_results_folder(
    destination: str | os.PathLike[str],
    *,
    tables: Mapping[str, pd.DataFrame],
    manifest: Mapping[str, Any],
    scenario_sources: Sequence[str | os.PathLike[str]] = (),
    resolved_text: str | None = None,
    files: Mapping[str, bytes] | None = None,
    folders: Mapping[str, str | os.PathLike[str]] | None = None,
) -> Path:
    """Write a complete results folder atomically and return its path.

    ``tables`` maps file names (``daily.parquet``, ``summary.csv``, ``bound`` → ``bound.csv``) to
    DataFrames; the extension picks the format. ``scenario_sources`` are the scenario file as
    written followed by its ``extends`` bases, nearest first: the first is copied byte for byte to
    ``scenario.yaml``, the others to ``base-<n>-<file name>``. ``resolved_text`` (after
    ``extends`` and ``--set``) goes to ``scenario.resolved.yaml``. ``files`` maps further plain
    file names to their bytes (figures, a written scenario). ``folders`` maps plain folder names to
    folders copied in whole (a study's per-part results). ``manifest`` is completed with the scenario
    files' SHA-256 and the SHA-256 of every file written (by its path inside the folder), and saved last.
    """
    file_tables = {_table_file_name(name): table for name, table in tables.items()}
    clashes = RESERVED_NAMES.intersection(file_tables)
    if clashes:
        raise ValueError(f"table names {sorted(clashes)} are reserved for the folder's own files")
    moved_to: list[Path] = []
    with atomic_folder(destination, moved_to) as folder:
        scenario_files = []
        for index, source in enumerate(scenario_sources):
            source_path = Path(source)
            copied_as = SCENARIO_COPY_NAME if index == 0 else f"base-{index}-{source_path.name}"
            shutil.copyfile(source_path, folder / copied_as)
            scenario_files.append({"path": str(source), "resolved_path": str(source_path.resolve()),
                                   "sha256": sha256_file(source_path), "copied_as": copied_as})
        if resolved_text is not None:
            # Bytes, not text mode: no platform newline translation, so the file hashes the same.
            (folder / RESOLVED_SCENARIO_NAME).write_bytes(resolved_text.encode("utf-8"))
        for name, table in file_tables.items():
            write_table(table, folder / name)
        for name, content in (files or {}).items():
            if name in RESERVED_NAMES or name in file_tables or Path(name).name != name:
                raise ValueError(f"file name {name!r} is reserved or not a plain file name")
            (folder / name).write_bytes(content)
        for name, source in (folders or {}).items():
            if name in RESERVED_NAMES or name in file_tables or Path(name).name != name:
                raise ValueError(f"folder name {name!r} is reserved or not a plain name")
            shutil.copytree(source, folder / name)
        full_manifest = dict(manifest)
        full_manifest["scenario_files"] = scenario_files
        if resolved_text is not None:
            full_manifest["scenario_resolved_sha256"] = hashlib.sha256(resolved_text.encode("utf-8")).hexdigest()
        full_manifest["files"] = {
            path.relative_to(folder).as_posix(): sha256_file(path) for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        text = json.dumps(full_manifest, indent=2, ensure_ascii=False, default=_json_default) + "\n"
        (folder / MANIFEST_NAME).write_bytes(text.encode("utf-8"))
    return Path(destination).with_name(moved_to[0].name)  # as given (relative or not), suffix as taken


# --------------------------------------------------------------------------------------------
# The result of `bordersim run` / `sim.run(...)`


@dataclass
class RunResult:
    """The replications of one scenario and the tables made from them.

    ``scenario`` is whatever object the runner ran (only its ``name`` is used here); the period
    and target are passed as plain values. Tables are built on first access and cached:
    ``daily`` (tidy long, one row per replication, day, node and metric), ``replications`` (one
    row per replication), ``projection`` (weekly bands), ``summary`` (means with intervals and
    quantiles) and, when ``needs`` (the scenario's ``needs:`` block) is not empty, ``needs_table``
    (``needs.csv``). ``headline`` is what the terminal shows. ``save()`` writes the results folder.

    What only the folder needs may be given as a function that makes it, called when first needed
    (``sim.run`` gives the resolved scenario text and the capacity ceiling that way: together ~20 ms
    of a 0.45 s baseline replication, for a caller who may only read ``summary``): ``resolve_text``
    where ``resolved_text`` is not given, and any value of ``extra_tables``.
    """

    scenario: Any
    outcomes: list[ReplicationOutcome]
    period_start: date
    target_by: date | None = None
    target_people: float | None = None
    seed: int | None = None
    command: str = "run"
    command_line: list[str] | None = None
    scenario_paths: list[Path] = field(default_factory=list)
    resolved_text: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    wall_seconds: float | None = None
    observed: pd.DataFrame | None = None
    extra_tables: dict[str, pd.DataFrame | Callable[[], pd.DataFrame]] = field(default_factory=dict)
    extra_manifest: dict[str, Any] = field(default_factory=dict)
    every: str = "week"  # projection and needs rows: every 7 days, at month ends (needs: months), or every day
    needs: Mapping[str, Any] = field(default_factory=dict)  # the scenario's needs: block (item -> Need)
    resolve_text: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.outcomes = sorted(self.outcomes, key=lambda outcome: outcome.replication)
        self.scenario_paths = [Path(path) for path in self.scenario_paths]
        if self.command_line is None:
            self.command_line = list(sys.argv)

    @property
    def name(self) -> str:
        return str(getattr(self.scenario, "name", "scenario"))

    @property
    def n_replications(self) -> int:
        return len(self.outcomes)

    @cached_property
    def daily(self) -> pd.DataFrame:
        return analysis.daily_table(self.outcomes, self.period_start)

    @cached_property
    def replications(self) -> pd.DataFrame:
        return analysis.replications_table(self.outcomes, self.period_start, self.target_by)

    @cached_property
    def projection(self) -> pd.DataFrame:
        return analysis.projection_table(self.outcomes, self.period_start, self.target_by, self.observed,
                                         self.every)

    @cached_property
    def needs_table(self) -> pd.DataFrame | None:
        """``needs.csv``: each need item per node and week (month, day) and its peak day (None
        without a ``needs:`` block); see :mod:`sim.outputs.needs`."""
        if not self.needs:
            return None
        from sim.outputs import needs

        return needs.needs_table(needs.need_series(self.outcomes, self.needs), self.period_start,
                                 self.every)

    @cached_property
    def reached_by_month(self) -> pd.DataFrame | None:
        """Share of replications that reached the target by each month end (None without a target)."""
        if self.target_by is None:
            return None
        return analysis.reached_by_month(self.outcomes, self.period_start)

    @cached_property
    def summary(self) -> pd.DataFrame:
        return analysis.summary_table(self.outcomes, self.period_start, self.target_by, self.observed)

    @cached_property
    def headline(self) -> analysis.Headline:
        return analysis.headline(self.outcomes, self.period_start, self.target_by, self.target_people,
                                 self.observed)

    @property
    def hash8(self) -> str:
        return run_hash(self._identity_text(), self.seed, self.n_replications, self.command)

    def _resolved(self) -> str | None:
        """``resolved_text``, made by ``resolve_text`` the first time it is needed."""
        if self.resolved_text is None and self.resolve_text is not None:
            self.resolved_text = self.resolve_text()
        return self.resolved_text

    def _identity_text(self) -> str:
        resolved = self._resolved()
        if resolved is not None:
            return resolved
        # No resolved text given: the files as written are the next best identity of the question.
        parts = [Path(path).read_text(encoding="utf-8") for path in self.scenario_paths]
        return "\0".join(parts) if parts else self.name

    def default_folder(self, results_root: str | os.PathLike[str] = DEFAULT_RESULTS_ROOT) -> Path:
        started = self.started_at or datetime.now()
        return default_run_folder(self.name, self.command, started, self.hash8, results_root)

    def manifest(self) -> dict[str, Any]:
        """The manifest's fields known before writing (files and their hashes are added then)."""
        ended = self.ended_at or datetime.now().astimezone()
        wall = self.wall_seconds
        if wall is None and self.started_at is not None:
            started = self.started_at if self.started_at.tzinfo else self.started_at.astimezone()
            ended_aware = ended if ended.tzinfo else ended.astimezone()
            wall = (ended_aware - started).total_seconds()
        git = git_state()
        return {
            **environment_versions(),
            "git_commit": git["commit"],
            "git_dirty": git["dirty"],
            "command": self.command,
            "command_line": list(self.command_line or []),
            "scenario_name": self.name,
            "scenario_paths": [str(path) for path in self.scenario_paths],
            "seed": self.seed,
            "replications": self.n_replications,
            "run_hash": self.hash8,
            "period_start": self.period_start,
            "target_by": self.target_by,
            "target_people": self.target_people,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(ended),
            "wall_seconds": wall,
            **self.extra_manifest,
        }

    def tables(self, format: str = "parquet") -> dict[str, pd.DataFrame]:
        """The folder's tables by file name, ``daily`` in ``format`` and the others as CSV."""
        if format not in TABLE_FORMATS:
            raise ValueError(f"format must be one of {', '.join(TABLE_FORMATS)}; got {format!r}")
        tables = {
            f"daily.{format}": self.daily,
            "replications.csv": self.replications,
            "projection.csv": self.projection,
            "summary.csv": self.summary,
        }
        if self.reached_by_month is not None:
            tables["reached_by_month.csv"] = self.reached_by_month
        if self.needs_table is not None:
            tables["needs.csv"] = self.needs_table
        for name, table in self.extra_tables.items():
            file_name = _table_file_name(name)
            if file_name in tables:
                raise ValueError(f"extra table {name!r} would replace the folder's own {file_name}")
            if callable(table):  # made now, once
                table = self.extra_tables[name] = table()
            tables[file_name] = table
        return tables

    def save(
        self,
        path: str | os.PathLike[str] | None = None,
        format: str = "parquet",
        *,
        results_root: str | os.PathLike[str] = DEFAULT_RESULTS_ROOT,
    ) -> Path:
        """Write the results folder and return its path.

        ``path`` is the folder itself (``--out DIR``: must not exist, or be empty); without it
        the folder is ``results/<scenario-name>/<command>-<YYYYmmdd-HHMMSS>-<hash8>`` under
        ``results_root``. ``format`` is that of the daily table: ``parquet`` or ``csv``.
        """
        destination = Path(path) if path is not None else unique_folder(self.default_folder(results_root))
        _check_destination_free(destination)  # fail before the (possibly long) table building
        tables = self.tables(format)
        manifest = self.manifest()
        manifest["format"] = format
        return write_results_folder(
            destination,
            tables=tables,
            manifest=manifest,
            scenario_sources=self.scenario_paths,
            resolved_text=self._resolved(),
        )
