"""Simulation time: hours from ``period.start`` 00:00 Pakistan time (PKT, UTC+5).

Every date in a scenario is a PKT calendar day; a window's last day is included whole, and daily
metrics bucket events by the PKT day in which they happen, [00:00, 24:00).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class Clock:
    start: date
    end: date  # included whole

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def horizon_hours(self) -> float:
        """The end of the last day of the period: the simulation stops here."""
        return self.n_days * HOURS_PER_DAY

    def hours_at(self, day: date) -> float:
        """00:00 of ``day``, clipped to the period."""
        return min(max((day - self.start).days, 0), self.n_days) * HOURS_PER_DAY

    def hours_after(self, day: date) -> float:
        """24:00 of ``day`` (the end of a window whose last day is ``day``), clipped to the period."""
        return self.hours_at(day + timedelta(days=1))

    def date_of(self, day_index: int) -> date:
        return self.start + timedelta(days=day_index)
