"""Configuration writes: business calendars (weekly hours, their own days, the national holiday
schedule), SLA policies and their escalation ladders. Every write is audited and atomic.

Cached business calendars are keyed on ``Calendar.updated_at``, so every change to a calendar's hours
or days moves that calendar's ``updated_at`` strictly forward (also under a frozen test clock), and
every change to the national schedule moves every calendar's.

Policies and escalation ladders live in config_policies and config_ladders (re-exported here)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import ValidationFailed
from kefu.core.permissions import authorize
from kefu.sla import calendars, events
from kefu.sla.business_time import CalendarError, validate_weekly
from kefu.sla.models import Calendar, CalendarDay, CalendarHours, DayKind, Weekday
from kefu.sla.selectors import hhmm
from kefu.sla.services.config_ladders import StepSpec as StepSpec
from kefu.sla.services.config_ladders import save_ladder as save_ladder
from kefu.sla.services.config_policies import delete_policy as delete_policy
from kefu.sla.services.config_policies import move_policy as move_policy
from kefu.sla.services.config_policies import policy_targets as policy_targets
from kefu.sla.services.config_policies import reorder_policies as reorder_policies
from kefu.sla.services.config_policies import save_policy as save_policy
from kefu.sla.services.config_policies import set_policy_active as set_policy_active

MAX_IMPORT_LINES = 2000
KIND_WORDS = {
    "holiday": DayKind.HOLIDAY,
    "休": DayKind.HOLIDAY,
    "workday": DayKind.WORKDAY,
    "班": DayKind.WORKDAY,
}
Hours = Iterable[tuple[int, int, int]]  # (weekday 0=Mon, start minute, end minute ≤ 1440)


def _fail(message: str, field: str, **extra: Any) -> ValidationFailed:
    return ValidationFailed(message, field=field, **extra)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _touch(calendar_ids: Iterable[int] | None = None) -> Any:
    """Move ``updated_at`` of the calendars (all when None) past its current value; drop caches."""
    rows = Calendar.objects.all() if calendar_ids is None else Calendar.objects.filter(pk__in=calendar_ids)
    latest = rows.aggregate(m=Max("updated_at"))["m"]
    now = clock.now()
    stamp = now if latest is None or now > latest else latest + timedelta(microseconds=1)
    rows.update(updated_at=stamp)
    calendars.forget()
    transaction.on_commit(calendars.forget)
    return stamp


# --- calendars --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _clean_hours(hours: Hours) -> list[tuple[int, int, int]]:
    """Validated, sorted intervals; touching intervals on a weekday are merged into one."""
    by_day: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for row in hours:
        weekday, start, end = (*row, None, None, None)[:3] if isinstance(row, tuple | list) else (None,) * 3
        if not (_is_int(weekday) and 0 <= weekday <= 6 and _is_int(start) and _is_int(end) and len(row) == 3):
            raise _fail(_("Open hours: %(row)s is not a weekday with two times.") % {"row": row}, "hours")
        day = Weekday(weekday).label
        if not (0 <= start <= 1440 and 0 <= end <= 1440):
            raise _fail(
                _("%(day)s: open hours must lie within 00:00–24:00.") % {"day": day}, f"hours.{weekday}"
            )
        if start >= end:
            raise _fail(
                _("%(day)s: %(start)s–%(end)s must start before it ends.")
                % {"day": day, "start": hhmm(start), "end": hhmm(end)},
                f"hours.{weekday}",
            )
        by_day[weekday].append((start, end))
    cleaned: list[tuple[int, int, int]] = []
    for weekday, intervals in by_day.items():
        merged: list[tuple[int, int]] = []
        for start, end in sorted(intervals):
            if merged and start < merged[-1][1]:
                raise _fail(
                    _("%(day)s: %(a)s and %(b)s overlap.")
                    % {
                        "day": Weekday(weekday).label,
                        "a": f"{hhmm(merged[-1][0])}–{hhmm(merged[-1][1])}",
                        "b": f"{hhmm(start)}–{hhmm(end)}",
                    },
                    f"hours.{weekday}",
                )
            if merged and start == merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        cleaned += [(weekday, s, e) for s, e in merged]
    if not cleaned:
        raise _fail(_("Open hours: give at least one weekday an open interval."), "hours")
    try:  # the arithmetic's own check, in seconds
        validate_weekly({d: [(s * 60, e * 60) for w, s, e in cleaned if w == d] for d in range(7)})
    except CalendarError as exc:  # pragma: no cover - the checks above are stricter
        raise _fail(str(exc), "hours" if exc.weekday is None else f"hours.{exc.weekday}") from exc
    return cleaned


@transaction.atomic
def save_calendar(
    *,
    actor: Any,
    calendar: Calendar | None = None,
    name: str,
    time_zone: str,
    observe_holidays: bool = True,
    workday_hours_from: int = Weekday.MON,
    is_active: bool = True,
    hours: Hours,
) -> Calendar:
    """Create a calendar, or update one with its weekly hours replaced as a whole."""
    authorize(actor, "sla.manage")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise _fail(_("Name: give the calendar a name of at most 100 characters."), "name")
    others = Calendar.objects.filter(name=name)
    if calendar is not None:
        others = others.exclude(pk=calendar.pk)
    if others.exists():
        raise _fail(_("Name: another calendar is already called “%(name)s”.") % {"name": name}, "name")
    time_zone = (time_zone or "").strip()
    if time_zone not in _zones():
        raise _fail(
            _("Time zone: “%(tz)s” is not a known time zone; use e.g. Asia/Shanghai.") % {"tz": time_zone},
            "time_zone",
        )
    if not (_is_int(workday_hours_from) and 0 <= workday_hours_from <= 6):
        raise _fail(_("Working days use the hours of: choose a weekday."), "workday_hours_from")
    cleaned = _clean_hours(hours)
    if not any(w == workday_hours_from for w, _s, _e in cleaned):
        raise _fail(
            _("Working days use the hours of: %(day)s has no open hours, so 调休 days would be closed.")
            % {"day": Weekday(workday_hours_from).label},
            "workday_hours_from",
        )
    created = calendar is None
    cal = Calendar() if calendar is None else Calendar.objects.select_for_update().get(pk=calendar.pk)
    values = {
        "name": name,
        "time_zone": time_zone,
        "observe_holidays": bool(observe_holidays),
        "workday_hours_from": workday_hours_from,
        "is_active": bool(is_active),
    }
    before = {**{k: getattr(cal, k) for k in values}, "hours": [] if created else _hours_of(cal)}
    for key, value in values.items():
        setattr(cal, key, value)
    cal.save()
    CalendarHours.objects.filter(calendar=cal).delete()
    CalendarHours.objects.bulk_create(
        CalendarHours(calendar=cal, weekday=w, start_minute=s, end_minute=e) for w, s, e in cleaned
    )
    cal.updated_at = _touch([cal.pk])
    after = {**values, "hours": [list(r) for r in cleaned]}
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    record_event(
        actor=actor,
        verb=events.CALENDAR_SAVED.verb,
        subject=cal,
        data={"name": name, "created": created, "changes": changes},
    )
    if calendar is not None:
        calendar.refresh_from_db()
    return cal


def _hours_of(cal: Calendar) -> list[list[int]]:
    return [
        [h.weekday, h.start_minute, h.end_minute]
        for h in CalendarHours.objects.filter(calendar=cal).order_by("weekday", "start_minute")
    ]


def _check_day(calendar: Calendar | None, day: Any, kind: str, name: str) -> None:
    if not isinstance(day, date):
        raise _fail(_("Date: give a date such as 2027-01-01."), "date")
    allowed = (DayKind.HOLIDAY, DayKind.WORKDAY) if calendar is None else (DayKind.CLOSED, DayKind.OPEN)
    if kind not in allowed:
        choices = " / ".join(str(k.label) for k in allowed)
        raise _fail(_("Kind: choose one of %(choices)s.") % {"choices": choices}, "kind")
    if kind == DayKind.WORKDAY and day.weekday() < 5:
        raise _fail(
            _("Kind: %(date)s is a weekday; an adjusted working day (调休) is a Saturday or Sunday.")
            % {"date": day.isoformat()},
            "kind",
        )
    if len(name) > 100:
        raise _fail(_("Name: at most 100 characters."), "name")


def _upsert_day(calendar: Calendar | None, day: date, kind: str, name: str) -> tuple[CalendarDay, str]:
    """Create or update one date's row: ("created" | "updated" | "unchanged")."""
    rows = CalendarDay.objects.select_for_update()
    rows = rows.filter(calendar__isnull=True) if calendar is None else rows.filter(calendar=calendar)
    row = rows.filter(date=day).first()
    if row is None:
        return CalendarDay.objects.create(calendar=calendar, date=day, kind=kind, name=name), "created"
    if (row.kind, row.name) == (kind, name):
        return row, "unchanged"
    row.kind, row.name = kind, name
    row.save(update_fields=["kind", "name"])
    return row, "updated"


