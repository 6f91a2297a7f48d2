"""Hostile observed series (``--observed CSV``) through every command that reads one.

Files of every shape a hand-made or exported CSV takes: non-numeric, negative, infinite or missing
values, duplicate or malformed dates, empty files, a header alone, wrong or extra columns, several
series or kinds, a byte-order mark, bytes that are not text. Each command must use the series or
refuse it with exit 2 naming the file — never exit 1, a traceback, a hang — and write a results
folder exactly when it succeeds.

**Adding a command** that reads ``--observed`` is one entry in :data:`OBSERVED_COMMANDS`: a function
from (scenario, csv, out folder) to its arguments.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import MINIMAL_SCENARIO
from hostile import EXAMPLES, assert_clean, bordersim
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

FIT = "groups.undocumented.departures.hazard.0.rate=0.01:0.1"

OBSERVED_COMMANDS: dict[str, Callable[[Path, Path, Path], list[str]]] = {
    "run": lambda scenario, observed, out: ["run", scenario, "-n", "1", "-j", "1", "-q", "--observed", observed,
                                            "--out", out],
    "calibrate point": lambda scenario, observed, out: ["calibrate", scenario, "--method", "point", "--observed",
                                                        observed, "--fit", FIT, "-n", "1", "--max-evaluations", "2",
                                                        "-q", "--out", out],
    "calibrate posterior": lambda scenario, observed, out: ["calibrate", scenario, "--observed", observed, "--fit",
                                                            FIT, "--walkers", "4", "--steps", "2", "--allow-unconverged", "-j", "1", "-q",
                                                            "--out", out],
    "backtest": lambda scenario, observed, out: ["backtest", scenario, "--observed", observed, "--cutoff", "2023-11-10",
                                                 "--fit", FIT, "-n", "2", "--steps", "2", "--walkers", "4", "-j", "1",
                                                 "-q", "--out", out],
}
"""Every command that reads an observed CSV, with the cheapest arguments that make it read it."""

EXAMPLES_PER_COMMAND = {"run": 25, "calibrate point": 12, "calibrate posterior": 6, "backtest": 5}

DATES = st.one_of(
    st.dates().map(str).filter(lambda text: "2023-11-01" <= text <= "2023-11-30"),
    st.sampled_from(["2023-11-05", "2023-11-05", "2023-11-10", "2023-10-01", "2024-05-01", "2023-11-31",
                     "05/11/2023", "2023-11-5", "", "yesterday", "2023-11-10T12:00", "0001-01-01", "9999-12-31"]),
)
VALUES = st.one_of(
    st.integers(min_value=-1000, max_value=10_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "abc", "1,000", "1e309", "-0", "NaN", "inf", "-inf", "12 000", "0x10", "1_000", "∞"]),
)
COLUMNS = st.sampled_from([
    ["date", "value"], ["date", "value", "series", "kind"], ["date", "value", "kind"], ["value", "date"],
    ["date"], ["value"], ["day", "count"], ["date", "value", "node", "count_from"], ["date", "value", "extra"],
    ["date", "value", "date"], ["Date", "Value"], [""],
    ["date", "value", "start", "bound", "approximate"], ["date", "value", "kind", "start", "end"],
    ["date", "value", "count_from_earliest", "count_from_latest"],
])
EXTRA = {"series": st.sampled_from(["un", "un", "pak_kp", ""]), "kind": st.sampled_from(["cumulative", "daily", "x", ""]),
         "node": st.sampled_from(["all", "torkham", "nowhere", ""]),
         "count_from": st.sampled_from(["2023-11-01", "2023-11-02", "not a date", ""]),
         "extra": st.text(max_size=5),
         "start": st.sampled_from(["2023-11-01", "2023-11-04", "2023-10-01", "2023-11-31", ""]),
         "end": st.sampled_from(["2023-11-05", "2023-11-10", "x", ""]),
         "bound": st.sampled_from(["lower", "upper", "", "LOWER"]),
         "approximate": st.sampled_from(["true", "~", "no", "maybe", ""]),
         "count_from_earliest": st.sampled_from(["2023-11-01", "2023-10-01", "2023-11-09", ""]),
         "count_from_latest": st.sampled_from(["2023-11-03", "2023-11-30", "nope", ""])}


@st.composite
def observed_csv(draw: st.DrawFn) -> tuple[str, bytes]:
    """A CSV file's bytes (and a label): a table of hostile rows, or a hostile file as a whole."""
    whole = draw(st.sampled_from(["table"] * 6 + ["empty", "header only", "bytes", "bom", "semicolons"]))
    if whole == "empty":
        return whole, b""
    if whole == "bytes":
        return whole, draw(st.binary(min_size=1, max_size=64))
    columns = draw(COLUMNS)
    rows = draw(st.lists(st.tuples(DATES, VALUES), min_size=0 if whole == "header only" else 1, max_size=8))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if whole == "semicolons" else ",", lineterminator="\n")
    writer.writerow(columns)
    if whole != "header only":
        for date, value in rows:
            cells = {"date": date, "value": value, "day": date, "count": value,
                     "Date": date, "Value": value, "": value}
            writer.writerow([cells[column] if column in cells else draw(EXTRA[column]) for column in columns])
    text = buffer.getvalue()
    return f"{whole}: {text[:200]!r}", (b"\xef\xbb\xbf" if whole == "bom" else b"") + text.encode("utf-8")


