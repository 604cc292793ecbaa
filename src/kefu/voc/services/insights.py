"""Insights (问题): recurring root causes found in negative feedback, recomputed by the worker, and
their status set by people.

`compute_insights()` looks at the current ISO week (Monday 00:00 in settings.TIME_ZONE) and the
trailing eight weeks. Negative items — polarity "negative", and review items whose review is a 差评 —
are grouped by (product, cause node), cut into words with the organization's lexicon (the user
dictionary and product names of kefu.knowledge.search), and clustered by their strongest shared key
phrase (see insights_stats). Each cluster of three items or more is an insight, keyed
"{product_id or 0}:{cause_id or 0}:{phrase}" so its status survives recomputation."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.customers.models import Product, Shop
from kefu.voc import events
from kefu.voc.choices import FeedbackSource, InsightStatus, Polarity, RatingLevel, TaxonomyKind
from kefu.voc.models import FeedbackItem, Insight, InsightItem, TaxonomyNode
from kefu.voc.services import insights_stats as stats

__all__ = ["compute_insights", "negative_items_q", "recompute_insights", "set_insight_status", "window"]


def negative_items_q() -> Q:
    """What counts as negative feedback: polarity negative, or a review item of a 差评."""
    return Q(polarity=Polarity.NEGATIVE) | Q(source=FeedbackSource.REVIEW, review__level=RatingLevel.BAD)


def window(now: datetime | None = None) -> tuple[list[date], datetime, datetime]:
    """The window's Mondays (oldest first, this week last), its start (aware, local midnight of the
    first Monday) and `now`."""
    now = now or clock.now()
    tz = clock.local_tz()
    mondays = stats.window_weeks(stats.week_of(now, tz))
    start = datetime.combine(mondays[0], time.min, tzinfo=tz)
    return mondays, start, now


@dataclass
class _Row:
    id: int
    text: str
    occurred_at: datetime
    week: date
    product_id: int | None
    cause_id: int | None
    shop_id: int | None
    channel: str
    sentiment: float | None
    words: set[str] = field(default_factory=set)


def _cause_paths() -> dict[int, tuple[str, int]]:
    """Cause node id → ("性能/噪音", level)."""
    nodes = {n.id: n for n in TaxonomyNode.objects.filter(kind=TaxonomyKind.CAUSE)}
    paths: dict[int, tuple[str, int]] = {}
    for node in nodes.values():
        names, seen = [], set()
        cur: TaxonomyNode | None = node
        while cur is not None and cur.id not in seen:
            seen.add(cur.id)
            names.append(cur.name)
            cur = nodes.get(cur.parent_id) if cur.parent_id else None
        paths[node.id] = ("/".join(reversed(names)), node.level)
    return paths


def _load_rows(start: datetime, now: datetime) -> list[_Row]:
    tz = clock.local_tz()
    qs = (
        FeedbackItem.objects.filter(negative_items_q(), occurred_at__gte=start, occurred_at__lte=now)
        .order_by("occurred_at", "id")
        .values_list("id", "text", "occurred_at", "product_id", "cause_id", "shop_id", "channel", "sentiment")
    )
    return [
        _Row(i, text, at, stats.week_of(at, tz), prod, cause, shop, ch or "", sent)
        for i, text, at, prod, cause, shop, ch, sent in qs.iterator(chunk_size=2000)
    ]


def _product_words(lex: Any, products: dict[int, Product]) -> dict[int, frozenset[str]]:
    """Per product, the words of its name and model number: never a key phrase of its own insights."""
    out = {}
    for pid, p in products.items():
        words = set(lex.words(f"{p.name} {p.model_number}"))
        words.add(p.model_number.lower())
        out[pid] = frozenset(words)
    return out


def _title(product: Product | None, phrase: str, cause_path: str) -> str:
    head = f"{product.name} {product.model_number} · {phrase}" if product else phrase
    return f"{head} ({cause_path})" if cause_path else head


@transaction.atomic
def compute_insights(now: datetime | None = None) -> int:
    """Recompute every insight of the window; idempotent. Upserts by key (status kept), replaces the
    item links, deletes insights no longer found — except acknowledged ones, kept with zero counts.
    Returns how many insights were found. A system job: no actor."""
    from kefu.knowledge.search import lexicon

    mondays, start, now = window(now)
    rows = _load_rows(start, now)
    lex = lexicon()
    week_index = {m: i for i, m in enumerate(mondays)}
    negatives = [0] * len(mondays)
    for r in rows:
        negatives[week_index[r.week]] += 1
    total_negative = len(rows)

    products = Product.objects.in_bulk({r.product_id for r in rows if r.product_id})
    shops = dict(Shop.objects.filter(id__in={r.shop_id for r in rows if r.shop_id}).values_list("id", "name"))
    causes = _cause_paths()
    excluded = _product_words(lex, products)

    groups: dict[tuple[int | None, int | None], list[_Row]] = defaultdict(list)
    for r in rows:
        cause_id = r.cause_id if r.cause_id in causes else None
        groups[(r.product_id, cause_id)].append(r)

    found: dict[str, dict[str, Any]] = {}
    for (product_id, cause_id), members in groups.items():
        exclude = excluded.get(product_id, frozenset()) if product_id else frozenset()
        docs = [stats.phrase_candidates(lex.words(r.text), exclude) for r in members]
        for phrase, idx in stats.cluster(docs):
            key = f"{product_id or 0}:{cause_id or 0}:{phrase}"
            items = [members[i] for i in idx]
            found[key] = _insight_fields(
                items=items,
                phrase=phrase,
                phrases=stats.key_phrases(phrase, [docs[i] for i in idx]),
                product=products.get(product_id) if product_id else None,
                cause_id=cause_id,
                cause_path=causes[cause_id][0] if cause_id else "",
                mondays=mondays,
                negatives=negatives,
                total_negative=total_negative,
                shops=shops,
            )
    _save(found, mondays, now)
    return len(found)


def _insight_fields(
    *,
    items: list[_Row],
    phrase: str,
    phrases: list[str],
    product: Product | None,
    cause_id: int | None,
    cause_path: str,
    mondays: list[date],
    negatives: list[int],
    total_negative: int,
    shops: dict[int, str],
) -> dict[str, Any]:
    week_index = {m: i for i, m in enumerate(mondays)}
    counts = [0] * len(mondays)
    for r in items:
        counts[week_index[r.week]] += 1
    spike = stats.spike_test(counts, negatives)
    n = len(items)
    breakdown = {
        "shops": dict(Counter(shops.get(r.shop_id, "") for r in items if r.shop_id).most_common()),
        "channels": dict(Counter(r.channel for r in items if r.channel).most_common()),
        "products": {str(product): n} if product else {},
    }
    return {
        "title": _title(product, phrase, cause_path)[:200],
        "product": product,
        "cause_id": cause_id,
        "key_phrases": phrases,
        "first_seen": min(r.occurred_at for r in items),
        "last_seen": max(r.occurred_at for r in items),
        "item_count": n,
        "share_of_negative": round(n / total_negative, 4) if total_negative else 0.0,
        "weekly": [[m.isoformat(), c] for m, c in zip(mondays, counts, strict=True)],
        "this_week": counts[-1],
        "baseline_mean": round(spike.baseline_mean, 3),
        "is_spike": spike.is_spike,
        "spike_p_value": spike.p_value,
        "impact": stats.impact(n, (r.sentiment for r in items), spike.is_spike),
        "breakdown": breakdown,
        "_item_ids": [r.id for r in items],
    }


def _save(found: dict[str, dict[str, Any]], mondays: list[date], now: datetime) -> None:
    existing = {i.key: i for i in Insight.objects.select_for_update().filter(key__in=list(found))}
    links: list[InsightItem] = []
    for key, values in found.items():
        item_ids = values.pop("_item_ids")
        insight = existing.get(key)
        if insight is None:
            insight = Insight(key=key, status=InsightStatus.NEW)
        for name, value in values.items():
            setattr(insight, name, value)
        insight.computed_at = now
        insight.save()
        InsightItem.objects.filter(insight=insight).delete()
        links += [InsightItem(insight=insight, item_id=i) for i in item_ids]
    InsightItem.objects.bulk_create(links, batch_size=1000)

    gone = Insight.objects.exclude(key__in=list(found))
    gone.exclude(status=InsightStatus.ACKNOWLEDGED).delete()
    kept = list(gone.select_for_update())
    InsightItem.objects.filter(insight__in=kept).delete()
    zeros = [[m.isoformat(), 0] for m in mondays]
    for insight in kept:
        insight.item_count = insight.this_week = 0
        insight.share_of_negative = insight.baseline_mean = insight.impact = 0.0
        insight.is_spike, insight.spike_p_value = False, None
        insight.weekly, insight.breakdown, insight.computed_at = zeros, {}, now
    Insight.objects.bulk_update(
        kept,
        [
            "item_count", "this_week", "share_of_negative", "baseline_mean", "impact", "is_spike",
            "spike_p_value", "weekly", "breakdown", "computed_at",
        ],
    )  # fmt: skip


@transaction.atomic
def set_insight_status(*, actor: Any, insight_id: int, status: str) -> Insight:
    """Acknowledge or dismiss an insight (or set it back to new); audited."""
    authorize(actor, "voc.insight")
    if status not in InsightStatus.values:
        raise ValidationFailed(
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(InsightStatus.values)}, field="status"
        )
    insight = Insight.objects.select_for_update().filter(pk=insight_id).first()
    if insight is None:
        raise NotFound(_("Insight not found."), field="insight_id")
    before = insight.status
    if before == status:
        return insight
    insight.status = status
    insight.save(update_fields=["status"])
    record_event(
        actor=actor,
        verb=events.INSIGHT_STATUS_CHANGED.verb,
        subject=insight,
        data={"title": insight.title, "status": status, "from": before, "to": status},
    )
    return insight


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """The aware local start of the week of `monday` and of the next one."""
    tz = clock.local_tz()
    start = datetime.combine(monday, time.min, tzinfo=tz)
    return start, start + timedelta(weeks=1)


def recompute_insights(*, actor: Any) -> int:
    """ "Recompute now" from the insights page: the worker's job, run at once for a voc.insight holder."""
    authorize(actor, "voc.insight")
    return compute_insights()
