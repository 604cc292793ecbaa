"""Feedback items API: list (filters, cursor), one item, labels (voc.view to read, voc.label to label)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from kefu.core.errors import ValidationFailed
from kefu.core.permissions import authorize
from kefu.tickets.schemas import ErrorOut
from kefu.voc.models import FeedbackItem
from kefu.voc.schemas.feedback import FeedbackFilterIn, FeedbackOut, FeedbackPage, LabelIn
from kefu.voc.selectors import feedback as selectors
from kefu.voc.selectors.taxonomy import node_paths
from kefu.voc.services import feedback as services

router = Router(tags=["voice of customer: feedback"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _ref(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": str(getattr(obj, "name", "") or obj)} if obj is not None else None


def _by(user: Any) -> str | None:
    return str(user) if user is not None else None


def feedback_out(item: FeedbackItem, paths: dict[int, str]) -> dict[str, Any]:
    versions = item.model_versions or {}
    labels = {}
    for kind in ("cause", "touchpoint"):
        node_id = getattr(item, f"{kind}_id")
        labels[kind] = {
            "node_id": node_id,
            "path": paths.get(node_id, "") if node_id else "",
            "source": getattr(item, f"{kind}_source"),
            "confidence": getattr(item, f"{kind}_confidence"),
            "by": _by(getattr(item, f"{kind}_by")) if getattr(item, f"{kind}_by_id") else None,
            "model_id": versions.get(kind) if getattr(item, f"{kind}_source") == "model" else None,
        }
    return {
        "id": item.pk,
        "source": item.source,
        "source_key": item.source_key,
        "text": item.text,
        "occurred_at": item.occurred_at,
        "ticket_id": item.ticket_id,
        "review_id": item.review_id,
        "bot_session_id": item.bot_session_id,
        "customer": _ref(item.customer),
        "product": _ref(item.product),
        "shop": _ref(item.shop),
        "channel": item.channel,
        "cause": labels["cause"],
        "touchpoint": labels["touchpoint"],
        "sentiment": {
            "score": item.sentiment,
            "polarity": item.polarity,
            "source": item.sentiment_source,
            "confidence": item.sentiment_confidence,
            "by": _by(item.sentiment_by) if item.sentiment_by_id else None,
            "model_id": versions.get("sentiment") if item.sentiment_source == "model" else None,
        },
    }


@router.get("/feedback", response={200: FeedbackPage, **ERRORS}, summary="List feedback items, newest first")
def list_feedback(
    request: HttpRequest,
    filters: Query[FeedbackFilterIn],
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    """Items the caller may see (agents: items of tickets they may see, and items without a ticket)."""
    authorize(request.user, "voc.view")
    items, next_cursor = selectors.list_feedback(
        request.user, filters.to_filter(), cursor=cursor, limit=limit
    )
    paths = node_paths()
    return 200, {"items": [feedback_out(i, paths) for i in items], "next_cursor": next_cursor}


@router.get("/feedback/{item_id}", response={200: FeedbackOut, **ERRORS}, summary="One feedback item")
def get_feedback(request: HttpRequest, item_id: int):
    authorize(request.user, "voc.view")
    item = selectors.get_feedback(request.user, item_id)
    return 200, feedback_out(item, node_paths())


@router.post(
    "/feedback/{item_id}/labels",
    response={200: FeedbackOut, **ERRORS},
    summary="Label a feedback item (a person's labels train the text models)",
)
def label_feedback(request: HttpRequest, item_id: int, payload: LabelIn):
    """Send the labels to set: `cause`/`touchpoint` (node ids; null clears), `sentiment` (−1..1) or
    `polarity`; or `confirm` (cause, touchpoint or sentiment) to accept the model's suggestion."""
    selectors.get_feedback(request.user, item_id)  # 404 for an item the caller may not see
    kwargs = payload.service_kwargs()
    if payload.confirm:
        if kwargs:
            raise ValidationFailed(_("Send either labels or confirm, not both."), field="confirm")
        services.accept_suggestion(actor=request.user, item_id=item_id, kind=payload.confirm)
    else:
        services.label_feedback(actor=request.user, item_id=item_id, **kwargs)
    return 200, feedback_out(selectors.get_feedback(request.user, item_id), node_paths())
