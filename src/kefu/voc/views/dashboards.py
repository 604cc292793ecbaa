"""The voice-of-customer dashboard (/voc/): 差评率 by shop, product and week, the cause Pareto, the
touchpoint heat map and the top insights; every point, bar and cell links to the reviews or feedback
items behind it, and every table exports to XLSX/CSV."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from kefu.core.export import export_response
from kefu.core.htmx import permission_page
from kefu.customers.models import Product, Shop
from kefu.voc.selectors import dashboards as sel
from kefu.voc.selectors.insights import list_insights

voc_page = permission_page("voc.view", gettext_lazy("Your role may not open the voice-of-customer pages."))

FALLBACK = {"voc:review_list": "/voc/reviews/", "voc:feedback_list": "/voc/feedback/"}


def drill_url(name: str, **params: Any) -> str:
    """A list page's URL with filters; the page may be written later, hence the literal fallback."""
    try:
        base = reverse(name)
    except NoReverseMatch:
        base = FALLBACK[name]
    query = {
        k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items() if v not in (None, "")
    }
    return f"{base}?{urlencode(query)}" if query else base


class DashboardFilter(forms.Form):
    period = forms.TypedChoiceField(
        label=gettext_lazy("Period"),
        choices=[(w, gettext_lazy("Last %(n)d weeks") % {"n": w}) for w in sel.PERIODS],
        coerce=int,
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        empty_value=sel.PERIODS[0],
    )
    shop = forms.ModelChoiceField(
        label=gettext_lazy("Shop"),
        queryset=Shop.objects.all(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        empty_label=gettext_lazy("All shops"),
    )
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        queryset=Product.objects.filter(is_active=True),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        empty_label=gettext_lazy("All products"),
    )

    def params(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "weeks": d.get("period") or sel.PERIODS[0],
            "shop_id": d["shop"].pk if d.get("shop") else None,
            "product_id": d["product"].pk if d.get("product") else None,
        }


def _rate_rows(rows: list[sel.RateRow], p: sel.Period, by: str, shop_id: Any, product_id: Any) -> list[dict]:
    out = []
    for r in rows:
        filters = {"shop": shop_id, "product": product_id, by: r.id}
        out.append(
            {
                "id": r.id,
                "name": r.name or _("(unknown)"),
                "total": r.total,
                "bad": r.bad,
                "rate": r.rate,
                "rate_pct": round(100 * r.rate, 1) if r.rate is not None else None,
                "url": drill_url("voc:review_list", level="bad", since=p.since, until=p.until, **filters),
            }
        )
    return out


def _rate_point(row: sel.RateRow, monday: date, product_id: int | None) -> dict[str, Any]:
    bad, total = row.weeks.get(monday, (0, 0))
    return {
        "value": round(100 * bad / total, 2) if total else None,
        "bad": bad,
        "total": total,
        "url": drill_url("voc:review_list", shop=row.id, product=product_id, level="bad", week=monday),
    }


