"""The periodic scan: find timers whose next action is due (through the partial index on
next_action_at), record breaches and fire ladder steps. Each timer is handled in its own
transaction with its ticket locked first (the same order as ticket changes), and each step is
recorded under a unique constraint, so a step fires once even with two workers or a repeated scan,
and a crash mid-scan loses nothing: what did not commit is simply found again next minute."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from kefu.accounts.models import Membership, User
from kefu.accounts.services import get_system_user
from kefu.core import clock
from kefu.core.permissions import Role
from kefu.sla import events
from kefu.sla.business_time import BusinessCalendar
from kefu.sla.calendars import business_calendar
from kefu.sla.models import Escalation, EscalationStep, ReassignTo, Recipient, SlaTimer, TimerStatus
from kefu.sla.services import timers as t
from kefu.tickets.choices import Priority
from kefu.tickets.models import Ticket

log = logging.getLogger(__name__)

PRIORITY_UP = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH, Priority.HIGH: Priority.URGENT}
BATCH = 200


@dataclass
class ScanResult:
    timers: int = 0
    breaches: int = 0
    steps: int = 0


def scan_due_timers(*, now: datetime | None = None, batch: int = BATCH) -> ScanResult:
    """Handle every timer whose next action is due at `now`."""
    now = now or clock.now()
    result = ScanResult()
    skip: set[int] = set()
    system = get_system_user()
    while True:
        due = (
            SlaTimer.objects.filter(next_action_at__lte=now)
            .exclude(pk__in=skip)
            .order_by("next_action_at")
            .values_list("pk", "ticket_id")[:batch]
        )
        rows = list(due)
        if not rows:
            return result
        for timer_id, ticket_id in rows:
            skip.add(timer_id)
            try:
                breaches, steps = process_timer(timer_id=timer_id, ticket_id=ticket_id, now=now, actor=system)
            except Exception:  # one bad ticket must not stop the scan; it is retried next minute
                log.exception("SLA scan failed for timer %s", timer_id)
                continue
            result.timers += 1
            result.breaches += breaches
            result.steps += steps


@transaction.atomic
def process_timer(
    *, timer_id: int, ticket_id: int, now: datetime, actor: User | None = None
) -> tuple[int, int]:
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    timer = (
        SlaTimer.objects.select_for_update(of=("self",))
        .select_related("policy__calendar")
        .prefetch_related("policy__steps")
        .filter(pk=timer_id, next_action_at__lte=now)
        .first()
    )
    if ticket is None or timer is None or timer.policy is None:
        return 0, 0  # another worker handled it, or it changed meanwhile
    policy = timer.policy
    cal = business_calendar(policy.calendar)
    system = actor or get_system_user()
    breaches = steps = 0
    if timer.breached_at is None and timer.due_at is not None and timer.due_at <= now:
        timer.breached_at = timer.due_at
        breaches = 1
        t.record_timer_event(system, events.BREACHED.verb, timer, ticket, due_at=timer.due_at.isoformat())
    fired = t.fired_step_keys(timer)
    for at, step in t.pending_steps(timer, policy, cal, fired):
        if at > now:
            break
        if fire_step(timer=timer, step=step, ticket=ticket, actor=system, cal=cal):
            fired.add(step.pk)
            steps += 1
    t.schedule(timer, policy, cal, fired)
    t.save_timers([timer], now)
    t.sync_ticket(ticket, SlaTimer.objects.filter(ticket=ticket))
    return breaches, steps


def fire_step(
    *, timer: SlaTimer, step: EscalationStep, ticket: Ticket, actor: User, cal: BusinessCalendar
) -> bool:
    """Run one ladder step once: record it, notify, raise the priority, reassign; False if it had
    already fired."""
    try:
        with transaction.atomic():
            Escalation.objects.create(
                timer=timer, step=step, step_key=step.pk, cycle=timer.cycle, fired_at=clock.now()
            )
    except IntegrityError:
        return False
    data: dict[str, Any] = {
        "step_id": step.pk,
        "trigger": step.trigger,
        "threshold": step.threshold,
        "unit": step.unit,
        "due_at": timer.due_at.isoformat() if timer.due_at else None,
    }
    notify: set[int] = set()
    notified: list[str] = []
    for who in step.notify:
        ids = recipients(ticket, who)
        if ids:
            notify.update(ids)
            notified.append(who)
    changes: dict[str, Any] = {}
    if step.raise_priority and ticket.priority in PRIORITY_UP:
        changes["priority"] = PRIORITY_UP[Priority(ticket.priority)]
        data["priority_to"] = changes["priority"]
    if step.reassign_to:
        new_owner = _reassign_target(ticket, step.reassign_to)
        if new_owner is not None and new_owner.pk != ticket.assignee_id:
            changes["assignee_id"] = new_owner.pk
            data["reassigned_to_name"] = str(new_owner)  # notifications tells the new assignee
    if changes:
        from kefu.tickets.services import update_ticket

        token = t.escalating.set(True)
        try:
            updated = update_ticket(actor=actor, ticket_id=ticket.pk, changes=changes)
        finally:
            t.escalating.reset(token)
        ticket.priority, ticket.assignee_id = updated.priority, updated.assignee_id
    data["notified"] = notified
    data["notify"] = sorted(notify)
    t.record_timer_event(actor, events.ESCALATED.verb, timer, ticket, **data)
    return True


def _team_members(ticket: Ticket, **filters: Any) -> list[int]:
    if ticket.team_id is None:
        return []
    return list(
        Membership.objects.filter(team_id=ticket.team_id, user__is_active=True, **filters).values_list(
            "user_id", flat=True
        )
    )


def recipients(ticket: Ticket, who: str) -> list[int]:
    """The users a ladder step names, for this ticket."""
    if who == Recipient.ASSIGNEE:
        return [ticket.assignee_id] if ticket.assignee_id else []
    if who == Recipient.TEAM_LEAD:
        return _team_members(ticket, is_lead=True)
    if who == Recipient.SUPERVISORS:
        return _team_members(ticket, user__role=Role.SUPERVISOR) or _team_members(ticket, is_lead=True)
    if who == Recipient.DEPARTMENT_HEAD:
        head = ticket.team.department.head_id if ticket.team_id and ticket.team else None
        return [head] if head else []
    if who == Recipient.EXECUTIVES:
        return list(User.objects.filter(role=Role.EXECUTIVE, is_active=True).values_list("pk", flat=True))
    return []


def _reassign_target(ticket: Ticket, to: str) -> User | None:
    ids = recipients(ticket, Recipient.TEAM_LEAD if to == ReassignTo.TEAM_LEAD else Recipient.DEPARTMENT_HEAD)
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk").first() if ids else None


__all__ = ["ScanResult", "TimerStatus", "fire_step", "process_timer", "recipients", "scan_due_timers"]
