"""``report.html``: one self-contained page answering a run's question, for planners.

:func:`write_report` reads a results folder (the tables, ``manifest.json`` and the scenario files
as written), draws the figures of :mod:`sim.outputs.figures` (saved beside the report as
``figures/<name>.png`` and ``.svg``), and writes ``report.html`` into the folder. The page needs
nothing else: figures are embedded as base64 PNG, the style sheet is inline, there is no script
and no network access, so it can be mailed or opened offline.

Order of the page: the answer first (can the target be reached, with P(target) and its interval;
when; what binds), the cumulative fan chart, the key numbers, then the other figures, the observed
figures against the model's band (``observed_fit.csv``, where the run had observed figures), the
summary and projection tables, the scenario's assumptions (every parameter with its value and the comment
written beside it in the scenario file — PyYAML drops comments, so they are read from the text by
line, using the lines the scenario reader records for each key path), and the manifest.
"""
from __future__ import annotations

import base64
import html
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs import analysis
from sim.outputs.reached import SHARE_BY_DAY_PREFIX
from sim.outputs.results import MANIFEST_NAME, RESOLVED_SCENARIO_NAME, SCENARIO_COPY_NAME

REPORT_NAME = "report.html"
FIGURES_FOLDER = "figures"
RUN_TABLES = ("summary.csv", "compare.csv", "sweep.csv", "sensitivity.csv", "tornado.csv", "bound.csv")
"""A folder is a results folder when it has a manifest and at least one of these tables."""


class NotARunFolder(ValueError):
    """The folder given to ``bordersim report`` is not a results folder."""


# --------------------------------------------------------------------------------------------
# Reading a results folder


@dataclass
class RunFolder:
    path: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    scenario: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    @property
    def period_start(self) -> date | None:
        value = self.manifest.get("period_start") or (self.scenario.get("period") or {}).get("start")
        return _as_date(value)

    @property
    def target_by(self) -> date | None:
        return _as_date(self.manifest.get("target_by") or (self.scenario.get("target") or {}).get("by"))

    @property
    def target_people(self) -> float | None:
        value = self.manifest.get("target_people")
        if value is None:
            value = (self.scenario.get("target") or {}).get("people")
        return float(value) if value is not None else None

    def capacities(self, kind: str) -> dict[str, float]:
        section = self.scenario.get("camps" if kind == "camp" else kind) or {}
        return {str(name): float(spec["capacity"]) for name, spec in section.items()
                if isinstance(spec, dict) and spec.get("capacity") is not None}


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as error:  # pandas' parser errors and UnicodeDecodeError are ValueErrors
        raise NotARunFolder(f"{path}: unreadable table ({str(error).splitlines()[0][:120] if str(error) else error})") from None


def _check_complete(path: Path, manifest: dict) -> None:
    """Every file the manifest lists (all those written with the folder) must still be there."""
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return  # folders written before manifests listed their files
    missing = sorted(str(name) for name in listed if not (path / str(name)).is_file())
    if missing:
        raise NotARunFolder(f"{path}: {', '.join(missing)} missing (listed in {MANIFEST_NAME}); the folder is "
                            "incomplete: restore the file or run again")


