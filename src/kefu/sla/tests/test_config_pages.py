"""The SLA admin pages: an admin builds a calendar, a policy and its ladder with plain POSTs; bad
input re-renders the form with the message next to the field and writes nothing; other roles get 403."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.sla.models import Calendar, CalendarDay, EscalationStep, SlaPolicy
from kefu.sla.tests.factories import complaint_policy, hotline_calendar

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")


def signed_in(user, language="en"):
    c = Client(HTTP_ACCEPT_LANGUAGE=language)
    c.force_login(user)
    return c


@pytest.fixture
def admin():
    return UserFactory(username="admin", role="admin")


@pytest.fixture
def client(admin):
    return signed_in(admin)


def text(response) -> str:
    return response.content.decode()


def calendar_post(**overrides):
    data = {
        "name": "售后热线",
        "time_zone": "Asia/Shanghai",
        "observe_holidays": "on",
        "workday_hours_from": "0",
        "is_active": "on",
        **{f"hours_{d}": "08:30-12:00, 13:00-17:30" for d in range(5)},
        "hours_5": "09:00 – 12:00",
        "hours_6": "",
    }
    data.update(overrides)
    return data


def ladder_post(rows, initial=0):
    data = {
        "steps-TOTAL_FORMS": str(len(rows)),
        "steps-INITIAL_FORMS": str(initial),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "50",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"steps-{i}-{key}"] = value
    return data


# --- access -----------------------------------------------------------------------------------------


def all_pages():
    cal = hotline_calendar()
    policy = complaint_policy(cal)
    return [
        reverse("sla:home"),
        reverse("sla:calendar_list"),
        reverse("sla:calendar_new"),
        reverse("sla:calendar_edit", args=[cal.pk]),
        reverse("sla:calendar_days", args=[cal.pk]),
        reverse("sla:calendar_preview", args=[cal.pk]),
        reverse("sla:national_schedule"),
        reverse("sla:policy_list"),
        reverse("sla:policy_new"),
        reverse("sla:policy_edit", args=[policy.pk]),
        reverse("sla:policy_ladder", args=[policy.pk]),
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_admin_sees_every_page(admin, language):
    client = signed_in(admin, language)
    with time_machine.travel(datetime(2026, 11, 24, 10, tzinfo=CST), tick=False):
        for url in all_pages():
            response = client.get(url, follow=True)
            assert response.status_code == 200, url


@pytest.mark.parametrize("role", ["agent", "supervisor", "executive"])
def test_other_roles_get_403_and_change_nothing(role):
    c = signed_in(UserFactory(role=role))
    for url in all_pages():
        response = c.get(url)
        assert response.status_code == 403, url
        assert "Only administrators" in text(response)
    assert c.post(reverse("sla:calendar_new"), calendar_post(name="偷偷")).status_code == 403
    assert not Calendar.objects.filter(name="偷偷").exists()
    assert not AuditEvent.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(reverse("sla:policy_list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_nav_shows_sla_to_admins_only(client):
    sla = reverse("sla:policy_list")
    assert f'href="{sla}"' in text(client.get(reverse("sla:calendar_list")))
    agent = signed_in(UserFactory(role="agent"))
    assert f'href="{sla}"' not in text(agent.get(reverse("sla:calendar_list")))


# --- calendars ----------------------------------------------------------------------------------------


def test_an_admin_creates_a_calendar_through_the_form(client, admin):
    # when
    response = client.post(reverse("sla:calendar_new"), calendar_post())

    # then
    cal = Calendar.objects.get(name="售后热线")
    assert response.status_code == 302 and response["Location"] == reverse("sla:calendar_edit", args=[cal.pk])
    hours = list(cal.hours.values_list("weekday", "start_minute", "end_minute"))
    assert (0, 510, 720) in hours and (5, 540, 720) in hours and len(hours) == 11
    assert AuditEvent.objects.get(verb="sla.calendar_saved").actor == admin

    # and the edit page shows the hours back in the same syntax
    page = text(client.get(response["Location"]))
    assert 'value="08:30-12:00, 13:00-17:30"' in page and 'value="09:00-12:00"' in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hours_0": "08:00-12:00, 11:00-18:00"}, "hours_0", "overlap"),
        ({"hours_2": "18:00-09:00"}, "hours_2", "must start before it ends"),
        ({"hours_3": "8点到12点"}, "hours_3", "is not"),
        ({"hours_4": "09:00-24:30"}, "hours_4", "24:00"),
        ({"time_zone": "Beijing"}, "time_zone", "not a known time zone"),
        ({f"hours_{d}": "" for d in range(7)}, None, "at least one weekday"),
    ],
)
def test_a_bad_calendar_is_re_rendered_with_the_message_and_nothing_is_written(
    client, overrides, field, message
):
    response = client.post(reverse("sla:calendar_new"), calendar_post(**overrides))
    assert response.status_code == 422
    page = text(response)
    if field:
        error = re.search(rf'data-testid="error-{field}">([^<]*)<', page)
        assert error and message in error.group(1)
    else:
        assert message in page
    assert 'value="售后热线"' in page  # the input is kept
    assert not Calendar.objects.exists() and not AuditEvent.objects.exists()


def test_an_admin_closes_a_day_and_removes_it_again(client):
    cal = hotline_calendar()
    url = reverse("sla:calendar_days", args=[cal.pk])
    with time_machine.travel(datetime(2026, 11, 24, 9, tzinfo=CST), tick=False):
        response = client.post(url, {"date": "2026-12-31", "kind": "closed", "name": "年终盘点"})
        assert response.status_code == 302
        day = CalendarDay.objects.get(calendar=cal)
        assert "年终盘点" in text(client.get(url))
        bad = client.post(url, {"date": "2026-12-31", "kind": "holiday"})
        assert bad.status_code == 422 and 'data-testid="error-kind"' in text(bad)
        assert client.post(reverse("sla:calendar_day_delete", args=[cal.pk, day.pk])).status_code == 302
    assert not CalendarDay.objects.exists()
    assert AuditEvent.objects.filter(verb="sla.calendar_day_deleted").count() == 1


def test_the_preview_shows_national_day_and_its_adjusted_sunday(client):
    cal = hotline_calendar()
    response = client.get(reverse("sla:calendar_preview", args=[cal.pk]), {"start": "2025-09-27"})
    rows = re.findall(r'data-kind="(\w+)".*?<td class="text-nowrap">([\d-]+)</td>', text(response), re.S)
    kinds = {d: k for k, d in rows}
    assert kinds["2025-09-28"] == "adjusted_workday"  # Sunday before National Day is a 调休 working day
    assert kinds["2025-10-01"] == "holiday"
    assert kinds["2025-09-29"] == "normal"
    assert "08:30-12:00, 13:00-17:30" in text(response)


def test_a_bad_preview_date_falls_back_to_today_with_a_400(client):
    cal = hotline_calendar()
    response = client.get(reverse("sla:calendar_preview", args=[cal.pk]), {"start": "2025-02-30"})
    assert response.status_code == 400 and "showing today" in text(response)


def test_the_calendar_list_warns_about_2027_dates(client):
    hotline_calendar()
    with time_machine.travel(datetime(2026, 11, 24, 10, tzinfo=CST), tick=False):
        page = text(client.get(reverse("sla:calendar_list")))
    assert 'data-testid="holiday-warning"' in page
    assert "52 dates in the next 90 days have no holiday data (2027-01-01 to 2027-02-21)" in page


def test_the_dashboard_banner_is_for_admins_only(client):
    hotline_calendar()
    url = reverse("sla:holiday_banner")
    with time_machine.travel(datetime(2026, 11, 24, 10, tzinfo=CST), tick=False):
        assert "2027-01-01" in text(client.get(url))
        agent = signed_in(UserFactory(role="agent"))
        assert agent.get(url).status_code == 200 and text(agent.get(url)).strip() == ""
        assert text(Client().get(url)).strip() == ""


# --- the national schedule -----------------------------------------------------------------------


def test_an_admin_enters_one_national_date(client):
    url = reverse("sla:national_schedule")
    response = client.post(
        url, {"action": "day", "day-date": "2027-02-20", "day-kind": "workday", "day-name": "春节调休"}
    )
    assert response.status_code == 302
    assert CalendarDay.objects.get(calendar__isnull=True).kind == "workday"
    bad = client.post(url, {"action": "day", "day-date": "2027-02-22", "day-kind": "workday"})
    assert bad.status_code == 422 and re.search(r'data-testid="error-day-kind">[^<]*2027-02-22', text(bad))


def test_the_national_schedule_is_imported_from_the_page(client):
    url = reverse("sla:national_schedule")
    with time_machine.travel(datetime(2026, 11, 24, 10, tzinfo=CST), tick=False):
        response = client.post(
            url, {"action": "import", "import-text": "2027-01-01 holiday 元旦\n2027-02-07 workday 春节调休"}
        )
        assert response.status_code == 302
        page = text(client.get(url))
    assert "2 added" in page and "元旦" in page
    assert CalendarDay.objects.filter(calendar__isnull=True).count() == 2


def test_a_bad_import_line_is_named_and_nothing_is_written(client):
    response = client.post(
        reverse("sla:national_schedule"),
        {"action": "import", "import-text": "2027-01-01 holiday 元旦\n2027-02-08 workday 周一"},
    )
    assert response.status_code == 422
    assert re.search(r'data-testid="error-import-text">Line 2: [^<]*2027-02-08', text(response))
    assert not CalendarDay.objects.exists()


# --- policies and ladders -------------------------------------------------------------------------


def policy_post(cal, **overrides):
    data = {
        "name": "投诉",
        "calendar": str(cal.pk),
        "is_active": "on",
        "match_types": ["complaint"],
        "match_priorities": ["high", "urgent"],
        "first_reply_minutes": "120",
        "resolution_minutes": "2400",
        "pause_on_pending": "on",
    }
    data.update(overrides)
    return data


def test_an_admin_creates_a_policy_and_its_ladder(client):
    cal = hotline_calendar()

    # when the policy is created, the admin is sent on to its ladder
    response = client.post(reverse("sla:policy_new"), policy_post(cal, same_day_cutoff="16:00"))
    policy = SlaPolicy.objects.get(name="投诉")
    ladder_url = reverse("sla:policy_ladder", args=[policy.pk])
    assert response.status_code == 302 and response["Location"] == ladder_url
    assert policy.match_priorities == ["high", "urgent"] and policy.resolution_minutes == 2400
    assert policy.same_day_cutoff_minute is None  # only kept with same-day resolution

    # when two steps (and an untouched blank row) are posted
    rows = [
        {
            "target": "resolution",
            "trigger": "elapsed_percent",
            "threshold": "75",
            "unit": "percent",
            "notify": ["assignee"],
        },
        {
            "target": "resolution",
            "trigger": "after_breach",
            "threshold": "1",
            "unit": "days",
            "notify": ["supervisors", "department_head"],
            "raise_priority": "on",
            "reassign_to": "team_lead",
        },
        {
            "target": "first_reply",
            "trigger": "elapsed_percent",
            "threshold": "",
            "unit": "percent",
            "reassign_to": "",
        },
    ]
    response = client.post(ladder_url, ladder_post(rows))

    # then
    assert response.status_code == 302
    steps = list(policy.steps.order_by("threshold"))
    assert [(s.trigger, s.threshold, s.unit) for s in steps] == [
        ("after_breach", 1, "days"),
        ("elapsed_percent", 75, "percent"),
    ]
    assert steps[0].notify == ["supervisors", "department_head"] and steps[0].raise_priority
    page = text(client.get(ladder_url))
    assert page.count('data-testid="ladder-row"') == 3 + 1  # two steps, a blank row, the template row
    assert AuditEvent.objects.filter(verb__in=["sla.policy_saved", "sla.ladder_saved"]).count() == 2


def test_a_ladder_step_with_no_action_is_shown_next_to_its_row(client):
    cal = hotline_calendar()
    policy = complaint_policy(cal)
    before = list(EscalationStep.objects.values_list("pk", flat=True))
    rows = [
        {
            "target": "resolution",
            "trigger": "elapsed_percent",
            "threshold": "50",
            "unit": "percent",
            "notify": ["assignee"],
        },
        {
            "target": "resolution",
            "trigger": "after_breach",
            "threshold": "4",
            "unit": "hours",
            "reassign_to": "",
        },
    ]
    response = client.post(reverse("sla:policy_ladder", args=[policy.pk]), ladder_post(rows))
    assert response.status_code == 422
    error = re.search(r'data-testid="ladder-row-error">(.*?)</tr>', text(response), re.S)
    assert error and "Step 2 has no action" in error.group(1)
    assert list(EscalationStep.objects.values_list("pk", flat=True)) == before
    assert not AuditEvent.objects.exists()


def test_a_percent_step_out_of_range_is_refused_on_its_row(client):
    policy = complaint_policy(hotline_calendar(), ladder=False)
    rows = [
        {
            "target": "resolution",
            "trigger": "elapsed_percent",
            "threshold": "120",
            "unit": "percent",
            "notify": ["assignee"],
        }
    ]
    response = client.post(reverse("sla:policy_ladder", args=[policy.pk]), ladder_post(rows))
    assert response.status_code == 422 and "from 1 to 99" in text(response)
    assert not EscalationStep.objects.exists()


def test_a_bad_policy_is_re_rendered_with_the_message(client):
    cal = hotline_calendar()
    response = client.post(
        reverse("sla:policy_new"),
        policy_post(cal, first_reply_minutes="", resolution_minutes="", match_types=["complaint", "bogus"]),
    )
    assert response.status_code == 422 and 'data-testid="error-match_types"' in text(response)
    response = client.post(
        reverse("sla:policy_new"), policy_post(cal, first_reply_minutes="", resolution_minutes="")
    )
    assert response.status_code == 422
    assert re.search(r'data-testid="error-first_reply_minutes">[^<]*at least one target', text(response))
    assert not SlaPolicy.objects.exists() and not AuditEvent.objects.exists()


def test_policies_move_toggle_and_refuse_a_bad_direction(client):
    cal = hotline_calendar()
    a = complaint_policy(cal, name="A", position=10)
    b = complaint_policy(cal, name="B", position=20)
    assert client.post(reverse("sla:policy_move", args=[b.pk]), {"direction": "up"}).status_code == 302
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["B", "A"]
    assert client.post(reverse("sla:policy_move", args=[b.pk]), {"direction": "sideways"}).status_code == 400
    assert client.post(reverse("sla:policy_active", args=[a.pk]), {"is_active": "0"}).status_code == 302
    a.refresh_from_db()
    assert a.is_active is False
    assert client.get(reverse("sla:policy_move", args=[b.pk])).status_code == 405
    assert client.get(reverse("sla:policy_edit", args=[999999])).status_code == 404


def test_the_policy_list_costs_the_same_queries_for_many_policies(client):
    cal = hotline_calendar()
    complaint_policy(cal, name="P0")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("sla:policy_list")).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for n in range(1, 8):
        complaint_policy(cal, name=f"P{n}", position=n)
    assert count() <= one


def test_days_outside_today_keep_working(client):
    # the preview accepts any real date, e.g. the Spring Festival of 2026
    cal = hotline_calendar()
    response = client.get(
        reverse("sla:calendar_preview", args=[cal.pk]), {"start": date(2026, 2, 14).isoformat()}
    )
    assert response.status_code == 200 and 'data-kind="holiday"' in text(response)
