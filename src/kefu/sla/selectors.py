"""SLA reads. Configuration (calendars, the national holiday schedule, policies and ladders) is not
object-scoped: the views authorize ``sla.manage`` before calling these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _

from kefu.core import clock
from kefu.core.errors import NotFound
from kefu.sla import business_time as bt
from kefu.sla.calendars import business_calendar
from kefu.sla.models import (
    Calendar,
    CalendarDay,
    CalendarHours,
    EscalationStep,
    SlaPolicy,
    SlaTimer,
    Target,
    TimerStatus,
)
from kefu.sla.services.timers import remaining_seconds
from kefu.tickets.models import Ticket

# --- configuration ----------------------------------------------------------------------------

DAY_KIND_LABELS: dict[bt.DayKind, Any] = {
    bt.DayKind.NORMAL: _("Normal day"),
    bt.DayKind.HOLIDAY: _("Statutory holiday"),
    bt.DayKind.ADJUSTED_WORKDAY: _("Adjusted working day (调休)"),
    bt.DayKind.CLOSED: _("Closed (this calendar)"),
    bt.DayKind.EXTRA_WORKDAY: _("Extra working day (this calendar)"),
    bt.DayKind.UNKNOWN: _("No holiday data"),
}


def hhmm(minutes: int) -> str:
    """Minutes after midnight as HH:MM; 1440 is "24:00"."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_intervals(intervals: list[tuple[int, int]]) -> str:
    """[(510, 720), (780, 1050)] → "08:30-12:00, 13:00-17:30" (the calendar form's syntax)."""
    return ", ".join(f"{hhmm(s)}-{hhmm(e)}" for s, e in intervals)


def list_calendars() -> list[Calendar]:
    """All calendars by name, with their hours and the number of policies using each."""
    return list(
        Calendar.objects.annotate(policy_count=Count("policies"))
        .prefetch_related(
            Prefetch("hours", queryset=CalendarHours.objects.order_by("weekday", "start_minute"))
        )
        .order_by("name")
    )


def get_calendar(*, calendar_id: int) -> Calendar:
    """One calendar with its hours and its own days (closures, extra working days) prefetched."""
    found = (
        Calendar.objects.filter(pk=calendar_id)
        .prefetch_related(
            Prefetch("hours", queryset=CalendarHours.objects.order_by("weekday", "start_minute")),
            Prefetch("days", queryset=CalendarDay.objects.order_by("date")),
        )
        .first()
    )
    if found is None:
        raise NotFound(str(_("There is no business calendar #%(id)s.") % {"id": calendar_id}))
    return found


def weekly_hours(calendar: Calendar) -> dict[int, list[tuple[int, int]]]:
    """The calendar's open intervals (minutes) per weekday 0..6, from the prefetched hours."""
    weekly: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for h in calendar.hours.all():
        weekly[h.weekday].append((h.start_minute, h.end_minute))
    for intervals in weekly.values():
        intervals.sort()
    return weekly


def list_national_days(*, since: date | None = None) -> list[CalendarDay]:
    """The national holiday / 调休 entries admins entered (for years chinese-calendar lacks)."""
    days = CalendarDay.objects.filter(calendar__isnull=True)
    if since is not None:
        days = days.filter(date__gte=since)
    return list(days.order_by("date"))


def get_calendar_day(*, day_id: int, calendar_id: int | None) -> CalendarDay:
    """A calendar's own day, or a national entry when ``calendar_id`` is None."""
    days = CalendarDay.objects.filter(pk=day_id)
    days = days.filter(calendar__isnull=True) if calendar_id is None else days.filter(calendar_id=calendar_id)
    found = days.select_related("calendar").first()
    if found is None:
        raise NotFound(str(_("There is no such calendar day.")))
    return found


def _policies() -> Any:
    return SlaPolicy.objects.select_related("calendar").prefetch_related(
        Prefetch("steps", queryset=EscalationStep.objects.order_by("target", "trigger", "threshold", "id"))
    )


def list_policies() -> list[SlaPolicy]:
    """Every policy in matching order, with its calendar and ladder (three queries in all)."""
    return list(_policies().order_by("position", "id"))


def get_policy(*, policy_id: int) -> SlaPolicy:
    found = _policies().filter(pk=policy_id).first()
    if found is None:
        raise NotFound(str(_("There is no SLA policy #%(id)s.") % {"id": policy_id}))
    return found


@dataclass(frozen=True)
class HolidayDataWarning:
    """An active calendar observing holidays meets dates with no holiday data (or cannot be built)."""

    calendar_id: int
    calendar_name: str
    first: date | None = None
    last: date | None = None
    count: int = 0
    error: str = ""  # the calendar cannot be used at all (e.g. it has no hours)


def holiday_data_warnings(*, days: int = 90, today: date | None = None) -> list[HolidayDataWarning]:
    """Per active calendar that observes holidays: the dates in the next ``days`` days (from today in
    the calendar's zone) for which neither chinese-calendar nor the national schedule has data."""
    warnings = []
    for cal in Calendar.objects.filter(is_active=True, observe_holidays=True).order_by("name"):
        try:
            bc = business_calendar(cal)
        except bt.CalendarError as exc:
            warnings.append(HolidayDataWarning(cal.pk, cal.name, error=str(exc)))
            continue
        start = today or clock.now().astimezone(bc.tz).date()
        missing = bt.days_without_holiday_data(bc, start, days)
        if missing:
            warnings.append(HolidayDataWarning(cal.pk, cal.name, missing[0], missing[-1], len(missing)))
    return warnings


