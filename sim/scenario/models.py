"""The scenario file format as pydantic models, and :func:`load_scenario`.

A scenario is the whole set of assumptions of one run, declared as data (docs/reference/scenario-format.md): the
population stocks (groups) and when they leave, where they live (origins) and which routes they take,
the transit camps on the Pakistan side, the crossings at Torkham and Chaman with their lanes,
service times, hours and quotas, reception on the Afghan side, the people already waiting at the
start, and dated slowdowns or random disruptions of the crossings.

Loading happens in one place and reports every problem at once, each located by file, line and
key path (see :mod:`sim.scenario.loading`). The models are frozen: a scenario is a value; to vary
it, use :meth:`Scenario.with_values` (as sweeps and calibration do).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from sim.scenario.distributions import Distribution, Hours
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.policies import DateRef, PolicyDate, resolve_date
from sim.scenario.types import (
    NonNegative,
    OpeningHours,
    People,
    PositiveInt,
    Share,
    TimeOfDay,
    Weekday,
)
from sim.scenario.yaml_lines import TIME_OF_DAY_TEXT

__all__ = [
    "Camp",
    "Crossing",
    "Departures",
    "Dispatch",
    "Disruption",
    "Group",
    "HazardStep",
    "Initial",
    "Need",
    "OpeningHours",
    "Origin",
    "Period",
    "Policy",
    "Problem",
    "Reception",
    "Reroute",
    "Route",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "ScheduleStep",
    "Slowdown",
    "Target",
]


def _no_entries() -> dict:
    """An empty mapping, for ``default_factory``. Not ``dict`` itself: pydantic reads the signature of
    a default factory, and a builtin's is parsed from text by :mod:`tokenize` (~4 ms of start-up)."""
    return {}


def _no_items() -> list:
    """An empty list, for ``default_factory`` (see :func:`_no_entries`)."""
    return []


class _Model(BaseModel):
    # A typo in a key must never be ignored; a scenario is a value, never mutated in place.
    # defer_build: a model's validator is built when first used, not at import (each of the thirty
    # classes would build its own; validating a Scenario builds the nested ones once, ~5 ms of start-up).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class Period(_Model):
    """The simulated days, both included, in Pakistan time: time 0 is ``start`` at 00:00."""

    start: dt.date
    end: dt.date

    def days(self) -> int:
        """Number of simulated days (``end`` included)."""
        return (self.end - self.start).days + 1

    def hours(self) -> float:
        """Length of the period in hours: the simulation runs until ``end`` at 24:00."""
        return 24.0 * self.days()


class Target(_Model):
    """N people crossed by a date: the question a run answers (P(reached), date reached)."""

    people: People
    by: dt.date = Field(description="included: the target counts crossings up to the end of this day")
    groups: list[str] | None = Field(default=None, description="groups counted; default: all")
    count_from: dt.date | None = Field(default=None, description="first counted day; default: period start")


class RunSettings(_Model):
    """How many replications to run, and the seed all random streams derive from."""

    replications: PositiveInt = 100
    seed: int = Field(default=0, ge=0)


class Policy(_Model):
    """A named policy phase starting on ``from``; departure steps may start at it (``from: NAME``)."""

    from_: dt.date = Field(alias="from")
    reason: str | None = None


_STEP_FROM = "a date, or a policy phase with an optional offset in days: acc_phase, acc_phase + 30d"
_STEP_DEPORTED = "share of the departures from this step on that are deportations; default: the group's deported_share"


class HazardStep(_Model):
    """From ``from`` on, each household that will leave departs at ``rate`` per day — or at the rate
    that has ``people_per_day`` leave per day when the step starts (``sim.model.departure_rates``)."""

    from_: DateRef = Field(alias="from", description=_STEP_FROM)
    rate: NonNegative | None = Field(default=None, description="per day, for each household that will leave")
    people_per_day: NonNegative | None = Field(
        default=None, description="instead of rate: the people expected to leave per day when the step starts "
                                  "(the rate is this over the leavers expected to remain then)")
    deported_share: Share | None = Field(default=None, description=_STEP_DEPORTED)


class ScheduleStep(_Model):
    """From ``from`` on, people depart at ``per_day`` (a Poisson process of households)."""

    from_: DateRef = Field(alias="from", description=_STEP_FROM)
    per_day: NonNegative
    deported_share: Share | None = Field(default=None, description=_STEP_DEPORTED)


