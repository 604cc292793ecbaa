"""Business-time arithmetic: properties over random calendars and hand-computed tables.

No database: everything here is pure computation on ``BusinessCalendar`` objects.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.sla.business_time import (
    BusinessCalendar,
    CalendarError,
    DayKind,
    add_business_seconds,
    business_seconds_between,
    day_kind,
    days_without_holiday_data,
    end_of_business_day,
    intervals_on,
    is_open,
    next_open,
    validate_weekly,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TZS = [SH, ZoneInfo("UTC"), BERLIN, NEW_YORK]


def hm(h, m=0):
    return h * 3600 + m * 60


def sh(*args):
    """A Shanghai wall time, e.g. sh(2025, 9, 26, 17, 20)."""
    return datetime(*args, tzinfo=SH)


HOURS = 3600
HOTLINE_DAY = ((hm(8, 30), hm(12)), (hm(13), hm(17, 30)))  # 3.5 h + 4.5 h = 8 h
ALL_DAY = ((0, 86400),)


def hotline(**kwargs):
    """Mon-Sat 08:30-12:00 and 13:00-17:30, Shanghai, statutory holidays observed."""
    return BusinessCalendar(tz=SH, weekly={wd: HOTLINE_DAY for wd in range(6)}, **kwargs)


def online(tz=SH, **kwargs):
    """24x7, holidays ignored."""
    weekly = {wd: ALL_DAY for wd in range(7)}
    return BusinessCalendar(tz=tz, weekly=weekly, observe_holidays=False, **kwargs)


# --------------------------------------------------------------------------------------
# Properties over random calendars
# --------------------------------------------------------------------------------------

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_US = 3 * 365 * 86400 * 10**6  # 2024-2026

boundary = st.one_of(st.integers(0, 96).map(lambda q: q * 900), st.integers(0, 86400))
week_points = st.lists(st.lists(boundary, unique=True, max_size=6), min_size=7, max_size=7)


def to_weekly(choice_and_points):
    """Distinct sorted boundary points paired up: intervals never overlap or touch."""
    choice, points_per_day = choice_and_points
    if choice == 0:
        return {wd: ALL_DAY for wd in range(7)}
    weekly = {}
    for wd, points in enumerate(points_per_day):
        points = sorted(points)[: len(points) // 2 * 2]
        weekly[wd] = tuple(zip(points[::2], points[1::2], strict=True))
    if not any(weekly.values()):
        weekly[0] = ((hm(9), hm(17)),)
    return weekly


weekly_hours = st.tuples(st.integers(0, 7), week_points).map(to_weekly)
calendars = st.builds(
    BusinessCalendar,
    tz=st.sampled_from(TZS),
    weekly=weekly_hours,
    observe_holidays=st.booleans(),
    workday_hours_from=st.integers(0, 6),
    overrides=st.dictionaries(
        st.integers(0, 3 * 365).map(lambda n: date(2024, 1, 1) + timedelta(days=n)),
        st.sampled_from(["closed", "open"]),
        max_size=4,
    ),
)
instants = st.one_of(
    st.integers(0, SPAN_US // 10**6).map(lambda s: EPOCH + timedelta(seconds=s)),
    st.integers(0, SPAN_US).map(lambda us: EPOCH + timedelta(microseconds=us)),
)


def weekly_total(cal):
    return sum(e - s for hours in cal.weekly.values() for s, e in hours)


def amounts(data, cal):
    """Business seconds from zero to about five weeks of this calendar's hours."""
    return data.draw(st.integers(0, 5 * weekly_total(cal)))


def in_some_interval_end_inclusive(cal, r):
    """Whether r lies in (a, b] of an open interval."""
    local = r.astimezone(cal.tz).date()
    spans = intervals_on(cal, local - timedelta(days=1)) + intervals_on(cal, local)
    return any(a < r <= b for a, b in spans)


props = settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])


