"""What a ticket change does to its SLA clocks. Called by kefu.sla.handlers inside the transaction of
the ticket change (the ticket row is already locked by the tickets service, or new)."""

from __future__ import annotations

from datetime import datetime

from kefu.accounts.models import User
from kefu.sla import events
from kefu.sla.business_time import BusinessCalendar
from kefu.sla.calendars import business_calendar
from kefu.sla.models import SlaPolicy, SlaTimer, Target, TimerStatus
from kefu.sla.services import timers as t
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.models import Ticket
from kefu.tickets.services import record_ticket_event

CLOSED_STATES = (Status.SOLVED, Status.CLOSED)


def _ticket(ticket_id: int) -> Ticket | None:
    return Ticket.objects.select_related("customer").filter(pk=ticket_id).first()


def _timers(ticket: Ticket) -> dict[str, SlaTimer]:
    return {
        timer.target: timer
        for timer in SlaTimer.objects.filter(ticket=ticket).select_related("policy__calendar")
    }


def _dues(timers: dict[str, SlaTimer]) -> dict[str, str]:
    return {
        target: timer.due_at.isoformat()
        for target, timer in timers.items()
        if timer.status in t.ACTIVE and timer.due_at is not None
    }


def start_ticket_sla(*, actor: User | None, ticket_id: int) -> None:
    """A new ticket: match a policy and start its first-reply and resolution clocks."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return
    policy = t.match_policy(ticket)
    if policy is None:
        return
    at = ticket.created_at
    cal = business_calendar(policy.calendar)
    timers: dict[str, SlaTimer] = {}
    for target in (Target.FIRST_REPLY, Target.RESOLUTION):
        timer = t.new_timer(ticket, policy, target, cal, at)
        if timer is not None:
            if target == Target.RESOLUTION and t.resolution_paused_by(policy, ticket.status):
                t.pause(timer, cal, at)
            t.schedule(timer, policy, cal, fired=set())
            timers[target] = timer
    if not timers:
        return
    t.save_timers(timers.values(), t.now())
    t.sync_ticket(ticket, timers.values())
    record_ticket_event(
        actor=actor,
        ticket=ticket,
        verb=events.SLA_APPLIED.verb,
        data={"policy": policy.name, "policy_id": policy.pk, "targets": _dues(timers)},
    )


def on_status_changed(*, actor: User | None, ticket_id: int, before: str, after: str) -> None:
    ticket = _ticket(ticket_id)
    if ticket is None:
        return
    timers = _timers(ticket)
    if not timers:
        return
    at = t.now()
    changed: list[SlaTimer] = []
    for timer in timers.values():
        policy = timer.policy
        if policy is None:
            continue
        cal = business_calendar(policy.calendar)
        if after in CLOSED_STATES:
            if timer.status in t.ACTIVE:
                t.meet(timer, cal, at)
                changed.append(timer)
                t.record_timer_event(actor, events.TIMER_MET.verb, timer, ticket)
            continue
        if before in CLOSED_STATES and timer.target == Target.RESOLUTION and timer.status == TimerStatus.MET:
            # reopened: the resolution clock goes on from where the solve stopped it
            timer.met_at = None
            timer.business_seconds = None
            timer.status = TimerStatus.PAUSED
        if timer.target != Target.RESOLUTION:
            continue
        should_pause = t.resolution_paused_by(policy, after)
        if should_pause and timer.status == TimerStatus.RUNNING:
            t.pause(timer, cal, at)
            changed.append(timer)
            t.record_timer_event(actor, events.TIMER_PAUSED.verb, timer, ticket)
        elif not should_pause and timer.status == TimerStatus.PAUSED:
            t.resume(timer, cal, at)
            t.schedule(timer, policy, cal)
            changed.append(timer)
            due = timer.due_at.isoformat() if timer.due_at else None
            t.record_timer_event(actor, events.TIMER_RESUMED.verb, timer, ticket, due_at=due)
    if changed:
        t.save_timers(changed, at)
        t.sync_ticket(ticket, timers.values())


def on_message_added(*, actor: User | None, ticket_id: int, kind: str) -> None:
    """A public reply meets the first-reply and next-reply targets; a customer message after a
    reply starts the next-reply clock."""
    if kind not in (MessageKind.REPLY, MessageKind.CUSTOMER):
        return
    ticket = _ticket(ticket_id)
    if ticket is None or ticket.status in CLOSED_STATES:
        return
    timers = _timers(ticket)
    at = t.now()
    changed: list[SlaTimer] = []
    if kind == MessageKind.REPLY:
        for target in (Target.FIRST_REPLY, Target.NEXT_REPLY):
            timer = timers.get(target)
            if timer is not None and timer.status in t.ACTIVE and timer.policy is not None:
                t.meet(timer, business_calendar(timer.policy.calendar), at)
                changed.append(timer)
                t.record_timer_event(actor, events.TIMER_MET.verb, timer, ticket)
    else:
        fresh = _start_next_reply(ticket, timers, at)
        if fresh is not None:
            t.save_timers([fresh], at)
            t.sync_ticket(ticket, timers.values())
            due = fresh.due_at.isoformat() if fresh.due_at else None
            t.record_timer_event(actor, events.TIMER_STARTED.verb, fresh, ticket, due_at=due)
            return
    if changed:
        t.save_timers(changed, at)
        t.sync_ticket(ticket, timers.values())


def _start_next_reply(ticket: Ticket, timers: dict[str, SlaTimer], at: datetime) -> SlaTimer | None:
    first = timers.get(Target.FIRST_REPLY)
    if first is not None and first.status in t.ACTIVE:
        return None  # still waiting for the first reply
    current = timers.get(Target.NEXT_REPLY)
    if current is not None and current.status in t.ACTIVE:
        return None  # the clock already runs from the customer's earlier message
    policy = _policy_of(timers) or t.match_policy(ticket)
    if policy is None or policy.next_reply_minutes is None:
        return None
    cal = business_calendar(policy.calendar)
    fresh = t.new_timer(ticket, policy, Target.NEXT_REPLY, cal, at)
    if fresh is None:
        return None
    if current is not None:  # a new cycle on the same row: its ladder starts over
        fresh.pk, fresh.cycle = current.pk, current.cycle + 1
    t.schedule(fresh, policy, cal, fired=set())
    timers[Target.NEXT_REPLY] = fresh
    return fresh


def _policy_of(timers: dict[str, SlaTimer]) -> SlaPolicy | None:
    for timer in timers.values():
        if timer.policy is not None:
            return timer.policy
    return None


def rematch_ticket_sla(*, actor: User | None, ticket_id: int) -> None:
    """The ticket's priority, type, shop or tags changed: match again and recompute every active
    clock under the new policy, keeping the business time already used."""
    if t.escalating.get():
        return
    ticket = _ticket(ticket_id)
    if ticket is None or ticket.status in CLOSED_STATES:
        return
    timers = _timers(ticket)
    old = _policy_of(timers)
    policy = t.match_policy(ticket)
    if (old.pk if old else None) == (policy.pk if policy else None):
        return
    at = t.now()
    if policy is None:
        for timer in timers.values():
            if timer.status in t.ACTIVE:
                timer.status = TimerStatus.CANCELLED
                timer.next_action_at = None
        t.save_timers(timers.values(), at)
        t.sync_ticket(ticket, timers.values())
        record_ticket_event(
            actor=actor, ticket=ticket, verb=events.SLA_REMOVED.verb, data={"policy": old.name if old else ""}
        )
        return
    cal = business_calendar(policy.calendar)
    for target in (Target.FIRST_REPLY, Target.RESOLUTION, Target.NEXT_REPLY):
        found = timers.get(target)
        if found is None:
            if target == Target.NEXT_REPLY:
                continue
            fresh = t.new_timer(ticket, policy, target, cal, ticket.created_at)
            if fresh is None:
                continue
            timers[target] = fresh
            _recompute(fresh, policy, cal, at, used=t.elapsed_seconds(fresh, cal, at), status=ticket.status)
            continue
        timer = found
        if timer.status not in t.ACTIVE:
            timer.policy = policy
            continue
        old_cal = business_calendar(timer.policy.calendar) if timer.policy else cal
        used = t.elapsed_seconds(timer, old_cal, at)
        seconds = t.target_seconds(policy, target, timer.started_at, cal)
        if seconds is None:
            timer.status = TimerStatus.CANCELLED
            timer.next_action_at = None
            timer.policy = policy
            continue
        timer.target_seconds = seconds
        _recompute(timer, policy, cal, at, used=used, status=ticket.status)
    t.save_timers(timers.values(), at)
    t.sync_ticket(ticket, timers.values())
    record_ticket_event(
        actor=actor,
        ticket=ticket,
        verb=events.SLA_RECOMPUTED.verb,
        data={"policy": policy.name, "policy_id": policy.pk, "targets": _dues(timers)},
    )


def _recompute(
    timer: SlaTimer, policy: SlaPolicy, cal: BusinessCalendar, at: datetime, *, used: int, status: str
) -> None:
    timer.policy = policy
    remaining = timer.target_seconds - used
    was_paused = timer.status == TimerStatus.PAUSED
    if remaining > 0:
        timer.breached_at = None
        t._run(timer, cal, at, remaining)
    else:  # already over the new target: due now, the next scan records the breach
        timer.status = TimerStatus.RUNNING
        timer.running_since = at
        timer.remaining_at_start = remaining
        if timer.breached_at is None:
            timer.due_at = at
    if was_paused or (timer.target == Target.RESOLUTION and t.resolution_paused_by(policy, status)):
        t.pause(timer, cal, at)
    t.schedule(timer, policy, cal)
