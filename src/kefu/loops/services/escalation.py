"""The accountability ladder: an action nobody accepted by its commit deadline, or whose committed
date passed without a fix, climbs owner → department head → executives, one audit event per step.

Each action is handled in its own transaction with its row locked and re-checked, so a step fires once
even with two workers or a repeated scan."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from kefu.accounts.services import get_system_user
from kefu.core import clock
from kefu.loops import events
from kefu.loops.choices import EscalationLevel
from kefu.loops.models import OWED_STATUSES, ImprovementAction, LoopSettings
from kefu.loops.services.actions._common import (
    add_business_days,
    audit,
    department_head_id,
    end_of_date,
    executives,
    loop_calendar,
    owner_or_head,
)

log = logging.getLogger(__name__)

LEVELS = (EscalationLevel.OWNER, EscalationLevel.DEPARTMENT_HEAD, EscalationLevel.EXECUTIVE)
BATCH = 200


def ladder_base(action: ImprovementAction) -> datetime | None:
    """What the ladder counts from: the end of the committed date, else the commit deadline."""
    if action.status not in OWED_STATUSES:
        return None
    if action.committed_date is not None:
        return end_of_date(action.committed_date)
    return action.commit_deadline


def step_times(action: ImprovementAction, settings: LoopSettings) -> dict[int, datetime]:
    base = ladder_base(action)
    if base is None:
        return {}
    cal = loop_calendar(settings)
    return {
        EscalationLevel.OWNER: add_business_days(base, settings.escalate_owner_after, cal),
        EscalationLevel.DEPARTMENT_HEAD: add_business_days(base, settings.escalate_head_after, cal),
        EscalationLevel.EXECUTIVE: add_business_days(base, settings.escalate_executive_after, cal),
    }


def recipients(action: ImprovementAction, level: int) -> list[int]:
    if level == EscalationLevel.OWNER:
        return owner_or_head(action)
    if level == EscalationLevel.DEPARTMENT_HEAD:
        head = department_head_id(action)
        return [head] if head else owner_or_head(action)
    return executives()


def scan_actions(now: datetime | None = None) -> int:
    """Fire the ladder steps that are due; returns how many steps fired."""
    now = now or clock.now()
    fired = 0
    skip: set[int] = set()
    while True:
        ids = list(
            ImprovementAction.objects.filter(next_check_at__lte=now)
            .exclude(pk__in=skip)
            .order_by("next_check_at")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return fired
        for pk in ids:
            skip.add(pk)
            try:
                fired += process_action(pk, now)
            except Exception:  # one bad row must not stop the scan; it is retried next time
                log.exception("loops escalation failed for action %s", pk)


@transaction.atomic
def process_action(action_id: int, now: datetime) -> int:
    action = (
        ImprovementAction.objects.select_for_update().filter(pk=action_id, next_check_at__lte=now).first()
    )
    if action is None:
        return 0  # another worker handled it
    settings = LoopSettings.load()
    times = step_times(action, settings)
    fired = 0
    system = None
    for level in LEVELS:
        at = times.get(level)
        if at is None or at > now or action.escalation_level >= level:
            continue
        system = system or get_system_user()
        action.escalation_level = level
        audit(
            system,
            events.ACTION_ESCALATED.verb,
            action,
            level=int(level),
            level_label=str(EscalationLevel(level).label),
            cause="overdue" if action.committed_date else "not_committed",
            committed_date=action.committed_date.isoformat() if action.committed_date else None,
            commit_deadline=action.commit_deadline.isoformat() if action.commit_deadline else None,
            notify=recipients(action, level),
        )
        fired += 1
    upcoming = [at for level, at in times.items() if level > action.escalation_level]
    action.next_check_at = min(upcoming) if upcoming else None
    action.save(update_fields=["escalation_level", "next_check_at"])
    return fired