@props
@given(cal=calendars, t=instants, data=st.data())
def test_result_is_open_or_an_interval_end(cal, t, data):
    n = amounts(data, cal)
    r = add_business_seconds(cal, t, n)
    assert r >= t
    if n == 0:
        assert is_open(cal, r) and r == next_open(cal, t)
        assert business_seconds_between(cal, t, r) == 0
    else:
        assert r > t and in_some_interval_end_inclusive(cal, r)


@props
@given(cal=calendars, t1=instants, t2=instants, data=st.data())
def test_monotone_in_start_and_in_seconds(cal, t1, t2, data):
    t1, t2 = min(t1, t2), max(t1, t2)
    n1, n2 = sorted([amounts(data, cal), amounts(data, cal)])
    assert add_business_seconds(cal, t1, n1) <= add_business_seconds(cal, t2, n1)
    assert add_business_seconds(cal, t1, n1) <= add_business_seconds(cal, t1, n2)


@props
@given(cal=calendars, t=instants, data=st.data())
def test_additive_and_inverse_of_between(cal, t, data):
    a, b = amounts(data, cal), amounts(data, cal)
    total = add_business_seconds(cal, t, a + b)
    # add(t, 0) is next_open(t), so chaining works for a second step of b > 0
    # (and for a == 0); add(end_of_interval, 0) moves on to the next opening.
    if b > 0 or a == 0:
        assert add_business_seconds(cal, add_business_seconds(cal, t, a), b) == total
    assert business_seconds_between(cal, t, total) == a + b
    assert business_seconds_between(cal, total, t) == -(a + b)


nearby = st.integers(-60 * 86400 * 10**6, 60 * 86400 * 10**6).map(lambda us: timedelta(microseconds=us))


@props
@given(cal=calendars, a=instants, db=nearby, dc=nearby)
def test_between_is_additive_and_antisymmetric(cal, a, db, dc):
    b, c = a + db, a + dc
    ab = business_seconds_between(cal, a, b)
    bc = business_seconds_between(cal, b, c)
    assert ab + bc == business_seconds_between(cal, a, c)
    assert business_seconds_between(cal, b, a) == -ab
    assert ab >= 0 if b >= a else ab <= 0


