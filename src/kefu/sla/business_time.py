"""Business-time arithmetic for SLA calendars, exact to the microsecond.

Pure Python (no Django): a ``BusinessCalendar`` describes weekly opening hours in a
time zone plus holidays, and the functions below answer "is it open now", "when
does it open next", "what instant is N business seconds after t" and "how many
business seconds lie between two instants".

Model
-----
Every local date has a ``DayKind`` and, from it, a list of open intervals given as
seconds since local midnight.  Those are turned into aware UTC datetimes once per
date and cached on the calendar instance.  DST: wall times are resolved with
``fold=0`` (PEP 495): an ambiguous time is its first occurrence, a time inside a
spring-forward gap is read with the old offset, i.e. shifted forward by the gap (an
interval can shrink or vanish); a local 24:00 is the next local midnight.  All arithmetic is ``timedelta``
arithmetic on UTC datetimes, so sub-second offsets are kept exactly.

Business clock
--------------
Think of a clock that only runs while the calendar is open.  Interval boundaries
are whole UTC seconds, so ``business_seconds_between(a, b)`` is defined as
``floor(clock(b)) - floor(clock(a))``: exact for whole-second inputs, antisymmetric,
and additive (``between(a, b) + between(b, c) == between(a, c)``) for any inputs.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "DAY_SECONDS",
    "MAX_SEARCH_DAYS",
    "BusinessCalendar",
    "CalendarError",
    "DayKind",
    "Interval",
    "add_business_seconds",
    "business_seconds_between",
    "day_kind",
    "days_without_holiday_data",
    "end_of_business_day",
    "intervals_on",
    "is_open",
    "next_open",
    "validate_weekly",
]

Interval = tuple[int, int]  # seconds since local midnight, 0 <= start < end <= 86400
Span = tuple[datetime, datetime]  # aware UTC datetimes, start < end

DAY_SECONDS = 86400
MAX_SEARCH_DAYS = 3700  # ~10 years of consecutive closed days means a broken calendar
_CACHE_LIMIT = 20000  # cached dates per calendar before the cache is reset
_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_ZERO = timedelta(0)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_OVERRIDE_VALUES = frozenset({"closed", "open"})
_NATIONAL_VALUES = frozenset({"holiday", "workday"})


class CalendarError(ValueError):
    """A calendar that cannot be used: bad hours, no hours at all, never open."""

    def __init__(self, message: str, weekday: int | None = None) -> None:
        super().__init__(message)
        self.weekday = weekday  # the offending weekday (0=Mon) when there is one


class DayKind(StrEnum):
    NORMAL = "normal"  # ordinary day: weekly hours apply
    HOLIDAY = "holiday"  # statutory holiday: closed
    ADJUSTED_WORKDAY = "adjusted_workday"  # 调休 weekend working day: hours of workday_hours_from
    CLOSED = "closed"  # admin closure for this calendar
    EXTRA_WORKDAY = "extra_workday"  # admin extra working day: hours of workday_hours_from
    UNKNOWN = "unknown"  # no holiday data for the date: weekly hours apply, callers warn


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def validate_weekly(weekly: Mapping[int, Sequence[Sequence[int]]]) -> None:
    """Raise ``CalendarError`` naming the weekday and the problem, or return None.

    Each weekday (0=Mon..6=Sun; missing = closed) holds intervals of whole seconds
    since local midnight, ``0 <= start < end <= 86400``, sorted, neither overlapping
    nor touching (touching intervals must be written as one).  At least one weekday
    must have hours.
    """
    any_hours = False
    for weekday, intervals in weekly.items():
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise CalendarError(f"Unknown weekday {weekday!r}: use 0 (Monday) to 6 (Sunday).")
        name = _WEEKDAY_NAMES[weekday]
        previous_end: int | None = None
        for number, interval in enumerate(intervals, start=1):
            if len(interval) != 2 or not all(
                isinstance(x, int) and not isinstance(x, bool) for x in interval
            ):
                raise CalendarError(
                    f"{name}: interval {number} must be two whole numbers of seconds.", weekday
                )
            start, end = interval
            if not (0 <= start <= DAY_SECONDS and 0 <= end <= DAY_SECONDS):
                raise CalendarError(
                    f"{name}: interval {number} ({start}-{end}) is outside 00:00-24:00 "
                    f"(0..{DAY_SECONDS} seconds).",
                    weekday,
                )
            if start >= end:
                raise CalendarError(
                    f"{name}: interval {number} starts at {_hms(start)}, not before its end {_hms(end)}.",
                    weekday,
                )
            if previous_end is not None and start <= previous_end:
                raise CalendarError(
                    f"{name}: interval {number} ({_hms(start)}-{_hms(end)}) overlaps, touches "
                    f"or comes before the previous interval ending {_hms(previous_end)}; "
                    "sort the intervals and merge touching ones.",
                    weekday,
                )
            previous_end = end
            any_hours = True
    if not any_hours:
        raise CalendarError("The calendar has no business hours on any weekday.")


class _Day:
    """Cached facts about one local date."""

    __slots__ = ("end", "spans", "start", "total")

    def __init__(self, spans: tuple[Span, ...], start: datetime, end: datetime) -> None:
        self.spans = spans  # open intervals, sorted, disjoint, within [start, end]
        self.start = start  # local midnight of the date, in UTC
        self.end = end  # next local midnight, in UTC
        self.total = sum((b - a for a, b in spans), _ZERO)


@dataclass(frozen=True, eq=False)
class BusinessCalendar:
    """Weekly hours in a time zone plus holiday rules; immutable, caches per-day spans."""

    tz: ZoneInfo
    weekly: Mapping[int, Sequence[Interval]]
    observe_holidays: bool = True
    workday_hours_from: int = 0
    overrides: Mapping[date, str] = field(default_factory=dict)  # "closed" | "open"
    national: Mapping[date, str] = field(default_factory=dict)  # "holiday" | "workday"
    _days: dict[date, _Day] = field(default_factory=dict, init=False, repr=False)
    national_years: frozenset[int] = field(default=frozenset(), init=False, repr=False)

    def __post_init__(self) -> None:
        validate_weekly(self.weekly)
        if not 0 <= self.workday_hours_from <= 6:
            raise CalendarError("workday_hours_from must be a weekday from 0 (Monday) to 6.")
        for name, values, allowed in (
            ("overrides", self.overrides, _OVERRIDE_VALUES),
            ("national", self.national, _NATIONAL_VALUES),
        ):
            for day, value in values.items():
                if value not in allowed:
                    raise CalendarError(f"{name}[{day}] is {value!r}; expected one of {sorted(allowed)}.")
        # Freeze copies so the per-day cache can never go stale.
        weekly = {wd: tuple((s, e) for s, e in self.weekly.get(wd, ())) for wd in range(7)}
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        object.__setattr__(self, "national", MappingProxyType(dict(self.national)))
        object.__setattr__(self, "national_years", frozenset(d.year for d in self.national))


@lru_cache(maxsize=16384)
def _library_detail(day: date) -> tuple[bool, str | None] | None:
    """chinese_calendar's (is_holiday, name), or None for a year it has no data for.

    Cached: the library scans all its dates on every call (~35 us).
    """
    try:
        holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # year outside the library's data (2004-2026 in 1.11)
        return None
    return bool(holiday), name


def day_kind(cal: BusinessCalendar, day: date) -> DayKind:
    """Classify a local date: overrides win, then national entries, then chinese_calendar."""
    override = cal.overrides.get(day)
    if override is not None:
        return DayKind.CLOSED if override == "closed" else DayKind.EXTRA_WORKDAY
    if not cal.observe_holidays:
        return DayKind.NORMAL
    weekend = day.weekday() >= 5
    national = cal.national.get(day)
    if national is not None:
        if national == "holiday":
            return DayKind.HOLIDAY
        return DayKind.ADJUSTED_WORKDAY if weekend else DayKind.NORMAL
    detail = _library_detail(day)
    if detail is None:
        # a year the library lacks: once admins entered its national schedule, unlisted dates are ordinary
        return DayKind.NORMAL if day.year in cal.national_years else DayKind.UNKNOWN
    holiday, name = detail
    if holiday:
        # (True, None) is a plain weekend; a named holiday is statutory.
        return DayKind.HOLIDAY if name else DayKind.NORMAL
    # Not a holiday on a weekend: only listed 调休 working days get here.
    return DayKind.ADJUSTED_WORKDAY if weekend else DayKind.NORMAL


def _local_to_utc(cal: BusinessCalendar, day: date, seconds: int) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(seconds=seconds)  # 86400 -> next midnight
    return wall.replace(tzinfo=cal.tz).astimezone(UTC)


def _build_day(cal: BusinessCalendar, day: date) -> _Day:
    kind = day_kind(cal, day)
    if kind in (DayKind.HOLIDAY, DayKind.CLOSED):
        hours: Sequence[Interval] = ()
    elif kind in (DayKind.ADJUSTED_WORKDAY, DayKind.EXTRA_WORKDAY):
        hours = cal.weekly[cal.workday_hours_from]
    else:
        hours = cal.weekly[day.weekday()]
    lo = _local_to_utc(cal, day, 0)
    hi = _local_to_utc(cal, day, DAY_SECONDS)
    raw: list[Span] = []
    for s, e in hours:
        a = max(_local_to_utc(cal, day, s), lo)
        b = min(_local_to_utc(cal, day, e), hi)
        if a < b:  # an interval straddling a DST gap can vanish
            raw.append((a, b))
    raw.sort()  # DST gaps can reorder resolved wall times
    spans: list[Span] = []
    for a, b in raw:
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(b, spans[-1][1]))
        else:
            spans.append((a, b))
    return _Day(tuple(spans), lo, hi)


def _day(cal: BusinessCalendar, day: date) -> _Day:
    cache = cal._days
    found = cache.get(day)
    if found is None:
        found = _build_day(cal, day)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[day] = found
    return found


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("Business-time arithmetic needs timezone-aware datetimes.")
    return t.astimezone(UTC)


def _never_open(cal: BusinessCalendar, since: date) -> CalendarError:
    return CalendarError(
        f"The calendar has no open time in the {MAX_SEARCH_DAYS} days after {since.isoformat()}."
    )


def intervals_on(cal: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """The open intervals of a local date as aware UTC datetimes, sorted."""
    return list(_day(cal, day).spans)


def is_open(cal: BusinessCalendar, t: datetime) -> bool:
    """Whether ``t`` lies in some open interval ``[start, end)``."""
    t = _utc(t)
    return any(a <= t < b for a, b in _day(cal, t.astimezone(cal.tz).date()).spans)


def _next_open(cal: BusinessCalendar, t: datetime) -> datetime:
    day = first = t.astimezone(cal.tz).date()
    for _ in range(MAX_SEARCH_DAYS):
        for a, b in _day(cal, day).spans:
            if b > t:
                return a if a > t else t
        day += _ONE_DAY
    raise _never_open(cal, first)


def next_open(cal: BusinessCalendar, t: datetime) -> datetime:
    """``t`` (in UTC) if the calendar is open at ``t``, else the start of the next interval."""
    return _next_open(cal, _utc(t))


def add_business_seconds(cal: BusinessCalendar, start: datetime, seconds: int) -> datetime:
    """The UTC instant at which ``seconds`` business seconds have elapsed since ``start``.

    ``seconds == 0`` gives ``next_open(start)``.  For ``seconds > 0`` the result lies in
    ``(a, b]`` of some open interval, so a due time can be exactly a closing time.
    """
    seconds = operator.index(seconds)
    if seconds < 0:
        raise ValueError("seconds must not be negative.")
    t = _utc(start)
    if seconds == 0:
        return _next_open(cal, t)
    remaining = timedelta(seconds=seconds)
    day = first = t.astimezone(cal.tz).date()
    closed_run = 0
    while True:
        rec = _day(cal, day)
        if not rec.spans:
            closed_run += 1
            if closed_run >= MAX_SEARCH_DAYS:
                raise _never_open(cal, first)
        elif t <= rec.start and rec.total < remaining:
            closed_run = 0
            remaining -= rec.total  # the whole day is consumed
        else:
            closed_run = 0
            for a, b in rec.spans:
                if b <= t:
                    continue
                cur = a if a > t else t
                available = b - cur
                if available >= remaining:
                    return cur + remaining
                remaining -= available
        day += _ONE_DAY


def business_seconds_between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Whole business seconds from ``start`` to ``end``; negative when ``end < start``.

    Defined as ``floor(clock(end)) - floor(clock(start))`` on the business clock (see
    the module docstring); for whole-second instants this is the exact open time.
    """
    a, b = _utc(start), _utc(end)
    if b < a:
        return -business_seconds_between(cal, b, a)
    total = _ZERO
    fraction = _ZERO  # sub-second position of ``a`` on the business clock
    day = a.astimezone(cal.tz).date()
    last = b.astimezone(cal.tz).date()
    while day <= last:
        rec = _day(cal, day)
        if a <= rec.start and rec.end <= b:
            total += rec.total
        else:
            for s, e in rec.spans:
                if s <= a < e:
                    fraction = (a - s) % _ONE_SECOND
                lo = s if s > a else a
                hi = e if e < b else b
                if hi > lo:
                    total += hi - lo
        day += _ONE_DAY
    return (total + fraction) // _ONE_SECOND


