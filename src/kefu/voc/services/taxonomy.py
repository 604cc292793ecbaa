"""Touchpoint and cause trees: add, rename, re-keyword, move and (de)activate nodes. Nodes are never
deleted — feedback items point at them by id, so a renamed or moved node keeps every item's label."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.core.text import clean_text
from kefu.voc import events
from kefu.voc.choices import TaxonomyKind
from kefu.voc.models import MAX_DEPTH, TaxonomyNode

UNSET: Any = object()
MAX_KEYWORDS = 200


def check_kind(kind: Any) -> str:
    if kind not in TaxonomyKind.values:
        raise ValidationFailed(
            _("kind must be one of: %(choices)s.") % {"choices": ", ".join(TaxonomyKind.values)}, field="kind"
        )
    return str(kind)


def normalize_keywords(value: Any) -> str:
    """Keywords as text, one per line (a list is accepted too); blanks and repeats dropped."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) for v in value):
            raise ValidationFailed(_("keywords must be text."), field="keywords")
        value = "\n".join(value)
    text = clean_text(value, "keywords", 4000)
    seen: list[str] = []
    for line in text.replace("\r", "\n").replace("，", "\n").replace(",", "\n").split("\n"):
        word = line.strip()
        if word and word not in seen:
            seen.append(word)
    if len(seen) > MAX_KEYWORDS:
        raise ValidationFailed(_("keywords: at most %(n)d keywords.") % {"n": MAX_KEYWORDS}, field="keywords")
    return "\n".join(seen)


def _check_position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 1_000_000:
        raise ValidationFailed(_("position must be a whole number ≥ 0."), field="position")
    return value


