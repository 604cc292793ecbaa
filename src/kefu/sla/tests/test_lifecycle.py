"""SLA clocks follow the ticket, driven by a controllable clock (time-machine): the due times a
Chinese service manager computes across National Day 2025 and its 调休 Sunday, pausing while waiting
on the customer, and the ladder climbing one step at a time when the ticket is left alone."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connections

from kefu.accounts.models import Membership
from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.sla.models import Escalation, SlaTimer, TimerStatus
from kefu.sla.services import scan_due_timers
from kefu.sla.tests.factories import complaint_policy, hotline_calendar
from kefu.tickets.models import Ticket
from kefu.tickets.services import add_message, create_ticket, transition_ticket, update_ticket

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)


@pytest.fixture
def org():
    """A customer-service department with a head, a team with a lead, a supervisor and an agent,
    and an executive."""
    head = UserFactory(username="vp", role="department_owner")
    dept = DepartmentFactory(name="客服中心", head=head)
    team = TeamFactory(name="热线一组", department=dept)
    agent = UserFactory(username="agent", role="agent", teams=[team])
    supervisor = UserFactory(username="sup", role="supervisor", teams=[team])
    lead = UserFactory(username="lead", role="agent")
    Membership.objects.create(user=lead, team=team, is_lead=True)
    exec_ = UserFactory(username="ceo", role="executive")
    policy = complaint_policy(hotline_calendar())
    return type(
        "Org",
        (),
        dict(head=head, team=team, agent=agent, supervisor=supervisor, lead=lead, ceo=exec_, policy=policy),
    )


def _complaint(org, at: datetime) -> Ticket:
    with time_machine.travel(at, tick=False):
        ticket, _ = create_ticket(
            actor=org.agent,
            subject="热水器漏水，第三次报修",
            type="complaint",
            channel="phone",
            customer_identities={"phone": "13800138000"},
            team_id=org.team.pk,
            assignee_id=org.agent.pk,
        )
    return ticket


def _timer(ticket: Ticket, target: str) -> SlaTimer:
    return SlaTimer.objects.get(ticket=ticket, target=target)


def _scan(at: datetime):
    with time_machine.travel(at, tick=False):
        return scan_due_timers()


def _escalations(ticket: Ticket) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(ticket_id=ticket.pk, verb="sla.escalated").order_by("id"))


def test_complaint_on_the_friday_before_national_day_is_due_after_the_holiday(org):
    # given the hotline calendar (Mon–Sat 08:30–12:00, 13:00–17:30) and the complaint policy
    # when a complaint arrives at 17:20 on Friday 2025-09-26
    ticket = _complaint(org, cst(2025, 9, 26, 17, 20))

    # then first reply (2 business hours) is due Saturday 10:20: 10 minutes on Friday, 110 on Saturday
    assert _timer(ticket, "first_reply").due_at == cst(2025, 9, 27, 10, 20)
    # and resolution (5 business days of 8 h = 2400 min) is due Thursday 2025-10-09 17:20:
    # Fri 10 + Sat 27 480 + Sun 28 (调休 working day) 480 + Mon 29 480 + Tue 30 480 = 1930,
    # Oct 1–8 National Day closed, Thu Oct 9: 210 in the morning + 260 after lunch → 17:20
    resolution = _timer(ticket, "resolution")
    assert resolution.due_at == cst(2025, 10, 9, 17, 20)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == cst(2025, 9, 27, 10, 20)  # the earliest running target
    applied = AuditEvent.objects.get(ticket_id=ticket.pk, verb="sla.applied")
    assert applied.data["policy"] == "投诉"
    assert set(applied.data["targets"]) == {"first_reply", "resolution"}


def test_waiting_on_the_customer_pauses_resolution_and_the_reply_meets_first_reply(org):
    ticket = _complaint(org, cst(2025, 9, 26, 17, 20))
    # when the agent replies on Saturday 09:00 and sets the ticket pending
    with time_machine.travel(cst(2025, 9, 27, 9, 0), tick=False):
        add_message(actor=org.agent, ticket_id=ticket.pk, kind="reply", body="您好，请提供购买凭证照片。")
        transition_ticket(actor=org.agent, ticket_id=ticket.pk, to="pending")
    first = _timer(ticket, "first_reply")
    assert first.status == TimerStatus.MET and first.breached_at is None
    assert first.business_seconds == 40 * 60  # Fri 10 min + Sat 08:30–09:00
    paused = _timer(ticket, "resolution")
    assert paused.status == TimerStatus.PAUSED and paused.next_action_at is None
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None  # nothing is running

    # and nothing happens while paused, however long
    assert _scan(cst(2025, 10, 20, 9, 0)).steps == 0

    # when the customer answers on Monday 10:00 (the ticket reopens)
    with time_machine.travel(cst(2025, 9, 29, 10, 0), tick=False):
        add_message(actor=org.agent, ticket_id=ticket.pk, kind="customer", body="凭证已上传")
    # then resolution resumes with what was left: paused Sat 09:00–17:30 (450), Sun 28 (480),
    # Mon 08:30–10:00 (90) = 1020 business minutes later than before: Thu Oct 9 17:20 + 1020 min
    # = Thu 10 + Fri Oct 10 480 + Sat Oct 11 480 + (Sun closed) Mon Oct 13 50 → 09:20
    resumed = _timer(ticket, "resolution")
    assert resumed.status == TimerStatus.RUNNING
    assert resumed.due_at == cst(2025, 10, 13, 9, 20)
    # and the customer's message started the next-reply clock (4 business hours → 14:00 + 30 min lunch)
    assert _timer(ticket, "next_reply").due_at == cst(2025, 9, 29, 15, 0)
    verbs = list(
        AuditEvent.objects.filter(ticket_id=ticket.pk, verb__startswith="sla.")
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "sla.applied",
        "sla.timer_met",
        "sla.timer_paused",
        "sla.timer_started",
        "sla.timer_resumed",
    ]


def test_left_alone_the_complaint_climbs_the_ladder_step_by_step_once(org):
    ticket = _complaint(org, cst(2025, 9, 26, 17, 20))
    with time_machine.travel(cst(2025, 9, 27, 9, 0), tick=False):
        add_message(actor=org.agent, ticket_id=ticket.pk, kind="reply", body="已收到，正在处理")

    # 75% of 2400 min = 1800: Fri 10 + Sat 480 + Sun 480 + Mon 480 = 1450, Tue 30: 210 + 140 → 15:20
    assert _scan(cst(2025, 9, 30, 15, 19)).steps == 0
    assert _scan(cst(2025, 9, 30, 15, 20)).steps == 1
    warn = _escalations(ticket)[-1]
    assert warn.data["notify"] == [org.agent.pk] and warn.data["notified"] == ["assignee"]

    # breached at Thu Oct 9 17:20 → supervisors notified and priority raised
    assert _scan(cst(2025, 10, 9, 17, 19)).steps == 0
    result = _scan(cst(2025, 10, 9, 17, 20))
    assert (result.breaches, result.steps) == (1, 1)
    ticket.refresh_from_db()
    assert ticket.priority == "high" and ticket.sla_breached
    assert _escalations(ticket)[-1].data["notify"] == [org.supervisor.pk]
    # raising the priority did not re-match the policy or move the clock
    assert _timer(ticket, "resolution").due_at == cst(2025, 10, 9, 17, 20)

    # +2 business hours: Thu 10 min to 17:30, Fri Oct 10 110 min → 10:20: reassigned to the team lead
    assert _scan(cst(2025, 10, 10, 10, 19)).steps == 0
    assert _scan(cst(2025, 10, 10, 10, 20)).steps == 1
    ticket.refresh_from_db()
    assert ticket.assignee_id == org.lead.pk

    # +1 business day (8 h): Thu 10 + Fri 470 → Fri Oct 10 17:20: the department owner
    assert _scan(cst(2025, 10, 10, 17, 20)).steps == 1
    assert _escalations(ticket)[-1].data["notify"] == [org.head.pk]
    # +2 business days: Thu 10 + Fri 480 + Sat Oct 11 470 → 17:20: the executives
    assert _scan(cst(2025, 10, 11, 17, 19)).steps == 0
    assert _scan(cst(2025, 10, 11, 17, 20)).steps == 1
    assert _escalations(ticket)[-1].data["notify"] == [org.ceo.pk]

    # and a repeated scan, even much later, fires nothing again
    assert _scan(cst(2025, 12, 1, 10, 0)).steps == 0
    assert Escalation.objects.filter(timer__ticket=ticket).count() == 5
    assert len(_escalations(ticket)) == 5
    assert _timer(ticket, "resolution").next_action_at is None


def test_a_worker_down_for_days_fires_every_missed_step_once_in_order(org):
    ticket = _complaint(org, cst(2025, 9, 26, 17, 20))
    result = _scan(cst(2025, 10, 20, 9, 0))
    assert result.steps == 5 and result.breaches == 2  # first reply and resolution
    thresholds = [(e.data["trigger"], e.data["threshold"], e.data["unit"]) for e in _escalations(ticket)]
    assert thresholds == [
        ("elapsed_percent", 75, "percent"),
        ("after_breach", 0, "minutes"),
        ("after_breach", 2, "hours"),
        ("after_breach", 1, "days"),
        ("after_breach", 2, "days"),
    ]


def test_solving_meets_resolution_and_stores_kpis(org):
    ticket = _complaint(org, cst(2025, 9, 26, 17, 20))
    with time_machine.travel(cst(2025, 9, 27, 11, 0), tick=False):
        add_message(actor=org.agent, ticket_id=ticket.pk, kind="reply", body="已安排上门")
        transition_ticket(actor=org.agent, ticket_id=ticket.pk, to="solved")
    res = _timer(ticket, "resolution")
    assert res.status == TimerStatus.MET and res.business_seconds == (10 + 150) * 60
    first = _timer(ticket, "first_reply")
    assert first.breached_at == cst(2025, 9, 27, 10, 20)  # replied 40 minutes late
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None and ticket.sla_breached is False


def test_changing_the_type_rematches_the_policy_keeping_used_time(org):
    # given an inquiry (no policy matches it)
    with time_machine.travel(cst(2025, 9, 26, 17, 20), tick=False):
        ticket, _ = create_ticket(
            actor=org.agent,
            subject="咨询保修",
            customer_identities={"phone": "13800138001"},
            team_id=org.team.pk,
        )
    assert not SlaTimer.objects.filter(ticket=ticket).exists()
    # when it becomes a complaint on Saturday 09:00
    with time_machine.travel(cst(2025, 9, 27, 9, 0), tick=False):
        update_ticket(actor=org.agent, ticket_id=ticket.pk, changes={"type": "complaint"})
    # then the complaint clocks run from the ticket's creation
    assert _timer(ticket, "first_reply").due_at == cst(2025, 9, 27, 10, 20)
    assert _timer(ticket, "resolution").due_at == cst(2025, 10, 9, 17, 20)
    assert AuditEvent.objects.filter(ticket_id=ticket.pk, verb="sla.recomputed").exists()
    # and when it goes back to an inquiry, the clocks are cancelled
    with time_machine.travel(cst(2025, 9, 27, 9, 5), tick=False):
        update_ticket(actor=org.agent, ticket_id=ticket.pk, changes={"type": "inquiry"})
    assert set(SlaTimer.objects.filter(ticket=ticket).values_list("status", flat=True)) == {"cancelled"}
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None


def test_same_business_day_target_with_a_cutoff(org):
    # given complaints must be settled the same business day (当天结清), cut-off 17:00
    org.policy.resolution_minutes = None
    org.policy.resolve_same_day = True
    org.policy.same_day_cutoff_minute = 17 * 60
    org.policy.save()
    # when one arrives at 10:00 on Tuesday 2025-09-30, it is due at 17:30 that day
    assert _timer(_complaint(org, cst(2025, 9, 30, 10, 0)), "resolution").due_at == cst(2025, 9, 30, 17, 30)
    # and one arriving after the cut-off, at 17:20, is due at the close of the next business day:
    # Oct 1–8 are National Day, so Thursday Oct 9 17:30
    assert _timer(_complaint(org, cst(2025, 9, 30, 17, 20)), "resolution").due_at == cst(2025, 10, 9, 17, 30)


@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_fire_each_step_once(org):
    # given five complaints left alone until every ladder step is due
    tickets = [_complaint(org, cst(2025, 9, 26, 17, 20)) for _ in range(5)]
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(_scan(cst(2025, 10, 20, 9, 0)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    # when two workers scan at the same moment
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # then every step fired exactly once per ticket, whichever worker took it
    assert errors == []
    assert sum(r.steps for r in results) == 5 * 5
    for ticket in tickets:
        assert Escalation.objects.filter(timer__ticket=ticket).count() == 5
        assert len(_escalations(ticket)) == 5


def test_a_scan_that_fails_midway_loses_nothing(org, monkeypatch):
    # given two complaints with their 75% warning due
    first, second = (_complaint(org, cst(2025, 9, 26, 17, 20)) for _ in range(2))
    from kefu.sla.services import escalation

    real = escalation.fire_step
    calls = {"n": 0}

    def crash_on_second(**kw):
        calls["n"] += 1
        if kw["ticket"].pk == second.pk:
            raise RuntimeError("worker killed")
        return real(**kw)

    # when the worker dies while handling the second ticket
    monkeypatch.setattr(escalation, "fire_step", crash_on_second)
    _scan(cst(2025, 9, 30, 15, 20))
    # then the first ticket's step is recorded and the second's transaction left no trace
    assert len(_escalations(first)) == 1 and _escalations(second) == []
    assert _timer(second, "resolution").next_action_at == cst(2025, 9, 30, 15, 20)
    # and the next scan picks the second one up, without repeating the first
    monkeypatch.setattr(escalation, "fire_step", real)
    assert _scan(cst(2025, 9, 30, 15, 21)).steps == 1
    assert len(_escalations(first)) == 1 and len(_escalations(second)) == 1
