"""Expected departures per hour from each population stock: the fluid path's source.

The simulation (``sim.model.households``) gives each household of a stock that will leave (a share
``1 - never_leave``, drawn per household) a departure time, then a mode (deported with the share of
the step in force at its departure). Without household randomness, the people departing in the
hour ``[t, t + 1)`` are then exactly what the simulation's mean is:

* **hazard**: a household leaves when its exponential(1) threshold is reached by the cumulative
  hazard ``Λ(t)`` (the steps' per-day rates / 24, piecewise constant from each step's start), so
  ``stock · (1 - never_leave) · (exp(-Λ(t)) - exp(-Λ(t + 1)))`` — independent of household size,
  so in people as in households;
* **schedule**: households leave as a Poisson process at ``per_day / mean size`` households a day
  until the leavers are used up, so ``per_day · E[size] / mean size`` people a day (``E[size]`` of
  the sizes as drawn: rounded, at least 1) until ``stock · (1 - never_leave)`` have left.

``stock`` is the group's ``people`` less what ``initial:`` carved out of it (those are placed at
their camp or crossing at time 0). Steps are kept as arrays so that a calibration can patch a rate,
a share or ``never_leave`` without rebuilding anything (:class:`GroupDepartures`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.clock import HOURS_PER_DAY, Clock
from sim.model.departure_rates import hazard_rates_per_day, step_value
from sim.model.households import departure_steps

_SIZE_SAMPLES = 200_000


def drawn_mean_size(distribution) -> float:
    """Mean household size as the simulation draws it: ``max(1, rint(x))`` (not the distribution's
    mean when it is continuous). Estimated from a fixed large sample: deterministic."""
    rng = np.random.default_rng(7)
    return float(np.maximum(1, np.rint(distribution.sample(rng, _SIZE_SAMPLES))).mean())


@dataclass
class GroupDepartures:
    """One group's departure steps, compiled against the hourly grid (patchable in place)."""

    name: str
    kind: str  # "hazard" or "schedule"
    stock_people: float  # the group's people less its initial households
    never_leave: float
    values: np.ndarray  # per step: rate per day or people per day at its start (hazard), people per day (schedule)
    given_per_day: np.ndarray  # per step (hazard): its value is people per day at its start, not a rate
    start_hours: np.ndarray  # per step: its start, hours from the period start
    deported_shares: np.ndarray  # per step
    has_own_share: np.ndarray  # per step: sets its own deported_share (else the group's applies)
    step_of_bin: np.ndarray  # per hourly bin: index of the step in force, -1 before the first
    step_index: list[int]  # position in the scenario's list of each compiled step
    size_ratio: float  # schedule: E[drawn size] / the distribution's mean
    mean_size_people: float  # E[drawn size]

    def people_per_bin(self) -> np.ndarray:
        """Expected people departing in each hourly bin."""
        leavers = self.stock_people * (1.0 - self.never_leave)
        if not len(self.values) or leavers <= 0:
            return np.zeros(len(self.step_of_bin))
        per_bin = np.append(self.rates_per_day(), 0.0)[self.step_of_bin] / HOURS_PER_DAY  # index -1 reads the 0
        if self.kind == "hazard":
            survival = np.exp(-np.concatenate([[0.0], np.cumsum(per_bin)]))
            return leavers * -np.diff(survival)
        cumulative = np.minimum(np.concatenate([[0.0], np.cumsum(per_bin * self.size_ratio)]), leavers)
        return np.diff(cumulative)

    def rates_per_day(self) -> np.ndarray:
        """Per step: the hazard rate (hazard; steps given as people per day converted as the
        simulation converts them) or the people per day (schedule)."""
        if self.kind != "hazard" or not self.given_per_day.any():
            return self.values
        leavers = self.stock_people * (1.0 - self.never_leave)
        return np.asarray(hazard_rates_per_day(self.start_hours, self.values, self.given_per_day, leavers))

    def deported_share_per_bin(self) -> np.ndarray:
        return np.append(self.deported_shares, 0.0)[self.step_of_bin]


def compile_group(scenario, name: str, group, clock: Clock, initial_people: float) -> GroupDepartures:
    """A group's departures on the hourly grid of ``clock`` (steps after the period left out, as the
    simulation does)."""
    step_hours, steps, shares = departure_steps(scenario, group, clock)
    all_steps = group.departures.steps()
    kept_index = [next(i for i, s in enumerate(all_steps) if s is step) for step in steps]
    kind = "hazard" if group.departures.hazard is not None else "schedule"
    if kind == "hazard":
        written = [step_value(step) for step in steps]
        values, given_per_day = [value for value, _ in written], [per_day for _, per_day in written]
    else:
        values, given_per_day = [step.per_day for step in steps], [False] * len(steps)
    bin_starts = np.arange(clock.n_days * int(HOURS_PER_DAY), dtype=float)
    step_of_bin = np.searchsorted(np.asarray(step_hours, float), bin_starts, side="right") - 1
    mean_size = drawn_mean_size(group.household_size)
    return GroupDepartures(
        name=name, kind=kind, stock_people=float(group.people - initial_people), never_leave=group.never_leave,
        values=np.asarray(values, float), given_per_day=np.asarray(given_per_day, bool),
        start_hours=np.asarray(step_hours, float), deported_shares=np.asarray(shares, float),
        has_own_share=np.asarray([step.deported_share is not None for step in steps], bool),
        step_of_bin=step_of_bin.astype(np.int64), step_index=kept_index,
        size_ratio=mean_size / group.household_size.mean(), mean_size_people=mean_size)
