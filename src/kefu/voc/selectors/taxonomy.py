"""Reads of the touchpoint and cause trees. The trees are small (tens to a few hundred nodes), so
each read loads one tree in one query and walks it in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import translation

from kefu.voc.models import FeedbackItem, TaxonomyNode

SEPARATOR = " › "


@dataclass
class TreeNode:
    node: TaxonomyNode
    children: list[TreeNode] = field(default_factory=list)
    count: int = 0  # feedback items labelled with this node or a descendant
    own_count: int = 0  # … with this node itself

    @property
    def id(self) -> int:
        return self.node.pk


def display_name(node: TaxonomyNode) -> str:
    """The English name when the active language is English and the node has one."""
    lang = (translation.get_language() or "").lower()
    if lang.startswith("en") and node.name_en:
        return node.name_en
    return node.name


def _nodes(kind: str | None = None, *, active_only: bool = False) -> list[TaxonomyNode]:
    qs = TaxonomyNode.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("position", "id"))


def taxonomy_tree(kind: str, *, active_only: bool = False, with_counts: bool = False) -> list[TreeNode]:
    """The roots of one tree, each with its children ordered by position (then id). With
    `active_only`, an inactive node hides its whole subtree."""
    nodes = _nodes(kind, active_only=active_only)
    wrapped = {n.pk: TreeNode(n) for n in nodes}
    roots: list[TreeNode] = []
    for n in nodes:
        if n.parent_id is None:
            roots.append(wrapped[n.pk])
        elif n.parent_id in wrapped:
            wrapped[n.parent_id].children.append(wrapped[n.pk])
    if with_counts:
        column = "cause" if kind == "cause" else "touchpoint"
        own = dict(
            FeedbackItem.objects.filter(**{f"{column}__isnull": False})
            .values_list(column)
            .annotate(n=Count("id"))
            .values_list(column, "n")
        )

        def roll(t: TreeNode) -> int:
            t.own_count = own.get(t.id, 0)
            t.count = t.own_count + sum(roll(c) for c in t.children)
            return t.count

        for r in roots:
            roll(r)
    return roots


def flatten(roots: Iterable[TreeNode]) -> list[TreeNode]:
    """Depth-first, in display order."""
    out: list[TreeNode] = []

    def walk(t: TreeNode) -> None:
        out.append(t)
        for c in t.children:
            walk(c)

    for r in roots:
        walk(r)
    return out


def descendant_ids(node_id: int) -> list[int]:
    """The node's id and the ids of all nodes below it (for filters: a cause includes its subcauses)."""
    node = TaxonomyNode.objects.filter(pk=node_id).only("kind").first()
    if node is None:
        return []
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in TaxonomyNode.objects.filter(kind=node.kind).values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    ids, frontier = [node_id], [node_id]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, [])]
        ids.extend(frontier)
    return ids


def node_paths(kind: str | None = None) -> dict[int, str]:
    """{node id: "产品 › 性能/噪音"} for every node (of one kind), in the active language."""
    nodes = {n.pk: n for n in _nodes(kind)}
    paths: dict[int, str] = {}

    def path(pk: int) -> str:
        if pk in paths:
            return paths[pk]
        n = nodes[pk]
        own = display_name(n)
        paths[pk] = path(n.parent_id) + SEPARATOR + own if n.parent_id and n.parent_id in nodes else own
        return paths[pk]

    for pk in nodes:
        path(pk)
    return paths


def path_names(node_id: int | None) -> str:
    """ "产品 › 性能/噪音" for one node ("" for None or an unknown id)."""
    if not node_id:
        return ""
    names: list[str] = []
    seen: set[int] = set()
    current: int | None = node_id
    while current and current not in seen:
        seen.add(current)
        n = TaxonomyNode.objects.filter(pk=current).only("name", "name_en", "parent_id").first()
        if n is None:
            break
        names.append(display_name(n))
        current = n.parent_id
    return SEPARATOR.join(reversed(names))


def node_options(kind: str) -> list[tuple[int, str]]:
    """(id, path) of the active nodes of one tree, in tree order — for label pickers."""
    paths = node_paths(kind)
    return [(t.id, paths[t.id]) for t in flatten(taxonomy_tree(kind, active_only=True))]


def get_node(node_id: int) -> TaxonomyNode | None:
    return TaxonomyNode.objects.filter(pk=node_id).first()
