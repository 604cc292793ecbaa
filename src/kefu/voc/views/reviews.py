"""The review list (filters in the URL, shared with the 差评率 chart's drill-down; XLSX/CSV export)
and the review-to-ticket rules."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from kefu.accounts.models import Team
from kefu.core.errors import DomainError, PermissionDenied
from kefu.core.export import export_response
from kefu.core.htmx import permission_page
from kefu.core.permissions import has_permission
from kefu.customers.models import Product, Shop
from kefu.voc.choices import RatingLevel
from kefu.voc.models import ReviewTicketRule
from kefu.voc.schemas.reviews import PAGE, ReviewFilters, review_queryset
from kefu.voc.services.review_rules import save_review_rule

viewer_page = permission_page("voc.view", gettext_lazy("You may not see voice-of-customer pages."))
importer_page = permission_page(
    "voc.import", gettext_lazy("Only supervisors and administrators may change review rules.")
)


def _export(request: HttpRequest, qs, fmt: str) -> HttpResponse:
    headers = [
        _("Time"), _("Shop"), _("Product"), _("Stars"), _("Rating"), _("Review"), _("Follow-up review"),
        _("Follow-up at"), _("Order number"), _("Buyer"), _("Review id"), _("Ticket"),
    ]  # fmt: skip
    levels = dict(RatingLevel.choices)
    rows = (
        (
            r.reviewed_at,
            r.shop.name,
            r.product.model_number if r.product else r.product_name,
            r.rating,
            str(levels.get(r.level, r.level)),
            r.content,
            r.follow_up_content,
            r.follow_up_at,
            r.order_number,
            r.buyer_nick,
            r.platform_review_id,
            r.ticket.number if r.ticket else "",
        )  # fmt: skip
        for r in qs.iterator(chunk_size=1000)
    )
    return export_response(fmt, "reviews", headers, rows)


@viewer_page
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    error = ""
    try:
        filters = ReviewFilters.parse(request.GET)
    except DomainError as exc:
        filters, error = ReviewFilters(), exc.message
    qs = filters.apply(review_queryset(), timezone.get_current_timezone())
    fmt = request.GET.get("format", "")
    if fmt in ("xlsx", "csv") and not error:
        return _export(request, qs, fmt)
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    rows = list(qs[(page - 1) * PAGE : page * PAGE + 1])
    query = filters.query()
    return render(
        request,
        "voc/review_list.html",
        {
            "reviews": rows[:PAGE],
            "filters": filters,
            "error": error,
            "page": page,
            "next_url": f"?{urlencode({**query, 'page': page + 1})}" if len(rows) > PAGE else "",
            "prev_url": f"?{urlencode({**query, 'page': page - 1})}" if page > 1 else "",
            "export_xlsx": f"?{urlencode({**query, 'format': 'xlsx'})}",
            "export_csv": f"?{urlencode({**query, 'format': 'csv'})}",
            "shops": Shop.objects.order_by("id"),
            "products": Product.objects.filter(reviews__isnull=False).distinct().order_by("model_number"),
            "levels": RatingLevel.choices,
            "can_import": has_permission(request.user, "voc.import"),
        },
        status=422 if error else 200,
    )


def _rule_rows() -> list[dict]:
    rules = {
        r.shop_id: r for r in ReviewTicketRule.objects.select_related("team").order_by("-is_active", "id")
    }
    rows = [{"key": "default", "shop": None, "rule": rules.get(None)}]
    rows += [{"key": str(s.pk), "shop": s, "rule": rules.get(s.pk)} for s in Shop.objects.order_by("id")]
    return rows


@importer_page
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    error, status = "", 200
    if request.method == "POST":
        key = request.POST.get("shop", "default")
        team = request.POST.get("team", "")
        try:
            save_review_rule(
                actor=request.user,
                shop_id=None if key == "default" else int(key) if key.isdigit() else -1,
                team_id=int(team) if team.isdigit() else 0,
                on_bad=request.POST.get("on_bad") == "1",
                on_neutral=request.POST.get("on_neutral") == "1",
                on_negative_follow_up=request.POST.get("on_negative_follow_up") == "1",
                is_active=request.POST.get("is_active") == "1",
            )
            messages.success(request, _("Review-to-ticket rule saved."))
            return redirect("voc:rules")
        except PermissionDenied:
            raise
        except DomainError as exc:
            error, status = exc.message, exc.status
    return render(
        request,
        "voc/rules.html",
        {"rows": _rule_rows(), "teams": Team.objects.order_by("name"), "error": error},
        status=status,
    )


urlpatterns = [
    path("reviews/", review_list, name="review_list"),
    path("rules/", rules, name="rules"),
]
