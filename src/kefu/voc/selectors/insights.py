"""Reads of insights: the list by impact (with filters), one insight, its example texts and its items.
Insights are organization-wide: every role with voc.view sees them."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound
from kefu.core.permissions import authorize
from kefu.voc.models import FeedbackItem, Insight

ITEMS_PER_PAGE = 50
EXAMPLES = 10


def list_insights(
    *,
    actor: Any,
    product_id: int | None = None,
    cause_id: int | None = None,
    spike: bool | None = None,
    status: str | None = None,
) -> QuerySet[Insight]:
    """Insights by impact, highest first. `cause_id` also matches insights on its sub-causes."""
    authorize(actor, "voc.view")
    qs = Insight.objects.select_related("product", "cause", "cause__parent")
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    if cause_id is not None:
        qs = qs.filter(
            Q(cause_id=cause_id) | Q(cause__parent_id=cause_id) | Q(cause__parent__parent_id=cause_id)
        )
    if spike is not None:
        qs = qs.filter(is_spike=spike)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-impact", "-item_count", "id")


def get_insight(*, actor: Any, insight_id: int) -> Insight:
    authorize(actor, "voc.view")
    insight = (
        Insight.objects.select_related("product", "cause", "cause__parent").filter(pk=insight_id).first()
    )
    if insight is None:
        raise NotFound(_("Insight not found."), field="insight_id")
    return insight


def _items(insight: Insight) -> QuerySet[FeedbackItem]:
    return (
        FeedbackItem.objects.filter(insights=insight)
        .select_related("product", "shop", "cause", "touchpoint")
        .order_by("-occurred_at", "-id")
    )


def insight_examples(insight: Insight, limit: int = EXAMPLES) -> list[FeedbackItem]:
    """The most recent texts of the insight."""
    return list(_items(insight)[:limit])


def insight_items_page(insight: Insight, page: Any = 1, per_page: int = ITEMS_PER_PAGE) -> Page:
    """All the insight's items, newest first, a page at a time (a bad page number gives the nearest)."""
    return Paginator(_items(insight), per_page).get_page(page)