class Departures(_Model):
    """When households leave: exactly one of a piecewise hazard or a schedule of people per day."""

    hazard: list[HazardStep] | None = Field(default=None, min_length=1)
    schedule: list[ScheduleStep] | None = Field(default=None, min_length=1)

    def steps(self) -> list[HazardStep] | list[ScheduleStep]:
        """The steps of whichever of ``hazard`` and ``schedule`` is given."""
        return self.hazard if self.hazard is not None else (self.schedule or [])


class Group(_Model):
    """A population stock with one legal status and its own departure behaviour."""

    people: People
    household_size: Distribution = Field(description="people per household; never below 1")
    origins: dict[str, Share] = Field(description="share of the group living in each origin; sums to 1")
    never_leave: Share = 0.0
    departures: Departures
    deported_share: Share = Field(default=0.0, description="share of departures that are deportations; a step may override it")

    def deported_shares(self) -> list[float]:
        """The deportation share in force during each departure step (the step's, else the group's)."""
        return [self.deported_share if step.deported_share is None else step.deported_share
                for step in self.departures.steps()]


class Route(_Model):
    """Origin → optional camp (``via``) → crossing, with a share of each departure mode."""

    crossing: str
    via: str | None = None
    travel: Distribution = Field(description="hours from the origin to the camp (or the crossing)")
    onward: Distribution | None = Field(default=None, description="hours from the camp to the crossing; default 0")
    voluntary: Share
    deported: Share | None = Field(default=None, description="default: the voluntary share")

    @property
    def deported_share(self) -> float:
        """The share of deported departures taking this route (defaults to ``voluntary``)."""
        return self.voluntary if self.deported is None else self.deported


class Origin(_Model):
    """A region where groups live, and the routes leaving it."""

    routes: list[Route] = Field(min_length=1)


class Dispatch(_Model):
    """Convoys leaving a camp on given weekdays at a clock time, up to ``max_people`` each."""

    days: list[Weekday] = Field(min_length=1)
    at: TimeOfDay
    max_people: People | None = None


class Camp(_Model):
    """A holding/transit centre on the Pakistan side; arrivals beyond ``capacity`` wait outside."""

    capacity: People
    stay: Distribution
    dispatch: Dispatch | None = None


class Reroute(_Model):
    """Households waiting ``after`` at a closed crossing go, with probability ``share``, to ``to``."""

    to: str
    after: Hours = Field(ge=0)
    share: Share
    travel: Distribution


class Crossing(_Model):
    """A border crossing: ``lanes`` parallel lanes serve one FIFO queue of households."""

    lanes: PositiveInt
    service: Distribution = Field(description="hours per household")
    hours: OpeningHours = Field(default="24h", validate_default=True)  # type: ignore[assignment]
    max_people_per_day: People | None = None
    reception: str | None = None
    reroute: Reroute | None = None


class Reception(_Model):
    """A reception centre on the Afghan side; it never blocks the border (excess = overcrowding)."""

    capacity: People
    stay: Distribution


class Initial(_Model):
    """People already in the system at the period start (counted as departed at time 0)."""

    queued: dict[str, People] = Field(default_factory=_no_entries, description="people queued per crossing")
    in_camps: dict[str, People] = Field(default_factory=_no_entries, description="people inside each camp")


class Slowdown(_Model):
    """A dated window changing a crossing's capacity factor, hours and/or daily quota.

    ``from``/``to`` are both included and always lie within the period once loaded (windows partly
    outside are clipped, with a warning).
    """

    at: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    factor: NonNegative = 1.0
    hours: OpeningHours | None = None
    max_people_per_day: People | None = None
    reason: str | None = None


class Disruption(_Model):
    """Random spells at a crossing: normal for a draw of ``every``, then ``factor`` for ``lasting``."""

    at: str
    every: Distribution
    lasting: Distribution
    factor: NonNegative


def _bundled_word_allowed(schema: dict[str, Any]) -> None:
    """Editors validate with the JSON schema: a bundled item may be written as the word alone."""
    schema["additionalProperties"] = {"anyOf": [schema["additionalProperties"], {"const": "bundled"}]}


NeedBasis = Literal["person", "person_day", "arrival", "household_arrival"]
NeedPlace = Literal["reception", "camps", "queue", "outside_camps"]
ARRIVAL_BASES = ("arrival", "household_arrival")


