"""Console: feedback items (客户声音) — the list with filters in the URL (the dashboards link here),
keyset paging and XLSX/CSV export, and one item's page with its labels, who set them, the model's
explanation and label editing (voc.label)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import DomainError, PermissionDenied, ValidationFailed
from kefu.core.export import FORMATS, export_response
from kefu.core.htmx import error_response, is_htmx, permission_page, toast
from kefu.core.permissions import has_permission
from kefu.voc import textmodels
from kefu.voc.choices import FeedbackSource, LabelSource, Polarity
from kefu.voc.models import FeedbackItem
from kefu.voc.selectors import feedback as selectors
from kefu.voc.selectors.taxonomy import node_options, node_paths
from kefu.voc.services import feedback as services

viewer_page = permission_page("voc.view", gettext_lazy("You may not see the voice of customer."))
labeller_page = permission_page("voc.label", gettext_lazy("Your role may not label feedback."))

PREVIEW = 80


def _filter_or_error(request: HttpRequest) -> tuple[selectors.FeedbackFilter, ValidationFailed | None]:
    try:
        return selectors.FeedbackFilter.from_params(request.GET), None
    except ValidationFailed as exc:
        return selectors.FeedbackFilter(), exc


def _export(request: HttpRequest, f: selectors.FeedbackFilter, fmt: str) -> HttpResponse:
    paths = node_paths()
    sources = dict(FeedbackSource.choices)
    polarities = dict(Polarity.choices)
    label_sources = dict(LabelSource.choices)
    headers = [
        _("Time"),
        _("Source"),
        _("Product"),
        _("Shop"),
        _("Channel"),
        _("Text"),
        _("Sentiment"),
        _("Polarity"),
        _("Cause"),
        _("Cause labelled by"),
        _("Touchpoint"),
        _("Touchpoint labelled by"),
        _("Ticket"),
        _("ID"),
    ]

    def rows() -> Any:
        for item in selectors.feedback_queryset(request.user, f).iterator(chunk_size=500):
            yield [
                item.occurred_at,
                str(sources.get(item.source, item.source)),
                item.product.name if item.product else "",
                item.shop.name if item.shop else "",
                item.channel,
                item.text,
                item.sentiment,
                str(polarities.get(item.polarity, item.polarity)),
                paths.get(item.cause_id or 0, ""),
                str(label_sources.get(item.cause_source, "")),
                paths.get(item.touchpoint_id or 0, ""),
                str(label_sources.get(item.touchpoint_source, "")),
                item.ticket.number if item.ticket else "",
                item.pk,
            ]

    return export_response(fmt, "feedback", headers, rows())


@viewer_page
@require_GET
def feedback_list(request: HttpRequest) -> HttpResponse:
    f, error = _filter_or_error(request)
    fmt = request.GET.get("format", "")
    if fmt and error is None:
        if fmt not in FORMATS:
            error = ValidationFailed(_("format must be xlsx or csv."), field="format")
        else:
            return _export(request, f, fmt)
    items: list[FeedbackItem] = []
    next_cursor = None
    if error is None:
        try:
            items, next_cursor = selectors.list_feedback(
                request.user, f, cursor=request.GET.get("cursor") or None
            )
        except ValidationFailed as exc:
            error = exc
    paths = node_paths()
    for item in items:
        item.cause_path = paths.get(item.cause_id or 0, "")
        item.touchpoint_path = paths.get(item.touchpoint_id or 0, "")
    params = f.as_params()
    ctx = {
        "items": items,
        "filter": f,
        "params": params,
        "error": error,
        "next_url": "?" + urlencode({**params, "cursor": next_cursor}) if next_cursor else "",
        "first_url": "?" + urlencode(params) if request.GET.get("cursor") else "",
        "export_csv": "?" + urlencode({**params, "format": "csv"}),
        "export_xlsx": "?" + urlencode({**params, "format": "xlsx"}),
        "sources": FeedbackSource.choices,
        "polarities": Polarity.choices,
        "cause_options": node_options("cause"),
        "touchpoint_options": node_options("touchpoint"),
        "labelled_choices": [
            ("person", _("By a person")),
            ("machine", _("By a model or rule")),
            ("none", _("Not labelled")),
        ],
        "preview": PREVIEW,
    }
    return render(request, "voc/feedback_list.html", ctx, status=error.status if error else 200)


def _label_context(request: HttpRequest, item: FeedbackItem) -> dict[str, Any]:
    paths = node_paths()
    versions = item.model_versions or {}
    labels = []
    for kind, title in (("cause", _("Cause")), ("touchpoint", _("Touchpoint"))):
        labels.append(
            {
                "kind": kind,
                "title": title,
                "node_id": getattr(item, f"{kind}_id"),
                "path": paths.get(getattr(item, f"{kind}_id") or 0, ""),
                "source": getattr(item, f"{kind}_source"),
                "confidence": getattr(item, f"{kind}_confidence"),
                "by": getattr(item, f"{kind}_by") if getattr(item, f"{kind}_by_id") else None,
                "model_id": versions.get(kind),
                "options": node_options(kind),
            }
        )
    return {
        "item": item,
        "labels": labels,
        "sentiment_model_id": versions.get("sentiment"),
        "polarities": Polarity.choices,
        "can_label": has_permission(request.user, "voc.label"),
    }


@viewer_page
@require_GET
def feedback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.get_feedback(request.user, pk)
    ctx = _label_context(request, item)
    try:
        ctx["analysis"] = textmodels.analyze([item.text])[0]
    except Exception:  # an explanation is a nicety; the page works without it
        ctx["analysis"] = None
    return render(request, "voc/feedback_detail.html", ctx)


def _changed_labels(request: HttpRequest, item: FeedbackItem) -> dict[str, Any]:
    """The labels the form changes (an unchanged select is not a person's label)."""
    kwargs: dict[str, Any] = {}
    for kind in ("cause", "touchpoint"):
        if kind in request.POST:
            raw = request.POST.get(kind, "").strip()
            current = getattr(item, f"{kind}_id")
            if raw != (str(current) if current else ""):
                kwargs[f"{kind}_id"] = raw or None
    polarity = request.POST.get("polarity", "").strip()
    if polarity and polarity != item.polarity:
        kwargs["polarity"] = polarity
    return kwargs


@labeller_page
@require_POST
def feedback_label(request: HttpRequest, pk: int) -> HttpResponse:
    """Set labels (cause, touchpoint, polarity) or confirm a suggestion (`confirm` = kind)."""
    item = selectors.get_feedback(request.user, pk)
    try:
        confirm = request.POST.get("confirm", "").strip()
        if confirm:
            services.accept_suggestion(actor=request.user, item_id=item.pk, kind=confirm)
        else:
            kwargs = _changed_labels(request, item)
            if not kwargs:
                raise ValidationFailed(_("Nothing changed."), field="cause")
            services.label_feedback(actor=request.user, item_id=item.pk, **kwargs)
    except PermissionDenied:
        raise
    except DomainError as exc:
        if is_htmx(request):
            return error_response(exc)
        ctx = _label_context(request, item)
        ctx["analysis"] = None
        ctx["error"] = exc.message
        return render(request, "voc/feedback_detail.html", ctx, status=exc.status)
    if not is_htmx(request):
        return redirect("voc:feedback_detail", pk=item.pk)
    item = selectors.get_feedback(request.user, pk)
    response = render(request, "voc/partials/feedback_labels.html", _label_context(request, item))
    return toast(response, _("Labels saved."), "success")


urlpatterns = [
    path("feedback/", feedback_list, name="feedback_list"),
    path("feedback/<int:pk>/", feedback_detail, name="feedback_detail"),
    path("feedback/<int:pk>/labels/", feedback_label, name="feedback_label"),
]
