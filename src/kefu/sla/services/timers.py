"""SLA timers follow the ticket: they start when a policy applies, pause and resume with its status,
stop when a reply or the solve meets them, and are recomputed when the ticket's priority, type, …
change. These run inside the transaction of the ticket change that caused them (in-transaction event
handlers), so a ticket and its clocks never disagree."""

from __future__ import annotations

import math
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from kefu.accounts.models import User
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.sla.business_time import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds_between,
    end_of_business_day,
)
from kefu.sla.models import (
    Escalation,
    EscalationStep,
    SlaPolicy,
    SlaTimer,
    Target,
    ThresholdUnit,
    TimerStatus,
    Trigger,
)
from kefu.tickets.choices import Status
from kefu.tickets.models import Ticket

# set while an escalation changes the ticket, so raising its priority does not re-match the policy
escalating: ContextVar[bool] = ContextVar("sla_escalating", default=False)

ACTIVE = (TimerStatus.RUNNING, TimerStatus.PAUSED)
MATCH_FIELDS = frozenset({"type", "priority", "shop_id", "tags"})


# --- policies ---------------------------------------------------------------------------------


def active_policies() -> list[SlaPolicy]:
    return list(
        SlaPolicy.objects.filter(is_active=True, calendar__is_active=True)
        .select_related("calendar")
        .prefetch_related("steps")
        .order_by("position", "id")
    )


