"""Insight pages: the list by impact (filters, export, "Recompute now") and one insight with its
weekly trend, key phrases, where it happens, example texts and all its items."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core.export import export_response
from kefu.core.permissions import has_permission
from kefu.customers.models import Product
from kefu.voc.choices import InsightStatus, TaxonomyKind
from kefu.voc.models import FeedbackItem, Insight, TaxonomyNode
from kefu.voc.selectors.insights import get_insight, insight_examples, insight_items_page, list_insights
from kefu.voc.services.insights import recompute_insights, set_insight_status
from kefu.voc.views.dashboards import voc_page


def feedback_url(item_id: int) -> str:
    try:
        return reverse("voc:feedback_detail", args=[item_id])
    except NoReverseMatch:
        return f"/voc/feedback/{item_id}/"


class InsightFilter(forms.Form):
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        queryset=Product.objects.all(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        empty_label=gettext_lazy("All products"),
    )
    cause = forms.ModelChoiceField(
        label=gettext_lazy("Cause"),
        queryset=TaxonomyNode.objects.filter(kind=TaxonomyKind.CAUSE),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        empty_label=gettext_lazy("All causes"),
    )
    spike = forms.BooleanField(
        label=gettext_lazy("Spikes only"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Any status")), *InsightStatus.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


def p_text(p: float | None) -> str:
    """A p-value as people read it: "< 0.0001", "= 0.0123"."""
    if p is None:
        return ""
    return "< 0.0001" if p < 0.0001 else f"= {p:.4f}"


def _trend(insight: Insight) -> list[int]:
    return [n for _w, n in insight.weekly]


@voc_page
@require_GET
def insight_list(request: HttpRequest) -> HttpResponse:
    form = InsightFilter(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request, "voc/insight_list.html", {"form": form, "rows": [], "invalid": True}, status=400
        )
    d = form.cleaned_data if form.is_bound else {}
    qs = list_insights(
        actor=request.user,
        product_id=d["product"].pk if d.get("product") else None,
        cause_id=d["cause"].pk if d.get("cause") else None,
        spike=True if d.get("spike") else None,
        status=d.get("status") or None,
    )
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        return _export(fmt, qs)
    rows = [{"i": i, "trend": _trend(i), "p": p_text(i.spike_p_value)} for i in qs[:200]]
    ctx = {
        "form": form,
        "rows": rows,
        "can_manage": has_permission(request.user, "voc.insight"),
        "query": request.GET.urlencode(),
    }
    return render(request, "voc/insight_list.html", ctx)


def _export(fmt: str, qs: Any) -> HttpResponse:
    headers = [
        _("Title"), _("Product"), _("Cause"), _("Key phrases"), _("Status"), _("Items"), _("This week"),
        _("Baseline (weekly mean)"), _("Spike"), _("p-value"), _("Share of negative"), _("Impact"),
        _("First seen"), _("Last seen"),
    ]  # fmt: skip
    rows = (
        [
            i.title,
            str(i.product) if i.product else "",
            i.cause.name if i.cause else "",
            " ".join(i.key_phrases),
            i.get_status_display(),
            i.item_count,
            i.this_week,
            i.baseline_mean,
            _("yes") if i.is_spike else "",
            i.spike_p_value,
            i.share_of_negative,
            i.impact,
            i.first_seen,
            i.last_seen,
        ]  # fmt: skip
        for i in qs.iterator()
    )
    return export_response(fmt, "voc-insights", headers, rows)


@voc_page
@require_POST
def insight_recompute(request: HttpRequest) -> HttpResponse:
    n = recompute_insights(actor=request.user)
    messages.success(request, _("Insights recomputed: %(n)d found.") % {"n": n})
    return redirect("voc:insight_list")


def _chart(insight: Insight) -> dict[str, Any]:
    return {
        "type": "trend",
        "weeks": [w for w, _n in insight.weekly],
        "counts": _trend(insight),
        "baseline": insight.baseline_mean,
        "count_label": _("Items"),
        "baseline_label": _("Baseline (trailing 8 weeks)"),
    }


def _example_row(item: FeedbackItem) -> dict[str, Any]:
    return {"item": item, "url": feedback_url(item.pk)}


@voc_page
@require_GET
def insight_detail(request: HttpRequest, pk: int) -> HttpResponse:
    insight = get_insight(actor=request.user, insight_id=pk)
    page = insight_items_page(insight, request.GET.get("page") or 1)
    bd = insight.breakdown or {}
    ctx = {
        "insight": insight,
        "i": insight,
        "p": p_text(insight.spike_p_value),
        "chart": _chart(insight),
        "examples": [_example_row(i) for i in insight_examples(insight)],
        "page": page,
        "items": [_example_row(i) for i in page.object_list],
        "breakdown": [
            (_("Products"), sorted((bd.get("products") or {}).items(), key=lambda kv: -kv[1])),
            (_("Shops"), sorted((bd.get("shops") or {}).items(), key=lambda kv: -kv[1])),
            (_("Channels"), sorted((bd.get("channels") or {}).items(), key=lambda kv: -kv[1])),
        ],
        "can_manage": has_permission(request.user, "voc.insight"),
        "statuses": InsightStatus.choices,
    }
    return render(request, "voc/insight_detail.html", ctx)


@voc_page
@require_POST
def insight_status(request: HttpRequest, pk: int) -> HttpResponse:
    # a status outside the choices is a 422 naming the field (htmx_view maps the DomainError)
    insight = set_insight_status(actor=request.user, insight_id=pk, status=request.POST.get("status", ""))
    messages.success(request, _("Status set to %(status)s.") % {"status": insight.get_status_display()})
    return redirect("voc:insight_detail", pk=pk)


urlpatterns = [
    path("insights/", insight_list, name="insight_list"),
    path("insights/recompute/", insight_recompute, name="insight_recompute"),
    path("insights/<int:pk>/", insight_detail, name="insight_detail"),
    path("insights/<int:pk>/status/", insight_status, name="insight_status"),
]
