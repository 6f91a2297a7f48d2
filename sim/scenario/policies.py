"""Policy phases: named, dated policy events that departure steps refer to.

Pakistan's removal drive came in phases (undocumented from Oct 2023, Afghan Citizen Card holders
from 1 Apr 2025, Proof of Registration holders from Sep 2025). A scenario names each phase once,
under ``policies:``, with the day it starts::

    policies:
      acc_phase: {from: 2025-04-01, reason: ACC removals began 1 Apr 2025}

and a group's departure steps start at the phase, or a whole number of days after or before it::

    hazard:
      - {from: 2023-09-15, rate: 0.00005}
      - {from: acc_phase, rate: 0.004, deported_share: 0.2}
      - {from: acc_phase + 30d, rate: 0.001}

so that moving the phase (``--set policies.acc_phase.from=2025-04-10``) moves every step that
refers to it, in every group. A step's ``from`` is therefore a *date reference*: an ISO date, or
``NAME``, ``NAME + Nd`` or ``NAME - Nd``. References are kept as written in the scenario (its
resolved YAML still says ``acc_phase + 30d``) and resolved to dates where they are used.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

__all__ = ["DateRef", "PolicyDate", "parse_date_ref", "resolve_date"]

_REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(\d+)\s*d)?$")

ALLOWED_TEXT = "a date (2025-04-01) or a policy name with an optional offset in days (acc_phase, acc_phase + 7d)"


@dataclass(frozen=True)
class PolicyDate:
    """A day given relative to a policy phase: ``policy`` shifted by ``offset_days`` (may be < 0)."""

    policy: str
    offset_days: int = 0

    def __str__(self) -> str:
        if self.offset_days == 0:
            return self.policy
        sign = "+" if self.offset_days > 0 else "-"
        return f"{self.policy} {sign} {abs(self.offset_days)}d"

    def resolve(self, policy_days: Mapping[str, dt.date]) -> dt.date:
        """The calendar day this reference stands for (KeyError for an undefined policy)."""
        return policy_days[self.policy] + dt.timedelta(days=self.offset_days)


def _serialize(value: dt.date | PolicyDate, info: Any) -> Any:
    if isinstance(value, PolicyDate):
        return str(value)
    return value.isoformat() if info.mode_is_json() else value


def parse_date_ref(value: Any) -> dt.date | PolicyDate:
    """A step's ``from``: an ISO date stays a date; ``name``, ``name + 7d`` become a PolicyDate.

    Raises ValueError saying what is allowed (pydantic reports it at the key path).
    """
    if isinstance(value, PolicyDate):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be {ALLOWED_TEXT}, got {value!r}")  # noqa: TRY004 - pydantic reports ValueErrors
    text = value.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    match = _REFERENCE.match(text)
    if match is None:
        raise ValueError(f"must be {ALLOWED_TEXT}, got '{value}'")
    name, sign, days = match.groups()
    offset = int(days or 0) * (-1 if sign == "-" else 1)
    return PolicyDate(name, offset)


def resolve_date(value: dt.date | PolicyDate, policy_days: Mapping[str, dt.date]) -> dt.date:
    """The calendar day of a date reference, given each policy's first day."""
    return value.resolve(policy_days) if isinstance(value, PolicyDate) else value


DateRef = Annotated[
    dt.date | PolicyDate,
    PlainValidator(parse_date_ref),
    PlainSerializer(_serialize),
    WithJsonSchema({
        "anyOf": [
            {"type": "string", "format": "date"},
            {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\s*[+-]\s*\d+\s*d)?$"},
        ],
        "examples": ["2025-04-01", "acc_phase", "acc_phase + 30d"],
    }),
]
"""Type of a departure step's ``from``: a date, or a day relative to a policy phase."""
