"""The demo's SLA setup: `kefu seed-demo` adds calendars, policies with ladders, and replays the
National Day complaint so its timeline shows every step."""

from io import StringIO

import pytest
from django.core.management import call_command

from kefu.audit.models import AuditEvent
from kefu.sla.demo import SCENARIO_KEY
from kefu.sla.models import Calendar, SlaPolicy, SlaTimer
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_seed_demo_sets_up_sla_and_replays_the_national_day_complaint():
    # when the demo is seeded
    out = StringIO()
    call_command("seed_demo", tickets=60, stdout=out)
    # then it has the hotline, online and shop calendars and ordered policies
    assert Calendar.objects.count() == 3 and SlaPolicy.objects.count() == 5
    assert "SLA: 3 calendars, 5 policies" in out.getvalue()
    # and the scenario complaint is due after National Day, paused while pending, then climbed the ladder
    ticket = Ticket.objects.get(external_id=SCENARIO_KEY)
    verbs = list(AuditEvent.objects.filter(ticket_id=ticket.pk).order_by("id").values_list("verb", flat=True))
    assert "sla.timer_paused" in verbs and "sla.timer_resumed" in verbs and "sla.breached" in verbs
    assert verbs.count("sla.escalated") == 5
    resolution = SlaTimer.objects.get(ticket=ticket, target="resolution")
    assert resolution.breached_at is not None and resolution.next_action_at is None
    ticket.refresh_from_db()
    assert ticket.priority == "high" and ticket.assignee.username == "supervisor"  # the hotline team lead
    # and seeding again adds nothing twice
    call_command("seed_demo", tickets=1, stdout=StringIO())
    assert Ticket.objects.filter(external_id=SCENARIO_KEY).count() == 1
    assert SlaPolicy.objects.count() == 5