def _settings(command: str) -> settings:
    return settings(max_examples=EXAMPLES or EXAMPLES_PER_COMMAND[command], deadline=None, derandomize=True,
                    database=None, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("command", list(OBSERVED_COMMANDS))
def test_a_hostile_observed_csv(command: str, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp(f"observed-{command}")
    scenario = folder / "tiny.yaml"
    scenario.write_text(MINIMAL_SCENARIO, encoding="utf-8")

    @_settings(command)
    @given(case=observed_csv())
    def check(case: tuple[str, bytes]) -> None:
        _label, content = case
        observed = folder / "observed.csv"
        observed.write_bytes(content)
        out = Path(tmp_path_factory.mktemp("out")) / "results"
        outcome = bordersim(*OBSERVED_COMMANDS[command](scenario, observed, out))
        assert_clean(outcome, names=("observed.csv",))
        assert out.is_dir() == (outcome.code == 0), outcome.describe()

    check()


GOOD = "date,value\n2023-11-05,100\n2023-11-10,900\n2023-11-15,2000\n2023-11-20,2600\n"
BAD_FILES = {
    "empty file": ("", "no observations"),
    "header only": ("date,value\n", "no observations"),
    "non-numeric value": ("date,value\n2023-11-05,abc\n", "not a number"),
    "negative value": ("date,value\n2023-11-05,-5\n", "negative|>= 0"),
    "infinite value": ("date,value\n2023-11-05,inf\n", "finite|>= 0"),
    "duplicate date": ("date,value\n2023-11-05,10\n2023-11-05,20\n", "twice"),
    "unparseable": ('date,value\n"2023-11-05,10\n', "not a CSV table|"),
    "wrong columns": ("day,count\n2023-11-05,10\n", "date,value"),
    "not text": ("\udcff\udcfe\x00garbage", "not UTF-8"),
    "more people than the scenario": ("date,value\n2023-11-05,100\n2023-11-10,1e300\n",
                                      "people is more than all the people of the scenario's groups together"),
}


@pytest.mark.parametrize("command", list(OBSERVED_COMMANDS))
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_each_listed_observed_problem_is_named(command: str, case: str, tmp_path: Path) -> None:
    text, fragment = BAD_FILES[case]
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(MINIMAL_SCENARIO, encoding="utf-8")
    observed = tmp_path / "observed.csv"
    observed.write_bytes(text.encode("utf-8", "surrogateescape"))
    outcome = bordersim(*OBSERVED_COMMANDS[command](scenario, observed, tmp_path / "out"))
    assert_clean(outcome, names=("observed.csv",))
    assert outcome.code == 2 and any(part in outcome.stderr for part in fragment.split("|")), outcome.describe()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", list(OBSERVED_COMMANDS))
def test_a_good_observed_csv_is_used(command: str, tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(MINIMAL_SCENARIO, encoding="utf-8")
    observed = tmp_path / "observed.csv"
    observed.write_text(GOOD, encoding="utf-8")
    outcome = bordersim(*OBSERVED_COMMANDS[command](scenario, observed, tmp_path / "out"))
    assert outcome.code == 0, outcome.describe()
