"""Located problems of a scenario file: what is wrong, where, and what is allowed.

A planner fixing a scenario wants every mistake at once, each on one line that an editor can jump
to (``scenarios/phase1.yaml:42: crossings.torkham.lanes: lanes must be a positive integer, got 0``),
not a traceback. Loading therefore collects :class:`Problem` objects and raises them together in
one :class:`ScenarioError`. Warnings (a slowdown window clipped to the period, say) use the same
:class:`Problem` shape but never stop a load.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding about a scenario, located by file, line (when known) and dotted key path."""

    file: str
    line: int | None
    key_path: str
    message: str

    def __str__(self) -> str:
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [location]
        if self.key_path:
            parts.append(self.key_path)
        parts.append(self.message)
        return one_line(": ".join(parts))


def one_line(text: str) -> str:
    """``text`` with every character that is not printable (a line break of any kind, a control
    character — a key may hold one) written as its escape, so that a problem stays one line."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


class ScenarioError(Exception):
    """A scenario could not be loaded; ``problems`` lists every located reason, one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self):  # keep the problems when raised in a worker process and pickled back
        return (type(self), (self.problems,))


class NotAScenarioFile(ScenarioError):
    """A file that is no scenario at all (not UTF-8 text, not a mapping of scenario keys, too large).

    Raised without quoting the file: ``extends`` may name any readable path, ``/etc/passwd`` say. A
    child that extends such a file reports it at its own ``extends`` line."""