@settings(deadline=None, max_examples=100)
@given(weekly=weekly_hours, a=st.integers(0, 3 * 365 * 86400), length=st.integers(0, 40 * 86400))
def test_between_matches_plain_integer_oracle_in_utc(weekly, a, length):
    # Given a UTC calendar ignoring holidays, the open time is a plain sum over days.
    cal = BusinessCalendar(tz=ZoneInfo("UTC"), weekly=weekly, observe_holidays=False)
    b = a + length
    expected = 0
    epoch_day = EPOCH.date()
    for day_no in range(a // 86400, b // 86400 + 1):
        weekday = (epoch_day + timedelta(days=day_no)).weekday()
        for s, e in cal.weekly[weekday]:
            lo, hi = max(day_no * 86400 + s, a), min(day_no * 86400 + e, b)
            expected += max(0, hi - lo)
    start, end = EPOCH + timedelta(seconds=a), EPOCH + timedelta(seconds=b)
    assert business_seconds_between(cal, start, end) == expected


@settings(deadline=None, max_examples=100)
@given(tz=st.sampled_from(TZS), t=instants, n=st.integers(0, 60 * 86400))
def test_24x7_is_plain_elapsed_time_across_dst(tz, t, n):
    cal = online(tz)
    assert add_business_seconds(cal, t, n) == t + timedelta(seconds=n)
    assert business_seconds_between(cal, t, t + timedelta(seconds=n)) == n


# --------------------------------------------------------------------------------------
# Hotline: Spring Festival 2026 (holiday Sun Feb 15 - Mon Feb 23; 调休 Sat Feb 14, Sat Feb 28)
# --------------------------------------------------------------------------------------


def test_spring_festival_2026_day_kinds():
    cal = hotline()
    assert day_kind(cal, date(2026, 2, 14)) == DayKind.ADJUSTED_WORKDAY
    for day in range(15, 24):
        assert day_kind(cal, date(2026, 2, day)) == DayKind.HOLIDAY
    assert day_kind(cal, date(2026, 2, 24)) == DayKind.NORMAL
    # chinese-calendar lists Sat Feb 28 as a second 调休 working day.
    assert day_kind(cal, date(2026, 2, 28)) == DayKind.ADJUSTED_WORKDAY
    assert day_kind(cal, date(2026, 3, 1)) == DayKind.NORMAL  # plain Sunday: weekly hours (none)
    assert intervals_on(cal, date(2026, 3, 1)) == []


@pytest.mark.parametrize(
    ("received", "hours", "due"),
    [
        # Fri 16:00 + 8 h: Fri 16:00-17:30 uses 1.5 h; Sat Feb 14 (调休, open anyway for a
        # Mon-Sat hotline) 08:30-12:00 uses 3.5 h, 3 h left -> 13:00 + 3 h = 16:00.
        (sh(2026, 2, 13, 16, 0), 8, sh(2026, 2, 14, 16, 0)),
        # Sat Feb 14 17:00 + 1 h: 30 min on Saturday, Feb 15-23 closed, Tue Feb 24 08:30
        # + 30 min = 09:00.
        (sh(2026, 2, 14, 17, 0), 1, sh(2026, 2, 24, 9, 0)),
        # Wed Feb 18 10:00 is inside the break: the clock starts Tue Feb 24 08:30;
        # 3.5 h to noon, 0.5 h left -> 13:30.
        (sh(2026, 2, 18, 10, 0), 4, sh(2026, 2, 24, 13, 30)),
        # Sat Feb 14 17:30 exactly at close: nothing left that day -> Tue Feb 24 16:30
        # (3.5 h morning + 3.5 h from 13:00).
        (sh(2026, 2, 14, 17, 30), 7, sh(2026, 2, 24, 16, 30)),
    ],
)
def test_spring_festival_2026_due_times(received, hours, due):
    assert add_business_seconds(hotline(), received, hours * HOURS) == due


def test_spring_festival_2026_clock_stops_during_the_break():
    cal = hotline()
    assert not is_open(cal, sh(2026, 2, 18, 10, 0))
    assert next_open(cal, sh(2026, 2, 18, 10, 0)) == sh(2026, 2, 24, 8, 30)
    # Fri 17:00-17:30 (0.5 h) + Sat Feb 14 (8 h) + Tue Feb 24 08:30-09:00 (0.5 h) = 9 h.
    assert business_seconds_between(cal, sh(2026, 2, 13, 17), sh(2026, 2, 24, 9)) == 9 * HOURS
    # Received Sat Feb 14 after close: the next business day is Tue Feb 24.
    assert end_of_business_day(cal, sh(2026, 2, 14, 17, 40)) == sh(2026, 2, 24, 17, 30)


def test_adjusted_saturday_opens_a_monday_to_friday_office_with_monday_hours():
    office = BusinessCalendar(tz=SH, weekly={wd: ((hm(9), hm(18)),) for wd in range(5)})
    # Fri Feb 27 17:00 + 2 h: 1 h Friday, Sat Feb 28 is 调休 with Monday's 09:00-18:00 -> 10:00.
    assert add_business_seconds(office, sh(2026, 2, 27, 17), 2 * HOURS) == sh(2026, 2, 28, 10)
    # An ordinary Saturday stays closed: Sat Mar 7 -> Mon Mar 9 09:00.
    assert next_open(office, sh(2026, 3, 7, 10)) == sh(2026, 3, 9, 9)


# --------------------------------------------------------------------------------------
# Hotline: National Day 2025 (Oct 1-8 holiday; 调休 Sun Sep 28 and Sat Oct 11 working)
# --------------------------------------------------------------------------------------

COMPLAINT_2025 = sh(2025, 9, 26, 17, 20)  # Friday, 10 minutes before close


@pytest.mark.parametrize(
    ("seconds", "due"),
    [
        # 10 min: exactly Friday's close; a due time may be a closing time.
        (10 * 60, sh(2025, 9, 26, 17, 30)),
        # 4 h: Fri 10 min left (3 h 50 min to go); Sat Sep 27 is an ordinary Saturday, open
        # for the Mon-Sat hotline: 08:30-12:00 is 3.5 h (20 min to go); 13:00 + 20 min.
        (4 * HOURS, sh(2025, 9, 27, 13, 20)),
        # 21 h (the hotline day is 8 h): Fri 10 min -> 20 h 50 min; Sat 8 h -> 12 h 50 min;
        # Sun Sep 28 is 调休, open with Monday's hours: 8 h -> 4 h 50 min; Mon Sep 29
        # morning 3.5 h -> 1 h 20 min; 13:00 + 1 h 20 min = 14:20.
        (21 * HOURS, sh(2025, 9, 29, 14, 20)),
        # 40 h: Fri 10 min + Sat 8 h + Sun 8 h + Mon 8 h + Tue 8 h = 32 h 10 min, 7 h 50 min
        # to go; Oct 1-8 holiday (incl. Sat Oct 4); Thu Oct 9 morning 3.5 h -> 4 h 20 min;
        # 13:00 + 4 h 20 min = 17:20.
        (40 * HOURS, sh(2025, 10, 9, 17, 20)),
    ],
)
def test_national_day_2025_due_times(seconds, due):
    cal = hotline()
    assert add_business_seconds(cal, COMPLAINT_2025, seconds) == due
    assert business_seconds_between(cal, COMPLAINT_2025, due) == seconds


def test_national_day_2025_end_of_business_day():
    cal = hotline()
    cutoff = hm(17)
    # Without a cutoff the complaint is answered by Friday's close.
    assert end_of_business_day(cal, COMPLAINT_2025) == sh(2025, 9, 26, 17, 30)
    # Received 17:20, after the 17:00 cutoff: end of the next business day, Sat Sep 27.
    assert end_of_business_day(cal, COMPLAINT_2025, cutoff) == sh(2025, 9, 27, 17, 30)
    # Sat Sep 27 17:10: after cutoff -> Sun Sep 28 (调休) close.
    assert end_of_business_day(cal, sh(2025, 9, 27, 17, 10), cutoff) == sh(2025, 9, 28, 17, 30)
    # Before the cutoff on the 调休 Sunday: that same day.
    assert end_of_business_day(cal, sh(2025, 9, 28, 16), cutoff) == sh(2025, 9, 28, 17, 30)
    # Tue Sep 30 17:40, after close: the holiday follows, next business day Thu Oct 9.
    assert end_of_business_day(cal, sh(2025, 9, 30, 17, 40), cutoff) == sh(2025, 10, 9, 17, 30)
    # Received on a holiday in the evening: the cutoff only rolls business days -> Oct 9.
    assert end_of_business_day(cal, sh(2025, 10, 3, 20), cutoff) == sh(2025, 10, 9, 17, 30)
    # Thu Oct 9 at 07:00, before opening: that day's close.
    assert end_of_business_day(cal, sh(2025, 10, 9, 7), cutoff) == sh(2025, 10, 9, 17, 30)


def test_national_day_2025_adjusted_sunday_and_holiday_saturday():
    cal = hotline()
    assert day_kind(cal, date(2025, 9, 28)) == DayKind.ADJUSTED_WORKDAY
    assert is_open(cal, sh(2025, 9, 28, 9))  # a Sunday, open with Monday's hours
    assert day_kind(cal, date(2025, 10, 4)) == DayKind.HOLIDAY
    assert not is_open(cal, sh(2025, 10, 4, 9))  # a holiday Saturday is closed
    assert day_kind(cal, date(2025, 10, 11)) == DayKind.ADJUSTED_WORKDAY
    # Sat Oct 11 17:00 + 1 h: 30 min Saturday, Sun Oct 12 closed, Mon Oct 13 09:00.
    assert add_business_seconds(cal, sh(2025, 10, 11, 17), HOURS) == sh(2025, 10, 13, 9)


# --------------------------------------------------------------------------------------
# Hotline: National Day 2026 (Mid-Autumn Fri Sep 25 - Sun Sep 27; Oct 1-7 holiday;
# 调休 Sun Sep 20 and Sat Oct 10 working)
# --------------------------------------------------------------------------------------

COMPLAINT_2026 = sh(2026, 9, 25, 17, 20)  # Friday, but Mid-Autumn Festival


@pytest.mark.parametrize(
    ("hours", "due"),
    [
        # Sep 25-27 holiday: the clock starts Mon Sep 28 08:30.
        (0, sh(2026, 9, 28, 8, 30)),
        # 4 h: 08:30-12:00 3.5 h, 13:00 + 0.5 h.
        (4, sh(2026, 9, 28, 13, 30)),
        # 21 h: Mon 8 h, Tue 8 h, 5 h left on Wed Sep 30: 3.5 h morning, 13:00 + 1.5 h.
        (21, sh(2026, 9, 30, 14, 30)),
        # 30 h: Mon-Wed 24 h, 6 h left; Oct 1-7 holiday; Thu Oct 8 morning 3.5 h,
        # 13:00 + 2.5 h = 15:30.
        (30, sh(2026, 10, 8, 15, 30)),
    ],
)
def test_national_day_2026_due_times(hours, due):
    cal = hotline()
    assert add_business_seconds(cal, COMPLAINT_2026, hours * HOURS) == due
    assert business_seconds_between(cal, COMPLAINT_2026, due) == hours * HOURS


def test_national_day_2026_adjusted_days_and_end_of_day():
    cal = hotline()
    assert not is_open(cal, COMPLAINT_2026)
    assert day_kind(cal, date(2026, 9, 25)) == DayKind.HOLIDAY
    # Sat Sep 19 17:00 + 1 h: 30 min Saturday, Sun Sep 20 is 调休 -> 09:00.
    assert add_business_seconds(cal, sh(2026, 9, 19, 17), HOURS) == sh(2026, 9, 20, 9)
    # Sat Oct 10 (调休) 17:00 + 1 h: Sun Oct 11 closed -> Mon Oct 12 09:00.
    assert add_business_seconds(cal, sh(2026, 10, 10, 17), HOURS) == sh(2026, 10, 12, 9)
    # Received during the festival: due by Monday's close.
    assert end_of_business_day(cal, COMPLAINT_2026, hm(17)) == sh(2026, 9, 28, 17, 30)


# --------------------------------------------------------------------------------------
# Online 24x7: plain elapsed time, holidays ignored
# --------------------------------------------------------------------------------------


def test_online_24x7_is_elapsed_time():
    cal = online()
    t = sh(2025, 10, 1, 10, 0, 0, 250_000)  # National Day, with a sub-second offset
    assert is_open(cal, t)
    assert day_kind(cal, date(2025, 10, 1)) == DayKind.NORMAL
    assert add_business_seconds(cal, t, 5 * 86400 + 7) == t + timedelta(days=5, seconds=7)
    assert business_seconds_between(cal, t, t + timedelta(hours=30)) == 30 * HOURS
    assert end_of_business_day(cal, t) == sh(2025, 10, 2)
    assert days_without_holiday_data(cal, date(2026, 12, 1)) == []


def test_dst_days_are_23_and_25_hours_long():
    berlin = online(BERLIN)
    (spring,) = intervals_on(berlin, date(2025, 3, 30))
    (autumn,) = intervals_on(berlin, date(2025, 10, 26))
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)
    # 01:00-04:00 wall time on the spring-forward day is 2 real hours.
    night = BusinessCalendar(tz=BERLIN, weekly={6: ((hm(1), hm(4)),)}, observe_holidays=False)
    assert intervals_on(night, date(2025, 3, 30)) == [
        (datetime(2025, 3, 30, 0, tzinfo=UTC), datetime(2025, 3, 30, 2, tzinfo=UTC))
    ]
    # Wall times in the skipped hour are read with the old offset (PEP 495 fold=0), i.e.
    # shifted forward by the gap: 02:15-02:45 becomes 03:15-03:45 EDT (07:15-07:45 UTC)...
    shifted = BusinessCalendar(tz=NEW_YORK, weekly={6: ((hm(2, 15), hm(2, 45)),)})
    assert intervals_on(shifted, date(2025, 3, 9)) == [
        (datetime(2025, 3, 9, 7, 15, tzinfo=UTC), datetime(2025, 3, 9, 7, 45, tzinfo=UTC))
    ]
    # ...so 02:30-03:00 would end (03:00 EDT) before it starts (03:30 EDT): it vanishes.
    vanishing = BusinessCalendar(tz=NEW_YORK, weekly={6: ((hm(2, 30), hm(3)),)})
    assert intervals_on(vanishing, date(2025, 3, 9)) == []
    assert len(intervals_on(vanishing, date(2025, 3, 16))) == 1


