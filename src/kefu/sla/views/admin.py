"""Admin pages: business calendars (weekly hours, own closures and extra working days, a preview of
the next 14 days) and the national holiday schedule; the policy pages are in admin_policies."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core import clock
from kefu.core.errors import DomainError
from kefu.core.permissions import has_permission
from kefu.sla import business_time as bt
from kefu.sla.forms import COMMON_ZONES, CalendarDayForm, CalendarForm, ScheduleImportForm
from kefu.sla.models import Calendar, Weekday
from kefu.sla.selectors import (
    format_intervals,
    get_calendar,
    get_calendar_day,
    holiday_data_warnings,
    list_calendars,
    list_national_days,
    preview_calendar,
    weekly_hours,
)
from kefu.sla.services import config
from kefu.sla.views import admin_policies
from kefu.sla.views.admin_policies import PERMISSION, admin_page, error_status

PREVIEW_DAYS = 14


def hours_summary(weekly: dict[int, list[tuple[int, int]]]) -> list[tuple[str, str]]:
    """Consecutive weekdays with the same hours grouped: [("Monday–Saturday", "08:30-12:00, …")]."""
    groups: list[tuple[int, int, str]] = []
    for day in range(7):
        text = format_intervals(weekly.get(day, [])) or str(_("closed"))
        if groups and groups[-1][2] == text and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, text)
        else:
            groups.append((day, day, text))
    return [
        (str(Weekday(a).label) if a == b else f"{Weekday(a).label}–{Weekday(b).label}", text)
        for a, b, text in groups
    ]


@admin_page
@require_GET
def sla_home(request: HttpRequest) -> HttpResponse:
    return redirect("sla:policy_list")


@require_GET
def holiday_banner(request: HttpRequest) -> HttpResponse:
    """The holiday-data banner for a dashboard to load with htmx (lower apps cannot import sla):
    empty for visitors and for roles that do not configure SLA."""
    if not has_permission(request.user, PERMISSION):
        return HttpResponse("")
    ctx = {"holiday_warnings": holiday_data_warnings()}
    return render(request, "sla/partials/holiday_warnings.html", ctx)


@admin_page
@require_GET
def calendar_list(request: HttpRequest) -> HttpResponse:
    rows = [{"cal": c, "hours": hours_summary(weekly_hours(c))} for c in list_calendars()]
    ctx = {"rows": rows, "holiday_warnings": holiday_data_warnings(), "tab": "calendars"}
    return render(request, "sla/calendar_list.html", ctx)


def _calendar_form_page(request: HttpRequest, calendar: Calendar | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = CalendarForm(request.POST)
        if form.is_valid():
            try:
                saved = config.save_calendar(actor=request.user, calendar=calendar, **form.service_kwargs())
            except DomainError as exc:
                status = error_status(exc)
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Business calendar %(name)s saved.") % {"name": saved.name})
                return redirect("sla:calendar_edit", pk=saved.pk)
        else:
            status = 422
        form.invalid_class()
    else:
        form = CalendarForm(initial=None if calendar is None else CalendarForm.initial_for(calendar))
    ctx = {"form": form, "calendar": calendar, "zones": COMMON_ZONES, "tab": "calendars"}
    return render(request, "sla/calendar_edit.html", ctx, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def calendar_new(request: HttpRequest) -> HttpResponse:
    return _calendar_form_page(request, None)


@admin_page
@require_http_methods(["GET", "POST"])
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _calendar_form_page(request, get_calendar(calendar_id=pk))


def _local_today(calendar: Calendar | None) -> date:
    try:
        tz = ZoneInfo(calendar.time_zone) if calendar is not None else clock.local_tz()
    except (ValueError, KeyError):
        tz = clock.local_tz()
    return clock.now().astimezone(tz).date()


def _save_day(request: HttpRequest, form: CalendarDayForm, calendar: Calendar | None) -> int | None:
    """Save a calendar's (or the national schedule's) day from a bound form: None when saved, else
    the status to re-render the form with."""
    if not form.is_valid():
        form.invalid_class()
        return 422
    try:
        row = config.set_calendar_day(actor=request.user, calendar=calendar, **form.cleaned_data)
    except DomainError as exc:
        form.add_domain_error(exc)
        form.invalid_class()
        return error_status(exc)
    messages.success(
        request,
        _("%(date)s set to %(kind)s.") % {"date": row.date.isoformat(), "kind": row.get_kind_display()},
    )
    return None


@admin_page
@require_http_methods(["GET", "POST"])
def calendar_days(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = get_calendar(calendar_id=pk)
    status = 200
    if request.method == "POST":
        form = CalendarDayForm(request.POST)
        status = _save_day(request, form, calendar)
        if status is None:
            return redirect("sla:calendar_days", pk=calendar.pk)
    else:
        form = CalendarDayForm()
    today = _local_today(calendar)
    days = list(calendar.days.all())
    ctx = {
        "calendar": calendar,
        "form": form,
        "upcoming": [d for d in days if d.date >= today],
        "past": [d for d in days if d.date < today][-20:],
        "tab": "calendars",
    }
    return render(request, "sla/calendar_days.html", ctx, status=status)


@admin_page
@require_POST
def calendar_day_delete(request: HttpRequest, pk: int, day_id: int) -> HttpResponse:
    day = get_calendar_day(day_id=day_id, calendar_id=pk)
    config.delete_calendar_day(actor=request.user, day=day)
    messages.success(request, _("%(date)s removed.") % {"date": day.date.isoformat()})
    return redirect("sla:calendar_days", pk=pk)


def _start(request: HttpRequest, default: date) -> tuple[date, str]:
    raw = request.GET.get("start", "")
    if not raw:
        return default, ""
    try:
        start = date.fromisoformat(raw)
    except ValueError:
        return default, _("“%(value)s” is not a date like 2027-01-28; showing today.") % {"value": raw[:20]}
    if not 1900 < start.year < 2200:
        return default, _("Choose a date between 1901 and 2199; showing today.")
    return start, ""


@admin_page
@require_GET
def calendar_preview(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = get_calendar(calendar_id=pk)
    today = _local_today(calendar)
    start, warning = _start(request, today)
    status = 400 if warning else 200
    ctx: dict[str, Any] = {
        "calendar": calendar,
        "start": start,
        "today": today,
        "previous": start - timedelta(days=PREVIEW_DAYS),
        "next": start + timedelta(days=PREVIEW_DAYS),
        "warning": warning,
        "tab": "calendars",
    }
    try:
        ctx["days"] = preview_calendar(calendar, start=start, days=PREVIEW_DAYS)
    except bt.CalendarError as exc:
        ctx["days"], ctx["calendar_error"] = [], str(exc)
    ctx["unknown"] = [d for d in ctx["days"] if d.kind == bt.DayKind.UNKNOWN]
    return render(request, "sla/calendar_preview.html", ctx, status=status)


@admin_page
@require_http_methods(["GET", "POST"])
def national_schedule(request: HttpRequest) -> HttpResponse:
    status = 200
    day_form = CalendarDayForm(national=True, prefix="day")
    import_form = ScheduleImportForm(prefix="import")
    if request.method == "POST" and request.POST.get("action") == "day":
        day_form = CalendarDayForm(request.POST, national=True, prefix="day")
        status = _save_day(request, day_form, None)
        if status is None:
            return redirect("sla:national_schedule")
    elif request.method == "POST":
        import_form = ScheduleImportForm(request.POST, prefix="import")
        if import_form.is_valid():
            try:
                result = config.import_national_schedule(
                    actor=request.user, text=import_form.cleaned_data["text"]
                )
            except DomainError as exc:
                status = error_status(exc)
                import_form.add_domain_error(exc)
            else:
                messages.success(
                    request,
                    _("Imported: %(created)s added, %(updated)s changed, %(unchanged)s already entered.")
                    % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
                )
                return redirect("sla:national_schedule")
        else:
            status = 422
        import_form.invalid_class()
    this_year = date(_local_today(None).year, 1, 1)
    ctx = {
        "days": list_national_days(since=this_year),
        "day_form": day_form,
        "import_form": import_form,
        "holiday_warnings": holiday_data_warnings(),
        "tab": "national",
    }
    return render(request, "sla/national_schedule.html", ctx, status=status)


@admin_page
@require_POST
def national_day_delete(request: HttpRequest, day_id: int) -> HttpResponse:
    day = get_calendar_day(day_id=day_id, calendar_id=None)
    config.delete_calendar_day(actor=request.user, day=day)
    messages.success(request, _("%(date)s removed.") % {"date": day.date.isoformat()})
    return redirect("sla:national_schedule")


urlpatterns: list = [
    path("", sla_home, name="home"),
    path("holiday-banner/", holiday_banner, name="holiday_banner"),
    path("calendars/", calendar_list, name="calendar_list"),
    path("calendars/new/", calendar_new, name="calendar_new"),
    path("calendars/<int:pk>/", calendar_edit, name="calendar_edit"),
    path("calendars/<int:pk>/days/", calendar_days, name="calendar_days"),
    path("calendars/<int:pk>/days/<int:day_id>/delete/", calendar_day_delete, name="calendar_day_delete"),
    path("calendars/<int:pk>/preview/", calendar_preview, name="calendar_preview"),
    path("national/", national_schedule, name="national_schedule"),
    path("national/<int:day_id>/delete/", national_day_delete, name="national_day_delete"),
    *admin_policies.urlpatterns,
]
