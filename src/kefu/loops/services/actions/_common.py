"""Shared pieces of the action services: locking, who may act on an action, business-day deadlines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils.translation import gettext as _

from kefu.accounts.models import Department, Membership, User
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.core.permissions import Role, has_permission
from kefu.loops.models import ImprovementAction, LoopSettings
from kefu.sla.business_time import BusinessCalendar, add_business_seconds
from kefu.sla.calendars import business_calendar
from kefu.sla.models import Calendar
from kefu.sla.services.timers import day_seconds

TOP_ROLES = frozenset({Role.ADMIN, Role.EXECUTIVE})


def lock_action(action_id: Any) -> ImprovementAction:
    try:
        pk = int(action_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such improvement action."), field="action_id") from None
    action = ImprovementAction.objects.select_for_update().filter(pk=pk).first()
    if action is None:
        raise NotFound(_("No such improvement action."), field="action_id")
    return action


def in_department(user: Any, department_id: int | None) -> bool:
    """The department's head, or a member of one of its teams (or of the department itself)."""
    if user is None or department_id is None or not getattr(user, "pk", None):
        return False
    if getattr(user, "department_id", None) == department_id:
        return True
    if Department.objects.filter(pk=department_id, head_id=user.pk).exists():
        return True
    return Membership.objects.filter(user_id=user.pk, team__department_id=department_id).exists()


def may_own(user: Any, action: ImprovementAction) -> bool:
    """Accept, commit and progress the action: its department's people holding loops.own, admins,
    executives."""
    if not has_permission(user, "loops.own"):
        return False
    if user.is_superuser or user.role in TOP_ROLES:
        return True
    return in_department(user, action.department_id)


def check_owner(user: Any, action: ImprovementAction) -> None:
    if not may_own(user, action):
        raise PermissionDenied(
            _("Only the owning department, administrators and executives may do this."),
            action="loops.own",
        )


def check_text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s must be text.") % {"field": field}, field=field)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(_("%(field)s is required.") % {"field": field}, field=field)
    if len(value) > max_length:
        raise ValidationFailed(
            _("%(field)s is longer than %(n)d characters.") % {"field": field, "n": max_length}, field=field
        )
    return value


def loop_calendar(settings: LoopSettings | None = None) -> BusinessCalendar | None:
    """The loop settings' calendar, else the first SLA calendar, else None (plain days)."""
    settings = settings or LoopSettings.load()
    cal = settings.calendar
    if cal is None:
        cal = Calendar.objects.filter(is_active=True).order_by("id").first()
    return business_calendar(cal) if cal is not None else None


def add_business_days(start: datetime, days: int, cal: BusinessCalendar | None) -> datetime:
    if days <= 0:
        return start
    if cal is None:
        return start + timedelta(days=days)
    return add_business_seconds(cal, start, days * day_seconds(cal))


def end_of_date(day: date) -> datetime:
    """The end of a local date (the next local midnight)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.local_tz())


def department_head_id(action: ImprovementAction) -> int | None:
    return Department.objects.filter(pk=action.department_id).values_list("head_id", flat=True).first()


def owner_or_head(action: ImprovementAction) -> list[int]:
    if action.owner_id:
        return [action.owner_id]
    head = department_head_id(action)
    return [head] if head else []


def executives() -> list[int]:
    return list(
        User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id").values_list("pk", flat=True)
    )


def base_data(action: ImprovementAction, **data: Any) -> dict[str, Any]:
    return {"number": action.number, "title": action.title, **data}


def audit(actor: Any, verb: str, action: ImprovementAction, **data: Any) -> None:
    record_event(actor=actor, verb=verb, subject=action, data=base_data(action, **data))