def match_policy(ticket: Ticket, policies: Iterable[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The first active policy whose every non-empty condition matches the ticket."""
    tags: set[str] | None = None
    vip: str | None = None
    for p in active_policies() if policies is None else policies:
        if p.match_types and ticket.type not in p.match_types:
            continue
        if p.match_priorities and ticket.priority not in p.match_priorities:
            continue
        if p.match_channels and ticket.channel not in p.match_channels:
            continue
        if p.match_shop_ids and ticket.shop_id not in p.match_shop_ids:
            continue
        if p.match_vip_tiers:
            if vip is None:
                vip = ticket.customer.vip_tier if ticket.customer_id else ""
            if vip not in p.match_vip_tiers:
                continue
        if p.match_tags:
            if tags is None:
                tags = set(ticket.tags.values_list("name", flat=True))
            if not tags.intersection(p.match_tags):
                continue
        return p
    return None


def target_seconds(policy: SlaPolicy, target: str, start: datetime, cal: BusinessCalendar) -> int | None:
    """Business seconds the policy allows for a target started at `start` (None: no such target)."""
    if target == Target.FIRST_REPLY:
        minutes = policy.first_reply_minutes
    elif target == Target.NEXT_REPLY:
        minutes = policy.next_reply_minutes
    else:
        minutes = policy.resolution_minutes
        if policy.resolve_same_day:
            cutoff = None if policy.same_day_cutoff_minute is None else policy.same_day_cutoff_minute * 60
            same_day = business_seconds_between(cal, start, end_of_business_day(cal, start, cutoff=cutoff))
            return same_day if minutes is None else min(same_day, minutes * 60)
    return None if minutes is None else minutes * 60


# --- schedule ---------------------------------------------------------------------------------


def day_seconds(cal: BusinessCalendar) -> int:
    """A business day's length: the hours of the weekday adjusted working days use."""
    return sum(e - s for s, e in cal.weekly.get(cal.workday_hours_from, ())) or 86400


def step_offset_seconds(step: EscalationStep, cal: BusinessCalendar) -> int:
    unit = {ThresholdUnit.MINUTES: 60, ThresholdUnit.HOURS: 3600, ThresholdUnit.DAYS: day_seconds(cal)}
    return step.threshold * unit.get(ThresholdUnit(step.unit), 60)


def step_instant(timer: SlaTimer, step: EscalationStep, cal: BusinessCalendar) -> datetime | None:
    """When a step fires for a running timer (None if it cannot be placed)."""
    if timer.running_since is None or timer.due_at is None:
        return None
    if step.trigger == Trigger.ELAPSED_PERCENT:
        needed = math.ceil(timer.target_seconds * min(step.threshold, 100) / 100)
        used = timer.target_seconds - timer.remaining_at_start
        if needed <= used:
            return timer.running_since
        return add_business_seconds(cal, timer.running_since, needed - used)
    return add_business_seconds(cal, timer.due_at, step_offset_seconds(step, cal))


def timer_steps(timer: SlaTimer, policy: SlaPolicy | None) -> list[EscalationStep]:
    if policy is None:
        return []
    return [s for s in policy.steps.all() if s.target == timer.target]


def fired_step_keys(timer: SlaTimer) -> set[int]:
    if timer.pk is None:
        return set()
    return set(Escalation.objects.filter(timer=timer, cycle=timer.cycle).values_list("step_key", flat=True))


def pending_steps(
    timer: SlaTimer, policy: SlaPolicy | None, cal: BusinessCalendar, fired: set[int] | None = None
) -> list[tuple[datetime, EscalationStep]]:
    steps = timer_steps(timer, policy)
    if not steps:
        return []
    fired = fired_step_keys(timer) if fired is None else fired
    out = []
    for step in steps:
        if step.pk in fired:
            continue
        at = step_instant(timer, step, cal)
        if at is not None:
            out.append((at, step))
    out.sort(key=lambda pair: (pair[0], pair[1].pk))
    return out


def schedule(
    timer: SlaTimer, policy: SlaPolicy | None, cal: BusinessCalendar, fired: set[int] | None = None
) -> None:
    """Set next_action_at: the earlier of the breach (if still ahead) and the next unfired step."""
    if timer.status != TimerStatus.RUNNING:
        timer.next_action_at = None
        return
    candidates = [at for at, _ in pending_steps(timer, policy, cal, fired)[:1]]
    if timer.breached_at is None and timer.due_at is not None:
        candidates.append(timer.due_at)
    timer.next_action_at = min(candidates) if candidates else None


def remaining_seconds(timer: SlaTimer, cal: BusinessCalendar, at: datetime) -> int:
    """Business seconds left (negative when overdue) at an instant."""
    if timer.status == TimerStatus.RUNNING and timer.running_since is not None:
        return timer.remaining_at_start - business_seconds_between(cal, timer.running_since, at)
    return timer.remaining_at_start


def elapsed_seconds(timer: SlaTimer, cal: BusinessCalendar, at: datetime) -> int:
    return timer.target_seconds - remaining_seconds(timer, cal, at)


# --- transitions of one timer -----------------------------------------------------------------


def record_timer_event(actor: User | None, verb: str, timer: SlaTimer, ticket: Ticket, **data: Any) -> None:
    record_event(
        actor=actor,
        verb=verb,
        subject=timer,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data={"target": timer.target, **data},
    )


def _run(timer: SlaTimer, cal: BusinessCalendar, at: datetime, remaining: int) -> None:
    timer.status = TimerStatus.RUNNING
    timer.running_since = at
    timer.remaining_at_start = remaining
    if remaining > 0 or timer.due_at is None or timer.breached_at is None:
        timer.due_at = add_business_seconds(cal, at, max(remaining, 0))


def new_timer(
    ticket: Ticket, policy: SlaPolicy, target: str, cal: BusinessCalendar, at: datetime
) -> SlaTimer | None:
    seconds = target_seconds(policy, target, at, cal)
    if seconds is None:
        return None
    timer = SlaTimer(
        ticket=ticket, target=target, policy=policy, target_seconds=seconds, started_at=at, updated_at=at
    )
    _run(timer, cal, at, seconds)
    return timer


def pause(timer: SlaTimer, cal: BusinessCalendar, at: datetime) -> None:
    timer.remaining_at_start = remaining_seconds(timer, cal, at)
    timer.status = TimerStatus.PAUSED
    timer.running_since = None
    timer.next_action_at = None


def resume(timer: SlaTimer, cal: BusinessCalendar, at: datetime) -> None:
    _run(timer, cal, at, timer.remaining_at_start)


def meet(timer: SlaTimer, cal: BusinessCalendar, at: datetime) -> None:
    remaining = remaining_seconds(timer, cal, at)
    timer.business_seconds = timer.target_seconds - remaining
    timer.remaining_at_start = remaining
    if remaining < 0 and timer.breached_at is None:
        timer.breached_at = timer.due_at
    timer.status = TimerStatus.MET
    timer.met_at = at
    timer.running_since = None
    timer.next_action_at = None


def sync_ticket(ticket: Ticket, timers: Iterable[SlaTimer]) -> None:
    """Write the ticket's SLA columns (earliest running due, breached) from its timers."""
    timers = list(timers)
    dues = [t.due_at for t in timers if t.status == TimerStatus.RUNNING and t.due_at is not None]
    due = min(dues) if dues else None
    breached = any(t.breached_at is not None and t.status in ACTIVE for t in timers)
    if (ticket.sla_due_at, ticket.sla_breached) != (due, breached):
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due, sla_breached=breached)
        ticket.sla_due_at, ticket.sla_breached = due, breached


def save_timers(timers: Iterable[SlaTimer], at: datetime) -> None:
    for t in timers:
        t.updated_at = at
        t.save()


def resolution_paused_by(policy: SlaPolicy | None, status: str) -> bool:
    if policy is None:
        return False
    return (status == Status.PENDING and policy.pause_on_pending) or (
        status == Status.ON_HOLD and policy.pause_on_hold
    )


def now() -> datetime:
    return clock.now()