def _check_unique(kind: str, parent_id: int | None, name: str, exclude: int | None = None) -> None:
    siblings = TaxonomyNode.objects.filter(kind=kind, parent_id=parent_id, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise Conflict(
            _("A node named “%(name)s” already exists at this place in the tree.") % {"name": name},
            field="name",
            code="duplicate_name",
        )


def _parent(kind: str, parent_id: Any) -> TaxonomyNode | None:
    if parent_id in (None, ""):
        return None
    try:
        pk = int(parent_id)
    except (TypeError, ValueError):
        raise ValidationFailed(_("parent_id must be a node id."), field="parent_id") from None
    parent = TaxonomyNode.objects.filter(pk=pk, kind=kind).first()
    if parent is None:
        raise ValidationFailed(_("parent_id: no such node in this tree."), field="parent_id")
    return parent


def _height(node: TaxonomyNode) -> int:
    """Levels in the subtree rooted at the node (1 for a leaf)."""
    height, frontier = 1, [node.pk]
    while True:
        frontier = list(TaxonomyNode.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        if not frontier:
            return height
        height += 1


def _descendant_ids(node_id: int) -> list[int]:
    ids: list[int] = []
    frontier = [node_id]
    while frontier:
        frontier = list(TaxonomyNode.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


@transaction.atomic
def create_node(
    *,
    actor: Any,
    kind: Any,
    parent_id: Any = None,
    name: Any,
    name_en: Any = "",
    keywords: Any = "",
    position: Any = None,
) -> TaxonomyNode:
    """Add a node under `parent_id` (a root when None), at most MAX_DEPTH levels deep."""
    authorize(actor, "voc.taxonomy")
    kind = check_kind(kind)
    name = clean_text(name, "name", 60, required=True, single_line=True)
    name_en = clean_text(name_en, "name_en", 80, single_line=True)
    keywords = normalize_keywords(keywords)
    parent = _parent(kind, parent_id)
    if parent is not None:
        parent = TaxonomyNode.objects.select_for_update().get(pk=parent.pk)
    level = parent.level + 1 if parent else 1
    if level > MAX_DEPTH:
        raise ValidationFailed(
            _("parent_id: the tree has at most %(n)d levels.") % {"n": MAX_DEPTH}, field="parent_id"
        )
    _check_unique(kind, parent.pk if parent else None, name)
    if position is None:
        last = TaxonomyNode.objects.filter(kind=kind, parent=parent).aggregate(m=Max("position"))["m"]
        position = 0 if last is None else last + 1
    position = _check_position(position)
    now = clock.now()
    node = TaxonomyNode.objects.create(
        kind=kind,
        parent=parent,
        name=name,
        name_en=name_en,
        level=level,
        position=position,
        keywords=keywords,
        created_at=now,
        updated_at=now,
    )
    record_event(
        actor=actor,
        verb=events.TAXONOMY_NODE_CREATED.verb,
        subject=node,
        data={"node_id": node.pk, "kind": kind, "name": name, "parent_id": node.parent_id, "level": level},
    )
    return node


@transaction.atomic
def update_node(
    *,
    actor: Any,
    node_id: Any,
    name: Any = UNSET,
    name_en: Any = UNSET,
    keywords: Any = UNSET,
    parent_id: Any = UNSET,
    position: Any = UNSET,
    is_active: Any = UNSET,
) -> TaxonomyNode:
    """Change what is given. Moving (`parent_id`) keeps the levels of the node and its descendants
    consistent and refuses a move under the node itself or one of its descendants, and one that would
    make the tree deeper than MAX_DEPTH. Items keep pointing at the node."""
    authorize(actor, "voc.taxonomy")
    node = TaxonomyNode.objects.select_for_update().filter(pk=node_id).first() if node_id else None
    if node is None:
        raise NotFound(_("No such taxonomy node."), field="node_id")
    before = {
        "name": node.name,
        "name_en": node.name_en,
        "keywords": node.keywords,
        "parent_id": node.parent_id,
        "position": node.position,
        "is_active": node.is_active,
    }
    if name is not UNSET:
        node.name = clean_text(name, "name", 60, required=True, single_line=True)
    if name_en is not UNSET:
        node.name_en = clean_text(name_en, "name_en", 80, single_line=True)
    if keywords is not UNSET:
        node.keywords = normalize_keywords(keywords)
    if position is not UNSET:
        node.position = _check_position(position)
    if is_active is not UNSET:
        if not isinstance(is_active, bool):
            raise ValidationFailed(_("is_active must be true or false."), field="is_active")
        node.is_active = is_active
    level_shift = 0
    if parent_id is not UNSET:
        parent = _parent(node.kind, parent_id)
        new_parent_id = parent.pk if parent else None
        if new_parent_id != node.parent_id:
            if parent is not None and (parent.pk == node.pk or parent.pk in _descendant_ids(node.pk)):
                raise ValidationFailed(
                    _("parent_id: a node cannot move under itself or one of its descendants."),
                    field="parent_id",
                )
            new_level = parent.level + 1 if parent else 1
            if new_level + _height(node) - 1 > MAX_DEPTH:
                raise ValidationFailed(
                    _("parent_id: the tree has at most %(n)d levels; this move would make it deeper.")
                    % {"n": MAX_DEPTH},
                    field="parent_id",
                )
            level_shift = new_level - node.level
            node.parent_id = new_parent_id
            node.level = new_level
            if position is UNSET:
                last = TaxonomyNode.objects.filter(kind=node.kind, parent_id=new_parent_id).aggregate(
                    m=Max("position")
                )["m"]
                node.position = 0 if last is None else last + 1
    if node.name != before["name"] or node.parent_id != before["parent_id"]:
        _check_unique(node.kind, node.parent_id, node.name, exclude=node.pk)
    after = {
        "name": node.name,
        "name_en": node.name_en,
        "keywords": node.keywords,
        "parent_id": node.parent_id,
        "position": node.position,
        "is_active": node.is_active,
    }
    changed = [f for f in after if after[f] != before[f]]
    if not changed:
        return node
    node.updated_at = clock.now()
    node.save()
    if level_shift:
        descendants = _descendant_ids(node.pk)
        for d in TaxonomyNode.objects.filter(pk__in=descendants):
            d.level += level_shift
            d.save(update_fields=["level"])
    record_event(
        actor=actor,
        verb=events.TAXONOMY_NODE_CHANGED.verb,
        subject=node,
        data={
            "node_id": node.pk,
            "kind": node.kind,
            "name": node.name,
            "fields": ", ".join(changed),
            "from": {f: before[f] for f in changed},
            "to": {f: after[f] for f in changed},
        },
    )
    return node
