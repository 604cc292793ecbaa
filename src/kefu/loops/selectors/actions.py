"""Reads shared by the action pages and the API: the filtered list (overdue first) and one action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.loops.choices import ActionStatus
from kefu.loops.models import OPEN_STATUSES, OWED_STATUSES, ImprovementAction


@dataclass
class ActionFilters:
    status: str = ""  # one status, a comma list, or "open"
    department: int | None = None
    overdue: bool | None = None
    claimed: bool | None = None
    owner: int | None = None
    q: str = ""


def overdue_q() -> Q:
    """Still owed and past its committed date, or never committed and past the commit deadline."""
    now = clock.now()
    today = clock.local_today()
    return Q(status__in=OWED_STATUSES) & (
        Q(committed_date__lt=today) | Q(committed_date__isnull=True, commit_deadline__lt=now)
    )


def _statuses(value: str) -> list[str]:
    if not value:
        return []
    if value == "open":
        return list(OPEN_STATUSES)
    wanted = [s.strip() for s in value.split(",") if s.strip()]
    bad = [s for s in wanted if s not in ActionStatus.values]
    if bad:
        raise ValidationFailed(
            _("%(field)s must be one of: %(choices)s.")
            % {"field": "status", "choices": ", ".join(["open", *ActionStatus.values])},
            field="status",
        )
    return wanted


def list_actions(*, actor: Any, filters: ActionFilters | None = None) -> QuerySet[ImprovementAction]:
    authorize(actor, "loops.view")
    f = filters or ActionFilters()
    qs = ImprovementAction.objects.select_related("department", "owner", "claimed_by", "created_by")
    statuses = _statuses(f.status)
    if statuses:
        qs = qs.filter(status__in=statuses)
    if f.department:
        qs = qs.filter(department_id=f.department)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.claimed is not None:
        qs = qs.filter(claimed_by__isnull=not f.claimed)
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(number__icontains=f.q) | Q(problem__icontains=f.q))
    qs = qs.annotate(
        is_overdue=Case(
            When(overdue_q(), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )
    if f.overdue is not None:
        qs = qs.filter(is_overdue=f.overdue)
    return qs.order_by("-is_overdue", "-escalation_level", "-id")


def get_action(*, actor: Any, action_id: Any) -> ImprovementAction:
    authorize(actor, "loops.view")
    try:
        pk = int(action_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such improvement action."), field="action_id") from None
    action = (
        list_actions(actor=actor)
        .select_related("insight", "metric_product", "metric_shop", "metric_cause")
        .filter(pk=pk)
        .first()
    )
    if action is None:
        raise NotFound(_("No such improvement action."), field="action_id")
    return action
