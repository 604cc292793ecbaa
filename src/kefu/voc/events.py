"""The voice-of-customer app's event types (dotted, past tense, never renamed)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kefu.core.events import register


def _model_kind(data: dict[str, Any]) -> dict[str, Any]:
    """Show the model's kind by its name (情感, 原因分类, 触点), not its code."""
    from kefu.voc.choices import ModelKind

    kind = data.get("kind")
    return {**data, "kind": ModelKind(kind).label if kind in ModelKind.values else kind}


TAXONOMY_NODE_CREATED = register("voc.taxonomy_node_created", _("Taxonomy: {name} added"))
TAXONOMY_NODE_CHANGED = register("voc.taxonomy_node_changed", _("Taxonomy: {name} changed: {fields}"))
MAPPING_SAVED = register("voc.mapping_saved", _("Review column mapping saved for shop {shop}"))
IMPORT_STARTED = register("voc.import_started", _("Review import {file_name} started"))
IMPORT_FINISHED = register(
    "voc.import_finished",
    _("Review import {file_name}: {created} new, {duplicates} already known, {skipped} skipped"),
)
REVIEWS_RECEIVED = register(
    "voc.reviews_received", _("{created} review(s) received through the API ({duplicates} already known)")
)
REVIEW_TICKET_CREATED = register("voc.review_ticket_created", _("Ticket {number} opened for a review"))
RULE_CHANGED = register("voc.rule_changed", _("Review-to-ticket rule changed: {fields}"))
FEEDBACK_LABELLED = register("voc.feedback_labelled", _("Feedback labelled: {fields}"))
MODEL_TRAINING_REQUESTED = register(
    "voc.model_training_requested", _("{kind} model v{version}: training requested"), prepare=_model_kind
)
MODEL_TRAINED = register(
    "voc.model_trained", _("{kind} model v{version} trained: accuracy {accuracy}"), prepare=_model_kind
)
MODEL_ACTIVATED = register(
    "voc.model_activated", _("{kind} model v{version} now in use"), prepare=_model_kind
)
MODEL_REJECTED = register(
    "voc.model_rejected",
    _("{kind} model v{version} not used: {accuracy} is not better than {baseline}"),
    prepare=_model_kind,
)
INSIGHT_STATUS_CHANGED = register("voc.insight_status_changed", _("Insight “{title}” is now {status}"))
