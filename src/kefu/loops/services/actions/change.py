"""Changing an improvement action: fields and re-assignment, status, committed date, an executive's claim."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Department, User
from kefu.core import clock
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.permissions import Role, authorize, has_permission
from kefu.customers.models import Product, Shop
from kefu.loops import events, workflow
from kefu.loops.choices import ActionStatus, EscalationLevel
from kefu.loops.models import OWED_STATUSES, ImprovementAction, LoopSettings
from kefu.loops.services.actions._common import (
    add_business_days,
    audit,
    check_owner,
    check_text,
    end_of_date,
    lock_action,
    loop_calendar,
    may_own,
    owner_or_head,
)
from kefu.loops.services.actions.create import check_goal, check_metric, compute_baseline, ref
from kefu.voc.models import TaxonomyNode

EDITABLE = (
    "title",
    "problem",
    "department_id",
    "owner_id",
    "metric",
    "metric_product_id",
    "metric_shop_id",
    "metric_cause_id",
    "goal_value",
)
METRIC_FIELDS = {"metric", "metric_product_id", "metric_shop_id", "metric_cause_id"}


def _may_edit(actor: Any, action: ImprovementAction) -> bool:
    return may_own(actor, action) or (
        has_permission(actor, "loops.create") and action.created_by_id == getattr(actor, "pk", None)
    )


@transaction.atomic
def update_action(*, actor: User, action_id: Any, changes: dict[str, Any]) -> ImprovementAction:
    """Edit fields; a new department resets the commit deadline, the committed date and the escalation."""
    authorize(actor, "loops.view")
    action = lock_action(action_id)
    if not _may_edit(actor, action):
        raise PermissionDenied(_("You may not edit this improvement action."), action="loops.own")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(_("%(field)s cannot be changed.") % {"field": field}, field=field)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}

    def put(field: str, value: Any, shown: Any = None) -> None:
        old = getattr(action, field)
        if old != value:
            before[field] = old if not hasattr(old, "pk") else str(old)
            after[field] = shown if shown is not None else value
            setattr(action, field, value)

    if "title" in changes:
        put("title", check_text(changes["title"], "title", 200, required=True))
    if "problem" in changes:
        put("problem", check_text(changes["problem"], "problem", 20_000, required=True))
    if "metric" in changes:
        put("metric", check_metric(changes["metric"]))
    if "goal_value" in changes:
        put("goal_value", check_goal(changes["goal_value"]))
    for field, model in (
        ("metric_product_id", Product),
        ("metric_shop_id", Shop),
        ("metric_cause_id", TaxonomyNode),
        ("owner_id", User),
    ):
        if field in changes:
            obj = ref(model, changes[field], field)
            put(field, obj.pk if obj else None)
    reassigned = False
    if "department_id" in changes:
        dept = ref(Department, changes["department_id"], "department_id")
        if dept is None:
            raise ValidationFailed(_("Choose the owning department."), field="department_id")
        if dept.pk != action.department_id:
            put("department_id", dept.pk, dept.name)
            action.department = dept
            reassigned = True
    if not after:
        return action
    now = clock.now()
    action.updated_at = now
    if reassigned:
        settings = LoopSettings.load()
        action.commit_deadline = add_business_days(now, settings.commit_within_days, loop_calendar(settings))
        action.committed_date = None
        action.committed_at = None
        action.escalation_level = EscalationLevel.NONE
        action.next_check_at = action.commit_deadline if action.status in OWED_STATUSES else None
    action.save()
    audit(
        actor,
        events.ACTION_CHANGED.verb,
        action,
        fields=", ".join(sorted(after)),
        before=_plain(before),
        after=_plain(after),
    )
    if reassigned:
        audit(
            actor,
            events.ACTION_ASSIGNED.verb,
            action,
            department=action.department.name,
            department_id=action.department_id,
            owner_id=action.owner_id,
            commit_deadline=action.commit_deadline.isoformat() if action.commit_deadline else None,
            notify=owner_or_head(action),
        )
    elif "owner_id" in after and action.owner_id:
        audit(
            actor,
            events.ACTION_ASSIGNED.verb,
            action,
            department=action.department.name,
            department_id=action.department_id,
            owner_id=action.owner_id,
            notify=[action.owner_id],
        )
    if METRIC_FIELDS & set(after):
        compute_baseline(action)
    return action


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v)) for k, v in values.items()
    }


def _may_transition(actor: Any, action: ImprovementAction, to: str) -> bool:
    if may_own(actor, action):
        return True
    return (
        getattr(actor, "role", None) == Role.SUPERVISOR
        and action.created_by_id == actor.pk
        and to in (ActionStatus.REJECTED, ActionStatus.CLOSED)
    )


@transaction.atomic
def transition_action(*, actor: User, action_id: Any, to: str, reason: str = "") -> ImprovementAction:
    authorize(actor, "loops.own")
    action = lock_action(action_id)
    reason = check_text(reason, "reason", 5000)
    current = action.status
    if not _may_transition(actor, action, to):
        raise PermissionDenied(
            _("Only the owning department, administrators and executives may do this."), action="loops.own"
        )
    workflow.check(current, to, reason)
    if current == ActionStatus.IMPLEMENTED and to == ActionStatus.CLOSED and action.metric:
        # a fix with a target metric is closed only after its verification says whether it worked
        raise ValidationFailed(
            _("This action has a target metric: it is verified from the data before it is closed."),
            field="to",
        )
    now = clock.now()
    action.status = to
    action.updated_at = now
    if to == ActionStatus.ACCEPTED:
        action.accepted_at = now
    elif to == ActionStatus.IMPLEMENTED:
        action.implemented_at = now
    elif to == ActionStatus.CLOSED:
        action.closed_at = now
    elif to == ActionStatus.REJECTED:
        action.reject_reason = reason
    if to == ActionStatus.PROPOSED:  # a rejected action reopened: a fresh deadline
        settings = LoopSettings.load()
        action.commit_deadline = add_business_days(now, settings.commit_within_days, loop_calendar(settings))
        action.escalation_level = EscalationLevel.NONE
        action.next_check_at = action.commit_deadline
    elif to == ActionStatus.IN_PROGRESS and workflow.is_reopen(current, to):
        action.closed_at = None
        action.next_check_at = end_of_date(action.committed_date) if action.committed_date else None
    elif to not in OWED_STATUSES:
        action.next_check_at = None
    action.save()
    data: dict[str, Any] = {"from": current, "to": to}
    if reason:
        data["reason"] = reason
    if (
        action.created_by_id
        and action.created_by_id != actor.pk
        and to
        in (
            ActionStatus.REJECTED,
            ActionStatus.IMPLEMENTED,
        )
    ):
        data["notify"] = [action.created_by_id]
    audit(actor, events.ACTION_STATUS_CHANGED.verb, action, **data)
    return action


def _parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("Give the fix date as YYYY-MM-DD."), field="date") from None


@transaction.atomic
def commit_date(*, actor: User, action_id: Any, date: Any) -> ImprovementAction:
    """The owning department commits a fix date (accepting a proposed action); the ladder restarts."""
    authorize(actor, "loops.own")
    action = lock_action(action_id)
    check_owner(actor, action)
    day = _parse_date(date)
    if day < clock.local_today():
        raise ValidationFailed(_("The fix date cannot be in the past."), field="date")
    if action.status not in OWED_STATUSES:
        raise ValidationFailed(
            _("A fix date can be committed only while the action is proposed, accepted or in progress."),
            field="date",
            code="invalid_state",
        )
    now = clock.now()
    previous = action.committed_date
    if action.status == ActionStatus.PROPOSED:
        action.status = ActionStatus.ACCEPTED
        action.accepted_at = now
        audit(actor, events.ACTION_STATUS_CHANGED.verb, action, **{"from": "proposed", "to": "accepted"})
    action.committed_date = day
    action.committed_at = now
    action.escalation_level = EscalationLevel.NONE
    action.next_check_at = end_of_date(day)
    action.updated_at = now
    action.save()
    data: dict[str, Any] = {"date": day.isoformat(), "previous": previous.isoformat() if previous else None}
    if action.created_by_id and action.created_by_id != actor.pk:
        data["notify"] = [action.created_by_id]
    audit(actor, events.ACTION_DATE_COMMITTED.verb, action, **data)
    return action


@transaction.atomic
def claim_action(*, actor: User, action_id: Any) -> ImprovementAction:
    """An executive claims (认领) the action: they follow it personally."""
    authorize(actor, "loops.claim")
    action = lock_action(action_id)
    if action.claimed_by_id == actor.pk:
        return action
    now = clock.now()
    action.claimed_by = actor
    action.claimed_at = now
    action.updated_at = now
    action.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
    notify = sorted({i for i in owner_or_head(action) if i != actor.pk})
    audit(actor, events.ACTION_CLAIMED.verb, action, name=str(actor), claimed_by_id=actor.pk, notify=notify)
    return action