def test_sub_second_offsets_are_exact_and_between_floors_on_the_business_clock():
    cal = hotline()
    t = sh(2025, 9, 26, 17, 29, 59, 400_000)
    # 0.6 s remain on Friday; the rest starts Sat 08:30.
    assert add_business_seconds(cal, t, 1) == sh(2025, 9, 27, 8, 30, 0, 400_000)
    base = sh(2025, 9, 26, 10)
    half = timedelta(microseconds=500_000)
    # 10:00:00.5 -> 10:00:01.2 crosses one whole second of the business clock.
    assert business_seconds_between(cal, base + half, base + timedelta(seconds=1.2)) == 1
    assert business_seconds_between(cal, base + timedelta(seconds=0.2), base + half) == 0


# --------------------------------------------------------------------------------------
# Admin overrides and national entries
# --------------------------------------------------------------------------------------


def test_closure_on_a_wednesday_and_extra_working_sunday():
    cal = hotline(overrides={date(2025, 11, 12): "closed", date(2025, 11, 16): "open"})
    assert day_kind(cal, date(2025, 11, 12)) == DayKind.CLOSED
    assert day_kind(cal, date(2025, 11, 16)) == DayKind.EXTRA_WORKDAY
    # Tue Nov 11 17:00 + 1 h: 30 min Tuesday, Wednesday closed -> Thu Nov 13 09:00.
    assert add_business_seconds(cal, sh(2025, 11, 11, 17), HOURS) == sh(2025, 11, 13, 9)
    # Sat Nov 15 17:00 + 1 h: 30 min Saturday, extra Sunday with Monday's hours -> 09:00.
    assert add_business_seconds(cal, sh(2025, 11, 15, 17), HOURS) == sh(2025, 11, 16, 9)