class Need(_Model):
    """An item to have ready: ``amount`` ``unit`` per person present, per person-day, per arriving
    person or per arriving household, at the places ``at``, with the ``source`` of the figure."""

    amount: NonNegative
    unit: str = Field(min_length=1, description="what amount counts: litres, m², latrines, kcal, AFN, ...")
    per: NeedBasis = Field(description="person: at any one time (space, latrines); person_day: "
                                       "consumed per day of stay; arrival / household_arrival: once per "
                                       "arriving person / household")
    at: list[NeedPlace] = Field(min_length=1, description="reception (centres), camps (inside transit camps), "
                                                          "queue (waiting at crossings), outside_camps "
                                                          "(waiting outside full camps); one place or a list")
    source: str = Field(min_length=1, description="where the figure comes from")

    @model_validator(mode="before")
    @classmethod
    def _written(cls, value: Any) -> Any:
        if isinstance(value, str):  # bundled names were filled in before (sim.scenario.needs_defaults)
            from sim.scenario.needs_defaults import bundled_needs

            raise ValueError(  # noqa: TRY004 - pydantic turns only ValueError into a located message
                f"is not a bundled item (those are {', '.join(bundled_needs())}); a new item gives "
                "amount, unit, per, at and source")
        if isinstance(value, Mapping) and isinstance(value.get("at"), str):
            return {**value, "at": [value["at"]]}  # one place written without a list
        return value

    @model_validator(mode="after")
    def _arrivals_where_counted(self) -> Need:
        if self.per in ARRIVAL_BASES and "outside_camps" in self.at:
            raise ValueError(f"per {self.per} cannot be needed at outside_camps (arrivals are counted at "
                             "reception, camps and queue); use per person or person_day there")
        return self


