"""Feedback items: created (idempotently) from tickets, reviews and bot conversations, labelled by the
text models, corrected by people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from kefu.core import clock
from kefu.voc import textmodels
from kefu.voc.models import FeedbackItem

MAX_TEXT = 5000


def apply_analysis(item: FeedbackItem, analysis: textmodels.Analysis) -> None:
    """Copy model/rule labels onto the item, never over a label a person set."""
    versions = dict(item.model_versions or {})
    if item.sentiment_source != "person":
        item.sentiment = analysis.sentiment
        item.polarity = analysis.polarity
        item.sentiment_confidence = analysis.sentiment_confidence
        item.sentiment_source = analysis.sentiment_source
        if analysis.sentiment_model_id:
            versions["sentiment"] = analysis.sentiment_model_id
    for kind in ("cause", "touchpoint"):
        label: textmodels.Label = getattr(analysis, kind)
        if getattr(item, f"{kind}_source") == "person":
            continue
        setattr(item, f"{kind}_id", label.node_id)
        setattr(item, f"{kind}_confidence", label.confidence if label.node_id else None)
        setattr(item, f"{kind}_source", label.source if label.node_id else "")
        if label.model_id:
            versions[kind] = label.model_id
    item.model_versions = versions


@transaction.atomic
def record_feedback(
    *,
    source: str,
    source_key: str,
    text: str,
    occurred_at: datetime,
    ticket_id: int | None = None,
    review_id: int | None = None,
    bot_session_id: int | None = None,
    customer_id: int | None = None,
    product_id: int | None = None,
    shop_id: int | None = None,
    channel: str = "",
) -> FeedbackItem | None:
    """Create the feedback item for `source_key` once, labelled by the text models; a second call with
    the same key returns the existing item unchanged. Empty text makes no item (returns None).
    System-initiated (a ticket, a review, the bot), so there is no actor to authorize."""
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        return None
    existing = FeedbackItem.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    now = clock.now()
    fields: dict[str, Any] = {
        "source": source,
        "source_key": source_key,
        "text": text,
        "occurred_at": occurred_at,
        "ticket_id": ticket_id,
        "review_id": review_id,
        "bot_session_id": bot_session_id,
        "customer_id": customer_id,
        "product_id": product_id,
        "shop_id": shop_id,
        "channel": channel or "",
        "created_at": now,
        "updated_at": now,
    }
    item = FeedbackItem(**fields)
    apply_analysis(item, textmodels.analyze([text])[0])
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # the same source recorded concurrently
        return FeedbackItem.objects.get(source_key=source_key)
    return item
