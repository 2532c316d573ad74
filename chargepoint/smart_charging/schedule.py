"""The composite charging schedule (OCPP 1.6 §3.13, §5.7, errata 3.43, 3.44, 3.79), as pure
functions from profiles, time and the station's limits to a schedule.

At each instant, within each purpose, the valid profile of highest stackLevel whose schedule
is in force wins; a TxProfile overrules the TxDefaultProfile; the ChargePointMaxProfile and
the hardware cap the result. The schedule only changes at an instant where some profile may
change, so it is evaluated at those instants alone and equal neighbours are merged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

CP_MAX, TX_DEFAULT, TX = "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"
DEFAULT_PHASES = 3  # §7.13: numberPhases absent means 3
RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}


@dataclass(frozen=True)
class Period:
    start: int  # seconds from the schedule's start
    limit: float
    phases: int | None = None


@dataclass(frozen=True)
class ChargingProfile:
    id: int
    stack_level: int
    purpose: str
    kind: str  # Absolute | Recurring | Relative
    unit: str  # A | W
    periods: tuple[Period, ...]
    duration: int | None = None
    start_schedule: datetime | None = None
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    min_rate: float | None = None
    transaction_id: int | None = None

    @classmethod
    def from_ocpp(cls, profile: dict[str, Any]) -> ChargingProfile:
        """From the snake_case dict the `ocpp` library gives a handler (csChargingProfiles)."""
        schedule = profile["charging_schedule"]
        return cls(
            id=profile["charging_profile_id"],
            stack_level=profile["stack_level"],
            purpose=profile["charging_profile_purpose"],
            kind=profile["charging_profile_kind"],
            unit=schedule["charging_rate_unit"],
            periods=tuple(
                Period(p["start_period"], float(p["limit"]), p.get("number_phases"))
                for p in schedule["charging_schedule_period"]
            ),
            duration=schedule.get("duration"),
            start_schedule=_time(schedule.get("start_schedule")),
            recurrency=profile.get("recurrency_kind"),
            valid_from=_time(profile.get("valid_from")),
            valid_to=_time(profile.get("valid_to")),
            min_rate=schedule.get("min_charging_rate"),
            transaction_id=profile.get("transaction_id"),
        )


@dataclass(frozen=True)
class Limits:
    """The connector's own: what it can carry whatever the profiles say."""

    max_current_a: float
    phases: int = 3
    voltage: float = 230.0


@dataclass(frozen=True)
class Limit:
    """The limit in force at one instant, and the profile that sets it (None: the hardware)."""

    limit: float
    phases: int | None = None
    profile_id: int | None = None
    min_rate: float | None = None


@dataclass(frozen=True)
class Composite:
    start: datetime
    duration: int
    unit: str
    periods: tuple[Period, ...]


def _time(text: str | None) -> datetime | None:
    """An OCPP dateTime; one without an offset is taken as UTC, the zone §3.14 recommends."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def schedule_start(profile: ChargingProfile, at: datetime, anchor: datetime) -> datetime | None:
    """When the occurrence of `profile` in force at `at` began; `anchor` is the transaction's
    start, or the request's time without one (Relative, and Absolute without startSchedule)."""
    if profile.kind == "Recurring":
        if profile.start_schedule is None or profile.recurrency not in RECURRENCE:
            return None
        every = RECURRENCE[profile.recurrency]
        return profile.start_schedule + every * math.floor((at - profile.start_schedule) / every)
    if profile.kind == "Absolute" and profile.start_schedule is not None:
        return profile.start_schedule
    return anchor


def profile_limit(profile: ChargingProfile, at: datetime, anchor: datetime) -> Period | None:
    """The period of `profile` in force at `at` (its start made absolute-free), or None."""
    if (profile.valid_from and at < profile.valid_from) or (profile.valid_to and at >= profile.valid_to):
        return None
    start = schedule_start(profile, at, anchor)
    if start is None or at < start:
        return None
    offset = (at - start).total_seconds()
    if profile.duration is not None and offset >= profile.duration:
        return None
    in_force = [p for p in profile.periods if p.start <= offset]
    return in_force[-1] if in_force else None