@transaction.atomic
def set_calendar_day(
    *, actor: Any, calendar: Calendar | None, date: date, kind: str, name: str = ""
) -> CalendarDay:
    """A calendar's own closure or extra working day; with ``calendar=None`` a national holiday or
    adjusted working day. Setting a date again replaces its kind and name."""
    authorize(actor, "sla.manage")
    name = (name or "").strip()
    _check_day(calendar, date, kind, name)
    row, state = _upsert_day(calendar, date, kind, name)
    if state != "unchanged":
        _touch(None if calendar is None else [calendar.pk])
        record_event(
            actor=actor,
            verb=events.CALENDAR_DAY_SAVED.verb,
            subject=row,
            data=_day_data(row),
        )
    return row


def _day_data(row: CalendarDay) -> dict[str, Any]:
    return {
        "date": row.date.isoformat(),
        "kind": row.kind,
        "name": row.name,
        "calendar_id": row.calendar_id,
        "calendar": row.calendar.name if row.calendar_id and row.calendar else "",
    }


@transaction.atomic
def delete_calendar_day(*, actor: Any, day: CalendarDay) -> None:
    authorize(actor, "sla.manage")
    row = (
        CalendarDay.objects.select_for_update(of=("self",))
        .select_related("calendar")
        .filter(pk=day.pk)
        .first()
    )
    if row is None:
        return  # already gone: deleting twice is harmless
    record_event(actor=actor, verb=events.CALENDAR_DAY_DELETED.verb, subject=row, data=_day_data(row))
    calendar_id = row.calendar_id
    row.delete()
    _touch(None if calendar_id is None else [calendar_id])


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dates: list[date] = field(default_factory=list)  # created or updated