def load_run_folder(run_dir: str | Path) -> RunFolder:
    """Read what a report needs from a results folder; :class:`NotARunFolder` if it is not one."""
    from sim.scenario.errors import ScenarioError
    from sim.scenario.yaml_lines import plain, read_yaml_file

    path = Path(run_dir)
    if not path.is_dir():
        raise NotARunFolder(f"{path}: no such folder")
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file() or not any((path / name).is_file() for name in RUN_TABLES):
        raise NotARunFolder(f"{path}: not a results folder (needs {MANIFEST_NAME} and summary.csv, "
                            "as written by bordersim run)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NotARunFolder(f"{manifest_path}: unreadable manifest ({str(error)[:120]})") from None
    if not isinstance(manifest, dict):
        raise NotARunFolder(f"{manifest_path}: not a bordersim manifest (a JSON object was expected)")
    _check_complete(path, manifest)
    tables: dict[str, pd.DataFrame | None] = {}
    for name in ("summary", "replications", "projection", "bound", "compare", "sweep", "reached_by_month", "needs",
                 "observed_fit"):
        tables[name] = _read_csv(path / f"{name}.csv")
    tables["sensitivity"] = _read_csv(path / "sensitivity.csv")
    if tables["sensitivity"] is None:
        tables["sensitivity"] = _read_csv(path / "tornado.csv")
    if (path / "daily.parquet").is_file():
        try:
            tables["daily"] = pd.read_parquet(path / "daily.parquet")
        except (OSError, ValueError) as error:  # pyarrow's errors derive from both
            raise NotARunFolder(f"{path / 'daily.parquet'}: unreadable table ({str(error)[:120]})") from None
    else:
        tables["daily"] = _read_csv(path / "daily.csv")
    daily = tables["daily"]
    if daily is not None and ({"scenario", "variant", "point"} & set(daily.columns)):
        tables["daily"] = None  # several scenarios' days in one table (compare/sweep --daily): no run figures
    scenario: dict[str, Any] = {}
    resolved = path / RESOLVED_SCENARIO_NAME
    if resolved.is_file():
        try:  # the scenario reader: no aliases bombs or non-UTF-8 surprises from a hand-edited copy
            scenario = plain(read_yaml_file(resolved)) or {}
        except ScenarioError:
            scenario = {}
    return RunFolder(path, manifest, tables, scenario if isinstance(scenario, dict) else {})


# --------------------------------------------------------------------------------------------
# The headline, rebuilt from the tables (the same text as the terminal's)


def _summary_row(summary: pd.DataFrame | None, metric: str) -> dict[str, float] | None:
    if summary is None:
        return None
    rows = summary[summary["metric"].astype(str) == metric]
    if rows.empty:
        return None
    return {column: float(rows.iloc[0][column]) for column in rows.columns if column != "metric"}


def _band(summary: pd.DataFrame | None, metric: str) -> analysis.Band:
    row = _summary_row(summary, metric) or {}
    return analysis.Band(row.get("p05", math.nan), row.get("p50", math.nan), row.get("p95", math.nan))


def headline_from_tables(run: RunFolder) -> analysis.Headline | None:
    """The :class:`~sim.outputs.analysis.Headline` of a run, from ``summary.csv`` and ``replications.csv``."""
    summary = run.table("summary")
    if summary is None:
        return None
    replications = run.table("replications")
    count = int(run.manifest.get("replications") or (len(replications) if replications is not None else 0))
    target_by = run.target_by if _summary_row(summary, "p_target_reached") is not None else None
    p_row = _summary_row(summary, "p_target_reached") or {}
    start = run.period_start

    def day(value: float) -> date | None:
        if start is None or value is None or math.isnan(value) or math.isinf(value):
            return None
        return start + timedelta(days=math.floor(value))

    reach = _summary_row(summary, "target_reached_day") or {}
    date_band = analysis.DateBand(day(reach.get("p05", math.nan)), day(reach.get("p50", math.nan)),
                                  day(reach.get("p95", math.nan)))
    verdicts = []
    for metric in summary["metric"].astype(str):
        if not metric.startswith("share_"):
            continue
        verdict = metric.removeprefix("share_").replace("_", " ")
        share = (_summary_row(summary, metric) or {}).get("mean", math.nan)
        mostly = ""
        if replications is not None and "binding_where" in replications.columns:
            places = replications.loc[replications["verdict"] == verdict, "binding_where"].dropna().astype(str)
            places = places[places != ""]
            if not places.empty:
                counts = places.value_counts()
                mostly = min(counts.index, key=lambda where: (-counts[where], where))
        verdicts.append(analysis.VerdictShare(verdict, share, mostly))
    return analysis.Headline(
        replications=count,
        target_people=run.target_people if target_by is not None else None,
        target_by=target_by,
        p_target=p_row.get("mean", math.nan),
        p_target_low=p_row.get("ci95_low", math.nan),
        p_target_high=p_row.get("ci95_high", math.nan),
        target_date=date_band,
        crossed_by_target_date=_band(summary, "crossed_by_target_date"),
        peak_queue_people=_band(summary, "peak_queue_people"),
        wait_hours_p95=_band(summary, "wait_hours_p95"),
        peak_waiting_outside_people=_band(summary, "peak_waiting_outside_people"),
        verdicts=verdicts,
        reached_by_month=_reached_by_month(summary),
    )


def _reached_by_month(summary: pd.DataFrame) -> tuple[tuple[date, float], ...]:
    """(month end, share reached by then) from the ``p_reached_by_<date>`` rows of summary.csv."""
    by_month = []
    for metric, share in zip(summary["metric"].astype(str), summary["mean"]):
        if metric.startswith(SHARE_BY_DAY_PREFIX):
            by_month.append((date.fromisoformat(metric.removeprefix(SHARE_BY_DAY_PREFIX)), float(share)))
    return tuple(sorted(by_month))


VERDICT_EXPLAINED = {
    analysis.VERDICT_REACHED: "the target was reached by its date",
    analysis.VERDICT_DEPARTURES_BIND: "fewer people had left than the target: even unlimited crossing capacity "
                                      "could not have reached it",
    analysis.VERDICT_CAPACITY_BINDS: "enough people had left, but they were still travelling, in camps or "
                                     "queued: crossing capacity limits",
}


def _answer(head: analysis.Headline) -> tuple[str, str]:
    """A one-sentence answer and its tone (``yes``, ``no``, ``maybe``)."""
    if not head.has_target:
        return ((f"No target in this scenario; median {analysis._people(head.crossed_by_target_date.p50)} "
                "people crossed by the end of the period."), "maybe")
    by = head.target_by.isoformat() if head.target_by else "?"
    people = analysis._people(head.target_people) if head.target_people is not None else "the target"
    probability = f"P = {head.p_target:.2f}, 95% interval {head.p_target_low:.2f}–{head.p_target_high:.2f}"
    if head.p_target >= 0.9:
        return f"Yes: {people} people cross by {by} in {head.p_target:.0%} of replications ({probability}).", "yes"
    if head.p_target <= 0.1:
        return ((f"No: {people} people crossing by {by} is reached in {head.p_target:.0%} of replications "
                f"({probability})."), "no")
    return f"Uncertain: {people} people cross by {by} in {head.p_target:.0%} of replications ({probability}).", "maybe"


def _when_sentence(head: analysis.Headline) -> str:
    if not head.has_target:
        return ""
    band = head.target_date
    crossed = head.crossed_by_target_date
    by = head.target_by.isoformat() if head.target_by else "the target date"
    share = ""
    if head.target_people and not math.isnan(crossed.p50):
        share = f" ({crossed.p50 / head.target_people:.0%} of the target)"
    text = f"by {by}, median {analysis._people(crossed.p50)} people crossed{share}; "
    if band.p50 is None:
        return text + "the median replication does not reach the target within the period."
    return (text + f"target reached on {band.p50.isoformat()} (median; p05 {analysis._date_or_never(band.p05)}, "
            f"p95 {analysis._date_or_never(band.p95)}).")


def _binding_sentence(head: analysis.Headline) -> str:
    if not head.verdicts:
        return ""
    main = max(head.verdicts, key=lambda share: share.share)
    text = f"{main.verdict} in {main.share:.0%} of replications"
    if main.mostly_where:
        text += f" (mostly {main.mostly_where})"
    explanation = VERDICT_EXPLAINED.get(main.verdict)
    return text + (f": {explanation}." if explanation else ".")


# --------------------------------------------------------------------------------------------
# Assumptions: every parameter with its value and the comment beside it in the scenario file

KeyPath = tuple


def _split_comment(text: str) -> tuple[str, str]:
    """A YAML line's code and its ``# comment`` (a ``#`` outside quotes, at the start or after a space)."""
    quote = None
    for index, character in enumerate(text):
        if quote:
            if character == quote:
                quote = None
        elif character in "'\"":
            quote = character
        elif character == "#" and (index == 0 or text[index - 1] in " \t"):
            return text[:index], text[index + 1:].strip()
    return text, ""


def _comment_of_line(text: str) -> str:
    return _split_comment(text)[1]


def _is_comment_line(text: str) -> bool:
    return text.lstrip().startswith("#")


def _flow_end(lines: list[str], start: int) -> int:
    """Index of the last line of a flow collection opened on ``lines[start]`` (0-based)."""
    depth = 0
    for index in range(start, len(lines)):
        code = _split_comment(lines[index])[0]
        depth += code.count("{") + code.count("[") - code.count("}") - code.count("]")
        if depth <= 0:
            return index
    return start


@dataclass
class ScenarioSource:
    """One scenario file as written: its text lines, the line of every key path, and its name."""

    name: str
    lines: list[str]
    locations: dict[KeyPath, int]

    @classmethod
    def read(cls, path: Path, name: str) -> ScenarioSource | None:
        from sim.scenario.yaml_lines import locate, read_yaml_file

        try:
            data = read_yaml_file(path, name)
        except Exception:  # noqa: BLE001 - a file that does not parse still gets a report
            return None
        locations, _problems = locate(data, name)
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls(name, lines, {key: location.line for key, location in locations.items() if location.line})

    @property
    def header_end(self) -> int:
        """Number of lines of the leading comment block (the file's header)."""
        count = 0
        for line in self.lines:
            if line.strip() and not _is_comment_line(line):
                break
            count += 1
        return count

    def header(self) -> str:
        return "\n".join(line.lstrip()[1:].rstrip() if line.lstrip().startswith("#") else ""
                         for line in self.lines[: self.header_end]).strip("\n")

    def comments(self, line_number: int) -> list[str]:
        """The comment block just above line ``line_number`` (1-based) and the comments on its lines."""
        index = line_number - 1
        if not 0 <= index < len(self.lines):
            return []
        above = []
        probe = index - 1
        while probe >= self.header_end and _is_comment_line(self.lines[probe]):
            above.append(_comment_of_line(self.lines[probe]))
            probe -= 1
        same = []
        last = _flow_end(self.lines, index) if re.search(r"[{\[]", self.lines[index]) else index
        for line in self.lines[index: last + 1]:
            comment = _comment_of_line(line)
            if comment and not _is_comment_line(line):
                same.append(comment)
        return [*reversed(above), *same]

    def defines(self, path: KeyPath) -> bool:
        return any(key[: len(path)] == path for key in self.locations)

    def lines_under(self, path: KeyPath) -> list[int]:
        return sorted({line for key, line in self.locations.items() if key[: len(path)] == path})


def _is_flat(value: Any, depth: int = 1) -> bool:
    """Scalars, and mappings/lists nested at most ``depth`` levels (a mapping of up to 8 keys)."""
    if isinstance(value, dict):
        return depth > 0 and len(value) <= 8 and all(_is_flat(item, depth - 1) for item in value.values())
    if isinstance(value, list):
        return depth > 0 and all(_is_flat(item, depth - 1) for item in value)
    return True


def _flow(value: Any, key: Any = None) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{name}: {_flow(item, name)}" for name, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item, key) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10000 and key != "seed":
        return f"{value:_}"
    return str(value)


def _parameter_rows(data: Any, path: KeyPath = ()) -> list[tuple[KeyPath, Any]]:
    """Flatten a resolved scenario into rows: small flat mappings, and list items such as a route
    or a slowdown (one level of nesting allowed), stay one row each."""
    item_of_list = bool(path) and isinstance(path[-1], int)
    if path and _is_flat(data, 2 if item_of_list else 1):
        return [(path, data)]
    if isinstance(data, dict):
        return [row for key, value in data.items() for row in _parameter_rows(value, (*path, key))]
    if isinstance(data, list):
        return [row for index, value in enumerate(data) for row in _parameter_rows(value, (*path, index))]
    return [(path, data)]


def _set_paths(manifest: dict[str, Any]) -> set[str]:
    """Key paths given with ``--set`` on the command line recorded in the manifest."""
    arguments = [str(argument) for argument in manifest.get("command_line") or []]
    paths = set()
    for index, argument in enumerate(arguments):
        value = None
        if argument == "--set" and index + 1 < len(arguments):
            value = arguments[index + 1]
        elif argument.startswith("--set="):
            value = argument[len("--set="):]
        if value and "=" in value:
            paths.add(value.split("=", 1)[0].strip())
    return paths


@dataclass(frozen=True)
class Assumption:
    key: str
    value: str
    comment: str
    where: str


def scenario_sources(run: RunFolder) -> list[ScenarioSource]:
    """The scenario file as written and its bases, nearest first."""
    files = [run.path / SCENARIO_COPY_NAME]
    files += sorted(run.path.glob("base-*.yaml"), key=lambda p: int(re.match(r"base-(\d+)", p.name).group(1))
                    if re.match(r"base-(\d+)", p.name) else 0)
    sources = []
    for file in files:
        if file.is_file():
            source = ScenarioSource.read(file, file.name)
            if source is not None:
                sources.append(source)
    return sources


def assumptions(run: RunFolder, sources: list[ScenarioSource] | None = None) -> list[Assumption]:
    """Every parameter of the resolved scenario, its value, and the comment written beside it."""
    from sim.scenario.keypath import format_key_path

    sources = scenario_sources(run) if sources is None else sources
    overridden = _set_paths(run.manifest)
    rows = []
    for path, value in _parameter_rows(run.scenario):
        key = format_key_path(path)
        comments: list[str] = []
        where = "default"
        if any(key == item or key.startswith(item + ".") or item.startswith(key + ".") for item in overridden):
            where = "--set (command line)"
        for source in sources:
            if not source.defines(path):
                continue
            lines = source.lines_under(path)
            for line in lines:
                for comment in source.comments(line):
                    if comment not in comments:
                        comments.append(comment)
            if where == "default":
                where = f"{source.name}:{lines[0]}" if lines else source.name
            break
        rows.append(Assumption(key, _flow(value, path[-1] if path else None), " ".join(comments), where))
    return rows


# --------------------------------------------------------------------------------------------
# HTML

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1a1a1a;
background:#fff;line-height:1.4}
main{max-width:1180px;margin:0 auto;padding:18px 28px 60px}
h1{font-size:1.35rem;margin:.2rem 0}
h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:2px solid #333;padding-bottom:.2rem}
.question{color:#444;margin:.2rem 0 .8rem}
.answer{border:3px solid #333;border-left-width:14px;padding:.7rem 1rem;margin:.6rem 0 .8rem;font-size:1.15rem}
.answer.no{border-color:#b2182b;background:#fbeaea}.answer.yes{border-color:#1b7837;background:#eaf6ec}
.answer.maybe{border-color:#b35806;background:#fdf3e6}
.answer strong{font-size:1.3rem}
.facts{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;margin:.4rem 0 .8rem}
.fact{border:1px solid #bbb;padding:.4rem .6rem;background:#fafafa}
.fact .label{font-size:.78rem;color:#555;text-transform:uppercase;letter-spacing:.03em}
.fact .value{font-size:1.15rem;font-weight:600}
.fact .detail{font-size:.8rem;color:#444}
figure{margin:.6rem 0 1.4rem}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.88rem;color:#333}
table{border-collapse:collapse;font-size:.82rem;margin:.4rem 0}
th,td{border:1px solid #ccc;padding:.18rem .45rem;text-align:left;vertical-align:top}
th{background:#eee}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
pre.terminal{background:#f4f4f4;border:1px solid #ccc;padding:.6rem .8rem;font-size:.85rem;white-space:pre-wrap}
pre.header{font-size:.78rem;white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;padding:.5rem}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
nav{font-size:.85rem;color:#444}nav a{color:#034;margin-right:.6rem}
td.key{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
td.value{font-family:ui-monospace,Menlo,Consolas,monospace;max-width:330px;word-break:break-word}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return '<td class="num"></td>'
        if math.isinf(value):
            return '<td class="num">∞</td>' if value > 0 else '<td class="num">−∞</td>'
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
        return f'<td class="num">{_e(text)}</td>'
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f'<td class="num">{value:,}</td>'
    return f"<td>{_e(value)}</td>"


def html_table(table: pd.DataFrame, max_rows: int | None = None) -> str:
    rows = table if max_rows is None else table.head(max_rows)
    head = "".join(f"<th>{_e(column)}</th>" for column in rows.columns)
    body = []
    for record in rows.itertuples(index=False):
        body.append("<tr>" + "".join(_cell(value.item() if hasattr(value, "item") else value)
                                     for value in record) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fact(label: str, value: str, detail: str = "") -> str:
    return (f'<div class="fact"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
            f'<div class="detail">{_e(detail)}</div></div>')


def _facts(head: analysis.Headline, ceiling: str | None = None) -> str:
    people = analysis._people
    facts = []
    if head.has_target:
        facts.append(_fact("P(target)", f"{head.p_target:.2f}",
                           f"95% interval [{head.p_target_low:.2f}, {head.p_target_high:.2f}]"))
        band = head.target_date
        when = band.p50.isoformat() if band.p50 else "not within the period"
        facts.append(_fact("Target reached (median)", when,
                           f"p05 {analysis._date_or_never(band.p05)}, p95 {analysis._date_or_never(band.p95)}"))
        facts.append(_fact("Crossed by target date", people(head.crossed_by_target_date.p50),
                           f"median; p05 {people(head.crossed_by_target_date.p05)}, "
                           f"p95 {people(head.crossed_by_target_date.p95)}"))
        binding = max(head.verdicts, key=lambda share: share.share) if head.verdicts else None
        facts.append(_fact("What binds", binding.verdict if binding else "n/a",
                           f"{binding.share:.0%} of replications" + (f", mostly {binding.mostly_where}"
                                                                     if binding and binding.mostly_where else "")
                           if binding else ""))
    else:
        facts.append(_fact("Crossed by period end", people(head.crossed_by_target_date.p50), "median"))
    facts.append(_fact("Peak queue", f"{people(head.peak_queue_people.p50)} people",
                       f"median; p95 {people(head.peak_queue_people.p95)}"))
    facts.append(_fact("Wait, p95 per person", analysis._hours(head.wait_hours_p95.p50),
                       f"median; p95 {analysis._hours(head.wait_hours_p95.p95)}"))
    facts.append(_fact("Peak waiting outside camps", f"{people(head.peak_waiting_outside_people.p50)} people",
                       f"median; p95 {people(head.peak_waiting_outside_people.p95)}"))
    if ceiling is not None:
        facts.append(ceiling)
    else:
        facts.append(_fact("Replications", f"{head.replications}", ""))
    return '<div class="facts">' + "".join(facts) + "</div>"


def _ceiling_fact(run: RunFolder) -> str | None:
    """The analytic capacity ceiling (bound.csv) by the target date, and when it reaches the target."""
    from sim.outputs.figures import bound_series

    series = bound_series(run.table("bound"))
    if series is None or series.empty or run.target_by is None:
        return None
    by = pd.Timestamp(run.target_by)
    upto = series[series["date"] <= by]
    if upto.empty:
        return None
    detail = "crossings alone could pass this many (bound.csv)"
    if run.target_people is not None:
        reached = series[series["ceiling"] >= run.target_people]
        detail = (f"reaches the target on {reached['date'].iloc[0]:%Y-%m-%d}" if not reached.empty
                  else "never reaches the target in the period")
    return _fact("Capacity ceiling by target date", f"{upto['ceiling'].iloc[-1]:,.0f}", detail)


def _figure_html(png: bytes, caption: str, name: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure id="fig-{_e(name)}"><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(caption)} (files: {FIGURES_FOLDER}/{_e(name)}.png, .svg)</figcaption></figure>")


def _manifest_rows(manifest: dict[str, Any]) -> pd.DataFrame:
    libraries = manifest.get("libraries") or {}
    commit = manifest.get("git_commit")
    if commit and manifest.get("git_dirty"):
        commit = f"{commit} (uncommitted changes)"
    files = manifest.get("scenario_files") or []
    wall = manifest.get("wall_seconds")
    rows = [
        ("tool", f"{manifest.get('tool', 'bordersim')} {manifest.get('tool_version', '')}"),
        ("git commit", commit or "n/a"),
        ("command", manifest.get("command", "")),
        ("command line", " ".join(str(part) for part in manifest.get("command_line") or [])),
        ("scenario", manifest.get("scenario_name", "")),
        ("scenario files", "; ".join(f"{f.get('path')} (sha256 {str(f.get('sha256'))[:12]}…)" for f in files)),
        ("seed", manifest.get("seed")),
        ("replications", manifest.get("replications")),
        ("jobs", manifest.get("jobs", "")),
        ("started", manifest.get("started_at")),
        ("ended", manifest.get("ended_at")),
        ("run time", f"{wall:.1f} s" if isinstance(wall, (int, float)) else "n/a"),
        ("Python", f"{manifest.get('python_version', '')} on {manifest.get('platform', '')}"),
        ("libraries", ", ".join(f"{name} {version}" for name, version in libraries.items())),
        ("run hash", manifest.get("run_hash", "")),
    ]
    return pd.DataFrame([(name, "" if value is None else str(value)) for name, value in rows],
                        columns=["field", "value"])


def _projection_overview(projection: pd.DataFrame) -> pd.DataFrame:
    rows = projection[projection["node"] == "all"]
    columns = [c for c in ("date", "metric", "mean", "p05", "p50", "p95", "p_target_reached", "observed")
               if c in rows.columns]
    return rows[columns]


def render_report(run: RunFolder, figures: list[tuple[str, str, bytes]]) -> str:
    """The HTML text of the report; ``figures`` are (name, caption, PNG bytes) in page order.

    The first screen answers the run's question (the answer box and key facts); figures, the
    summary, the tables, the assumptions with their sources and the manifest follow.
    """
    head = headline_from_tables(run)
    name = run.manifest.get("scenario_name") or run.scenario.get("name") or run.path.name
    parts = [_page_start(name, run.scenario.get("description")), *_answer_html(run, head)]
    nav = [("fig-crossed", "Figures"), *([("observed", "Observed")] if _has_rows(run.table("observed_fit")) else []),
           ("summary", "Summary"), ("projection", "Projection"),
           *([("needs", "Needs")] if run.table("needs") is not None else []),
           ("assumptions", "Assumptions"), ("manifest", "Manifest")]
    parts.append("<nav>" + "".join(f'<a href="#{anchor}">{_e(label)}</a>' for anchor, label in nav) + "</nav>")
    parts += [_figure_html(png, caption, figure_name) for figure_name, caption, png in figures]
    parts += _observed_html(run) + _summary_html(run, head) + _study_tables_html(run) + _projection_html(run) + _needs_html(run)
    parts += _assumptions_html(run)
    parts.append('<h2 id="manifest">Manifest</h2>')
    parts.append(html_table(_manifest_rows(run.manifest)))
    parts.append("<p>Generated by <code>bordersim report</code> from the files in this folder.</p>")
    parts.append("</main></body></html>\n")
    return "".join(parts)


def _page_start(name: str, description: str | None) -> str:
    title = f"bordersim report: {name}"
    text = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style>"
            f"</head><body><main><h1>{_e(name)}: can the target be reached?</h1>")
    return text + (f'<p class="question">{_e(description)}</p>' if description else "")


def _answer_html(run: RunFolder, head) -> list[str]:
    """The answer box (yes/no, when, what binds) and the key facts beneath it."""
    if head is None:
        return []
    answer, tone = _answer(head)
    binding = _binding_sentence(head)
    when = _when_sentence(head)
    box = (f'<div class="answer {tone}" id="answer"><strong>{_e(answer)}</strong>'
           + (f"<br>When: {_e(when)}" if when else "")
           + (f"<br>What binds: {_e(binding)}" if binding else "") + "</div>")
    return [box, _facts(head, _ceiling_fact(run))]


def observed_rows(observed_fit: pd.DataFrame) -> pd.DataFrame:
    """``observed_fit.csv`` as the report shows it: per figure what it counts, the observed value
    (``≥`` a lower bound, ``~`` approximate), the model's p05, p50 and p95 of the same quantity and
    whether the figure agrees with that band."""
    def counts(row) -> str:
        start = f"from a day in {row.start_window}" if _text(row.start_window) else f"from {row.first_day}"
        if row.kind == "cumulative":
            return f"running total {start} to {row.date}"
        return f"on {row.date}" if row.kind == "daily" else f"{row.first_day} to {row.date}"

    def observed(row) -> str:
        mark = "≥ " if _text(row.bound) == "lower" else ("~ " if _flag(row.approximate) else "")
        return f"{mark}{float(row.observed):,.0f}"

    def agrees(row) -> str:
        if _flag(row.inside):
            return "yes"
        return f"no: {'above' if row.position == 'above' else 'below'} the band"

    records = list(observed_fit.itertuples(index=False))
    return pd.DataFrame({
        "series": [row.series for row in records], "at": [row.node for row in records],
        "counts": [counts(row) for row in records], "observed": [observed(row) for row in records],
        "model p05": [float(row.model_p05) for row in records], "model p50": [float(row.model_p50) for row in records],
        "model p95": [float(row.model_p95) for row in records], "in band": [agrees(row) for row in records]})


def _has_rows(table: pd.DataFrame | None) -> bool:
    return table is not None and not table.empty


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _flag(value: Any) -> bool:
    return _text(value).strip().lower() in ("true", "1", "yes")


def _observed_html(run: RunFolder) -> list[str]:
    """Every observed figure beside the model's band of the same quantity (observed_fit.csv)."""
    table = run.table("observed_fit")
    if not _has_rows(table):
        return []
    shown = observed_rows(table)
    inside = int((shown["in band"] == "yes").sum())
    replications = run.manifest.get("replications")
    over = f" over {replications} replications" if replications else ""
    return [('<h2 id="observed">Observed figures against the model</h2>'
             f"<p>{inside} of {len(shown)} observed figures lie inside the model's p05–p95 band of the same "
             f"quantity{over} (a lower bound, ≥, when the band reaches it): people crossed at the node from "
             "the figure's first day to the end of its date, as a calibration compares them. The band is the "
             "spread over replications (and over parameter draws where the scenario has <code>uncertain:</code>); "
             "it leaves out the reporter's own error. observed_fit.csv holds the same rows.</p>"),
            html_table(shown)]


def _summary_html(run: RunFolder, head) -> list[str]:
    if head is None:
        return []
    return ['<h2 id="summary">Summary</h2><p>The terminal summary of the run:</p>',
            f'<pre class="terminal">{_e(chr(10).join(head.lines()))}</pre>',
            ("<p>summary.csv: means with 95% intervals (Student t; Wilson for shares) and quantiles over "
            "replications. <code>target_reached_day</code> counts days from the period start "
            "(∞: not reached within the period).</p>"),
            html_table(run.table("summary"))]


def _study_tables_html(run: RunFolder) -> list[str]:
    """The tables of studies (compare, sweep, sensitivity) and the capacity ceiling, where present."""
    parts = []
    for table_name, label in (("compare", "Compared scenarios (compare.csv)"), ("sweep", "Sweep (sweep.csv)"),
                              ("sensitivity", "Sensitivity (tornado table)"), ("bound", "Capacity ceiling (bound.csv)")):
        table = run.table(table_name)
        if table is not None:
            parts.append(f'<h2 id="{table_name}">{_e(label)}</h2>')
            parts.append(html_table(table, max_rows=400))
    return parts


def _projection_html(run: RunFolder) -> list[str]:
    projection = run.table("projection")
    if projection is None:
        return []
    return [('<h2 id="projection">Projection</h2><p>Weekly dates, the target date and the last day; '
            "totals over all crossings (median p50, band p05–p95 across replications).</p>"),
            html_table(_projection_overview(projection)),
            (f"<details><summary>Every node ({len(projection):,} rows of projection.csv)</summary>"
            f"{html_table(projection)}</details>")]


def _needs_html(run: RunFolder) -> list[str]:
    """What to have ready at each place: the busiest week and the peak day of every need item, with
    the figure and source used (needs.csv in full beneath)."""
    needs = run.table("needs")
    if needs is None or needs.empty:
        return []
    from sim.outputs.needs.table import peak_summary

    return [('<h2 id="needs">Needs</h2><p>Per item and place: the week with the largest mean need and its '
             "p05–p95 band over replications, and the peak day (each replication's largest daily need: "
             "median and p05–p95; dated with the median day of those peaks). Needs are the scenario's "
             "<code>needs:</code> figures times the simulated occupancy, arrivals or queue; places that never "
             "needed anything are left out here, not in needs.csv.</p>"),
            html_table(peak_summary(needs)),
            (f"<details><summary>Every row ({len(needs):,} rows of needs.csv)</summary>"
             f"{html_table(needs)}</details>")]


def _assumptions_html(run: RunFolder) -> list[str]:
    """Every parameter as run, its value and the comment beside it in the scenario file (its source)."""
    if not run.scenario:
        return []
    sources = scenario_sources(run)
    parts = [('<h2 id="assumptions">Assumptions</h2><p>Every parameter of the scenario as run (after '
             "<code>extends</code> and <code>--set</code>), its value, and the comment written beside it "
             "in the scenario file (its source or the reasoning behind it).</p>")]
    body = "".join(f'<tr><td class="key">{_e(row.key)}</td><td class="value">{_e(row.value)}</td>'
                   f"<td>{_e(row.comment)}</td><td>{_e(row.where)}</td></tr>" for row in assumptions(run, sources))
    parts.append("<table><thead><tr><th>parameter</th><th>value</th><th>source / comment</th>"
                 f"<th>written in</th></tr></thead><tbody>{body}</tbody></table>")
    for source in sources:
        header = source.header()
        if header:
            parts.append(f"<details><summary>Notes at the top of {_e(source.name)}</summary>"
                         f'<pre class="header">{_e(header)}</pre></details>')
    return parts


def write_report(run_dir: str | Path) -> Path:
    """Draw the figures of a results folder into ``figures/`` and write ``report.html``; return its path."""
    from sim.outputs import figures as figure_module
    from sim.outputs.needs.figure import needs_figures

    run = load_run_folder(run_dir)
    figure_folder = run.path / FIGURES_FOLDER
    figure_folder.mkdir(exist_ok=True)
    specs = figure_module.run_figures(
        run.tables,
        target_people=run.target_people,
        target_by=run.target_by,
        capacities={"camp": run.capacities("camp"), "reception": run.capacities("reception")},
    ) + needs_figures(run.table("needs"))
    drawn = []
    for spec in specs:
        png, _svg = figure_module.save_figure(spec.figure, figure_folder / spec.name)
        drawn.append((spec.name, spec.caption, png.read_bytes()))
    text = render_report(run, drawn)
    destination = run.path / REPORT_NAME
    temporary = destination.with_name(f".{REPORT_NAME}.partial")
    temporary.write_bytes(text.encode("utf-8"))
    temporary.replace(destination)
    return destination
