"""Sections of bench/RESULTS.md: a benchmark run on its own (``python -m bench.NAME``) rewrites only
its own section, marked ``<!-- section: NAME -->`` as ``python -m bench`` marks them, and keeps the
rest of the file as it is."""
from __future__ import annotations

from pathlib import Path

MARK = "<!-- section: {name} -->"
ENDS = ("<!-- section: ", "<!-- arc-2023-2025 -->")
"""A section runs until the next line starting with one of these (or the end of the file)."""


def replace_section(path: Path, name: str, lines: list[str]) -> None:
    """Put ``lines`` as section ``name`` of ``path``: in place of the section recorded there, or
    else before the arc's block (or at the end)."""
    mark = MARK.format(name=name)
    old = path.read_text(encoding="utf-8").splitlines() if path.is_file() else ["# Benchmark results", ""]
    body = [mark, *lines] + ([""] if lines and lines[-1] != "" else [])
    if mark in old:
        start = old.index(mark)
        end = next((index for index in range(start + 1, len(old)) if old[index].startswith(ENDS)), len(old))
        new = old[:start] + body + old[end:]
    elif ENDS[1] in old:  # before the arc's block, which python -m bench writes last
        start = old.index(ENDS[1])
        new = old[:start] + body + old[start:]
    else:
        new = old + ([""] if old and old[-1] != "" else []) + body
    path.write_text("\n".join(new).rstrip("\n") + "\n", encoding="utf-8")