def test_overrides_beat_holidays_and_apply_to_24x7():
    opened = hotline(overrides={date(2025, 10, 1): "open"})
    assert is_open(opened, sh(2025, 10, 1, 9))
    closed = online(overrides={date(2025, 12, 25): "closed"})
    assert add_business_seconds(closed, sh(2025, 12, 24, 23), 2 * HOURS) == sh(2025, 12, 26, 1)


def test_national_entries_cover_years_the_library_lacks():
    cal = hotline(national={date(2027, 1, 1): "holiday", date(2027, 1, 10): "workday"})
    assert day_kind(cal, date(2027, 1, 1)) == DayKind.HOLIDAY
    assert day_kind(cal, date(2027, 1, 10)) == DayKind.ADJUSTED_WORKDAY  # a Sunday
    # once a year's national schedule is entered, its unlisted dates are ordinary days
    assert day_kind(cal, date(2027, 1, 4)) == DayKind.NORMAL
    assert days_without_holiday_data(cal, date(2026, 12, 20), 20) == []
    assert days_without_holiday_data(cal, date(2027, 12, 20), 20)[0] == date(2028, 1, 1)
    # Thu Dec 31 17:00 + 2 h: 30 min, Jan 1 holiday, Sat Jan 2 (an ordinary Saturday)
    # 08:30 + 1.5 h = 10:00.
    assert add_business_seconds(cal, sh(2026, 12, 31, 17), 2 * HOURS) == sh(2027, 1, 2, 10)
    assert is_open(cal, sh(2027, 1, 10, 9))


