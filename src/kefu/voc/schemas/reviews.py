"""Schemas of the review API, and the review list filters shared by the API and the review page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from ninja import Field, Schema

from kefu.core.errors import ValidationFailed
from kefu.voc.choices import RatingLevel
from kefu.voc.models import Review

PAGE = 50
MAX_LIMIT = 200


class ReviewIn(Schema):
    """One review. Values are checked by the service, so errors name `reviews[i].field`."""

    review_id: str | None = Field(
        None, description="The platform's review id (the dedup key), ≤ 64 characters"
    )
    rating: int | str | None = Field(None, description='Stars 1–5 (also "5星", "★★★★☆", 好评/中评/差评)')
    level: str | None = Field(
        None, description="good | neutral | bad (好评/中评/差评) when there are no stars"
    )
    content: str | None = Field(None, description="The review text (up to 10,000 characters)")
    reviewed_at: str | None = Field(None, description="ISO 8601, or 2026-11-02 08:30:15 in Asia/Shanghai")
    follow_up_content: str | None = Field(None, description="The 追评 (follow-up review)")
    follow_up_at: str | None = None
    order_number: str | None = None
    product_name: str | None = None
    sku: str | None = None
    buyer_nick: str | None = None


class ReviewsIn(Schema):
    shop: int | str = Field(..., description="Shop id or code")
    reviews: list[ReviewIn]


class ReviewsReceivedOut(Schema):
    created: int
    duplicates: int
    follow_ups_added: int
    ids: list[int]


class ReviewOut(Schema):
    id: int
    shop_id: int
    shop: str
    platform: str
    platform_review_id: str
    rating: int | None
    level: str
    content: str
    reviewed_at: datetime
    follow_up_content: str
    follow_up_at: datetime | None
    order_number: str
    product_id: int | None
    product_name: str
    sku: str
    buyer_nick: str
    ticket_number: str | None
    follow_up_ticket_number: str | None

    @staticmethod
    def resolve_shop(obj: Review) -> str:
        return obj.shop.name

    @staticmethod
    def resolve_ticket_number(obj: Review) -> str | None:
        return obj.ticket.number if obj.ticket_id and obj.ticket else None

    @staticmethod
    def resolve_follow_up_ticket_number(obj: Review) -> str | None:
        return obj.follow_up_ticket.number if obj.follow_up_ticket_id and obj.follow_up_ticket else None


class ReviewPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReviewOut]


class ImportOut(Schema):
    id: int
    shop_id: int
    file_name: str
    status: str
    total_rows: int
    processed_rows: int
    created_count: int
    updated_count: int
    duplicate_count: int
    skipped_count: int
    skipped: list[dict[str, Any]]
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _int(value: Any, name: str) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationFailed(_("'%(v)s' is not a number.") % {"v": text}, field=name)
    return int(text)


def _date(value: Any, name: str) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("'%(v)s' is not a date (YYYY-MM-DD).") % {"v": text}, field=name) from None


@dataclass
class ReviewFilters:
    """?shop=&product=&level=good|neutral|bad&week=YYYY-MM-DD (a Monday)&since=&until=&q= — the same on
    /voc/reviews/ and GET /api/v1/voc/reviews (the 差评率 chart links here with these)."""

    shop: int | None = None
    product: int | None = None
    level: str = ""
    week: date | None = None
    since: date | None = None
    until: date | None = None
    q: str = ""

    @classmethod
    def parse(cls, params: Any) -> ReviewFilters:
        level = str(params.get("level") or "").strip()
        if level and level not in RatingLevel.values:
            raise ValidationFailed(_("Level is good, neutral or bad."), field="level")
        week = _date(params.get("week"), "week")
        if week is not None and week.weekday() != 0:
            week = week - timedelta(days=week.weekday())  # any day means its ISO week
        return cls(
            shop=_int(params.get("shop"), "shop"),
            product=_int(params.get("product"), "product"),
            level=level,
            week=week,
            since=_date(params.get("since"), "since"),
            until=_date(params.get("until"), "until"),
            q=str(params.get("q") or "").strip()[:100],
        )

    def apply(self, qs: QuerySet[Review], tz: ZoneInfo | Any) -> QuerySet[Review]:
        def start(d: date) -> datetime:
            return datetime.combine(d, time.min, tzinfo=tz)

        if self.shop:
            qs = qs.filter(shop_id=self.shop)
        if self.product:
            qs = qs.filter(product_id=self.product)
        if self.level:
            qs = qs.filter(level=self.level)
        if self.week:
            qs = qs.filter(
                reviewed_at__gte=start(self.week), reviewed_at__lt=start(self.week + timedelta(days=7))
            )
        if self.since:
            qs = qs.filter(reviewed_at__gte=start(self.since))
        if self.until:
            qs = qs.filter(reviewed_at__lt=start(self.until + timedelta(days=1)))
        if self.q:
            qs = qs.filter(Q(content__icontains=self.q) | Q(follow_up_content__icontains=self.q))
        return qs

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (for paging and export links)."""
        out = {
            "shop": str(self.shop or ""),
            "product": str(self.product or ""),
            "level": self.level,
            "week": self.week.isoformat() if self.week else "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "q": self.q,
        }
        return {k: v for k, v in out.items() if v}


def review_queryset() -> QuerySet[Review]:
    return Review.objects.select_related("shop", "product", "ticket", "follow_up_ticket").order_by(
        "-reviewed_at", "-id"
    )
