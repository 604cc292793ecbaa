"""Background jobs of the text models: training a version, relabelling items after a new version is
used, the nightly retrain, and the reaction to people's labels (subscribed in VocConfig.ready)."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from kefu.voc.choices import ModelKind


@db_task()
def train_model_task(model_id: int) -> None:
    from kefu.voc.services.models import train_model

    train_model(model_id)


@db_task()
def relabel_items_task(kind: str) -> None:
    from kefu.voc.services.models import relabel_items

    with lock_task(f"voc-relabel-{kind}"):
        relabel_items(kind)


@db_periodic_task(crontab(hour="2", minute="30"))
def retrain_models_nightly_task() -> None:
    """Every night: a new version of each kind that has any new label since its last version."""
    from kefu.voc.services.models import maybe_retrain

    for kind in ModelKind.values:
        maybe_retrain(kind, threshold=1)


def on_feedback_labelled(event: Any) -> None:
    """After a person labels feedback (voc.feedback_labelled, data {"kinds": [...]}): retrain the kinds
    that have RETRAIN_EVERY new labels since their last version."""
    from kefu.voc.services.models import maybe_retrain

    for kind in (event.data or {}).get("kinds") or []:
        if kind in ModelKind.values:
            maybe_retrain(kind)
