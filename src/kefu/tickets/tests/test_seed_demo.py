import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import authenticate as _authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import RequestFactory

from kefu.accounts.models import Department, Membership, Team, User
from kefu.audit.models import AuditEvent
from kefu.core.signals import demo_seeded
from kefu.customers.models import Customer, Identity
from kefu.customers.normalize import normalize_identity
from kefu.tickets import demo_data, workflow
from kefu.tickets.custom_fields import validate_custom_fields
from kefu.tickets.models import Message, Ticket, Transfer
from kefu.tickets.services import ticket_number_for

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"^T\d{8}\d{5,}$")
HAN = re.compile(r"[\u4e00-\u9fff]")
NOW = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai, nine days after 双十一


@pytest.fixture(autouse=True)
def _only_the_tickets_seed(monkeypatch):
    """These tests count what the tickets seed makes; the demo setup of higher apps (SLA, …),
    hooked on demo_seeded, is tested in those apps."""
    monkeypatch.setattr(demo_seeded, "receivers", [])


def authenticate(**credentials):
    """Sign-ins go through django-axes, which needs the request (as the login page passes it)."""
    return _authenticate(RequestFactory().post("/login/"), **credentials)


def seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded():
    with time_machine.travel(NOW, tick=False):
        return seed(tickets=200, seed=1)


def events_by_ticket():
    by_ticket = defaultdict(list)
    for e in AuditEvent.objects.filter(ticket_id__isnull=False).order_by("created_at", "id"):
        by_ticket[e.ticket_id].append(e)
    return by_ticket


def test_seeds_the_organization_and_tickets(seeded):
    # given an empty database, when seeded with 200 tickets (fixture)
    # then the organization, the tickets and their history exist
    assert Department.objects.count() == len(demo_data.DEPARTMENTS)
    assert Team.objects.count() == len(demo_data.TEAMS)
    assert User.objects.count() == len(demo_data.USERS) >= 20
    assert set(User.objects.values_list("role", flat=True)) == {
        "agent", "supervisor", "qa", "knowledge_editor", "department_owner", "executive", "admin",
    }  # fmt: skip
    assert Ticket.objects.count() == 200
    assert Customer.objects.exists() and Message.objects.exists()
    assert Team.objects.filter(vendor="").count() == len(demo_data.TEAMS) - 1  # one outsourced team
    assert Membership.objects.filter(is_lead=True).exists()
    assert Department.objects.get(code="qc").head.username == "owner_qc"
    assert "tickets 200/200 (100%)" in seeded
    assert "admin" in seeded and "kefu-demo" in seeded


def test_admin_is_superuser_and_every_demo_user_can_log_in(seeded):
    # given a seeded database
    # when each demo user logs in with the demo password
    users = [authenticate(username=u, password="kefu-demo") for u, *_ in demo_data.USERS]
    # then all succeed, and admin is a superuser with staff access
    assert all(users)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.role == "admin"
    assert not User.objects.get(username="agent1").is_staff


def test_demo_password_comes_from_the_environment(monkeypatch):
    # given KEFU_DEMO_PASSWORD
    monkeypatch.setenv("KEFU_DEMO_PASSWORD", "another-secret-1")
    # when seeding
    out = seed(tickets=0)
    # then users log in with it, and the value is not printed
    assert authenticate(username="supervisor", password="another-secret-1")
    assert authenticate(username="supervisor", password="kefu-demo") is None
    assert "another-secret-1" not in out


def test_second_run_without_tickets_skips(seeded):
    # given a seeded database
    before = (User.objects.count(), Ticket.objects.count(), AuditEvent.objects.count())
    # when seed-demo runs again without --tickets
    out = seed(seed=1)
    # then it changes nothing
    assert out.strip() == "already seeded, skipping"
    assert (User.objects.count(), Ticket.objects.count(), AuditEvent.objects.count()) == before


