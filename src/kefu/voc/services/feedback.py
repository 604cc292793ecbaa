"""Feedback items: created (idempotently) from tickets, reviews and bot conversations, labelled by the
text models, corrected by people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.voc import events, textmodels
from kefu.voc.choices import LabelSource, Polarity
from kefu.voc.models import FeedbackItem, TaxonomyNode

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


def build_feedback(
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
    analysis: textmodels.Analysis | None = None,
) -> FeedbackItem | None:
    """The unsaved, labelled item for a source (None for empty text): record_feedback saves one, the
    review import saves a batch with bulk_create(ignore_conflicts=True)."""
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        return None
    now = clock.now()
    item = FeedbackItem(
        source=source,
        source_key=source_key,
        text=text,
        occurred_at=occurred_at,
        ticket_id=ticket_id,
        review_id=review_id,
        bot_session_id=bot_session_id,
        customer_id=customer_id,
        product_id=product_id,
        shop_id=shop_id,
        channel=channel or "",
        created_at=now,
        updated_at=now,
    )
    apply_analysis(item, analysis or textmodels.analyze([text])[0])
    return item


@transaction.atomic
def record_feedback(*, source_key: str, text: str, **fields: Any) -> FeedbackItem | None:
    """Create the feedback item for `source_key` once, labelled by the text models (or by `analysis`,
    when the caller analyzed a batch of texts at once); a second call with the same key returns the
    existing item unchanged. Empty text makes no item (returns None). Fields: see build_feedback.
    System-initiated (a ticket, a review, the bot), so there is no actor to authorize."""
    if not (text or "").strip():
        return None
    existing = FeedbackItem.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    item = build_feedback(source_key=source_key, text=text, **fields)
    if item is None:
        return None
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # the same source recorded concurrently
        return FeedbackItem.objects.get(source_key=source_key)
    return item


def update_feedback_text(*, source_key: str, text: str) -> FeedbackItem | None:
    """A later turn of the same conversation (a bot session): the item's text grows; labels set by
    a model or rule are recomputed, a person's are kept. System-initiated, no actor. None when there
    is no item for the key yet."""
    text = (text or "").strip()[:MAX_TEXT]
    with transaction.atomic():
        item = FeedbackItem.objects.select_for_update().filter(source_key=source_key).first()
        if item is None or not text or item.text == text:
            return item
        item.text = text
        apply_analysis(item, textmodels.analyze([text])[0])
        item.updated_at = clock.now()
        item.save()
        return item


# --- labels set by people -------------------------------------------------------------------------

UNSET: Any = object()
LABEL_KINDS = ("cause", "touchpoint", "sentiment")
NEGATIVE_BELOW = -0.25  # sentiment → polarity when a person gives only a score
POSITIVE_ABOVE = 0.25
POLARITY_SCORE = {Polarity.NEGATIVE: -1.0, Polarity.NEUTRAL: 0.0, Polarity.POSITIVE: 1.0}


def polarity_for(sentiment: float) -> str:
    if sentiment < NEGATIVE_BELOW:
        return Polarity.NEGATIVE
    if sentiment > POSITIVE_ABOVE:
        return Polarity.POSITIVE
    return Polarity.NEUTRAL


def _locked_item(item_id: Any) -> FeedbackItem:
    try:
        pk = int(item_id)
    except (TypeError, ValueError):
        pk = 0
    item = FeedbackItem.objects.select_for_update().filter(pk=pk).first() if pk > 0 else None
    if item is None:
        raise NotFound(_("No such feedback item."), field="item_id")
    return item


def _node(value: Any, kind: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(_("%(field)s must be a node id.") % {"field": kind}, field=kind)
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(field)s must be a node id.") % {"field": kind}, field=kind) from None
    node = TaxonomyNode.objects.filter(pk=pk).first()
    if node is None or node.kind != kind:
        raise ValidationFailed(
            _("%(field)s: no such node in the %(field)s tree.") % {"field": kind}, field=kind
        )
    if not node.is_active:
        raise ValidationFailed(
            _("%(field)s: “%(name)s” is deactivated.") % {"field": kind, "name": node.name}, field=kind
        )
    return node.pk


def _sentiment(sentiment: Any, polarity: Any) -> tuple[float, str]:
    if polarity is not UNSET and polarity not in Polarity.values:
        raise ValidationFailed(
            _("polarity must be one of: %(choices)s.") % {"choices": ", ".join(Polarity.values)},
            field="polarity",
        )
    if sentiment is UNSET:
        return POLARITY_SCORE[Polarity(polarity)], str(polarity)
    if isinstance(sentiment, bool) or not isinstance(sentiment, (int, float)) or not -1 <= sentiment <= 1:
        raise ValidationFailed(_("sentiment must be a number from -1 to 1."), field="sentiment")
    value = round(float(sentiment), 4)
    return value, str(polarity) if polarity is not UNSET else polarity_for(value)


def _label_value(item: FeedbackItem, kind: str) -> Any:
    if kind == "sentiment":
        return {"sentiment": item.sentiment, "polarity": item.polarity, "source": item.sentiment_source}
    return {"node_id": getattr(item, f"{kind}_id"), "source": getattr(item, f"{kind}_source")}


def _audit_labels(actor: Any, item: FeedbackItem, before: dict[str, Any], **extra: Any) -> None:
    kinds = [k for k in LABEL_KINDS if _label_value(item, k) != before[k]]
    record_event(
        actor=actor,
        verb=events.FEEDBACK_LABELLED.verb,
        subject=item,
        ticket_id=item.ticket_id,
        customer_id=item.customer_id,
        data={
            "item_id": item.pk,
            "kinds": kinds,
            "fields": ", ".join(kinds),
            "from": {k: before[k] for k in kinds},
            "to": {k: _label_value(item, k) for k in kinds},
            **extra,
        },
    )


@transaction.atomic
def label_feedback(
    *,
    actor: Any,
    item_id: Any,
    cause_id: Any = UNSET,
    touchpoint_id: Any = UNSET,
    sentiment: Any = UNSET,
    polarity: Any = UNSET,
) -> FeedbackItem:
    """A person sets (or, with None, clears) the labels given: they become training data
    (source "person", confidence 1.0) and models never overwrite them."""
    authorize(actor, "voc.label")
    item = _locked_item(item_id)
    nodes = {
        kind: _node(value, kind)
        for kind, value in (("cause", cause_id), ("touchpoint", touchpoint_id))
        if value is not UNSET
    }
    score = None if sentiment is UNSET and polarity is UNSET else _sentiment(sentiment, polarity)
    if not nodes and score is None:
        raise ValidationFailed(_("Give a cause, a touchpoint or a sentiment."), field="cause")
    before = {k: _label_value(item, k) for k in LABEL_KINDS}
    for kind, pk in nodes.items():
        setattr(item, f"{kind}_id", pk)
        setattr(item, f"{kind}_source", LabelSource.PERSON if pk else LabelSource.NONE)
        setattr(item, f"{kind}_confidence", 1.0 if pk else None)
        setattr(item, f"{kind}_by", actor if pk else None)
    if score is not None:
        item.sentiment, item.polarity = score
        item.sentiment_source = LabelSource.PERSON
        item.sentiment_confidence = 1.0
        item.sentiment_by = actor
    item.updated_at = clock.now()
    item.save()
    _audit_labels(actor, item, before)
    return item


@transaction.atomic
def accept_suggestion(*, actor: Any, item_id: Any, kind: Any) -> FeedbackItem:
    """A person confirms the label a model, keyword rule or star rating set: it becomes a person's."""
    authorize(actor, "voc.label")
    if kind not in LABEL_KINDS:
        raise ValidationFailed(
            _("kind must be one of: %(choices)s.") % {"choices": ", ".join(LABEL_KINDS)}, field="kind"
        )
    item = _locked_item(item_id)
    source = getattr(item, f"{kind}_source")
    has_value = item.polarity if kind == "sentiment" else getattr(item, f"{kind}_id")
    if not has_value or source in (LabelSource.NONE, LabelSource.PERSON):
        raise Conflict(_("There is no suggestion to confirm."), field=str(kind), code="nothing_to_confirm")
    if kind != "sentiment":
        _node(getattr(item, f"{kind}_id"), kind)  # a suggestion of a deactivated node is refused
    before = {k: _label_value(item, k) for k in LABEL_KINDS}
    setattr(item, f"{kind}_source", LabelSource.PERSON)
    setattr(item, f"{kind}_confidence", 1.0)
    setattr(item, f"{kind}_by", actor)
    item.updated_at = clock.now()
    item.save()
    _audit_labels(actor, item, before, confirmed=kind, suggested_by=source)
    return item