def _parse_schedule_line(number: int, line: str) -> tuple[date, str, str] | None:
    """`2027-01-01 holiday 元旦` or `2027-01-01,holiday,元旦`; None for a CSV header."""
    if "," in line:
        cells = [c.strip() for c in next(csv.reader([line]))]
        cells = cells[:2] + [",".join(cells[2:]).strip()]
    else:
        cells = line.split(None, 2)
    if cells and cells[0].lower() == "date":
        return None
    if len(cells) < 2:
        raise _fail(
            _("Line %(line)s: write a date and a kind, e.g. “2027-01-01 holiday 元旦”.") % {"line": number},
            "text",
            line=number,
        )
    try:
        day = date.fromisoformat(cells[0].replace("/", "-"))
    except ValueError:
        raise _fail(
            _("Line %(line)s: “%(value)s” is not a date like 2027-01-01.")
            % {"line": number, "value": cells[0]},
            "text",
            line=number,
        ) from None
    kind = KIND_WORDS.get(cells[1].lower())
    if kind is None:
        raise _fail(
            _("Line %(line)s: kind “%(value)s” must be holiday (休) or workday (班).")
            % {"line": number, "value": cells[1]},
            "text",
            line=number,
        )
    return day, kind, (cells[2] if len(cells) > 2 else "").strip()


@transaction.atomic
def import_national_schedule(*, actor: Any, text: str) -> ImportResult:
    """Enter the official holiday and 调休 schedule, one date per line (text or CSV date,kind,name).

    All or nothing: the first bad line is named and nothing is written. Idempotent: dates already
    entered with the same kind and name are left alone."""
    authorize(actor, "sla.manage")
    lines = (text or "").splitlines()
    if len(lines) > MAX_IMPORT_LINES:
        raise _fail(_("At most %(n)s lines per import.") % {"n": MAX_IMPORT_LINES}, "text")
    wanted: dict[date, tuple[str, str, int]] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        parsed = _parse_schedule_line(number, line)
        if parsed is None:
            continue
        day, kind, name = parsed
        try:
            _check_day(None, day, kind, name)
        except ValidationFailed as exc:
            message = _("Line %(line)s: %(error)s") % {"line": number, "error": exc.message}
            raise _fail(message, "text", line=number) from exc
        if day in wanted and wanted[day][0] != kind:
            raise _fail(
                _("Line %(line)s: %(date)s is already listed on line %(other)s with another kind.")
                % {"line": number, "date": day.isoformat(), "other": wanted[day][2]},
                "text",
                line=number,
            )
        wanted[day] = (kind, name, number)
    if not wanted:
        raise _fail(_("Nothing to import: write one date per line."), "text")
    result = ImportResult()
    first: CalendarDay | None = None
    for day, (kind, name, _number) in sorted(wanted.items()):
        row, state = _upsert_day(None, day, kind, name)
        setattr(result, state, getattr(result, state) + 1)
        if state != "unchanged":
            first = first or row
            result.dates.append(day)
    return _finish_import(actor, result, first)


def _finish_import(actor: Any, result: ImportResult, first: CalendarDay | None) -> ImportResult:
    if first is None:
        return result
    _touch(None)
    record_event(
        actor=actor,
        verb=events.NATIONAL_SCHEDULE_IMPORTED.verb,
        subject=first,
        data={
            "count": len(result.dates),
            "first": result.dates[0].isoformat(),
            "last": result.dates[-1].isoformat(),
            "dates": [d.isoformat() for d in result.dates],
        },
    )
    return result
