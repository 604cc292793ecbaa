"""Text-model versions: requesting a retrain, the training job (fit, evaluate on the held-out slice,
activate only when better than the model in use), relabelling items after a new version is used,
and retraining automatically when enough new labels exist."""

from __future__ import annotations

import logging
import traceback
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kefu.accounts.services import get_system_user
from kefu.audit.models import AuditEvent
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.permissions import authorize
from kefu.voc import events, textmodels
from kefu.voc.choices import LabelSource, ModelKind, ModelStatus
from kefu.voc.models import FeedbackItem, Review, TextModel
from kefu.voc.textmodels import examples as ex
from kefu.voc.textmodels import training

log = logging.getLogger(__name__)

MIN_LABELS = 20  # fewer labels: the lexicon / keyword rules stay
RETRAIN_EVERY = 10  # new person labels of one kind that start a retrain
RELABEL_BATCH = 1000


class TooFewLabels(ValidationFailed):
    code = "too_few_labels"


def check_kind(kind: Any) -> str:
    if kind not in ModelKind.values:
        raise ValidationFailed(
            _("kind must be one of: %(choices)s.") % {"choices": ", ".join(ModelKind.values)}, field="kind"
        )
    return str(kind)


def _enqueue_training(model_id: int) -> None:
    from kefu.voc.textmodels.tasks import train_model_task

    train_model_task(model_id)


def _enqueue_relabel(kind: str) -> None:
    from kefu.voc.textmodels.tasks import relabel_items_task

    relabel_items_task(kind)


@transaction.atomic
def request_training(*, actor: Any, kind: Any) -> TextModel:
    """A new TRAINING version of `kind`, trained by the worker after commit. Conflict while another
    version of the same kind is still training."""
    authorize(actor, "voc.models")
    kind = check_kind(kind)
    # lock the kind's versions: two requests at once make one version
    versions = list(TextModel.objects.select_for_update().filter(kind=kind).values_list("status", "version"))
    if any(status == ModelStatus.TRAINING for status, _v in versions):
        raise Conflict(
            _("A %(kind)s model is already being trained.") % {"kind": ModelKind(kind).label}, field="kind"
        )
    model = TextModel.objects.create(
        kind=kind,
        version=max((v for _s, v in versions), default=0) + 1,
        status=ModelStatus.TRAINING,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=clock.now(),
    )
    record_event(
        actor=actor,
        verb=events.MODEL_TRAINING_REQUESTED.verb,
        subject=model,
        data={"kind": kind, "version": model.version},
    )
    transaction.on_commit(partial(_enqueue_training, model.pk), robust=True)
    return model


def _accuracy(predicted: list[Any], expected: list[Any]) -> float:
    if not expected:
        return 0.0
    return sum(1 for p, e in zip(predicted, expected, strict=True) if str(p) == str(e)) / len(expected)


def _predicted(analyses: list[textmodels.Analysis], kind: str) -> list[Any]:
    if kind == ModelKind.SENTIMENT:
        return [a.polarity for a in analyses]
    return [getattr(a, kind).node_id for a in analyses]


def _report(artifact: dict, kind: str, predicted: list[Any], expected: list[Any], data: ex.Examples) -> dict:
    classes = sorted({str(c) for c in [*data.train_labels, *expected]})
    per_class: dict[str, dict[str, float | int]] = {}
    f1s = []
    for c in classes:
        tp = sum(1 for p, e in zip(predicted, expected, strict=True) if str(p) == c and str(e) == c)
        n_pred = sum(1 for p in predicted if str(p) == c)
        support = sum(1 for e in expected if str(e) == c)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if support:
            f1s.append(f1)
        per_class[c] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
            "train": sum(1 for t in data.train_labels if str(t) == c),
        }
    return {
        "per_class": per_class,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else None,
        "top_terms": training.top_terms(artifact),
        "c": artifact.get("c"),
    }


def _fit_and_evaluate(model: TextModel) -> tuple[dict, dict[str, Any]]:
    """The slow part, outside any transaction: gather the labels, fit, score new and in-use models."""
    kind = model.kind
    data = ex.collect(kind)
    classes = {str(label) for label in data.train_labels}
    if data.total < MIN_LABELS or len(classes) < 2:
        raise TooFewLabels(
            _(
                "Too few labels to train: %(n)d labelled examples in %(k)d classes; at least %(min)d "
                "examples in two or more classes are needed. Label more feedback items and retrain."
            )
            % {"n": data.total, "k": len(classes), "min": MIN_LABELS},
            field="kind",
        )
    if not data.test_texts:
        raise TooFewLabels(
            _("No labelled example fell in the held-out slice yet; label a few more and retrain."),
            field="kind",
        )
    artifact = training.fit(data.train_texts, data.train_labels)
    new = _predicted(
        textmodels.analyze(data.test_texts, models={kind: (model.pk, artifact)}, kinds=[kind]), kind
    )
    active = TextModel.objects.filter(kind=kind, status=ModelStatus.ACTIVE).exclude(pk=model.pk).first()
    in_use: tuple[int | None, dict] | None = None
    if active is not None and active.artifact:
        in_use = (active.pk, training.loads(active.artifact))
    old = _predicted(textmodels.analyze(data.test_texts, models={kind: in_use}, kinds=[kind]), kind)
    figures = {
        "n_train": len(data.train_texts),
        "n_test": len(data.test_texts),
        "accuracy": round(_accuracy(new, data.test_labels), 4),
        "baseline_accuracy": round(_accuracy(old, data.test_labels), 4),
        "labels": sorted(classes),
        "report": _report(artifact, kind, new, data.test_labels, data),
        "baseline_source": "model" if in_use else "rules",
    }
    return artifact, figures