def test_unknown_days_use_weekly_hours_and_never_raise():
    cal = hotline()
    assert days_without_holiday_data(cal, date(2026, 10, 10)) == [date(2027, 1, d) for d in range(1, 8)]
    # Without an entry, Fri Jan 1 2027 is UNKNOWN and open with Friday's hours.
    assert add_business_seconds(cal, sh(2026, 12, 31, 17), 2 * HOURS) == sh(2027, 1, 1, 10)
    far = sh(2031, 6, 2, 9)  # a Monday
    assert is_open(cal, far)
    assert add_business_seconds(cal, far, 8 * HOURS) == sh(2031, 6, 3, 9)
    assert end_of_business_day(cal, far) == sh(2031, 6, 2, 17, 30)


# --------------------------------------------------------------------------------------
# Validation and broken calendars
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekly", "weekday", "words"),
    [
        ({1: ((hm(9), hm(12)), (hm(11), hm(14)))}, 1, "Tuesday"),  # overlapping
        ({2: ((hm(9), hm(12)), (hm(12), hm(14)))}, 2, "touches"),  # touching
        ({3: ((hm(13), hm(14)), (hm(9), hm(12)))}, 3, "sort"),  # unsorted
        ({4: ((hm(12), hm(9)),)}, 4, "Friday"),  # start >= end
        ({5: ((hm(9), hm(9)),)}, 5, "not before its end"),
        ({6: ((hm(20), 86401),)}, 6, "Sunday"),  # beyond 24:00
        ({0: ((-1, hm(9)),)}, 0, "Monday"),
    ],
)
def test_validate_weekly_names_weekday_and_problem(weekly, weekday, words):
    with pytest.raises(CalendarError, match=words) as caught:
        validate_weekly(weekly)
    assert caught.value.weekday == weekday
    with pytest.raises(CalendarError):
        BusinessCalendar(tz=SH, weekly=weekly)


