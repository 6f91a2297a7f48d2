"""Where a scenario's observed figures come from: the bundled series' names, and the ``observed:`` key.

The names and descriptions of the bundled series (the data and its reading are in
:mod:`sim.outputs.observed`) live here, below the scenario format, so that ``bordersim validate``
can check a scenario's ``observed:`` list — ``bundled:NAME`` or a CSV path relative to the scenario
file — without reading the data or importing pandas. :func:`resolve_sources` does that check and
makes the paths absolute (relative to the file that wrote them, like ``uncertain.sample``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

BUNDLED_PREFIX = "bundled:"
"""An ``--observed`` source or ``observed:`` entry naming a bundled series: ``bundled:un_cumulative``."""


@dataclass(frozen=True)
class SeriesSelection:
    """How to pick one consistent series out of the bundled figures."""

    description: str
    series: str  # the reporter, the file's ``series`` column
    metric: str  # e.g. cumulative_returns
    scope_pattern: str  # regular expression the ``scope`` text must match (the counting convention)
    crossing: str | None  # the file's ``crossing`` column must equal this (None: any)
    node: str  # what the model compares with: "all" crossings or a crossing's name
    count_from: str  # ISO date of the first day the figures count ("" for daily tallies)
    kind: str = "cumulative"  # or "daily": each figure is one day's count


SERIES: dict[str, SeriesSelection] = {
    "un": SeriesSelection(
        "UN agencies/IOM: people returned through all crossings since 15 Sep 2023 (point figures)",
        "un", "cumulative_returns", r"since 15 Sep|past two months", None, "all", "2023-09-15"),
    "pak_kp": SeriesSelection(
        "Khyber Pakhtunkhwa/Torkham officials (Dawn): people returned via Torkham since 17 Sep 2023",
        "pak_kp", "cumulative_returns", r"since 17 Sep", "Torkham", "torkham", "2023-09-17"),
    "pak_federal_daily": SeriesSelection(
        "Pakistan federal tally: people who left on one day through Torkham and Chaman (daily figures)",
        "pak_federal", "daily_returns", r"federal tally|repatriated on", None, "all", "", "daily"),
}
"""The consistent series of the bundled data. ``un`` counts like the 1-million target (all
returns from 15 Sep 2023): 160,000 on 3 Nov, 261,240 on 13 Nov, ~375,000 on 18 Nov; the UN's lower
bounds ("327,000+") and its count since 3 Oct are left out. ``pak_kp`` is the densest dated series:
Torkham only, daily from 31 Oct to 5 Nov 2023. ``pak_federal_daily`` is one day's departures
through both crossings (3,043 on 12 Nov, 2,668 on 22 Nov): the only figures on the rate after
mid-November (kind ``daily``; :mod:`sim.studies.observation` compares it with one day's crossings)."""


@dataclass(frozen=True)
class BundledSeries:
    """One reporter's figures that count the same thing at the same node (``observed_figures_use.csv``
    names the rows)."""

    description: str
    node: str  # "all" crossings or a crossing's name
    count_from: str = ""  # ISO first day of its running totals ("": periods, or starts in a window)


BUNDLED: dict[str, BundledSeries] = {
    "un_cumulative": BundledSeries(
        "UN agencies/IOM/UNHCR: people returned through all crossings since 15 Sep 2023", "all", "2023-09-15"),
    "un_since_3_oct": BundledSeries("UNHCR: people returned since the 3 Oct 2023 announcement", "all", "2023-10-03"),
    "iom_periods": BundledSeries("IOM DTM Pakistan: people returned in a half-month, month or quarter", "all"),
    "unhcr_periods": BundledSeries("UNHCR: people returned in a month of 2024", "all"),
    "un_chaman": BundledSeries("UNHCR Quetta citing IOM: people returned via Chaman in a month", "chaman"),
    "kp_torkham": BundledSeries("KP/Torkham officials: people returned via Torkham since 17 Sep 2023",
                                "torkham", "2023-09-17"),
    "kp_torkham_since_3_oct": BundledSeries("FIA: people returned via Torkham since the 3 Oct 2023 announcement",
                                            "torkham", "2023-10-03"),
    "kp_torkham_counts": BundledSeries("KP/Torkham officials: people who crossed Torkham on a day or in a period",
                                       "torkham"),
    "federal_tally": BundledSeries(
        "Pakistani federal tally (PTV, Ministry of Information): people returned since a start in Oct 2023 "
        "(before 1 Nov 2023, unclear), reported from 29 Nov 2023", "all"),
    "federal_drive_count": BundledSeries(
        "Pakistani officials (The Nation, Samaa, The News): people returned since the drive began (1-3 Oct "
        "2023), Oct 2023", "all"),
    "federal_counts": BundledSeries("Pakistani federal figures: people who left on a day, in a week or a period",
                                    "all"),
    "federal_chaman_counts": BundledSeries("Pakistani federal figure: people who left via Chaman on a day", "chaman"),
    "balochistan_chaman": BundledSeries("Balochistan officials: people returned via Chaman ('so far', start unstated; "
                                        "in a month)", "chaman"),
    "since_5_oct": BundledSeries("Balochistan information minister: people who left since 5 Oct 2023", "all",
                                 "2023-10-05"),
    "media_counts": BundledSeries("Xinhua/local media: people returned in a month", "all"),
    "afghan_side_counts": BundledSeries("Taliban Ministry of Refugees: people returned on a day", "all"),
    "afghan_side_torkham": BundledSeries("Afghan border guards: people who crossed Torkham in 24 hours", "torkham"),
    "afghan_side_spin_boldak": BundledSeries("Spin Boldak officials, Kandahar DoRR: people returned via Spin Boldak "
                                             "(opposite Chaman) in a period", "chaman"),
}
"""The bundled series through 31 Mar 2025 (both data files). Each figure keeps what it is: kind
``cumulative`` (a running total), ``daily`` (one day's count) or ``period`` (a count from ``start`` to
its date: a week, month, quarter, year); a lower bound; approximate; a start in a window."""


def bundled_names() -> list[str]:
    """Every bundled series a source may name after ``bundled:``, the series to 31 Mar 2025 first."""
    return [*BUNDLED, *SERIES]


ALLOWED = "allowed: bundled:NAME (NAME one of {names}) or the path of a CSV file"


def bundled_problem(text: str) -> str | None:
    """What is wrong with a ``bundled:NAME`` source (an unknown name, and what is allowed), or None
    if it is a bundled series or no bundled source at all."""
    if not text.startswith(BUNDLED_PREFIX) or text[len(BUNDLED_PREFIX):] in bundled_names():
        return None
    return f"unknown bundled series {_shown(text)}; {ALLOWED.format(names=', '.join(bundled_names()))}"


def _shown(text: str) -> str:
    """An entry as a message quotes it: shortened (a value may be anything)."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def resolve_sources(written: list, scenario_file: str | None) -> tuple[list, list[tuple[int, str]]]:
    """The ``observed:`` entries with CSV paths made absolute, and the problems (index, message).

    An entry is ``bundled:NAME`` (a name of :func:`bundled_names`) or the path of a CSV file,
    relative to the folder of ``scenario_file`` (to the current folder when the value does not
    come from a file, e.g. ``--set``). Entries that are not text are left for pydantic to report.
    """
    folder = ""
    if scenario_file and not scenario_file.startswith(("<", "--")) and os.path.isfile(scenario_file):
        folder = os.path.dirname(scenario_file)
    resolved, problems = [], []
    for index, entry in enumerate(written):
        if not isinstance(entry, str):
            resolved.append(entry)
            continue
        text = entry.strip()
        if text.startswith(BUNDLED_PREFIX):
            problem = bundled_problem(text)
            if problem:
                problems.append((index, problem))
            resolved.append(text)
            continue
        path = os.path.abspath(os.path.join(folder, os.path.expanduser(text)))
        if not text or not os.path.isfile(path):
            allowed = ALLOWED.format(names=", ".join(bundled_names()))
            problems.append((index, f"no such file {_shown(text)} (relative to the scenario file); {allowed}"))
        resolved.append(path)
    return resolved, problems


__all__ = ["BUNDLED", "BUNDLED_PREFIX", "SERIES", "BundledSeries", "SeriesSelection", "bundled_names",
           "bundled_problem", "resolve_sources"]