def test_explicit_tickets_top_up_a_seeded_database(seeded):
    # given a seeded database
    # when --tickets is given again
    seed(tickets=50, seed=1)
    # then 50 tickets are added, the organization is not duplicated, identities stay unique
    assert Ticket.objects.count() == 250
    assert User.objects.count() == len(demo_data.USERS)
    assert not Identity.objects.values("kind", "value").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_tickets_keep_the_invariants_the_services_keep(seeded):
    # given a seeded database (fixture)
    by_ticket = events_by_ticket()
    messages = defaultdict(list)
    for m in Message.objects.order_by("created_at", "id"):
        messages[m.ticket_id].append(m)
    # then every ticket reads like one made and worked through the services
    for t in Ticket.objects.all():
        assert NUMBER.match(t.number) and t.number == ticket_number_for(t)
        assert t.subject.strip() and HAN.search(t.subject) and HAN.search(t.description)
        assert NOW - timedelta(days=91) < t.created_at <= t.updated_at <= NOW
        events = by_ticket[t.pk]
        assert events[0].verb == "ticket.created" and events[0].data["number"] == t.number
        assert {e.source for e in events} == {"seed"} and {e.customer_id for e in events} == {t.customer_id}
        status, solved_at, reopened = "new", None, 0
        for e in events:
            if e.verb == "ticket.status_changed":
                assert e.data["from"] == status and workflow.can_transition(status, e.data["to"])
                reopened += workflow.is_reopen(status, e.data["to"])
                status = e.data["to"]
                solved_at = e.created_at if status == "solved" else None if status == "open" else solved_at
        assert status == t.status and reopened == t.reopened_count and solved_at == t.solved_at
        if t.status in ("solved", "closed"):
            assert t.solved_at is not None
        assert (t.closed_at is not None) == (t.status == "closed")
        replies = [m for m in messages[t.pk] if m.kind == "reply"]
        assert t.first_response_at == (replies[0].created_at if replies else None)
        assert (t.first_response_at is None) == (t.status == "new")
        added = sorted(e.data["message_id"] for e in events if e.verb == "ticket.message_added")
        assert added == sorted(m.pk for m in messages[t.pk])
        assert validate_custom_fields(t.custom_fields) == t.custom_fields
        if t.channel in ("tmall", "jd"):
            assert t.shop.platform == t.channel
        if t.status == "on_hold":
            assert Transfer.objects.filter(ticket=t).exists()


def test_tickets_mix_states_types_and_channels(seeded):
    # given a seeded database (fixture), then it looks like a working service centre
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {"closed", "solved"} <= statuses and statuses & {"new", "open", "pending", "on_hold"}
    assert len(set(Ticket.objects.values_list("type", flat=True))) >= 5
    assert len(set(Ticket.objects.values_list("channel", flat=True))) >= 7
    assert (
        Ticket.objects.exclude(assignee=None).exists() and Ticket.objects.filter(tags__isnull=False).exists()
    )
    # older tickets are mostly closed, recent ones mostly open
    old = Ticket.objects.filter(created_at__lt=NOW - timedelta(days=14))
    assert old.filter(status="closed").count() > 0.8 * old.count()


def test_customers_have_normalized_unique_identities(seeded):
    # given a seeded database (fixture), then every customer is findable by a valid identity
    assert not Customer.objects.filter(identities=None).exists()
    for ident in Identity.objects.all():
        assert normalize_identity(ident.kind, ident.value) == ident.value
    assert Identity.objects.filter(kind="phone").count() == Customer.objects.count()
    per_customer = Ticket.objects.values("customer_id").annotate(n=Count("id"))
    assert any(row["n"] > 1 for row in per_customer)  # some customers write in again
    assert AuditEvent.objects.filter(verb="customer.created").count() == Customer.objects.count()


def test_same_seed_gives_the_same_tickets():
    # given the same seed and clock twice on an empty database
    def run():
        with time_machine.travel(NOW, tick=False):
            seed(tickets=120, seed=7, verbosity=0)
        rows = list(Ticket.objects.order_by("id").values_list("subject", "description", "status", "channel"))
        AuditEvent.objects.all().delete()
        Ticket.objects.all().delete()
        Customer.objects.all().delete()
        return rows

    # when seeding, wiping the tickets, and seeding again
    first, second = run(), run()
    # then the tickets are the same
    assert first == second and len(first) == 120


def test_lite_mode_writes_fewer_messages_but_keeps_the_history():
    # given --lite (automatic for huge runs)
    with time_machine.travel(NOW, tick=False):
        seed(tickets=150, seed=3, lite=True, verbosity=0)
    # then tickets have about two messages, and every status change still has its event
    assert Message.objects.count() < 2.5 * 150
    by_ticket = events_by_ticket()
    for t in Ticket.objects.all():
        changes = [e for e in by_ticket[t.pk] if e.verb == "ticket.status_changed"]
        assert (changes[-1].data["to"] if changes else "new") == t.status


def test_rejects_negative_counts():
    # when --tickets is negative, then the command fails clearly
    with pytest.raises(CommandError):
        seed(tickets=-1)