def to_unit(period: Period, unit: str, wanted: str, limits: Limits) -> float:
    """Amperes and watts with the phases the connector really uses (errata 3.34)."""
    if unit == wanted:
        return period.limit
    phases = min(period.phases or DEFAULT_PHASES, limits.phases)
    factor = limits.voltage * phases
    return period.limit * factor if wanted == "W" else period.limit / factor


def _prevailing(profiles: Iterable[ChargingProfile], at: datetime, anchor: datetime) -> tuple[ChargingProfile, Period] | None:
    for profile in sorted(profiles, key=lambda p: p.stack_level, reverse=True):
        period = profile_limit(profile, at, anchor)
        if period is not None:
            return profile, period
    return None


def limit_at(
    profiles: Sequence[ChargingProfile], at: datetime, anchor: datetime, unit: str, limits: Limits
) -> Limit:
    """The composite limit at one instant, in `unit`, with the profile that sets it."""
    by_purpose = {purpose: [p for p in profiles if p.purpose == purpose] for purpose in (CP_MAX, TX_DEFAULT, TX)}
    transaction = _prevailing(by_purpose[TX], at, anchor) or _prevailing(by_purpose[TX_DEFAULT], at, anchor)
    lowest = Limit(to_unit(Period(0, limits.max_current_a), "A", unit, limits))
    for found in (_prevailing(by_purpose[CP_MAX], at, anchor), transaction):
        if found is not None:
            profile, period = found
            limit = to_unit(period, profile.unit, unit, limits)
            if limit < lowest.limit:
                min_rate = to_unit(Period(0, profile.min_rate), profile.unit, unit, limits) if profile.min_rate else None
                lowest = Limit(limit, period.phases, profile.id, min_rate)
    return Limit(round(lowest.limit, 1), lowest.phases, lowest.profile_id, lowest.min_rate)


def next_change(profiles: Sequence[ChargingProfile], after: datetime, anchor: datetime, horizon: timedelta) -> datetime | None:
    """The first instant after `after`, within `horizon`, where the limit may change."""
    later = set().union(*(_instants(p, after, after + horizon, anchor) for p in profiles)) - {after}
    return min(later, default=None)


def _instants(profile: ChargingProfile, start: datetime, end: datetime, anchor: datetime) -> set[datetime]:
    """Every instant in [start, end) where `profile` may begin, end or change period."""
    found = {t for t in (profile.valid_from, profile.valid_to) if t is not None}
    if profile.kind == "Recurring" and profile.start_schedule is not None and profile.recurrency in RECURRENCE:
        every = RECURRENCE[profile.recurrency]
        first = math.floor((start - profile.start_schedule) / every)
        last = math.floor((end - profile.start_schedule) / every)
        origins = [profile.start_schedule + every * k for k in range(first, last + 1)]
    else:
        origin = schedule_start(profile, start, anchor)
        origins = [origin] if origin is not None else []
    for origin in origins:
        found.update(origin + timedelta(seconds=p.start) for p in profile.periods)
        if profile.duration is not None:
            found.add(origin + timedelta(seconds=profile.duration))
    return {t for t in found if start <= t < end}


def composite_schedule(
    profiles: Sequence[ChargingProfile],
    start: datetime,
    duration: int,
    unit: str,
    limits: Limits,
    transaction_start: datetime | None = None,
) -> Composite:
    """GetCompositeSchedule over [start, start + duration) for one connector's profiles."""
    end = start + timedelta(seconds=duration)
    anchor = transaction_start or start
    instants = {start}.union(*(_instants(p, start, end, anchor) for p in profiles))
    periods: list[Period] = []
    for at in sorted(instants):
        here = limit_at(profiles, at, anchor, unit, limits)
        if periods and (periods[-1].limit, periods[-1].phases) == (here.limit, here.phases):
            continue
        periods.append(Period(int((at - start).total_seconds()), here.limit, here.phases))
    return Composite(start, duration, unit, tuple(periods))