def train_model(model_id: int) -> TextModel | None:
    """The training job (idempotent: a version that is no longer TRAINING is left alone)."""
    model = TextModel.objects.filter(pk=model_id, status=ModelStatus.TRAINING).first()
    if model is None:
        return None
    try:
        artifact, figures = _fit_and_evaluate(model)
    except Exception as exc:
        if not isinstance(exc, ValidationFailed):
            log.exception("training %s v%s failed", model.kind, model.version)
        message = exc.message if isinstance(exc, ValidationFailed) else traceback.format_exc(limit=3)
        TextModel.objects.filter(pk=model.pk, status=ModelStatus.TRAINING).update(
            status=ModelStatus.FAILED, error=str(message)[:4000], trained_at=clock.now()
        )
        model.refresh_from_db()
        return model
    return _store(model.pk, artifact, figures)


@transaction.atomic
def _store(model_id: int, artifact: dict, figures: dict[str, Any]) -> TextModel | None:
    model = TextModel.objects.select_for_update().filter(pk=model_id, status=ModelStatus.TRAINING).first()
    if model is None:
        return None
    actor = model.created_by or get_system_user()
    now = clock.now()
    model.n_train, model.n_test = figures["n_train"], figures["n_test"]
    model.accuracy, model.baseline_accuracy = figures["accuracy"], figures["baseline_accuracy"]
    model.labels = figures["labels"]
    model.report = {**figures["report"], "baseline_source": figures["baseline_source"]}
    model.artifact = training.dumps(artifact)
    model.trained_at = now
    data = {
        "kind": model.kind,
        "version": model.version,
        "accuracy": model.accuracy,
        "baseline": model.baseline_accuracy,
        "n_train": model.n_train,
        "n_test": model.n_test,
    }
    better = model.accuracy is not None and model.accuracy > (model.baseline_accuracy or 0.0)
    if better:
        TextModel.objects.filter(kind=model.kind, status=ModelStatus.ACTIVE).update(
            status=ModelStatus.RETIRED
        )
        model.status = ModelStatus.ACTIVE
        model.activated_at = now
    else:
        model.status = ModelStatus.REJECTED
    model.save()
    record_event(actor=actor, verb=events.MODEL_TRAINED.verb, subject=model, data=data)
    verb = events.MODEL_ACTIVATED.verb if better else events.MODEL_REJECTED.verb
    record_event(actor=actor, verb=verb, subject=model, data=data)
    if better:
        transaction.on_commit(partial(_enqueue_relabel, model.kind), robust=True)
    return model


def relabel_items(kind: str) -> int:
    """Re-run analyze() on the items whose `kind` label was not set by a person, in batches; returns
    how many items were looked at. People's labels are never touched (apply_analysis)."""
    from kefu.voc.services.feedback import apply_analysis

    kind = check_kind(kind)
    source = f"{kind}_source"
    fields = [
        "sentiment", "polarity", "sentiment_confidence", "sentiment_source",
        "cause", "cause_confidence", "cause_source",
        "touchpoint", "touchpoint_confidence", "touchpoint_source",
        "model_versions", "updated_at",
    ]  # fmt: skip
    last_id, done = 0, 0
    while True:
        batch = list(
            FeedbackItem.objects.filter(id__gt=last_id)
            .exclude(**{source: LabelSource.PERSON})
            .order_by("id")[:RELABEL_BATCH]
        )
        if not batch:
            return done
        analyses = textmodels.analyze([item.text for item in batch])
        now = clock.now()
        for item, analysis in zip(batch, analyses, strict=True):
            apply_analysis(item, analysis)
            item.updated_at = now
        with transaction.atomic():
            FeedbackItem.objects.bulk_update(batch, fields)
        done += len(batch)
        last_id = batch[-1].pk


def _new_labels_since(kind: str, since: Any) -> int:
    """Feedback items a person labelled (this kind) since `since` (None: ever)."""
    if since is None:
        n = ex.person_label_count(kind)
    else:
        seen: set[int] = set()
        rows = AuditEvent.objects.filter(
            verb=events.FEEDBACK_LABELLED.verb, created_at__gt=since
        ).values_list("subject_id", "data")
        for subject_id, data in rows.iterator():
            if kind in ((data or {}).get("kinds") or []):
                seen.add(subject_id)
        n = len(seen)
    if kind == ModelKind.SENTIMENT:
        reviews = Review.objects.exclude(content="")
        if since is not None:
            reviews = reviews.filter(created_at__gt=since)
        n += reviews.count()
    return n


def maybe_retrain(kind: str, *, threshold: int = RETRAIN_EVERY) -> TextModel | None:
    """Request a retrain of `kind` when ≥ `threshold` new labels exist since the last version (and
    enough labels to train at all); not while a version is training. Returns the new version."""
    kind = check_kind(kind)
    versions = TextModel.objects.filter(kind=kind)
    if versions.filter(status=ModelStatus.TRAINING).exists():
        return None
    since = versions.aggregate(at=Max("created_at"))["at"]
    new = _new_labels_since(kind, since)
    if new < max(1, threshold):
        return None
    if since is None and new < MIN_LABELS:
        return None
    try:
        return request_training(actor=get_system_user(), kind=kind)
    except Conflict:
        return None
