"""Console: the text models (/voc/models/) — per kind the version in use and the history (status,
trained at, examples, held-out accuracy against the model in use, top terms per class), "Retrain now"
(voc.models), and a try-it box that analyzes a typed text (htmx)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import DomainError, PermissionDenied
from kefu.core.htmx import permission_page
from kefu.core.permissions import has_permission
from kefu.core.text import clean_text
from kefu.voc import textmodels
from kefu.voc.choices import ModelKind, ModelStatus, Polarity
from kefu.voc.models import TaxonomyNode, TextModel
from kefu.voc.schemas.models import MAX_TEXT_CHARS
from kefu.voc.selectors.taxonomy import node_paths
from kefu.voc.services import models as services
from kefu.voc.textmodels.output import analyses_out

viewer_page = permission_page("voc.view", gettext_lazy("You may not see the voice of customer."))
HISTORY = 20


def _class_name(label: str, paths: dict[int, str]) -> str:
    try:
        return paths.get(int(label), label)
    except ValueError:
        return label


def _context(request: HttpRequest, error: str = "") -> dict[str, Any]:
    paths = node_paths()
    polarity = dict(Polarity.choices)
    versions = list(TextModel.objects.defer("artifact").order_by("kind", "-version"))
    kinds = []
    for value, label in ModelKind.choices:
        history = [v for v in versions if v.kind == value][:HISTORY]
        for v in history:
            terms = (v.report or {}).get("top_terms") or {}
            per_class = (v.report or {}).get("per_class") or {}
            v.classes = [
                {
                    "name": polarity.get(c, c) if value == ModelKind.SENTIMENT else _class_name(c, paths),
                    "terms": terms.get(c, [])[:8],
                    "figures": per_class.get(c, {}),
                }
                for c in (v.labels or [])
            ]
        kinds.append(
            {
                "value": value,
                "label": label,
                "active": next((v for v in history if v.status == ModelStatus.ACTIVE), None),
                "training": any(v.status == ModelStatus.TRAINING for v in history),
                "history": history,
                "fallback": _("the sentiment lexicon")
                if value == ModelKind.SENTIMENT
                else _("the taxonomy keywords"),
            }
        )
    return {
        "kinds": kinds,
        "can_train": has_permission(request.user, "voc.models"),
        "min_labels": services.MIN_LABELS,
        "max_chars": MAX_TEXT_CHARS,
        "error": error,
        "nodes": TaxonomyNode.objects.exists(),
    }


@viewer_page
@require_GET
def models_page(request: HttpRequest) -> HttpResponse:
    return render(request, "voc/models.html", _context(request))


@viewer_page
@require_POST
def models_retrain(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        model = services.request_training(actor=request.user, kind=kind)
    except PermissionDenied:
        raise
    except DomainError as exc:
        return render(request, "voc/models.html", _context(request, exc.message), status=exc.status)
    message = _(
        "Training %(kind)s model version %(version)d; it is used only if it beats the one in use."
    ) % {
        "kind": model.get_kind_display(),
        "version": model.version,
    }
    messages.success(request, message)
    return redirect("voc:models")


@viewer_page
@require_POST
def models_try(request: HttpRequest) -> HttpResponse:
    try:
        text = clean_text(request.POST.get("text"), "text", MAX_TEXT_CHARS, required=True)
    except DomainError as exc:
        return render(request, "voc/partials/model_try_result.html", {"error": exc.message}, status=422)
    (result,) = analyses_out(textmodels.analyze([text]))
    result["polarity_label"] = dict(Polarity.choices).get(result["polarity"], result["polarity"])
    return render(request, "voc/partials/model_try_result.html", {"text": text, "r": result})


urlpatterns = [
    path("models/", models_page, name="models"),
    path("models/try/", models_try, name="models_try"),
    path("models/<str:kind>/retrain/", models_retrain, name="models_retrain"),
]
