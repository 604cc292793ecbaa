"""Business calendars as the pure arithmetic needs them, built from the database rows and cached
per process until the calendar changes (every change to hours or days touches `updated_at`)."""

from __future__ import annotations

import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kefu.sla.business_time import BusinessCalendar
from kefu.sla.models import Calendar, CalendarDay, DayKind

_cache: dict[int, tuple[datetime, BusinessCalendar]] = {}
_lock = threading.Lock()

NATIONAL_KINDS = {DayKind.HOLIDAY: "holiday", DayKind.WORKDAY: "workday"}
OWN_KINDS = {DayKind.CLOSED: "closed", DayKind.OPEN: "open"}


def business_calendar(calendar: Calendar) -> BusinessCalendar:
    cached = _cache.get(calendar.pk)
    if cached is not None and cached[0] == calendar.updated_at:
        return cached[1]
    built = build_business_calendar(calendar)
    with _lock:
        _cache[calendar.pk] = (calendar.updated_at, built)
    return built


def build_business_calendar(calendar: Calendar) -> BusinessCalendar:
    weekly: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for h in calendar.hours.order_by("weekday", "start_minute"):
        weekly[h.weekday].append((h.start_minute * 60, h.end_minute * 60))
    overrides: dict[date, str] = {}
    national: dict[date, str] = {}
    for day in CalendarDay.objects.filter(calendar__isnull=True) | CalendarDay.objects.filter(
        calendar=calendar
    ):
        if day.calendar_id is None and day.kind in NATIONAL_KINDS:
            national[day.date] = NATIONAL_KINDS[DayKind(day.kind)]
        elif day.calendar_id == calendar.pk and day.kind in OWN_KINDS:
            overrides[day.date] = OWN_KINDS[DayKind(day.kind)]
    return BusinessCalendar(
        tz=ZoneInfo(calendar.time_zone),
        weekly={d: tuple(v) for d, v in weekly.items()},
        observe_holidays=calendar.observe_holidays,
        workday_hours_from=calendar.workday_hours_from,
        overrides=overrides,
        national=national,
    )


def forget(calendar_id: int | None = None) -> None:
    with _lock:
        if calendar_id is None:
            _cache.clear()
        else:
            _cache.pop(calendar_id, None)
