"""Reads of the voice-of-customer dashboard, aggregated in SQL (portable: TruncWeek in the local time
zone, Coalesce, conditional Count — the same on SQLite and PostgreSQL):

- 差评率 (negative-review rate = 差评 reviews / all reviews) by shop and week, and per shop / product;
- the cause Pareto (negative feedback items by level-1 cause, with cumulative share);
- the touchpoint heat map (negative items by level-2 touchpoint and week).

Results carry ids only; the page adds the drill-down links."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, When
from django.db.models.functions import Coalesce, TruncWeek

from kefu.core import clock
from kefu.core.permissions import authorize
from kefu.customers.models import Product, Shop
from kefu.voc.choices import RatingLevel, TaxonomyKind
from kefu.voc.models import FeedbackItem, Review, TaxonomyNode
from kefu.voc.services.insights import negative_items_q
from kefu.voc.services.insights_stats import week_of, window_weeks

PERIODS = (8, 13, 26)  # weeks, this one included


@dataclass(frozen=True)
class Period:
    mondays: list[date]
    since: date  # the first Monday
    until: date  # today (local)
    start: datetime  # aware: local midnight of `since`
    end: datetime  # aware: now

    @property
    def weeks(self) -> int:
        return len(self.mondays)


def period(weeks: int = PERIODS[0], now: datetime | None = None) -> Period:
    now = now or clock.now()
    tz = clock.local_tz()
    mondays = window_weeks(week_of(now, tz), weeks)
    start = datetime.combine(mondays[0], time.min, tzinfo=tz)
    return Period(mondays, mondays[0], now.astimezone(tz).date(), start, now)


def _week(value: datetime | date | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(clock.local_tz()).date()
    return value


def _rate(bad: int, total: int) -> float | None:
    return round(bad / total, 4) if total else None


# --- 差评率 -------------------------------------------------------------------------------------


@dataclass
class RateRow:
    id: int | None
    name: str
    total: int = 0
    bad: int = 0
    weeks: dict[date, tuple[int, int]] = field(default_factory=dict)  # monday → (bad, total)

    @property
    def rate(self) -> float | None:
        return _rate(self.bad, self.total)


def _reviews(p: Period, shop_id: int | None, product_id: int | None) -> QuerySet[Review]:
    qs = Review.objects.filter(reviewed_at__gte=p.start, reviewed_at__lte=p.end)
    if shop_id:
        qs = qs.filter(shop_id=shop_id)
    if product_id:
        qs = qs.filter(product_id=product_id)
    return qs


_BAD = Count("id", filter=Q(level=RatingLevel.BAD))


def bad_review_rate_by_shop(
    *, actor: Any, p: Period, shop_id: int | None = None, product_id: int | None = None
) -> list[RateRow]:
    """Per shop (most reviews first): reviews and 差评 in the period and in each week."""
    authorize(actor, "voc.view")
    qs = (
        _reviews(p, shop_id, product_id)
        .annotate(week=TruncWeek("reviewed_at", tzinfo=clock.local_tz()))
        .values("shop_id", "week")
        .annotate(total=Count("id"), bad=_BAD)
        .order_by()
    )
    rows: dict[int, RateRow] = {}
    names = dict(Shop.objects.values_list("id", "name"))
    for r in qs:
        row = rows.setdefault(r["shop_id"], RateRow(r["shop_id"], names.get(r["shop_id"], "")))
        week = _week(r["week"])
        if week is None:
            continue
        bad, total = row.weeks.get(week, (0, 0))
        row.weeks[week] = (bad + r["bad"], total + r["total"])
        row.bad += r["bad"]
        row.total += r["total"]
    return sorted(rows.values(), key=lambda r: (-r.total, r.name))


def bad_review_rate_by_product(
    *, actor: Any, p: Period, shop_id: int | None = None, product_id: int | None = None
) -> list[RateRow]:
    """Per product (most reviews first; reviews without a known product under None)."""
    authorize(actor, "voc.view")
    qs = (
        _reviews(p, shop_id, product_id).values("product_id").annotate(total=Count("id"), bad=_BAD).order_by()
    )
    products = {pr.id: str(pr) for pr in Product.objects.filter(id__in=[r["product_id"] for r in qs])}
    rows = [RateRow(r["product_id"], products.get(r["product_id"], ""), r["total"], r["bad"]) for r in qs]
    return sorted(rows, key=lambda r: (-r.total, r.name))


# --- negative feedback: Pareto and heat map ---------------------------------------------------------


def _negative_items(p: Period, shop_id: int | None, product_id: int | None) -> QuerySet[FeedbackItem]:
    qs = FeedbackItem.objects.filter(negative_items_q(), occurred_at__gte=p.start, occurred_at__lte=p.end)
    if shop_id:
        qs = qs.filter(shop_id=shop_id)
    if product_id:
        qs = qs.filter(product_id=product_id)
    return qs


@dataclass
class ParetoBar:
    cause_id: int | None
    name: str
    count: int
    share: float  # of all negative items in the period
    cumulative: float  # running share, in bar order


def cause_pareto(
    *, actor: Any, p: Period, shop_id: int | None = None, product_id: int | None = None
) -> list[ParetoBar]:
    """Negative items by level-1 cause (sub-causes counted under their root), largest first, with
    the cumulative share; items without a cause come last as one bar with cause_id None."""
    authorize(actor, "voc.view")
    root = Coalesce("cause__parent__parent_id", "cause__parent_id", "cause_id")
    qs = _negative_items(p, shop_id, product_id).annotate(root=root).values("root").annotate(n=Count("id"))
    counts = {r["root"]: r["n"] for r in qs.order_by()}
    names = dict(TaxonomyNode.objects.filter(id__in=[k for k in counts if k]).values_list("id", "name"))
    total = sum(counts.values())
    ordered = sorted(((k, n) for k, n in counts.items() if k), key=lambda kn: (-kn[1], names.get(kn[0], "")))
    if None in counts:
        ordered.append((None, counts[None]))
    bars, running = [], 0
    for cause_id, n in ordered:
        running += n
        bars.append(
            ParetoBar(cause_id, names.get(cause_id, "") if cause_id else "", n, n / total, running / total)
        )
    return bars


@dataclass
class HeatRow:
    touchpoint_id: int
    name: str
    parent: str
    counts: list[int]  # per week of the period, oldest first

    @property
    def total(self) -> int:
        return sum(self.counts)


def touchpoint_heatmap(
    *, actor: Any, p: Period, shop_id: int | None = None, product_id: int | None = None
) -> list[HeatRow]:
    """Negative items per level-2 touchpoint (level-3 items counted under their parent) and week;
    one row per active level-2 touchpoint, in tree order, and any inactive one that has items."""
    authorize(actor, "voc.view")
    level2 = Case(
        When(touchpoint__level=2, then=F("touchpoint_id")),
        When(touchpoint__level=3, then=F("touchpoint__parent_id")),
        output_field=IntegerField(),
    )
    qs = (
        _negative_items(p, shop_id, product_id)
        .filter(touchpoint__level__in=(2, 3))
        .annotate(tp=level2, week=TruncWeek("occurred_at", tzinfo=clock.local_tz()))
        .values("tp", "week")
        .annotate(n=Count("id"))
        .order_by()
    )
    index = {m: i for i, m in enumerate(p.mondays)}
    cells: dict[int, list[int]] = {}
    for r in qs:
        week = _week(r["week"])
        if r["tp"] is None or week not in index:
            continue
        cells.setdefault(r["tp"], [0] * p.weeks)[index[week]] += r["n"]
    nodes = (
        TaxonomyNode.objects.filter(kind=TaxonomyKind.TOUCHPOINT, level=2)
        .filter(Q(is_active=True) | Q(id__in=list(cells)))
        .select_related("parent")
        .order_by("parent__position", "parent_id", "position", "id")
    )
    return [
        HeatRow(n.id, n.name, n.parent.name if n.parent else "", cells.get(n.id, [0] * p.weeks))
        for n in nodes
    ]


def week_range(monday: date) -> tuple[date, date]:
    return monday, monday + timedelta(days=6)
