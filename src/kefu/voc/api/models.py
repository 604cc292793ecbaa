"""Text-model versions (voc.view) and retraining (voc.models)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from kefu.core.permissions import authorize
from kefu.tickets.schemas import ErrorOut
from kefu.voc.models import TextModel
from kefu.voc.schemas.models import ModelOut
from kefu.voc.services import models as services

router = Router(tags=["voice of customer: text models"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.get("/models", response={200: list[ModelOut], **ERRORS}, summary="Text-model versions")
def list_models(request: HttpRequest, kind: str | None = None):
    """Every version of the sentiment, cause and touchpoint models (newest first per kind), with its
    status, held-out accuracy and the accuracy of the model in use on the same slice."""
    authorize(request.user, "voc.view")
    qs = TextModel.objects.defer("artifact").order_by("kind", "-version")
    if kind:
        qs = qs.filter(kind=services.check_kind(kind))
    return 200, list(qs)


@router.post("/models/{kind}/retrain", response={202: ModelOut, **ERRORS}, summary="Train a new version")
def retrain_model(request: HttpRequest, kind: str):
    """Start training a new version of `kind` (sentiment, cause, touchpoint) in the background; it is
    used only if it beats the model in use on the held-out slice. 409 while one is training."""
    return 202, services.request_training(actor=request.user, kind=kind)