def dashboard_data(actor: Any, weeks: int, shop_id: int | None, product_id: int | None) -> dict[str, Any]:
    p = sel.period(weeks)
    f = {"p": p, "shop_id": shop_id, "product_id": product_id}
    by_shop = sel.bad_review_rate_by_shop(actor=actor, **f)
    by_product = sel.bad_review_rate_by_product(actor=actor, **f)
    pareto = sel.cause_pareto(actor=actor, **f)
    heat = sel.touchpoint_heatmap(actor=actor, **f)
    weeks_iso = [m.isoformat() for m in p.mondays]
    rate_chart = {
        "type": "rate",
        "weeks": weeks_iso,
        "y_label": _("Negative-review rate (%)"),
        "series": [
            {
                "name": r.name,
                "data": [_rate_point(r, m, product_id) for m in p.mondays],
            }
            for r in by_shop
        ],
    }
    feedback = {"polarity": "negative", "shop": shop_id, "product": product_id}
    pareto_rows = [
        {
            "cause_id": b.cause_id,
            "name": b.name or _("No cause"),
            "count": b.count,
            "share": b.share,
            "cumulative": b.cumulative,
            "cumulative_pct": round(100 * b.cumulative, 1),
            "url": drill_url("voc:feedback_list", cause=b.cause_id, since=p.since, until=p.until, **feedback)
            if b.cause_id
            else "",
        }
        for b in pareto
    ]
    pareto_chart = {
        "type": "pareto",
        "labels": [b["name"] for b in pareto_rows],
        "counts": [{"value": b["count"], "url": b["url"]} for b in pareto_rows],
        "cumulative": [round(100 * b["cumulative"], 1) for b in pareto_rows],
        "count_label": _("Negative items"),
        "cumulative_label": _("Cumulative %"),
    }
    heat_rows = [
        {
            "id": h.touchpoint_id,
            "name": f"{h.parent} / {h.name}" if h.parent else h.name,
            "total": h.total,
            "cells": [
                {
                    "week": m,
                    "count": n,
                    "url": drill_url("voc:feedback_list", touchpoint=h.touchpoint_id, week=m, **feedback),
                }
                for m, n in zip(p.mondays, h.counts, strict=True)
            ],
        }
        for h in heat
    ]
    heat_chart = {
        "type": "heatmap",
        "weeks": weeks_iso,
        "rows": [h["name"] for h in heat_rows],
        "cells": [
            {"value": [x, y, c["count"]], "url": c["url"]}
            for y, h in enumerate(heat_rows)
            for x, c in enumerate(h["cells"])
        ],
        "max": max([c["count"] for h in heat_rows for c in h["cells"]] or [0]),
    }
    return {
        "period": p,
        "by_shop": _rate_rows(by_shop, p, "shop", shop_id, product_id),
        "by_product": _rate_rows(by_product, p, "product", shop_id, product_id),
        "pareto": pareto_rows,
        "heat": heat_rows,
        "charts": {"rate": rate_chart, "pareto": pareto_chart, "heatmap": heat_chart},
        "top_insights": list(list_insights(actor=actor)[:5]),
    }


@voc_page
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = DashboardFilter(request.GET or None)
    if request.GET and not form.is_valid():
        ctx = {"form": form, "invalid": True}
        return render(request, "voc/dashboard.html", ctx, status=400)
    params = (
        form.params() if form.is_bound else {"weeks": sel.PERIODS[0], "shop_id": None, "product_id": None}
    )
    ctx = {"form": form, **dashboard_data(request.user, **params), "query": request.GET.urlencode()}
    return render(request, "voc/dashboard.html", ctx)


TABLES = ("shops", "products", "causes", "touchpoints")


@voc_page
@require_GET
def dashboard_export(request: HttpRequest, table: str) -> HttpResponse:
    form = DashboardFilter(request.GET)
    if table not in TABLES or not form.is_valid():
        field = next(iter(form.errors), "table") if table in TABLES else "table"
        return HttpResponse(
            _("Invalid value for %(field)s.") % {"field": field},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    data = dashboard_data(request.user, **form.params())
    headers: list[str]
    rows: list[list[Any]]
    if table in ("shops", "products"):
        headers = [
            _("Shop") if table == "shops" else _("Product"),
            _("Reviews"),
            _("Negative reviews (差评)"),
            _("Negative-review rate"),
        ]
        rows = [
            [r["name"], r["total"], r["bad"], r["rate"]]
            for r in data["by_shop" if table == "shops" else "by_product"]
        ]
    elif table == "causes":
        headers = [_("Cause"), _("Negative items"), _("Share"), _("Cumulative share")]
        rows = [
            [b["name"], b["count"], round(b["share"], 4), round(b["cumulative"], 4)] for b in data["pareto"]
        ]
    else:
        headers = [_("Touchpoint"), *[m.isoformat() for m in data["period"].mondays], _("Total")]
        rows = [[h["name"], *[c["count"] for c in h["cells"]], h["total"]] for h in data["heat"]]
    fmt = request.GET.get("format", "xlsx")
    return export_response(fmt, f"voc-{table}-{data['period'].since.isoformat()}", headers, rows)


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("dashboard/export/<slug:table>/", dashboard_export, name="dashboard_export"),
]