class Scenario(_Model):
    """One scenario: every assumption of a run, as written in one YAML file (after ``extends``)."""

    name: str = Field(min_length=1)
    description: str | None = None
    extends: str | None = Field(default=None, description="path of a base scenario, relative to this file")
    period: Period
    target: Target | None = None
    run: RunSettings = RunSettings()
    policies: dict[str, Policy] = Field(default_factory=_no_entries, description="named, dated policy phases")
    groups: dict[str, Group] = Field(min_length=1)
    origins: dict[str, Origin] = Field(min_length=1)
    camps: dict[str, Camp] = Field(default_factory=_no_entries)
    crossings: dict[str, Crossing] = Field(min_length=1)
    reception: dict[str, Reception] = Field(default_factory=_no_entries)
    initial: Initial = Initial()
    slowdowns: list[Slowdown] = Field(default_factory=_no_items)
    disruptions: list[Disruption] = Field(default_factory=_no_items)
    needs: dict[str, Need] = Field(
        default_factory=_no_entries,
        description="item -> what to have ready per person, person-day or arrival (sim.outputs.needs: "
                    "needs.csv); an item named after a bundled one (water, drinking_water_waiting, "
                    "living_space, latrines, food, cash_grant) takes its figures and source (``water: bundled``) "
                    "unless given",
        json_schema_extra=_bundled_word_allowed)
    observed: list[str] | None = Field(
        default=None,
        description="the observed figures the report draws against the projection: bundled:NAME (bordersim "
                    "observed lists them) or CSV paths relative to this file; --observed replaces them")
    # Last, so that its validator sees every other field (sim.runs.uncertain: drawn once per replication).
    # Besides key paths, the block may hold ``sample: FILE`` (sim.scenario.uncertain_sample: joint draws),
    # kept as the file's absolute path (resolved when the scenario is loaded).
    uncertain: dict[str, Distribution] = Field(
        default_factory=_no_entries,
        description="key path -> distribution: values drawn once per replication; and/or sample: a CSV "
                    "(key paths and weight) of which each replication draws one row by weight",
        json_schema_extra={"properties": {"sample": {
            "type": "string", "description": "CSV of key-path columns and weight, relative to this file"}}},
    )

    @field_validator("needs", mode="before")
    @classmethod
    def _bundled_needs(cls, value: Any) -> Any:
        from sim.scenario.needs_defaults import with_bundled

        return with_bundled(value)

    @field_validator("uncertain", mode="wrap")
    @classmethod
    def _uncertain_block(cls, value: Any, handler: Any, info: ValidationInfo) -> dict[str, Any]:
        from sim.scenario.uncertain_paths import check_paths
        from sim.scenario.uncertain_sample import SAMPLE_KEY

        sample = None
        if isinstance(value, Mapping) and SAMPLE_KEY in value:
            sample = value[SAMPLE_KEY]
            value = {key: item for key, item in value.items() if key != SAMPLE_KEY}
        validated = handler(value)
        problems = check_paths(info.data, list(validated), set(cls.model_fields))
        if sample is not None:
            if not isinstance(sample, str) or not sample.strip():
                problems.append(f"sample must be the path of a CSV file (key paths and weight), got {sample!r}")
            else:
                # The file itself is read and checked by the loader, which knows where it was written.
                validated[SAMPLE_KEY] = sample
        if problems:
            raise ValueError("; ".join(problems))
        return validated

    @field_serializer("uncertain")
    def _dump_uncertain(self, block: dict[str, Any], info: Any) -> dict[str, Any]:
        # The sample's path is text among distributions; dump each distribution as pydantic would.
        return {key: value if isinstance(value, str) else value.model_dump(
                    mode=info.mode, by_alias=info.by_alias, exclude_none=info.exclude_none)
                for key, value in block.items()}

    _warnings: list[Problem] = PrivateAttr(default_factory=_no_items)
    _source: str | None = PrivateAttr(default=None)
    _source_files: list[str] = PrivateAttr(default_factory=_no_items)

    def __eq__(self, other: object) -> bool:
        # Two scenarios are equal when their assumptions are; where they were loaded from is not one.
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # holds dicts: not hashable

    def date_of(self, day: dt.date | PolicyDate) -> dt.date:
        """The calendar day of a departure step's ``from`` (a date, or relative to a policy phase)."""
        return resolve_date(day, {name: policy.from_ for name, policy in self.policies.items()})

    @property
    def warnings(self) -> list[Problem]:
        """Non-fatal findings of the load (e.g. windows clipped to the period), located like errors."""
        return list(self._warnings)

    @property
    def source(self) -> str | None:
        """The file this scenario was loaded from, if any."""
        return self._source

    @property
    def source_files(self) -> list[str]:
        """The files read to build this scenario: its own file first, then each ``extends`` base."""
        return list(self._source_files)

    def to_yaml_dict(self) -> dict[str, Any]:
        """Plain data that :func:`load_scenario` reads back to an equal scenario.

        ``extends`` is dropped (the result is already resolved), ``from`` keys keep their alias,
        opening hours their original text, times of day are written ``"08:00"``, dates as YAML dates
        and durations as hours.
        """
        data = self.model_dump(mode="python", by_alias=True, exclude_none=True)
        data.pop("extends", None)
        for optional in ("uncertain", "policies", "needs"):
            if not data.get(optional):
                data.pop(optional, None)
        return data

    def to_yaml(self) -> str:
        """The resolved scenario as YAML text (what ``scenario.resolved.yaml`` holds)."""
        import yaml

        class _PlainDumper(yaml.SafeDumper):
            def ignore_aliases(self, data: Any) -> bool:  # equal dates must not become &id001 anchors
                return True

        def quote_times_of_day(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
            # The format rejects unquoted times of day, so "08:00" must be written quoted.
            style = '"' if TIME_OF_DAY_TEXT.match(text) else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

        _PlainDumper.add_representer(str, quote_times_of_day)
        return yaml.dump(self.to_yaml_dict(), Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=100)

    def with_values(self, values: Mapping[str, Any] | Sequence[str]) -> Scenario:
        """A new, fully validated scenario with some values changed.

        ``values`` maps key paths to values (``{"crossings.torkham.lanes": 30}``) or is a list of
        ``key.path=value`` texts like ``--set``. Raises :class:`ScenarioError` if the result is invalid.
        """
        return _apply_overrides(self.to_yaml_dict(), values, self._source or "<scenario>")


OverridesApplier = Callable[[Mapping[str, Any], "Mapping[str, Any] | Sequence[str]", str], Scenario]
_loader: list[OverridesApplier] = []


def register_loader(apply_overrides: OverridesApplier) -> None:
    """Called once by :mod:`sim.scenario.loading`, which validates scenarios.

    The loader needs these models, and :meth:`Scenario.with_values` needs the loader: the loader
    registers itself here rather than being imported, so the two modules form no import cycle.
    """
    _loader[:] = [apply_overrides]


def _apply_overrides(data: Mapping[str, Any], values: Mapping[str, Any] | Sequence[str], source: str) -> Scenario:
    if not _loader:  # importing sim.scenario (the package) always registers it
        raise RuntimeError("sim.scenario.loading has not been imported")
    return _loader[0](data, values, source)