@dataclass
class PreviewDay:
    date: date
    kind: bt.DayKind
    kind_label: Any
    name: str = ""
    hours: list[str] = field(default_factory=list)  # "08:30-12:00" in the calendar's zone

    @property
    def is_weekend(self) -> bool:
        return self.date.weekday() >= 5

    @property
    def is_open(self) -> bool:
        return bool(self.hours)


def _library_name(day: date) -> str:
    try:
        return chinese_calendar.get_holiday_detail(day)[1] or ""
    except NotImplementedError:
        return ""


def preview_calendar(calendar: Calendar, *, start: date, days: int = 14) -> list[PreviewDay]:
    """What each of ``days`` local dates from ``start`` is, and its open hours (raises CalendarError
    when the calendar cannot be used)."""
    bc = business_calendar(calendar)
    tz: ZoneInfo = bc.tz
    end = start + timedelta(days=days)
    names = {
        (d.calendar_id is None, d.date): d.name
        for d in CalendarDay.objects.filter(date__gte=start, date__lt=end).filter(calendar__isnull=True)
        | CalendarDay.objects.filter(date__gte=start, date__lt=end, calendar=calendar)
    }
    result = []
    for i in range(days):
        day = start + timedelta(days=i)
        kind = bt.day_kind(bc, day)
        hours = []
        for a, b in bt.intervals_on(bc, day):
            la, lb = a.astimezone(tz), b.astimezone(tz)
            end_text = "24:00" if lb.date() > day else lb.strftime("%H:%M")
            hours.append(f"{la.strftime('%H:%M')}-{end_text}")
        if kind in (bt.DayKind.CLOSED, bt.DayKind.EXTRA_WORKDAY):
            name = names.get((False, day), "")
        elif calendar.observe_holidays:
            name = names.get((True, day)) or _library_name(day)
        else:
            name = ""
        result.append(PreviewDay(day, kind, DAY_KIND_LABELS[kind], name, hours))
    return result


# --- tickets ----------------------------------------------------------------------------------

TARGET_ORDER = {Target.FIRST_REPLY: 0, Target.NEXT_REPLY: 1, Target.RESOLUTION: 2}


@dataclass(frozen=True)
class TicketTimer:
    """One target's clock on a ticket as people read it. `remaining_seconds` is business seconds
    left now (negative when overdue), None unless the timer runs or is paused (or its calendar
    cannot say, e.g. a year without holiday data); `business_seconds` is the time it took when met."""

    target: str
    target_label: str
    status: str
    status_label: str
    started_at: datetime
    due_at: datetime | None
    target_seconds: int
    remaining_seconds: int | None
    breached: bool
    breached_at: datetime | None
    met_at: datetime | None
    business_seconds: int | None

    @property
    def is_active(self) -> bool:
        return self.status in (TimerStatus.RUNNING, TimerStatus.PAUSED)


@dataclass(frozen=True)
class TicketSla:
    """A ticket's SLA at one instant: the policy and calendar its clocks follow (None without any)
    and its timers in target order (first reply, next reply, resolution)."""

    ticket_id: int
    at: datetime
    policy: str | None = None
    calendar: str | None = None
    timers: list[TicketTimer] = field(default_factory=list)


def _remaining(timer: SlaTimer, at: datetime) -> int | None:
    if timer.status not in (TimerStatus.RUNNING, TimerStatus.PAUSED):
        return None
    if timer.status == TimerStatus.PAUSED:
        return timer.remaining_at_start
    if timer.policy is None:  # the policy was deleted: no calendar to count business time with
        return None
    try:
        return remaining_seconds(timer, business_calendar(timer.policy.calendar), at)
    except bt.CalendarError:
        return None


def get_ticket_sla(*, actor: Any, ticket_id: int) -> TicketSla:
    """The SLA of a ticket the actor may see (NotFound otherwise): two queries, plus two the first
    time a calendar is used by this process (calendars are cached until they change)."""
    if not Ticket.objects.visible_to(actor).filter(pk=ticket_id).exists():
        raise NotFound(str(_("Ticket %(ticket)s not found.") % {"ticket": ticket_id}), field="ticket_id")
    rows = sorted(
        SlaTimer.objects.filter(ticket_id=ticket_id).select_related("policy__calendar"),
        key=lambda t: (TARGET_ORDER.get(Target(t.target), 9), t.pk),
    )
    at = clock.now()
    timers = []
    for t in rows:
        remaining = _remaining(t, at)
        overdue = remaining is not None and remaining < 0 and t.status == TimerStatus.RUNNING
        timers.append(
            TicketTimer(
                target=t.target,
                target_label=str(Target(t.target).label),
                status=t.status,
                status_label=str(TimerStatus(t.status).label),
                started_at=t.started_at,
                due_at=t.due_at,
                target_seconds=t.target_seconds,
                remaining_seconds=remaining,
                breached=t.breached_at is not None or overdue,
                breached_at=t.breached_at,
                met_at=t.met_at,
                business_seconds=t.business_seconds,
            )
        )
    # the policy the running clocks follow; else the one the latest clock followed
    with_policy = [t for t in rows if t.policy is not None]
    active = [t for t in with_policy if t.status in (TimerStatus.RUNNING, TimerStatus.PAUSED)]
    latest = sorted(with_policy, key=lambda t: (t.started_at, t.pk), reverse=True)
    policy = (active or latest)[0].policy if with_policy else None
    return TicketSla(
        ticket_id=ticket_id,
        at=at,
        policy=policy.name if policy else None,
        calendar=policy.calendar.name if policy else None,
        timers=timers,
    )
