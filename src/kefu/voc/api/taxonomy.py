"""Taxonomy API: the touchpoint and cause trees (read: voc.view; edit: voc.taxonomy)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from kefu.core.permissions import authorize
from kefu.tickets.schemas import ErrorOut
from kefu.voc.models import TaxonomyNode
from kefu.voc.schemas.taxonomy import NodeCreateIn, NodeOut, NodePatchIn
from kefu.voc.selectors import taxonomy as selectors
from kefu.voc.services import taxonomy as services

router = Router(tags=["voice of customer: taxonomies"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def node_out(node: TaxonomyNode, paths: dict[int, str], count: int = 0, children: Any = ()) -> dict[str, Any]:
    return {
        "id": node.pk,
        "kind": node.kind,
        "parent_id": node.parent_id,
        "name": node.name,
        "name_en": node.name_en,
        "level": node.level,
        "position": node.position,
        "keywords": [k for k in node.keywords.splitlines() if k.strip()],
        "is_active": node.is_active,
        "path": paths.get(node.pk, node.name),
        "item_count": count,
        "children": list(children),
    }


def _tree_out(t: selectors.TreeNode, paths: dict[int, str]) -> dict[str, Any]:
    return node_out(t.node, paths, t.count, [_tree_out(c, paths) for c in t.children])


@router.get(
    "/taxonomies/{kind}", response={200: list[NodeOut], **ERRORS}, summary="One taxonomy as a nested tree"
)
def get_taxonomy(request: HttpRequest, kind: str, active_only: bool = False):
    """`kind` is touchpoint or cause. Nodes are ordered by position; deactivated nodes are included
    (is_active false) unless `active_only`."""
    authorize(request.user, "voc.view")
    kind = services.check_kind(kind)
    paths = selectors.node_paths(kind)
    roots = selectors.taxonomy_tree(kind, active_only=active_only, with_counts=True)
    return 200, [_tree_out(r, paths) for r in roots]


@router.post(
    "/taxonomies/{kind}/nodes", response={201: NodeOut, **ERRORS}, summary="Add a node to a taxonomy"
)
def create_node(request: HttpRequest, kind: str, payload: NodeCreateIn):
    node = services.create_node(
        actor=request.user,
        kind=kind,
        parent_id=payload.parent_id,
        name=payload.name,
        name_en=payload.name_en,
        keywords=payload.keywords,
        position=payload.position,
    )
    return 201, node_out(node, selectors.node_paths(node.kind))


@router.patch(
    "/taxonomies/nodes/{node_id}",
    response={200: NodeOut, **ERRORS},
    summary="Rename, re-keyword, move or (de)activate a node",
)
def update_node(request: HttpRequest, node_id: int, payload: NodePatchIn):
    """Only the fields sent change. `parent_id: null` moves the node to the top level. Items keep
    their labels: they point at the node."""
    changes = {f: getattr(payload, f) for f in payload.model_fields_set}
    node = services.update_node(actor=request.user, node_id=node_id, **changes)
    return 200, node_out(node, selectors.node_paths(node.kind))
