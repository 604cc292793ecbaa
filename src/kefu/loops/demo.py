"""The closed loop's demo (`kefu seed-demo`, after the voice-of-customer demo made its insights):
the top insight (the 制氧机 noise spike) becomes an action for quality control; a slow-delivery
insight one for logistics, already committed by owner_logistics; and an older quality action whose
committed date passed has climbed to the department head. Idempotent: nothing when actions exist."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from kefu.accounts.models import Department, User
from kefu.core import clock
from kefu.loops.choices import EscalationLevel, MetricKind
from kefu.loops.models import ImprovementAction, LoopSettings
from kefu.loops.services.actions import add_comment, commit_date, create_action, transition_action
from kefu.loops.services.escalation import process_action, step_times
from kefu.voc.models import Insight

log = logging.getLogger(__name__)


def _user(*names: str) -> User | None:
    for name in names:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is not None:
            return user
    return User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()


def _from_insight(actor: User, insight: Insight, department: Department, **kw: Any) -> ImprovementAction:
    problem = "、".join(insight.key_phrases) or insight.title
    return create_action(
        actor=actor,
        title=insight.title[:200],
        problem=f"{insight.item_count} 条负面反馈（本周 {insight.this_week} 条）：{problem}",
        department_id=department.pk,
        source="insight",
        insight_id=insight.pk,
        metric=MetricKind.NEGATIVE_REVIEW_RATE if insight.product_id else MetricKind.COMPLAINT_VOLUME,
        **kw,
    )


def _logistics_insight() -> Insight | None:
    for q in (Q(cause__name="配送慢"), Q(cause__parent__name="物流") | Q(title__contains="物流")):
        found = Insight.objects.filter(q).order_by("-impact", "id").first()
        if found is not None:
            return found
    return None


def _overdue_action(actor: User, qc: Department, now: datetime) -> ImprovementAction | None:
    """An action created weeks ago and committed for a date such that, now, the ladder stands at the
    department head (found by trying dates: the calendar decides which one)."""
    settings = LoopSettings.load()
    head = qc.head or actor
    today = now.astimezone(clock.local_tz()).date()
    for back in range(1, 30):
        fix = today - timedelta(days=back)
        probe = ImprovementAction(status="accepted", committed_date=fix)
        times = step_times(probe, settings)
        if times[EscalationLevel.DEPARTMENT_HEAD] <= now < times[EscalationLevel.EXECUTIVE]:
            break
    else:
        return None
    created = datetime.combine(fix - timedelta(days=21), datetime.min.time(), clock.local_tz()).replace(
        hour=10
    )
    with clock.replaying_at(created):
        action = create_action(
            actor=actor,
            title="血压计 BP-620 袖带漏气",
            problem="袖带漏气导致测量失败，返修单集中在同一批次。",
            department_id=qc.pk,
            metric=MetricKind.COMPLAINT_VOLUME,
            milestones=[{"title": "供应商来料抽检"}, {"title": "更换袖带批次"}],
        )
    with clock.replaying_at(created + timedelta(days=1)):
        commit_date(actor=head, action_id=action.pk, date=fix)
        transition_action(actor=head, action_id=action.pk, to="in_progress")
    process_action(action.pk, now)
    return action


@transaction.atomic
def seed_loops_demo(now: datetime) -> dict[str, int]:
    if ImprovementAction.objects.exists():
        return {"actions": 0}
    actor = _user("supervisor2", "supervisor", "admin")
    qc = Department.objects.filter(code="qc").first()
    logistics = Department.objects.filter(code="logistics").first()
    if actor is None or qc is None:
        return {"actions": 0}
    made = 0
    top = Insight.objects.order_by("-is_spike", "-impact", "id").first()
    if top is not None:
        _from_insight(actor, top, qc, goal_value=0.03)
        made += 1
    slow = _logistics_insight()
    if slow is not None and slow != top:
        action = _from_insight(actor, slow, logistics or qc)
        made += 1
        owner = _user("owner_logistics")
        if logistics is not None and owner is not None and owner.username == "owner_logistics":
            fix = now.astimezone(clock.local_tz()).date() + timedelta(days=14)
            commit_date(actor=owner, action_id=action.pk, date=fix)
            add_comment(
                actor=owner, action_id=action.pk, body="已与快递公司约谈，调整华东仓发货时效，两周内上线。"
            )
    if _overdue_action(actor, qc, now) is not None:
        made += 1
    return {"actions": made}


def on_demo_seeded(sender: object, now: datetime, **kwargs: object) -> str:
    """The `kefu seed-demo` receiver (connected in kefu.loops.handlers.connect, after the voc one)."""
    made = seed_loops_demo(now)
    return f"Closed loop: {made['actions']} improvement actions" if made["actions"] else ""
