"""Review import pages: upload a shop's export, check the column mapping on a preview of the first rows,
import it (progress bar while the worker runs), read the report of what was created and skipped."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.errors import DomainError, NotFound, PermissionDenied
from kefu.core.htmx import permission_page
from kefu.core.permissions import has_permission
from kefu.customers.models import Product, Shop
from kefu.voc import imports
from kefu.voc.choices import ImportStatus
from kefu.voc.imports.rows import describe
from kefu.voc.models import ReviewImport
from kefu.voc.services import reviews as review_services

viewer_page = permission_page("voc.view", gettext_lazy("You may not see voice-of-customer pages."))
importer_page = permission_page(
    "voc.import", gettext_lazy("Only supervisors and administrators may import reviews.")
)
LIST_SIZE = 50


def _get(pk: int) -> ReviewImport:
    imp = ReviewImport.objects.select_related("shop", "created_by").filter(pk=pk).first()
    if imp is None:
        raise NotFound(_("No such import."))
    return imp


@viewer_page
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    rows = ReviewImport.objects.select_related("shop", "created_by").order_by("-id")[:LIST_SIZE]
    return render(
        request,
        "voc/import_list.html",
        {"imports": rows, "can_import": has_permission(request.user, "voc.import")},
    )


@importer_page
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    error, status = "", 200
    shop_id = request.POST.get("shop") or request.GET.get("shop") or ""
    if request.method == "POST":
        try:
            imp = review_services.create_import(
                actor=request.user, shop_id=shop_id, uploaded_file=request.FILES.get("file")
            )
            return redirect("voc:import_detail", pk=imp.pk)
        except PermissionDenied:
            raise
        except DomainError as exc:
            error, status = exc.message, exc.status
    shops = Shop.objects.filter(is_active=True).order_by("id")
    return render(
        request,
        "voc/import_new.html",
        {"shops": shops, "shop_id": str(shop_id), "error": error, "max_mb": 20},
        status=status,
    )


def _preview(imp: ReviewImport, columns: dict[str, str]) -> dict[str, Any]:
    """The first rows as they would be imported with `columns`, and the file's headers."""
    try:
        table = imports.read_table(review_services.read_file(imp), limit=review_services.PREVIEW_ROWS)
    except (imports.UnreadableFile, OSError) as exc:
        return {"headers": [], "rows": [], "file_error": str(exc)}
    matcher = imports.ProductMatcher(Product.objects.filter(is_active=True).values_list("id", "model_number"))
    names = dict(Product.objects.values_list("id", "model_number"))
    rows = []
    for entry in imports.parse_rows(table, columns):
        if isinstance(entry, imports.RowError):
            rows.append({"row": entry.row, "error": entry.reason})
        else:
            product_id = matcher.match(entry.sku, entry.product_name)
            rows.append({"row": entry.row, "review": entry, "product": names.get(product_id, "")})
    return {"headers": table.headers, "rows": rows, "header_row": table.header_row, "file_error": ""}


def _columns_from(request: HttpRequest, imp: ReviewImport) -> dict[str, str]:
    data = request.POST if request.method == "POST" else request.GET
    if not any(k.startswith("col_") for k in data):
        return dict(imp.columns)
    return {f: data.get(f"col_{f}", "") for f in imports.FIELDS if data.get(f"col_{f}")}


def _detail_context(request: HttpRequest, imp: ReviewImport, columns: dict[str, str]) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "imp": imp,
        "can_import": has_permission(request.user, "voc.import"),
        "fields": [(f, label, columns.get(f, "")) for f, label in imports.FIELDS.items()],
        "active": imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
    }
    if imp.status == ImportStatus.PREVIEW:
        ctx.update(_preview(imp, columns))
    ctx["skipped"] = [
        {
            "row": s.get("row"),
            "reason": describe(
                s.get("code", ""),
                label=s.get("label", ""),
                value=s.get("value", ""),
                reason=s.get("reason", ""),
            ),
        }
        for s in imp.skipped or []
        if isinstance(s, dict)
    ]
    return ctx


@viewer_page
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(pk)
    return render(
        request, "voc/import_detail.html", _detail_context(request, imp, _columns_from(request, imp))
    )


@viewer_page
@require_GET
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview table again for the mapping chosen in the selects (htmx, on change)."""
    imp = _get(pk)
    ctx = _detail_context(request, imp, _columns_from(request, imp))
    return render(request, "voc/partials/import_preview.html", ctx)


@importer_page
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(pk)
    columns = _columns_from(request, imp)
    try:
        review_services.confirm_import(actor=request.user, import_id=imp.pk, columns=columns)
    except PermissionDenied:
        raise
    except DomainError as exc:
        ctx = _detail_context(request, _get(pk), columns)
        ctx["error"] = exc.message
        return render(request, "voc/import_detail.html", ctx, status=exc.status)
    return redirect("voc:import_detail", pk=imp.pk)


@viewer_page
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar (polled every second); once the import has finished, the page reloads."""
    imp = _get(pk)
    response = render(request, "voc/partials/import_progress.html", {"imp": imp, "active": True})
    if imp.status in (ImportStatus.DONE, ImportStatus.FAILED):
        response["HX-Refresh"] = "true"
    return response


urlpatterns = [
    path("imports/", import_list, name="import_list"),
    path("imports/new/", import_new, name="import_new"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
    path("imports/<int:pk>/preview/", import_preview, name="import_preview"),
    path("imports/<int:pk>/confirm/", import_confirm, name="import_confirm"),
    path("imports/<int:pk>/progress/", import_progress, name="import_progress"),
]
