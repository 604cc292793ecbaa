"""Cause and touchpoint before any model is trained: the active taxonomy nodes' keywords.

A text's keyword matches count for their node and every ancestor; the label is found by descending
from the level-1 node with the most matched characters to the child with the most, as long as some
child matched — the deepest best-matching node. Confidence grows with the number and length of the
matches. The nodes are cached per process and reloaded when the taxonomy changes (a cheap query:
count and latest update of the nodes)."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Max

from kefu.voc.choices import LabelSource, TaxonomyKind


@dataclass
class RuleMatch:
    node_id: int | None = None
    confidence: float = 0.0
    terms: list[str] = field(default_factory=list)


@dataclass
class _Tree:
    pattern: re.Pattern[str] | None
    nodes_of: dict[str, list[int]]  # keyword → the nodes listing it
    chain: dict[int, tuple[int, ...]]  # node → itself and its ancestors, root first
    depth: dict[int, int]


_lock = threading.Lock()
_cache: dict[str, tuple[object, _Tree]] = {}


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _version(kind: str) -> object:
    from kefu.voc.models import TaxonomyNode

    # the highest id too: a tree deleted and created again (tests, a restore) at the same instant
    # has new ids with the same count and time
    row = TaxonomyNode.objects.filter(kind=kind).aggregate(
        n=Count("id"), at=Max("updated_at"), last=Max("id")
    )
    return (row["n"], row["at"], row["last"])


def _build(kind: str) -> _Tree:
    from kefu.voc.models import TaxonomyNode

    rows = list(TaxonomyNode.objects.filter(kind=kind).values("id", "parent_id", "keywords", "is_active"))
    parent = {r["id"]: r["parent_id"] for r in rows}
    active = {r["id"] for r in rows if r["is_active"]}
    chain: dict[int, tuple[int, ...]] = {}
    for node_id in parent:
        path: list[int] = []
        at: int | None = node_id
        while at is not None and at not in path:
            path.append(at)
            at = parent.get(at)
        chain[node_id] = tuple(reversed(path))
    nodes_of: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        # a node counts only when it and all its ancestors are active
        if not all(n in active for n in chain[r["id"]]):
            continue
        for line in r["keywords"].splitlines():
            word = _norm(line).strip()
            if word:
                nodes_of[word].append(r["id"])
    pattern = None
    if nodes_of:
        pattern = re.compile("|".join(re.escape(w) for w in sorted(nodes_of, key=len, reverse=True)))
    return _Tree(pattern, dict(nodes_of), chain, {n: len(c) for n, c in chain.items()})


def tree(kind: str) -> _Tree:
    version = _version(kind)
    cached = _cache.get(kind)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        built = _build(kind)
        _cache[kind] = (version, built)
    return built


def clear_cache() -> None:
    _cache.clear()


def match(texts: Sequence[str], kind: str) -> list[RuleMatch]:
    """The keyword label of each text for one taxonomy (cause or touchpoint)."""
    if kind not in TaxonomyKind.values:
        raise ValueError(kind)
    t = tree(kind)
    if t.pattern is None:
        return [RuleMatch() for _ in texts]
    return [_match_one(_norm(text), t) for text in texts]


def _match_one(text: str, t: _Tree) -> RuleMatch:
    found = t.pattern.findall(text) if t.pattern is not None else []
    if not found:
        return RuleMatch()
    score: dict[int, float] = defaultdict(float)  # node → matched characters in its subtree
    hits: dict[int, list[str]] = defaultdict(list)
    for word in found:
        for node_id in t.nodes_of[word]:
            for at in t.chain[node_id]:
                score[at] += len(word)
                hits[at].append(word)
    children: dict[int | None, list[int]] = defaultdict(list)
    for node_id in score:
        c = t.chain[node_id]
        children[c[-2] if len(c) > 1 else None].append(node_id)
    best: int | None = None
    level: int | None = None
    while children.get(level):
        # most matched characters, then the most keywords, then the lowest id (stable)
        level = max(children[level], key=lambda n: (score[n], len(hits[n]), -n))
        best = level
    if best is None:
        return RuleMatch()
    words = list(dict.fromkeys(hits[best]))
    n, chars = len(hits[best]), score[best]
    confidence = min(0.9, 0.3 + 0.1 * n + 0.04 * chars)
    return RuleMatch(best, round(confidence, 3), words[:5])


SOURCE = LabelSource.RULE
