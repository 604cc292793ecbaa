"""The insights API: list by impact, one insight with its weekly counts and examples, set status."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from kefu.tickets.schemas import ErrorOut
from kefu.voc.models import FeedbackItem, Insight
from kefu.voc.schemas.insights import InsightDetailOut, InsightPage, InsightStatusIn
from kefu.voc.selectors.insights import get_insight, insight_examples, list_insights
from kefu.voc.services.insights import set_insight_status

router = Router(tags=["voice of customer: insights"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def insight_out(insight: Insight) -> dict[str, Any]:
    return {
        "id": insight.pk,
        "key": insight.key,
        "title": insight.title,
        "status": insight.status,
        "product_id": insight.product_id,
        "product": str(insight.product) if insight.product else None,
        "cause_id": insight.cause_id,
        "cause": insight.cause.name if insight.cause else None,
        "key_phrases": insight.key_phrases,
        "first_seen": insight.first_seen,
        "last_seen": insight.last_seen,
        "item_count": insight.item_count,
        "this_week": insight.this_week,
        "baseline_mean": insight.baseline_mean,
        "share_of_negative": insight.share_of_negative,
        "is_spike": insight.is_spike,
        "spike_p_value": insight.spike_p_value,
        "impact": insight.impact,
        "breakdown": insight.breakdown,
        "computed_at": insight.computed_at,
    }


def _example(item: FeedbackItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "text": item.text,
        "occurred_at": item.occurred_at,
        "source": item.source,
        "shop": item.shop.name if item.shop else None,
        "product": str(item.product) if item.product else None,
        "channel": item.channel,
        "sentiment": item.sentiment,
    }


def insight_detail_out(insight: Insight) -> dict[str, Any]:
    return {
        **insight_out(insight),
        "weekly": [{"week": w, "count": n} for w, n in insight.weekly],
        "examples": [_example(i) for i in insight_examples(insight)],
    }


@router.get("/insights", response={200: InsightPage, **ERRORS}, summary="Insights, highest impact first")
def insights_list(
    request: HttpRequest,
    product: int | None = None,
    cause: int | None = Query(None, description="a cause node; its sub-causes' insights too"),
    spike: bool | None = Query(None, description="true: only this week's spikes"),
    status: str | None = Query(None, pattern="^(new|acknowledged|dismissed)$"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
):
    qs = list_insights(actor=request.user, product_id=product, cause_id=cause, spike=spike, status=status)
    return 200, {"items": [insight_out(i) for i in qs[offset : offset + limit]], "count": qs.count()}


@router.get(
    "/insights/{int:insight_id}",
    response={200: InsightDetailOut, **ERRORS},
    summary="One insight with its weekly counts and recent examples",
)
def insights_get(request: HttpRequest, insight_id: int):
    return 200, insight_detail_out(get_insight(actor=request.user, insight_id=insight_id))


@router.post(
    "/insights/{int:insight_id}/status",
    response={200: InsightDetailOut, **ERRORS},
    summary="Acknowledge or dismiss an insight (voc.insight)",
)
def insights_status(request: HttpRequest, insight_id: int, payload: InsightStatusIn):
    set_insight_status(actor=request.user, insight_id=insight_id, status=payload.status)
    return 200, insight_detail_out(get_insight(actor=request.user, insight_id=insight_id))
