"""Configuring SLA: calendars (weekly hours, own days, the national schedule), policies and ladders.
Every write is validated with a message naming the field, is all-or-nothing, and leaves an audit event."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.sla import business_time as bt
from kefu.sla.calendars import business_calendar
from kefu.sla.models import Calendar, CalendarDay, CalendarHours
from kefu.sla.selectors import holiday_data_warnings
from kefu.sla.services import config
from kefu.sla.tests.factories import always_open_calendar, hotline_calendar

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")
WEEKDAYS_9_TO_6 = [(d, 9 * 60, 18 * 60) for d in range(5)]


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English (the source language); zh-hans is the default."""
    with translation.override("en"):
        yield


@pytest.fixture
def admin():
    return UserFactory(username="admin", role="admin")


@pytest.fixture
def agent():
    return UserFactory(username="agent", role="agent")


def events(verb):
    return list(AuditEvent.objects.filter(verb=verb).order_by("id"))


def new_calendar(admin, **overrides):
    fields = {"name": "售后热线", "time_zone": "Asia/Shanghai", "hours": WEEKDAYS_9_TO_6}
    fields.update(overrides)
    return config.save_calendar(actor=admin, **fields)


def failure(call, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        call(**kwargs)
    return info.value


# --- calendars ------------------------------------------------------------------------------------


def test_an_admin_creates_a_calendar_with_its_weekly_hours(admin):
    # when
    cal = new_calendar(admin, hours=[(0, 510, 720), (0, 780, 1050), (6, 0, 1440)])

    # then the rows are there, the arithmetic accepts them, and the change is audited
    rows = list(
        CalendarHours.objects.filter(calendar=cal).values_list("weekday", "start_minute", "end_minute")
    )
    assert rows == [(0, 510, 720), (0, 780, 1050), (6, 0, 1440)]
    assert business_calendar(cal).weekly[6] == ((0, 86400),)
    [event] = events("sla.calendar_saved")
    assert event.actor == admin and event.subject_id == cal.pk
    assert event.data["name"] == "售后热线" and event.data["created"] is True


@pytest.mark.parametrize(
    ("hours", "field", "words"),
    [
        ([(0, 540, 720), (0, 700, 1080)], "hours.0", ["Monday", "overlap"]),
        ([(2, 720, 540)], "hours.2", ["Wednesday", "12:00", "before"]),
        ([(4, 600, 600)], "hours.4", ["Friday"]),
        ([(1, 0, 1500)], "hours.1", ["Tuesday", "24:00"]),
        ([], "hours", ["at least one"]),
        ([(0, 540)], "hours", ["Open hours"]),
    ],
    ids=["overlapping", "start-after-end", "empty-interval", "past-midnight", "no-hours", "malformed"],
)
def test_bad_weekly_hours_are_refused_naming_the_weekday(admin, hours, field, words):
    # when
    exc = failure(config.save_calendar, actor=admin, name="坏日历", time_zone="Asia/Shanghai", hours=hours)

    # then
    assert exc.field == field
    for word in words:
        assert word in exc.message
    assert not Calendar.objects.exists() and not AuditEvent.objects.exists()


def test_touching_intervals_are_merged_into_one(admin):
    cal = new_calendar(admin, hours=[(0, 540, 720), (0, 720, 1080)])
    assert list(cal.hours.values_list("start_minute", "end_minute")) == [(540, 1080)]


def test_an_unknown_time_zone_is_refused(admin):
    exc = failure(
        config.save_calendar, actor=admin, name="x", time_zone="Asia/Beijing", hours=WEEKDAYS_9_TO_6
    )
    assert exc.field == "time_zone" and "Asia/Beijing" in exc.message


def test_adjusted_working_days_need_hours_on_the_weekday_they_borrow(admin):
    exc = failure(
        config.save_calendar,
        actor=admin,
        name="x",
        time_zone="Asia/Shanghai",
        hours=WEEKDAYS_9_TO_6,
        workday_hours_from=6,
    )
    assert exc.field == "workday_hours_from" and "Sunday" in exc.message


def test_a_duplicate_name_is_refused(admin):
    new_calendar(admin)
    exc = failure(config.save_calendar, actor=admin, name="售后热线", time_zone="UTC", hours=WEEKDAYS_9_TO_6)
    assert exc.field == "name"


def test_agents_may_not_configure_calendars(agent):
    with pytest.raises(PermissionDenied):
        new_calendar(agent)
    assert not Calendar.objects.exists()


def test_updating_replaces_the_hours_as_a_whole_and_moves_updated_at(admin):
    # given
    cal = new_calendar(admin)
    before = cal.updated_at

    # when
    config.save_calendar(
        actor=admin,
        calendar=cal,
        name="售后热线",
        time_zone="Asia/Shanghai",
        hours=[(5, 600, 720)],
        workday_hours_from=5,
    )

    # then
    cal.refresh_from_db()
    assert list(cal.hours.values_list("weekday", "start_minute", "end_minute")) == [(5, 600, 720)]
    assert cal.updated_at > before
    assert business_calendar(cal).weekly[0] == ()
    assert events("sla.calendar_saved")[-1].data["changes"]["hours"][1] == [[5, 600, 720]]


def test_a_new_closure_is_seen_at_once_even_under_a_frozen_clock(admin):
    # given a cached business calendar
    with time_machine.travel(datetime(2026, 11, 24, 9, tzinfo=CST), tick=False):
        cal = hotline_calendar()
        cal.refresh_from_db()
        closed_day = date(2026, 12, 1)  # a Tuesday
        assert bt.intervals_on(business_calendar(cal), closed_day)

        # when the admin closes that day (same instant as the calendar's creation)
        config.set_calendar_day(actor=admin, calendar=cal, date=closed_day, kind="closed", name="年会")

        # then the next read sees it
        cal.refresh_from_db()
        assert bt.day_kind(business_calendar(cal), closed_day) is bt.DayKind.CLOSED
        assert bt.intervals_on(business_calendar(cal), closed_day) == []
    [event] = events("sla.calendar_day_saved")
    assert event.data == {
        "date": "2026-12-01",
        "kind": "closed",
        "name": "年会",
        "calendar_id": cal.pk,
        "calendar": "热线",
    }


def test_deleting_a_day_reopens_it_and_is_audited(admin):
    cal = hotline_calendar()
    day = config.set_calendar_day(actor=admin, calendar=cal, date=date(2026, 12, 1), kind="closed")
    config.delete_calendar_day(actor=admin, day=day)
    cal.refresh_from_db()
    assert bt.day_kind(business_calendar(cal), date(2026, 12, 1)) is bt.DayKind.NORMAL
    assert not CalendarDay.objects.exists()
    assert events("sla.calendar_day_deleted")[0].data["date"] == "2026-12-01"


def test_calendar_days_take_their_own_kinds(admin):
    cal = hotline_calendar()
    exc = failure(config.set_calendar_day, actor=admin, calendar=cal, date=date(2027, 1, 1), kind="holiday")
    assert exc.field == "kind"
    exc = failure(config.set_calendar_day, actor=admin, calendar=None, date=date(2027, 2, 8), kind="workday")
    assert exc.field == "kind" and "2027-02-08" in exc.message  # a Monday cannot be a 调休 working day


# --- the national schedule -----------------------------------------------------------------------

SCHEDULE_2027 = """# 2027 (example)
2027-01-01 holiday 元旦
2027-02-06,holiday,春节
date,kind,name
2027-02-07 workday 春节调休
2027-02-20 班 春节调休
"""


def test_the_national_schedule_is_imported_once_and_touches_every_calendar(admin):
    # given
    hotline, online = hotline_calendar(), always_open_calendar()
    stamps = {c.pk: c.updated_at for c in (hotline, online)}

    # when
    result = config.import_national_schedule(actor=admin, text=SCHEDULE_2027)

    # then
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    days = {d.date: (d.kind, d.name) for d in CalendarDay.objects.filter(calendar__isnull=True)}
    assert days[date(2027, 2, 6)] == ("holiday", "春节")
    assert days[date(2027, 2, 20)] == ("workday", "春节调休")
    for cal in Calendar.objects.all():
        assert cal.updated_at > stamps[cal.pk]
    hotline.refresh_from_db()
    assert bt.day_kind(business_calendar(hotline), date(2027, 2, 7)) is bt.DayKind.ADJUSTED_WORKDAY
    [event] = events("sla.national_schedule_imported")
    assert event.data["count"] == 4 and event.data["first"] == "2027-01-01"

    # when the same text comes again, nothing changes
    again = config.import_national_schedule(actor=admin, text=SCHEDULE_2027)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert len(events("sla.national_schedule_imported")) == 1


def test_a_bad_line_rejects_the_whole_import_naming_the_line(admin):
    text = "2027-01-01 holiday 元旦\n\n2027-13-01 holiday 不存在\n2027-02-06 holiday 春节\n"
    exc = failure(config.import_national_schedule, actor=admin, text=text)
    assert exc.field == "text" and exc.extra["line"] == 3
    assert "Line 3" in exc.message and "2027-13-01" in exc.message
    assert not CalendarDay.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("2027-01-01 vacation", 1),
        ("2027-01-01", 1),
        ("2027-01-01 holiday\n2027-02-08 workday 周一", 2),  # a weekday cannot be a 调休 working day
        ("2027-01-01 holiday\n2027-01-01 workday", 2),
    ],
)
def test_import_errors_name_their_line(admin, text, line):
    exc = failure(config.import_national_schedule, actor=admin, text=text)
    assert exc.extra["line"] == line and f"Line {line}" in exc.message
    assert not CalendarDay.objects.exists()


def test_the_next_90_days_warn_about_2027_until_its_schedule_is_entered(admin):
    with time_machine.travel(datetime(2026, 11, 24, 10, tzinfo=CST), tick=False):
        # given one calendar observing holidays and one ignoring them
        hotline_calendar()
        always_open_calendar()

        # when
        [warning] = holiday_data_warnings()

        # then the 2027 dates in the window are named compactly
        assert warning.calendar_name == "热线"
        assert (warning.first, warning.last, warning.count) == (date(2027, 1, 1), date(2027, 2, 21), 52)

        # and once the 2027 schedule is entered the warning goes away
        config.import_national_schedule(actor=admin, text=SCHEDULE_2027)
        assert holiday_data_warnings() == []
