"""The ``<folder>.partial/`` of a study that can be interrupted and resumed (``sweep``, ``sbc``).

A long study writes its results folder whole at the end, like every results folder. Meanwhile
its sibling ``<folder>.partial/`` holds the plan (``spec.json``, the resolved scenario) and one
JSON line per finished unit of work (a sweep's point, an SBC data set), each written and flushed
to disk as soon as the unit is done. After an interruption, ``--resume <folder>.partial`` reads
them back and runs only what is missing; the last line, if cut short by the interruption, is
dropped and its unit runs again.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

PARTIAL_SUFFIX = ".partial"
Record = TypeVar("Record")
Plan = TypeVar("Plan")


def fsync_write(path: Path, text: str, mode: str = "w") -> None:
    """Write (or append, ``mode="a"``) ``text`` and flush it to disk before returning."""
    with open(path, mode, encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def new_partial(destination: Path, error: type[Exception]) -> Path:
    """The ``.partial`` folder of a new study writing ``destination``; raises ``error`` if the
    destination holds anything (results are never overwritten) or the partial folder exists."""
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise error(f"--out {destination}: exists and is not an empty folder; results are never overwritten")
    partial = destination.with_name(destination.name + PARTIAL_SUFFIX)
    if partial.exists():
        raise error(f"{partial} exists: resume it with --resume {partial}, or remove it")
    return partial


def partial_folder(folder: str | os.PathLike[str], spec_name: str) -> Path:
    """The folder given to ``--resume``: ``folder`` itself, or ``folder.partial`` when ``folder`` is the
    results folder's name and holds no plan."""
    folder = Path(folder)
    if not (folder / spec_name).is_file() and folder.with_name(folder.name + PARTIAL_SUFFIX).is_dir():
        return folder.with_name(folder.name + PARTIAL_SUFFIX)
    return folder


def check_spec(spec: Any, types: Mapping[str, type], study: str) -> None:
    """Raise ValueError unless ``spec`` (a plan read back from JSON) is an object holding every key
    of ``types`` with a value of that type (``True`` is no number)."""
    if not isinstance(spec, dict):
        raise ValueError(f"not a {study} plan (a JSON object was expected)")  # noqa: TRY004 - reported as ValueError
    for key, kind in types.items():
        if not isinstance(spec.get(key), kind) or isinstance(spec.get(key), bool):
            raise ValueError(f"'{key}' is missing or not a {kind.__name__}")  # noqa: TRY004 - reported as ValueError


def read_plan(folder: str | os.PathLike[str], spec_name: str, resolved_name: str, parse: Callable[[Path, Any], Plan],
              error: type[Exception], study: str) -> Plan:
    """The plan of an interrupted ``study`` from ``FOLDER`` or ``FOLDER.partial``: its ``spec_name``
    (JSON) through ``parse(folder, spec)`` (which raises ValueError or KeyError saying what is
    wrong), checked to sit beside the resolved scenario ``resolved_name``. Raises ``error`` with a
    one-line message; the folder is never changed."""
    import json

    folder = partial_folder(folder, spec_name)
    if not (folder / spec_name).is_file():
        raise error(f"--resume {folder}: not an interrupted {study} run (no {spec_name}); "
                    "give the <folder>.partial printed when it stopped")
    try:
        plan = parse(folder, json.loads((folder / spec_name).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as problem:
        raise error(f"--resume {folder / spec_name}: {str(problem)[:200]}; the folder is left as it is: "
                    "restore it, or start again") from None
    if not (folder / resolved_name).is_file():
        raise error(f"--resume {folder}: {resolved_name} is missing; the folder is left as it is")
    return plan


def read_records(path: Path, parse: Callable[[Any], Record], error: type[Exception], unit: str) -> list[Record]:
    """Every finished unit in the JSON lines file ``path``, each through ``parse`` (which raises
    ValueError for a malformed record). A last line cut short by the interruption is dropped (its
    ``unit`` runs again); any other bad line raises ``error`` saying how to repair it."""
    import json

    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as problem:
        raise error(f"--resume {path}: unreadable: {str(problem)[:200]}; the folder is left as it is") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(parse(json.loads(line)))
        except ValueError as problem:
            if number == len(lines) and not line.rstrip().endswith("}"):
                continue  # the last line cut short by the interruption: that unit runs again
            raise error(f"{path}:{number}: {str(problem)[:200]}; no {unit} was run and none is lost: repair or "
                        f"delete line {number} (that {unit} then runs again) and resume again") from None
    return records


def unchanged_sources(files: Sequence[str], hashes: Sequence[str]) -> list[str]:
    """The scenario files to copy into the results folder: all of them if every one is still as it
    was when the study started, else none (the resolved scenario kept in the plan is the record)."""
    if files and all(Path(path).is_file() and sha256(path) == sha for path, sha in zip(files, hashes)):
        return list(files)
    return []


__all__ = ["PARTIAL_SUFFIX", "check_spec", "fsync_write", "new_partial", "partial_folder", "read_plan", "read_records", "sha256",
           "unchanged_sources"]
