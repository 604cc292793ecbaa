"""A ticket's SLA as agents read it: the selector (business time left, bounded queries) and
GET /api/v1/tickets/{id}/sla (mounted next to the tickets router; 404 for tickets one may not see).

Scenery: the hotline calendar (Mon–Sat 08:30–12:00, 13:00–17:30) and the complaint policy (first
reply within 2 business hours, resolution within 5 business days of 8 h); a complaint arrives at
17:20 on Friday 2025-09-26, so first reply is due Saturday 10:20."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.core.errors import NotFound
from kefu.sla import calendars
from kefu.sla.selectors import get_ticket_sla
from kefu.sla.tests.factories import complaint_policy, hotline_calendar
from kefu.tickets.services import add_message, create_ticket, transition_ticket

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")
ARRIVED = datetime(2025, 9, 26, 17, 20, tzinfo=CST)
SAT_9 = datetime(2025, 9, 27, 9, 0, tzinfo=CST)  # 40 business minutes later


@pytest.fixture
def team():
    return TeamFactory(name="热线一组")


@pytest.fixture
def agent(team):
    return UserFactory(username="agent", role="agent", teams=[team])


@pytest.fixture
def outsider():
    return UserFactory(username="other", role="agent", teams=[TeamFactory(name="在线组")])


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


def by_target(sla):
    return {t.target: t for t in sla.timers}


class TestSelector:
    def test_running_clocks_tell_the_business_time_left(self, agent, complaint):
        with time_machine.travel(SAT_9, tick=False):
            sla = get_ticket_sla(actor=agent, ticket_id=complaint.pk)
        assert (sla.policy, sla.calendar) == ("投诉", "热线")
        timers = by_target(sla)
        assert list(timers) == ["first_reply", "resolution"]
        first = timers["first_reply"]
        assert first.status == "running" and first.remaining_seconds == 80 * 60 and not first.breached
        assert first.due_at == datetime(2025, 9, 27, 10, 20, tzinfo=CST) and first.target_seconds == 7200
        assert timers["resolution"].remaining_seconds == (2400 - 40) * 60

    def test_an_overdue_clock_is_breached_before_the_scan_marks_it(self, agent, complaint):
        with time_machine.travel(datetime(2025, 9, 27, 11, 0, tzinfo=CST), tick=False):
            first = by_target(get_ticket_sla(actor=agent, ticket_id=complaint.pk))["first_reply"]
        assert first.remaining_seconds == -40 * 60 and first.breached and first.breached_at is None

    def test_met_and_paused_clocks(self, agent, complaint):
        with time_machine.travel(SAT_9, tick=False):
            add_message(actor=agent, ticket_id=complaint.pk, kind="reply", body="请提供购买凭证")
            transition_ticket(actor=agent, ticket_id=complaint.pk, to="pending")
        with time_machine.travel(datetime(2025, 9, 29, 9, 0, tzinfo=CST), tick=False):
            timers = by_target(get_ticket_sla(actor=agent, ticket_id=complaint.pk))
        met, paused = timers["first_reply"], timers["resolution"]
        assert met.status == "met" and met.business_seconds == 40 * 60 and met.remaining_seconds is None
        assert met.met_at == SAT_9 and not met.breached
        assert paused.status == "paused" and paused.remaining_seconds == (2400 - 40) * 60

    def test_a_ticket_without_sla_has_no_clocks(self, agent, team):
        # an inquiry matches no policy
        ticket, _ = create_ticket(actor=agent, subject="咨询", customer_identities={"phone": "13800138001"})
        sla = get_ticket_sla(actor=agent, ticket_id=ticket.pk)
        assert (sla.policy, sla.calendar, sla.timers) == (None, None, [])

    def test_another_teams_agent_gets_not_found(self, outsider, complaint):
        with pytest.raises(NotFound):
            get_ticket_sla(actor=outsider, ticket_id=complaint.pk)
        with pytest.raises(NotFound):
            get_ticket_sla(actor=outsider, ticket_id=complaint.pk + 1000)

    def test_queries_are_bounded(self, agent, complaint):
        calendars.forget()
        with time_machine.travel(SAT_9, tick=False):
            with CaptureQueriesContext(connection) as cold:
                get_ticket_sla(actor=agent, ticket_id=complaint.pk)
            with CaptureQueriesContext(connection) as warm:
                get_ticket_sla(actor=agent, ticket_id=complaint.pk)
        assert len(cold.captured_queries) <= 4 and len(warm.captured_queries) == 2


class TestApi:
    def test_the_clocks_with_remaining_business_seconds(self, api, agent, complaint):
        with time_machine.travel(SAT_9, tick=False):
            r = api(agent).get(f"tickets/{complaint.pk}/sla")
        assert r.status_code == 200, r.content
        body = r.json()
        assert (body["ticket_id"], body["policy"], body["calendar"]) == (complaint.pk, "投诉", "热线")
        first, resolution = body["timers"]
        assert first["target"] == "first_reply" and first["status"] == "running"
        assert first["remaining_seconds"] == 4800 and first["breached"] is False
        assert first["due_at"].startswith("2025-09-27T02:20:00")  # 10:20 in Shanghai, UTC on the wire
        assert resolution["target"] == "resolution" and resolution["remaining_seconds"] == 2360 * 60
        assert set(first) == {
            "target", "status", "started_at", "due_at", "target_seconds", "remaining_seconds",
            "breached", "breached_at", "met_at", "business_seconds",
        }  # fmt: skip

    def test_another_teams_ticket_is_404_with_the_error_shape(self, api, outsider, complaint):
        r = api(outsider).get(f"tickets/{complaint.pk}/sla")
        assert r.status_code == 404
        assert r.json()["code"] == "not_found" and r.json()["field"] == "ticket_id"

    def test_signing_in_is_required(self, api, complaint):
        assert api().get(f"tickets/{complaint.pk}/sla").status_code == 401

    def test_the_route_sits_next_to_the_tickets_routes(self, api, agent, complaint):
        # the tickets router keeps its own paths under /tickets/{id}…
        c = api(agent)
        assert c.get(f"tickets/{complaint.pk}").json()["id"] == complaint.pk
        assert c.get(f"tickets/{complaint.pk}/events").status_code == 200
        # … and the ticket carries its SLA columns
        t = c.get(f"tickets/{complaint.pk}").json()
        assert t["sla_due_at"].startswith("2025-09-27T02:20:00") and t["sla_breached"] is False
        # and the OpenAPI document lists the SLA path once, tagged sla
        paths = c.get("openapi.json").json()["paths"]
        assert paths["/api/v1/tickets/{ticket_id}/sla"]["get"]["tags"] == ["sla"]
        assert c.get("tickets/abc/sla").status_code == 404
