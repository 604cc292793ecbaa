"""The SLA badges of the ticket page header: /sla/tickets/<id>/panel/, loaded by htmx. One badge per
target in business time (green, amber under a quarter of the target or a business hour, red when
overdue, grey while paused, "met in …"), the due time in the user's zone, the calendar in the title."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.sla import calendars
from kefu.sla.tests.factories import complaint_policy, hotline_calendar
from kefu.tickets.services import add_message, create_ticket, transition_ticket

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")
ARRIVED = datetime(2025, 9, 26, 17, 20, tzinfo=CST)  # Friday; first reply due Saturday 10:20
HX = {"HX-Request": "true"}


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)


@pytest.fixture
def team():
    return TeamFactory(name="热线一组")


@pytest.fixture
def agent(team):
    return UserFactory(username="agent", role="agent", teams=[team])


@pytest.fixture
def complaint(agent, team):
    complaint_policy(hotline_calendar())
    with time_machine.travel(ARRIVED, tick=False):
        ticket, _ = create_ticket(
            actor=agent,
            subject="热水器漏水",
            type="complaint",
            customer_identities={"phone": "13800138000"},
            team_id=team.pk,
        )
    return ticket


def panel(user, ticket, at, *, language="en"):
    with time_machine.travel(at, tick=False):
        c = Client(HTTP_ACCEPT_LANGUAGE=language)
        c.force_login(user)
        return c.get(f"/sla/tickets/{ticket.pk}/panel/", headers=HX)


def badges(response) -> dict[str, tuple[str, str]]:
    """target → (state, text) of each badge, tags stripped."""
    html = response.content.decode()
    found = re.findall(r'data-kf-sla="(\w+)" data-kf-sla-state="(\w+)"[^>]*>(.*?)</span>', html, re.S)
    return {target: (state, re.sub(r"<[^>]+>", "", text).strip()) for target, state, text in found}


def test_running_clocks_are_green_with_business_time_left_and_the_due_time(agent, complaint):
    r = panel(agent, complaint, cst(2025, 9, 27, 9, 0))
    assert r.status_code == 200
    assert badges(r) == {
        "first_reply": ("ok", "First reply: due in 1 h 20 min (business time) · due 10:20"),
        "resolution": ("ok", "Resolution: due in 39 h 20 min (business time) · due 10-09 17:20"),
    }
    html = r.content.decode()
    assert 'title="Business calendar: 热线 · policy: 投诉"' in html
    assert '<time datetime="2025-09-27T10:20:00+08:00">' in html


def test_amber_under_one_business_hour_and_red_once_overdue(agent, complaint):
    assert badges(panel(agent, complaint, cst(2025, 9, 27, 9, 40)))["first_reply"] == (
        "soon",
        "First reply: due in 40 min (business time) · due 10:20",
    )
    assert badges(panel(agent, complaint, cst(2025, 9, 27, 13, 30)))["first_reply"] == (
        "overdue",
        "First reply: overdue by 2 h 10 min (business time) · due 10:20",  # lunch 12:00–13:00 not counted
    )


def test_amber_under_a_quarter_of_the_target(agent, complaint):
    # resolution allows 40 business hours, a quarter is 10 h: on its last day (Thu 9 Oct, after
    # National Day) at 09:00, 7 h 20 min are left (09:00–12:00 and 13:00–17:20): amber
    state, text = badges(panel(agent, complaint, cst(2025, 10, 9, 9, 0)))["resolution"]
    assert state == "soon" and text == "Resolution: due in 7 h 20 min (business time) · due 17:20"


def test_met_and_paused(agent, complaint):
    with time_machine.travel(cst(2025, 9, 27, 9, 0), tick=False):
        add_message(actor=agent, ticket_id=complaint.pk, kind="reply", body="请提供购买凭证")
        transition_ticket(actor=agent, ticket_id=complaint.pk, to="pending")
    assert badges(panel(agent, complaint, cst(2025, 9, 29, 10, 0))) == {
        "first_reply": ("met", "First reply: met in 40 min (business time)"),
        "resolution": ("paused", "Resolution: paused, 39 h 20 min left (business time)"),
    }


def test_a_reply_after_the_due_time_is_met_late(agent, complaint):
    with time_machine.travel(cst(2025, 9, 27, 11, 0), tick=False):
        add_message(actor=agent, ticket_id=complaint.pk, kind="reply", body="抱歉久等")
    assert badges(panel(agent, complaint, cst(2025, 9, 27, 11, 5)))["first_reply"] == (
        "met_late",
        "First reply: met late, in 2 h 40 min (business time)",  # Fri 10 min + Sat 08:30–11:00
    )


def test_a_ticket_without_sla_says_so(agent, team):
    ticket, _ = create_ticket(actor=agent, subject="咨询", customer_identities={"phone": "13800138001"})
    r = panel(agent, ticket, cst(2025, 9, 27, 9, 0))
    assert r.status_code == 200 and 'data-kf-sla-state="none">No SLA<' in r.content.decode()


def test_the_due_time_is_shown_in_the_users_zone(complaint, team):
    berlin = UserFactory(username="berlin", role="agent", teams=[team], time_zone="Europe/Berlin")
    r = panel(berlin, complaint, cst(2025, 9, 27, 9, 0))
    assert badges(r)["first_reply"][1].endswith("due 04:20")  # 10:20 in Shanghai is 04:20 in Berlin (CEST)


def test_another_teams_agent_gets_404_and_visitors_sign_in(complaint):
    outsider = UserFactory(role="agent", teams=[TeamFactory()])
    assert panel(outsider, complaint, cst(2025, 9, 27, 9, 0)).status_code == 404
    r = Client().get(f"/sla/tickets/{complaint.pk}/panel/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_the_panel_needs_few_queries(agent, complaint):
    c = Client()
    c.force_login(agent)
    url = f"/sla/tickets/{complaint.pk}/panel/"
    with time_machine.travel(cst(2025, 9, 27, 9, 0), tick=False):
        calendars.forget()
        with CaptureQueriesContext(connection) as cold:
            c.get(url, headers=HX)
        with CaptureQueriesContext(connection) as warm:
            c.get(url, headers=HX)
    # session, user, ticket, timers (+ the calendar's hours and days until it is cached)
    assert len(cold.captured_queries) <= 6 and len(warm.captured_queries) <= 4


def _zh_ready() -> bool:
    with translation.override("zh-hans"):
        return all(
            translation.gettext(m) != m
            for m in ("%(h)d h %(m)d min", "%(m)d min", "%(target)s: due in %(duration)s (business time)")
        )


def test_chinese_badges(agent, complaint):
    if not _zh_ready():
        pytest.skip("the zh-hans catalog does not have the SLA badge texts yet")
    with time_machine.travel(cst(2025, 9, 27, 9, 0), tick=False):
        add_message(actor=agent, ticket_id=complaint.pk, kind="reply", body="您好")
    r = panel(agent, complaint, cst(2025, 9, 27, 10, 0), language="zh-hans")
    found = badges(r)
    assert found["first_reply"][0] == "met" and "40 分钟" in found["first_reply"][1]
    assert found["resolution"][0] == "ok" and "38 小时 20 分钟" in found["resolution"][1]
    assert "business time" not in r.content.decode() and " min" not in r.content.decode()