def test_calendar_without_any_hours_is_rejected():
    for weekly in ({}, {wd: () for wd in range(7)}):
        with pytest.raises(CalendarError, match="no business hours"):
            BusinessCalendar(tz=SH, weekly=weekly)
    with pytest.raises(CalendarError, match="weekday"):
        validate_weekly({7: ((0, 60),)})
    with pytest.raises(CalendarError):
        hotline(overrides={date(2025, 1, 1): "shut"})


def test_a_calendar_that_never_opens_raises_instead_of_looping():
    # Given Monday-only hours and every Monday for 11 years closed by the admin
    mondays = [date(2024, 1, 1) + timedelta(weeks=w) for w in range(11 * 53)]
    cal = BusinessCalendar(
        tz=SH,
        weekly={0: HOTLINE_DAY},
        observe_holidays=False,  # no 调休 weekends borrowing Monday's hours
        overrides=dict.fromkeys(mondays, "closed"),
    )
    with pytest.raises(CalendarError):
        next_open(cal, sh(2024, 1, 1))
    with pytest.raises(CalendarError):
        add_business_seconds(cal, sh(2024, 1, 1), 60)
    with pytest.raises(CalendarError):
        end_of_business_day(cal, sh(2024, 1, 1))


def test_bad_arguments():
    cal = hotline()
    with pytest.raises(ValueError, match="negative"):
        add_business_seconds(cal, sh(2025, 1, 2, 9), -1)
    with pytest.raises(ValueError, match="aware"):
        is_open(cal, datetime(2025, 1, 2, 9))
    with pytest.raises(ValueError, match="cutoff"):
        end_of_business_day(cal, sh(2025, 1, 2, 9), cutoff=90000)