def end_of_business_day(cal: BusinessCalendar, t: datetime, cutoff: int | None = None) -> datetime:
    """Close (UTC) of the last interval of the business day containing ``t``.

    If ``t`` is at/after that day's last close, or the day has no open time, the close
    of the next business day.  With ``cutoff`` (seconds since local midnight), ``t`` on
    a business day at/after the cutoff counts as received the next day, so the result
    is the close of the next business day.
    """
    t = _utc(t)
    local = t.astimezone(cal.tz)
    day = first = local.date()
    rec = _day(cal, day)
    if cutoff is not None:
        cutoff = operator.index(cutoff)
        if not 0 <= cutoff <= DAY_SECONDS:
            raise ValueError(f"cutoff must be within 0..{DAY_SECONDS} seconds.")
        wall = local.hour * 3600 + local.minute * 60 + local.second
        if rec.spans and wall >= cutoff:
            t = rec.end
            day += _ONE_DAY
            rec = _day(cal, day)
    for _ in range(MAX_SEARCH_DAYS):
        if rec.spans and rec.spans[-1][1] > t:
            return rec.spans[-1][1]
        day += _ONE_DAY
        rec = _day(cal, day)
    raise _never_open(cal, first)


def days_without_holiday_data(cal: BusinessCalendar, start: date, days: int = 90) -> list[date]:
    """Dates in ``[start, start + days)`` whose kind is UNKNOWN (none if holidays are ignored)."""
    if not cal.observe_holidays:
        return []
    dates = (start + timedelta(days=i) for i in range(days))
    return [d for d in dates if day_kind(cal, d) is DayKind.UNKNOWN]
