"""The long arc's prior predictive: before any fit, its band must hold what the UN reported.

``scenarios/arc-2023-2025.yaml`` is built to be fitted to the figures up to 31 Mar 2025 (issue 22);
its own values are the prior centres and its ``uncertain:`` block the priors. A fit cannot recover
from a prior that misses the data by a factor, so this checks the prior predictive against the one
figure that summarises 2024: the UN's ~806,000 crossed from 15 Sep 2023 to 31 Dec 2024 (FACTS,
"23 Nov 2023 – 31 Mar 2025": 824,568 on 31 Jan 2025 less 18,577 in January). The period is cut at
31 Dec 2024 (as a calibration's evaluation cuts it), keeping the priors of every value that still
exists, so a replication costs about two thirds of a full one.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.runs.study import run
from sim.scenario import scenario_from_dict
from sim.scenario.cut import cut_data
from sim.scenario.keypath import get_path, parse_key_path

ARC = Path(__file__).resolve().parents[1] / "scenarios" / "arc-2023-2025.yaml"
UN_END_2024 = 806_000
END_2024 = dt.date(2024, 12, 31)


def arc_until(until: dt.date):
    """The arc cut at ``until``, with the priors of the values that still exist after the cut."""
    data = load_scenario(ARC).to_yaml_dict()
    priors = data["uncertain"]
    cut = cut_data(data, until)
    kept = {}
    for key, prior in priors.items():
        try:
            get_path(cut, parse_key_path(key))
        except (KeyError, IndexError, TypeError, ValueError):
            continue  # a step after the cut: no prior to draw
        kept[key] = prior
    cut["uncertain"] = kept
    return scenario_from_dict(cut, source=str(ARC))


def test_a_calibration_cut_places_steps_by_their_policy_phase() -> None:
    """Cut on 25 Mar 2025, the ACC run-up (acc_phase - 14d = 18 Mar) stays and the phase's own steps
    (from 1 Apr on) go: a calibration up to 31 Mar 2025 sees exactly the steps of its days."""
    data = cut_data(load_scenario(ARC).to_yaml_dict(), dt.date(2025, 3, 25))
    acc = [str(step["from"]) for step in data["groups"]["acc_holders"]["departures"]["hazard"]]
    assert acc == ["2023-09-15", "acc_phase - 14d"]
    undocumented = data["groups"]["undocumented"]["departures"]["hazard"]
    assert str(undocumented[-1]["from"]) == "2025-03-23" and len(undocumented) == 22
    assert scenario_from_dict(data, source=str(ARC)).period.end == dt.date(2025, 3, 25)


def test_the_arc_prior_keeps_the_fitted_priors_up_to_the_end_of_2024() -> None:
    scenario = arc_until(END_2024)
    keys = set(scenario.uncertain)
    assert "groups.undocumented.departures.hazard.18.people_per_day" in keys  # Nov-Dec 2024, fitted
    assert "groups.undocumented.departures.hazard.19.people_per_day" not in keys  # Jan 2025: cut
    assert len(keys) == 17  # the 19 fitted values but steps 19 and 20 (2025)


def test_the_arc_prior_predictive_brackets_the_un_total_at_the_end_of_2024() -> None:
    """Eight prior draws: their mean within a third of ~806,000, and the figure inside their range."""
    result = run(arc_until(END_2024), replications=8, seed=20231003, jobs=1)
    daily = result.daily
    crossed = daily[(daily["node"] == "all") & (daily["metric"] == "crossed_people_cumulative")]
    at_end = crossed[pd.to_datetime(crossed["date"]) == pd.Timestamp(END_2024)]["value"].to_numpy()
    assert len(at_end) == 8
    assert 0.75 * UN_END_2024 < np.mean(at_end) < 1.33 * UN_END_2024, at_end
    assert at_end.min() < UN_END_2024 < at_end.max(), at_end


README = ARC.parent / "README.md"
FIT_FAMILIES = {"lognormal": ("mean", "sd"), "triangular": ("low", "mode", "high"), "uniform": ("low", "high")}
CENTRE = {"lognormal": "mean", "triangular": "mode"}


def fit_command_priors() -> dict[str, tuple[str, tuple[float, ...]]]:
    """The ``--prior key=family(args)`` options of the fit command in scenarios/README.md."""
    section = README.read_text().split("### The fit specification", 1)[1]
    command = section.split("```console", 1)[1].split("```", 1)[0]
    command = command.replace("$H.", "groups.undocumented.departures.hazard.").replace("$U.", "groups.undocumented.")
    found = re.findall(r'--prior "([^=]+)=(\w+)\(([^)]*)\)"', command)
    return {key: (family, tuple(float(arg) for arg in args.split(","))) for key, family, args in found}


def test_the_fit_command_passes_the_priors_of_the_scenario_and_centres_them_on_its_values() -> None:
    """The fit specification and the file cannot drift apart: each --prior is the distribution of
    part (1) of the arc's uncertain: block, and that distribution is centred on the scenario's own
    value (lognormal mean, triangular mode), so the prior predictive is the fit's prior."""
    priors = fit_command_priors()
    scenario = load_scenario(ARC)
    data = scenario.to_yaml_dict()
    assert 15 <= len(priors) <= 25
    for key, (family, args) in priors.items():
        written = data["uncertain"][key]
        assert written["dist"] == family, key
        assert args == pytest.approx(tuple(float(written[name]) for name in FIT_FAMILIES[family])), key
        if family in CENTRE:
            assert get_path(data, parse_key_path(key)) == pytest.approx(float(written[CENTRE[family]])), key
        if family == "triangular":
            assert (args[0], args[2]) == (0.0, 1.0), key  # never_leave: the whole physical range
        if family == "lognormal":
            assert args[1] >= args[0], key  # sd >= mean: 90 % of the prior spans more than a decade
