"""Small value types of the scenario format: people counts, shares, factors, times and hours.

Each type validates with a message that says what is allowed (``must be a share between 0 and 1,
got 1.2``); the loader prefixes the key name, giving ``never_leave must be a share …``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import core_schema

MAX_PEOPLE = 1_000_000_000
"""More people than this in one number is a typo (Afghanistan has ~40 million inhabitants)."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _not_a_boolean(value: Any) -> Any:
    # YAML reads yes/no/true/false as booleans, and Python counts True as 1: never a number here.
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {str(value).lower()}")  # noqa: TRY004 - pydantic reports ValueErrors
    return value


_NOT_BOOL = BeforeValidator(_not_a_boolean)


def _positive_integer(value: int) -> int:
    if value <= 0:
        raise ValueError(f"must be a positive integer, got {value}")
    return value


def _people(value: int) -> int:
    _positive_integer(value)
    if value > MAX_PEOPLE:
        raise ValueError(f"must be at most 10^9 (1_000_000_000), got {value:_}: more people than that is a typo")
    return value


def _share(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be a share between 0 and 1, got {value}")
    return value


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"must be >= 0, got {value}")
    return value


PositiveInt = Annotated[int, _NOT_BOOL, AfterValidator(_positive_integer), WithJsonSchema({"type": "integer", "minimum": 1})]
"""A count of things (lanes, replications) that must be at least 1."""

People = Annotated[
    int, _NOT_BOOL, AfterValidator(_people), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_PEOPLE})
]
"""A number of people: a positive integer, at most 10^9 (more is a typo). ``1_000_000`` is fine."""

Share = Annotated[float, _NOT_BOOL, AfterValidator(_share), WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1})]
"""A probability or share of a total, in [0, 1]."""

NonNegative = Annotated[float, _NOT_BOOL, AfterValidator(_non_negative), WithJsonSchema({"type": "number", "minimum": 0})]
"""A capacity factor or rate: 0 or more (factor 0 = closed, above 1 = added capacity)."""


def _weekday(value: str) -> str:
    if value not in WEEKDAYS:
        raise ValueError(f"unknown weekday '{value}'; allowed: {' '.join(WEEKDAYS)}")
    return value


Weekday = Annotated[str, AfterValidator(_weekday), WithJsonSchema({"type": "string", "enum": list(WEEKDAYS)})]

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_CLOCK_RANGE = re.compile(r"^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")


def _clock_hours(text: str, *, allow_24: bool) -> float | None:
    """``"06:30"`` → 6.5; None if it is not a clock time (24:00 only when ``allow_24``)."""
    match = _CLOCK.match(text)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes != 0 or not allow_24)):
        return None
    return hours + minutes / 60


def format_clock(hours: float) -> str:
    """6.5 → ``"06:30"``."""
    total_minutes = round(hours * 60)
    return f"{total_minutes // 60:02d}:{total_minutes % 60:02d}"


def _parse_time_of_day(value: Any) -> Any:
    if isinstance(value, str):
        hours = _clock_hours(value.strip(), allow_24=False)
        if hours is None:
            raise ValueError(f"must be a time of day \"HH:MM\" between 00:00 and 23:59, got '{value}'")
        return hours
    raise ValueError(f'must be a time of day written as a quoted string, e.g. "08:00", got {value!r}')


TimeOfDay = Annotated[
    float,
    BeforeValidator(_parse_time_of_day),
    PlainSerializer(format_clock, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$", "examples": ["08:00"]}),
]
"""A clock time, written ``"08:00"``, held as hours since midnight (8.0)."""


@dataclass(frozen=True)
class OpeningHours:
    """When a crossing serves: ``"24h"`` or ``"HH:MM-HH:MM"`` in Pakistan time.

    ``open_hour``/``close_hour`` are hours since midnight. ``close_hour < open_hour`` means the
    crossing stays open past midnight (``"20:00-04:00"``); ``"06:00-24:00"`` closes at midnight.
    ``text`` keeps the spelling of the file for display and for writing the scenario back.
    """

    open_hour: float
    close_hour: float
    text: str

    ALWAYS_OPEN_TEXT = "24h"

    def is_always_open(self) -> bool:
        """True for ``"24h"`` and equivalent spellings such as ``"00:00-24:00"``."""
        return (self.open_hour, self.close_hour) == (0.0, 24.0)

    def open_hours_per_day(self) -> float:
        """Hours open in one day (18 for ``"06:00-24:00"``, 8 for ``"20:00-04:00"``)."""
        return (self.close_hour - self.open_hour) % 24 or 24.0

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, value: Any) -> OpeningHours:
        """Read opening hours from the file's text; ValueError says what is allowed."""
        if isinstance(value, OpeningHours):
            return value
        allowed = 'write "24h" or "HH:MM-HH:MM" between 00:00 and 24:00, e.g. "06:00-21:00"'
        if not isinstance(value, str):
            raise ValueError(f"must be a quoted string: {allowed}; got {value!r}")  # noqa: TRY004 - as above
        text = value.strip()
        if text.lower() == cls.ALWAYS_OPEN_TEXT:
            return cls(0.0, 24.0, text)
        match = _CLOCK_RANGE.match(text)
        opening = _clock_hours(match.group(1), allow_24=True) if match else None
        closing = _clock_hours(match.group(2), allow_24=True) if match else None
        if opening is None or closing is None:
            raise ValueError(f"malformed hours '{value}': {allowed}")
        if opening == 24.0:
            opening = 0.0  # 24:00 as an opening time is the next midnight: the same clock time
        if opening == closing or (opening, closing) == (0.0, 0.0):
            raise ValueError(f"malformed hours '{value}': opening and closing times must differ (use \"24h\")")
        return cls(opening, closing, text)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda hours: hours.text),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": r"^(24h|\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})$",
            "examples": ["24h", "06:00-21:00", "20:00-04:00"],
        }


ALWAYS_OPEN = OpeningHours(0.0, 24.0, "24h")
