"""`POST /api/v1/voc/analyze`: sentiment, cause and touchpoint of up to 1,000 texts (voc.view)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from kefu.core.errors import ValidationFailed
from kefu.core.permissions import authorize
from kefu.tickets.schemas import ErrorOut
from kefu.voc import textmodels
from kefu.voc.schemas.models import MAX_TEXT_CHARS, AnalyzeIn, AnalyzeOut
from kefu.voc.textmodels.output import analyses_out

router = Router(tags=["voice of customer: text models"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 422: ErrorOut}


@router.post("/analyze", response={200: AnalyzeOut, **ERRORS}, summary="Analyze texts")
def analyze_texts(request: HttpRequest, payload: AnalyzeIn):
    """For each text, in order: sentiment (−1..1), polarity and confidence, cause and touchpoint (a
    taxonomy node with its path, confidence and source: the organization's model when one is in use,
    else the keyword rules; null when nothing matched), and the terms that weighed most."""
    authorize(request.user, "voc.view")
    for i, text in enumerate(payload.texts):
        if len(text) > MAX_TEXT_CHARS:
            field = f"texts[{i}]"
            raise ValidationFailed(
                _("%(field)s is longer than %(max)d characters.") % {"field": field, "max": MAX_TEXT_CHARS},
                field=field,
            )
    return 200, {"results": analyses_out(textmodels.analyze(payload.texts))}
