"""Console: the touchpoint and cause trees (/voc/taxonomy/<kind>/) with item counts; administrators
(voc.taxonomy) add children, rename, edit keywords, move and (de)activate nodes through htmx forms
that swap the tree. Everybody with voc.view may read it."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import DomainError, PermissionDenied, ValidationFailed
from kefu.core.htmx import error_response, is_htmx, permission_page, toast
from kefu.core.permissions import has_permission
from kefu.voc.choices import TaxonomyKind
from kefu.voc.models import MAX_DEPTH
from kefu.voc.selectors import taxonomy as selectors
from kefu.voc.services import taxonomy as services

viewer_page = permission_page("voc.view", gettext_lazy("You may not see the voice of customer."))
editor_page = permission_page(
    "voc.taxonomy", gettext_lazy("Only administrators may edit the touchpoint and cause trees.")
)


def _kind(kind: str) -> str:
    if kind not in TaxonomyKind.values:
        raise Http404
    return kind


def _context(request: HttpRequest, kind: str, error: str = "") -> dict[str, Any]:
    roots = selectors.taxonomy_tree(kind, with_counts=True)
    rows = selectors.flatten(roots)
    paths = selectors.node_paths(kind)
    # where a node may move: nodes of the first two levels (a node's own subtree is refused on save)
    parents = [(t.id, paths[t.id]) for t in rows if t.node.level < MAX_DEPTH]
    for t in rows:
        t.keyword_list = [k for k in t.node.keywords.splitlines() if k.strip()]
    return {
        "kind": kind,
        "kind_label": TaxonomyKind(kind).label,
        "kinds": TaxonomyKind.choices,
        "rows": rows,
        "parents": parents,
        "max_depth": MAX_DEPTH,
        "can_edit": has_permission(request.user, "voc.taxonomy"),
        "error": error,
    }


@viewer_page
@require_GET
def taxonomy(request: HttpRequest, kind: str) -> HttpResponse:
    return render(request, "voc/taxonomy.html", _context(request, _kind(kind)))


def _done(request: HttpRequest, kind: str, message: str) -> HttpResponse:
    if not is_htmx(request):
        return redirect("voc:taxonomy", kind=kind)
    response = render(request, "voc/partials/taxonomy_tree.html", _context(request, kind))
    return toast(response, message, "success")


def _failed(request: HttpRequest, kind: str, exc: DomainError) -> HttpResponse:
    if isinstance(exc, PermissionDenied):
        raise exc
    if is_htmx(request):
        return error_response(exc)
    ctx = _context(request, kind, error=exc.message)
    return render(request, "voc/taxonomy.html", ctx, status=exc.status)


def _position(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed(_("position must be a whole number ≥ 0."), field="position") from None


@editor_page
@require_POST
def taxonomy_add(request: HttpRequest, kind: str) -> HttpResponse:
    kind = _kind(kind)
    try:
        node = services.create_node(
            actor=request.user,
            kind=kind,
            parent_id=request.POST.get("parent_id") or None,
            name=request.POST.get("name", ""),
            name_en=request.POST.get("name_en", ""),
            keywords=request.POST.get("keywords", ""),
            position=_position(request.POST.get("position")),
        )
    except DomainError as exc:
        return _failed(request, kind, exc)
    return _done(request, kind, _("“%(name)s” added.") % {"name": node.name})


@editor_page
@require_POST
def taxonomy_node(request: HttpRequest, pk: int) -> HttpResponse:
    """One form per change: action = rename (name, name_en), keywords, move (parent_id, position),
    deactivate or activate."""
    node = selectors.get_node(pk)
    if node is None:
        raise Http404
    action = request.POST.get("action", "")
    changes: dict[str, Any]
    try:
        if action == "rename":
            changes = {"name": request.POST.get("name", ""), "name_en": request.POST.get("name_en", "")}
        elif action == "keywords":
            changes = {"keywords": request.POST.get("keywords", "")}
        elif action == "move":
            changes = {"parent_id": request.POST.get("parent_id") or None}
            position = _position(request.POST.get("position"))
            if position is not None:
                changes["position"] = position
        elif action in ("deactivate", "activate"):
            changes = {"is_active": action == "activate"}
        else:
            raise ValidationFailed(_("Unknown action."), field="action")
        node = services.update_node(actor=request.user, node_id=node.pk, **changes)
    except DomainError as exc:
        return _failed(request, node.kind, exc)
    return _done(request, node.kind, _("“%(name)s” saved.") % {"name": node.name})


urlpatterns = [
    path("taxonomy/<str:kind>/", taxonomy, name="taxonomy"),
    path("taxonomy/<str:kind>/nodes/", taxonomy_add, name="taxonomy_add"),
    path("taxonomy/nodes/<int:pk>/", taxonomy_node, name="taxonomy_node"),
]
