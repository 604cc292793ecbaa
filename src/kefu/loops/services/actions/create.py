"""Creating an improvement action: from an insight, a feedback item, a ticket or by hand."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Department, User
from kefu.core import clock
from kefu.core.errors import ValidationFailed
from kefu.core.permissions import authorize
from kefu.customers.models import Product, Shop
from kefu.loops import events
from kefu.loops.choices import ActionSource, MetricKind
from kefu.loops.models import ActionEvidence, ActionMilestone, ImprovementAction, LoopSettings
from kefu.loops.services.actions._common import (
    add_business_days,
    audit,
    check_text,
    loop_calendar,
    owner_or_head,
)
from kefu.tickets.models import Ticket
from kefu.voc.models import FeedbackItem, Insight, InsightItem, TaxonomyNode

log = logging.getLogger(__name__)

MAX_INSIGHT_ITEMS = 200


def action_number_for(action: ImprovementAction) -> str:
    local = action.created_at.astimezone(clock.local_tz())
    return f"IA{local:%Y%m%d}{action.pk:05d}"


def ref(model: Any, value: Any, field: str, **filters: Any) -> Any:
    if value in (None, ""):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(field)s must be an id.") % {"field": field}, field=field) from None
    obj = model.objects.filter(pk=pk, **filters).first()
    if obj is None:
        raise ValidationFailed(_("%(field)s: no such record.") % {"field": field}, field=field)
    return obj


def check_metric(metric: Any) -> str:
    metric = metric or ""
    if metric and metric not in MetricKind.values:
        raise ValidationFailed(
            _("%(field)s must be one of: %(choices)s.")
            % {"field": "metric", "choices": ", ".join(MetricKind.values)},
            field="metric",
        )
    return str(metric)


def check_goal(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("The goal must be a number."), field="goal_value") from None


def compute_baseline(action: ImprovementAction) -> None:
    """Store the metrics helper's baseline of the target metric, when that module exists."""
    if not action.metric:
        return
    try:
        from kefu.loops.services import metrics
    except ImportError:
        return
    baseline = getattr(metrics, "baseline", None)
    if baseline is None:
        return
    baseline(action)
    ImprovementAction.objects.filter(pk=action.pk).update(
        baseline_from=action.baseline_from,
        baseline_to=action.baseline_to,
        baseline_value=action.baseline_value,
    )


def _milestones(values: Iterable[Any]) -> list[tuple[str, date | None]]:
    out: list[tuple[str, date | None]] = []
    for n, m in enumerate(values):
        if isinstance(m, str):
            title, due = m, None
        else:
            title, due = m.get("title"), m.get("due_date")
        title = check_text(title, f"milestones[{n}].title", 200, required=True)
        if isinstance(due, str) and due:
            try:
                due = date.fromisoformat(due)
            except ValueError:
                raise ValidationFailed(
                    _("%(field)s must be a date.") % {"field": f"milestones[{n}].due_date"},
                    field=f"milestones[{n}].due_date",
                ) from None
        out.append((title, due or None))
    return out


@transaction.atomic
def create_action(
    *,
    actor: User,
    title: str,
    problem: str,
    department_id: Any,
    owner_id: Any = None,
    source: str = "manual",
    insight_id: Any = None,
    feedback_item_ids: Sequence[Any] = (),
    ticket_ids: Sequence[Any] = (),
    metric: str = "",
    metric_product_id: Any = None,
    metric_shop_id: Any = None,
    metric_cause_id: Any = None,
    goal_value: Any = None,
    milestones: Sequence[Any] = (),
) -> ImprovementAction:
    authorize(actor, "loops.create")
    title = check_text(title, "title", 200, required=True)
    problem = check_text(problem, "problem", 20_000, required=True)
    if source not in ActionSource.values:
        raise ValidationFailed(
            _("%(field)s must be one of: %(choices)s.")
            % {"field": "source", "choices": ", ".join(ActionSource.values)},
            field="source",
        )
    department = ref(Department, department_id, "department_id")
    if department is None:
        raise ValidationFailed(_("Choose the owning department."), field="department_id")
    owner = ref(User, owner_id, "owner_id", is_active=True)
    insight = ref(Insight, insight_id, "insight_id")
    items = [ref(FeedbackItem, i, "feedback_item_ids") for i in feedback_item_ids or ()]
    tickets = [ref(Ticket, i, "ticket_ids") for i in ticket_ids or ()]
    metric = check_metric(metric)
    product = ref(Product, metric_product_id, "metric_product_id")
    shop = ref(Shop, metric_shop_id, "metric_shop_id")
    cause = ref(TaxonomyNode, metric_cause_id, "metric_cause_id")
    goal = check_goal(goal_value)
    planned = _milestones(milestones or ())
    if insight is not None:
        product = product or insight.product
        cause = cause or insight.cause
        if source == ActionSource.MANUAL:
            source = ActionSource.INSIGHT
    settings = LoopSettings.load()
    now = clock.now()
    deadline = add_business_days(now, settings.commit_within_days, loop_calendar(settings))
    action = ImprovementAction.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:16]}",  # unique until the id-based number replaces it
        title=title,
        problem=problem,
        source=source,
        insight=insight,
        department=department,
        owner=owner,
        created_by=actor,
        commit_deadline=deadline,
        next_check_at=deadline,
        metric=metric,
        metric_product=product,
        metric_shop=shop,
        metric_cause=cause,
        goal_value=goal,
        created_at=now,
        updated_at=now,
    )
    action.number = action_number_for(action)
    ImprovementAction.objects.filter(pk=action.pk).update(number=action.number)
    evidence_items: dict[int, None] = {}
    if insight is not None:
        linked = InsightItem.objects.filter(insight=insight).order_by("-item__occurred_at", "-item_id")
        for item_id in linked.values_list("item_id", flat=True)[:MAX_INSIGHT_ITEMS]:
            evidence_items[item_id] = None
    for item in items:
        evidence_items[item.pk] = None
    ActionEvidence.objects.bulk_create(
        [
            ActionEvidence(action=action, feedback_item_id=i, added_by=actor, created_at=now)
            for i in evidence_items
        ]
        + [
            ActionEvidence(action=action, ticket_id=t.pk, added_by=actor, created_at=now)
            for t in {t.pk: t for t in tickets}.values()
        ]
    )
    ActionMilestone.objects.bulk_create(
        [ActionMilestone(action=action, title=t, due_date=d, position=n) for n, (t, d) in enumerate(planned)]
    )
    notify = owner_or_head(action)
    audit(
        actor,
        events.ACTION_CREATED.verb,
        action,
        source=source,
        insight_id=insight.pk if insight else None,
        department=department.name,
        notify=notify,
    )
    audit(
        actor,
        events.ACTION_ASSIGNED.verb,
        action,
        department=department.name,
        department_id=department.pk,
        owner_id=action.owner_id,
        commit_deadline=deadline.isoformat(),
        notify=notify,
    )
    compute_baseline(action)
    return action
