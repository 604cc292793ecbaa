"""An improvement action's target metric, computed from kefu's own data for a range of local
(Asia/Shanghai) dates, both ends included:

- negative_review_rate (差评率): reviews rated 差评 / all reviews (by product and shop when set);
- complaint_volume: negative feedback items per week (by product, shop, and cause with its subcauses);
- repeat_contact_rate: share of tickets (for the product / shop when set) whose customer had another
  ticket (for the same product when set) in the 30 days before.

All three are "lower is better". `baseline(action)` sets the baseline (the 28 days before the action
was created) on the action object without saving; `compute_baseline` stores it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.loops.choices import MetricKind
from kefu.loops.models import ImprovementAction

BASELINE_DAYS = 28
REPEAT_WINDOW = timedelta(days=30)
RATES = (MetricKind.NEGATIVE_REVIEW_RATE, MetricKind.REPEAT_CONTACT_RATE)


@dataclass(frozen=True)
class MetricValue:
    """`value` is a share (0–1) for rates and items per week for volumes (None without data);
    rates: numerator / denominator; volumes: numerator items over `denominator` days."""

    value: float | None
    numerator: int
    denominator: int


def is_rate(metric: str) -> bool:
    return metric in RATES


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = clock.local_tz()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _check(action: ImprovementAction, start: date, end: date) -> None:
    if action.metric not in MetricKind.values:
        raise ValidationFailed(_("The action has no target metric."), field="metric")
    if end < start:
        raise ValidationFailed(_("The range ends before it starts."), field="end")


def _reviews(action: ImprovementAction, lo: datetime, hi: datetime) -> QuerySet:
    from kefu.voc.models import Review

    qs = Review.objects.filter(reviewed_at__gte=lo, reviewed_at__lt=hi)
    if action.metric_product_id:
        qs = qs.filter(product_id=action.metric_product_id)
    if action.metric_shop_id:
        qs = qs.filter(shop_id=action.metric_shop_id)
    return qs


def _complaints(action: ImprovementAction, lo: datetime, hi: datetime) -> QuerySet:
    from kefu.voc.models import FeedbackItem
    from kefu.voc.selectors.taxonomy import descendant_ids

    qs = FeedbackItem.objects.negative().filter(occurred_at__gte=lo, occurred_at__lt=hi)
    if action.metric_product_id:
        qs = qs.filter(product_id=action.metric_product_id)
    if action.metric_shop_id:
        qs = qs.filter(shop_id=action.metric_shop_id)
    if action.metric_cause_id:
        qs = qs.filter(cause_id__in=descendant_ids(action.metric_cause_id))
    return qs


def _tickets(action: ImprovementAction, lo: datetime, hi: datetime) -> QuerySet:
    from kefu.tickets.models import Ticket

    qs = Ticket.objects.filter(created_at__gte=lo, created_at__lt=hi, merged_into__isnull=True)
    earlier = Ticket.objects.filter(
        customer_id=OuterRef("customer_id"),
        merged_into__isnull=True,
        created_at__lt=OuterRef("created_at"),
        created_at__gte=OuterRef("created_at") - REPEAT_WINDOW,
    ).exclude(pk=OuterRef("pk"))
    if action.metric_product_id:
        qs = qs.filter(product_id=action.metric_product_id)
        earlier = earlier.filter(product_id=action.metric_product_id)
    if action.metric_shop_id:
        qs = qs.filter(shop_id=action.metric_shop_id)
    return qs.annotate(repeat=Exists(earlier))


def value(action: ImprovementAction, start: date, end: date) -> MetricValue:
    """The action's metric over the local dates start…end (both included)."""
    _check(action, start, end)
    lo, hi = _bounds(start, end)
    if action.metric == MetricKind.NEGATIVE_REVIEW_RATE:
        from kefu.voc.choices import RatingLevel

        reviews = _reviews(action, lo, hi)
        total = reviews.count()
        bad = reviews.filter(level=RatingLevel.BAD).count() if total else 0
        return MetricValue(bad / total if total else None, bad, total)
    if action.metric == MetricKind.REPEAT_CONTACT_RATE:
        tickets = _tickets(action, lo, hi)
        total = tickets.count()
        repeats = tickets.filter(repeat=True).count() if total else 0
        return MetricValue(repeats / total if total else None, repeats, total)
    days = (end - start).days + 1
    count = _complaints(action, lo, hi).count()
    return MetricValue(count * 7 / days, count, days)


def weeks(start: date, end: date) -> Iterator[tuple[date, date]]:
    """Seven-day slices from `start` (the last one may be shorter)."""
    day = start
    while day <= end:
        last = min(day + timedelta(days=6), end)
        yield day, last
        day = last + timedelta(days=1)


def weekly(action: ImprovementAction, start: date, end: date) -> list[tuple[str, float | None]]:
    """[(first day of the week as ISO date, value), …] for charts."""
    _check(action, start, end)
    return [(a.isoformat(), value(action, a, b).value) for a, b in weeks(start, end)]


def baseline_range(action: ImprovementAction) -> tuple[date, date]:
    created = (action.created_at or clock.now()).astimezone(clock.local_tz()).date()
    return created - timedelta(days=BASELINE_DAYS), created - timedelta(days=1)


def baseline(action: ImprovementAction) -> MetricValue | None:
    """Set baseline_from/to/value on the action object (not saved) and return the value;
    None (and nothing set) when the action has no target metric."""
    if action.metric not in MetricKind.values:
        return None
    start, end = baseline_range(action)
    result = value(action, start, end)
    action.baseline_from, action.baseline_to, action.baseline_value = start, end, result.value
    return result


@transaction.atomic
def compute_baseline(*, action_id: int) -> ImprovementAction:
    """Store the baseline of an action's target metric (recorded as a change by the system user)."""
    from kefu.accounts.services import get_system_user
    from kefu.audit.services import record_event
    from kefu.loops import events

    action = ImprovementAction.objects.select_for_update().filter(pk=action_id).first()
    if action is None:
        raise NotFound(_("Improvement action not found."), field="action_id")
    if baseline(action) is None:
        raise ValidationFailed(_("The action has no target metric."), field="metric")
    action.updated_at = clock.now()
    action.save(update_fields=["baseline_from", "baseline_to", "baseline_value", "updated_at"])
    record_event(
        actor=get_system_user(),
        verb=events.ACTION_CHANGED.verb,
        subject=action,
        data={"number": action.number, "fields": "baseline", "baseline": action.baseline_value},
    )
    return action
