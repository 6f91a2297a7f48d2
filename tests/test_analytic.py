"""Analytic verification: where queueing theory knows the answer, the model must reproduce it.

Every queue here is built through the public scenario format: one crossing open 24 hours, a group
leaving on a **schedule** (a Poisson process of households), households of exactly one person,
travel 0, no camp. That is M/M/c with exponential service and M/D/1 with fixed service.

Method (as in any simulation study, not "looks about right"): each case runs ``REPLICATIONS``
independent replications (distinct random streams), cuts a warm-up of ``WARM_UP_DAYS`` from the
empty-and-idle start, and averages only households that joined the queue between the warm-up and one
day before the end (so every one of them has started service). The replication means give a
Student-t 95% interval; each test asserts that

* the interval is tight: half-width ≤ 5% of the theoretical value (the run is long enough to mean
  something), and
* theory lies inside the interval.

The seeds are fixed, so the tests are deterministic; they were not chosen to pass (any seed passes
but for the 5% of intervals that miss by construction — and a wrong model misses by far more).
Theory is in :mod:`sim.analytic.queueing`. The whole file takes ~20 s on two cores.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest

from sim.analytic import queueing
from sim.model.engine import run_replication
from sim.outputs.statistics import t_interval
from sim.runs.runner import run_replications
from sim.scenario import scenario_from_dict

REPLICATIONS = 20
WARM_UP_DAYS = 10
SEED = 20231003
MAX_RELATIVE_HALF_WIDTH = 0.05
START = dt.date(2024, 1, 1)
CROSSING = "border"


def queue_scenario(lanes: int, load: float, days: int, service: dict, mean_service_hours: float,
                   slowdowns: list | None = None):
    """A crossing of ``lanes`` lanes at load ``load`` per lane, fed by Poisson arrivals of single people."""
    people_per_day = load * lanes / mean_service_hours * 24.0
    data = {
        "name": f"queue-{lanes}-lanes-load-{load}",
        "period": {"start": START.isoformat(), "end": (START + dt.timedelta(days=days - 1)).isoformat()},
        "run": {"replications": REPLICATIONS, "seed": SEED},
        "groups": {"everyone": {
            # a stock large enough never to run out: arrivals stay Poisson to the end
            "people": int(people_per_day * days * 1.2) + 1000,
            "household_size": {"dist": "fixed", "value": 1},
            "origins": {"home": 1.0},
            "departures": {"schedule": [{"from": START.isoformat(), "per_day": people_per_day}]},
        }},
        "origins": {"home": {"routes": [
            {"crossing": CROSSING, "travel": {"dist": "fixed", "value": 0}, "voluntary": 1.0},
        ]}},
        "crossings": {CROSSING: {"lanes": lanes, "service": service, "hours": "24h"}},
        "slowdowns": slowdowns or [],
    }
    return scenario_from_dict(data)


@dataclass(frozen=True)
class Estimates:
    """Per-replication steady-state means of one queue (one value per replication)."""

    arrival_rate: float  # households per hour (the scenario's rate)
    wait_hours: np.ndarray  # mean wait in queue of households joining after the warm-up
    utilisation: np.ndarray  # daily `utilisation` averaged over the same window of days
    queue_people_mean: np.ndarray  # daily `queue_people_mean` averaged over the same window of days
    observed_arrival_rate: np.ndarray  # households joining per hour after the warm-up


@cache
def estimates(lanes: int, load: float, days: int, service_kind: str) -> Estimates:
    service = ({"dist": "exponential", "mean": 1.0} if service_kind == "exponential"
               else {"dist": "fixed", "value": 1.0})
    scenario = queue_scenario(lanes, load, days, service, 1.0)
    outcomes = run_replications(scenario, range(REPLICATIONS), SEED, jobs=2, trace=True)
    window_start, window_end = WARM_UP_DAYS * 24.0, (days - 1) * 24.0
    waits, utilisations, queues, rates = [], [], [], []
    for outcome in outcomes:
        joined = outcome.trace["queue_arrival_hours"]
        started = outcome.trace["service_start_hours"]
        counted = (joined >= window_start) & (joined < window_end)
        assert np.isfinite(started[counted]).all(), "a household of the window never started service"
        waits.append(float((started[counted] - joined[counted]).mean()))
        rates.append(counted.sum() / (window_end - window_start))
        utilisations.append(float(outcome.daily[(CROSSING, "crossing", "utilisation")][WARM_UP_DAYS:-1].mean()))
        queues.append(float(outcome.daily[(CROSSING, "crossing", "queue_people_mean")][WARM_UP_DAYS:-1].mean()))
    return Estimates(load * lanes, np.array(waits), np.array(utilisations), np.array(queues),
                     np.array(rates))


def assert_theory_inside(values: np.ndarray, theory: float, what: str) -> None:
    low, high = t_interval(values)
    half_width = (high - low) / 2
    summary = f"{what}: theory {theory:.4f}, simulated {values.mean():.4f} [{low:.4f}, {high:.4f}]"
    assert half_width <= MAX_RELATIVE_HALF_WIDTH * theory, f"interval too wide ({half_width / theory:.1%}) — {summary}"
    assert low <= theory <= high, summary


# (lanes, load per lane, days): long enough for a half-width of ~3% of the theoretical wait. The days
# come from batch means of one long run: the mean wait's variance per household is ~22× the squared
# mean at M/M/1 ρ=0.5, ~220× at M/M/4 ρ=0.8 and ~580× at M/M/10 ρ=0.9 (heavy traffic: strongly
# correlated waits), so the last needs ~2-4 million households (4.3 million here: 20 × 1000 days × 216 a day).
MMC_CASES = [(1, 0.5, 600), (4, 0.8, 800), (10, 0.9, 1000)]


@pytest.mark.parametrize(("lanes", "load", "days"), MMC_CASES)
def test_mmc_mean_wait_matches_erlang_c(lanes: int, load: float, days: int) -> None:
    result = estimates(lanes, load, days, "exponential")
    theory = queueing.mmc_mean_wait_hours(result.arrival_rate, 1.0, lanes)
    assert_theory_inside(result.wait_hours, theory, f"M/M/{lanes} at load {load}, mean wait (h)")


@pytest.mark.parametrize(("lanes", "load", "days"), MMC_CASES)
def test_mmc_utilisation_equals_load(lanes: int, load: float, days: int) -> None:
    result = estimates(lanes, load, days, "exponential")
    theory = queueing.utilisation(result.arrival_rate, 1.0, lanes)
    assert_theory_inside(result.utilisation, theory, f"M/M/{lanes} at load {load}, utilisation")


MD1_CASE = (1, 0.7, 600)


def test_md1_mean_wait_matches_pollaczek_khinchine() -> None:
    lanes, load, days = MD1_CASE
    result = estimates(lanes, load, days, "fixed")
    theory = queueing.mg1_mean_wait_hours(result.arrival_rate, 1.0, 0.0)
    assert_theory_inside(result.wait_hours, theory, f"M/D/1 at load {load}, mean wait (h)")
    assert_theory_inside(result.utilisation, load, f"M/D/1 at load {load}, utilisation")


@pytest.mark.parametrize(("lanes", "load", "days", "service_kind"),
                         [(*MMC_CASES[1], "exponential"), (*MMC_CASES[2], "exponential"), (*MD1_CASE, "fixed")])
def test_littles_law_queue_length(lanes: int, load: float, days: int, service_kind: str) -> None:
    """``queue_people_mean`` (time average, from the daily table) = arrival rate × mean wait.

    Checked against theory (λ·W_q of Erlang C or P-K), and replication by replication against the
    simulated λ·W: the latter is Little's law proper, which holds up to edge effects of the window.
    """
    result = estimates(lanes, load, days, service_kind)
    wait = (queueing.mmc_mean_wait_hours(result.arrival_rate, 1.0, lanes) if service_kind == "exponential"
            else queueing.mg1_mean_wait_hours(result.arrival_rate, 1.0, 0.0))
    theory = queueing.littles_law_queue(result.arrival_rate, wait)
    assert_theory_inside(result.queue_people_mean, theory, f"{lanes} lanes at load {load}, L_q (people)")
    little = result.observed_arrival_rate * result.wait_hours
    np.testing.assert_allclose(result.queue_people_mean, little, rtol=0.02)
    assert result.queue_people_mean.mean() == pytest.approx(little.mean(), rel=0.005)


def test_erlang_c_formula_known_values() -> None:
    # M/M/1: C = ρ and W_q = ρ/(μ − λ); M/M/2 at a = 1: C = 1/3 (by hand: (1/2)·2/(1)/(1 + 1 + 1) = 1/3).
    assert queueing.erlang_c(1, 0.6) == pytest.approx(0.6)
    assert queueing.mmc_mean_wait_hours(0.6, 1.0, 1) == pytest.approx(0.6 / 0.4)
    assert queueing.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # Textbook value: 10 lanes, 9 Erlangs → C ≈ 0.6687
    assert queueing.erlang_c(10, 9.0) == pytest.approx(0.66869, abs=1e-4)
    assert queueing.mg1_mean_wait_hours(0.7, 1.0, 0.0) == pytest.approx(0.7 / (2 * 0.3))
    with pytest.raises(ValueError):
        queueing.mmc_mean_wait_hours(2.0, 1.0, 2)


def test_factor_zero_window_nothing_starts_inside_and_service_resumes_after() -> None:
    """A closure (factor 0, 5–6 Jan) at a busy crossing: no service starts in it; at its end every
    lane starts at once on the backlog, and the backlog is worked off afterwards."""
    lanes = 4
    scenario = queue_scenario(lanes, 0.8, 20, {"dist": "exponential", "mean": 1.0}, 1.0, slowdowns=[
        {"at": CROSSING, "from": "2024-01-05", "to": "2024-01-06", "factor": 0.0, "reason": "closed"}])
    closed_from, closed_to = 4 * 24.0, 6 * 24.0
    for replication in range(3):
        outcome = run_replication(scenario, replication, SEED, trace=True)
        started = outcome.trace["service_start_hours"]
        started = started[np.isfinite(started)]
        assert not ((started >= closed_from) & (started < closed_to)).any()
        # services started before the closure run to their end (none is cut off), so some may end inside it
        after = np.sort(started[started >= closed_to])
        assert after[:lanes].tolist() == [closed_to] * lanes, "every lane restarts the moment the crossing reopens"
        queued = outcome.daily[(CROSSING, "crossing", "queue_people")]
        utilisation = outcome.daily[(CROSSING, "crossing", "utilisation")]
        assert utilisation[4] == utilisation[5] == 0.0
        assert utilisation[6] > 0.95, "every lane works all day on the backlog once reopened"
        assert queued[5] > 100 and queued[-1] < queued[5] / 5, "the backlog is worked off"
