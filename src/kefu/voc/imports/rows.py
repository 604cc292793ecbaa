"""One export row → a ParsedReview or a RowError naming the column; the stable dedup key; products."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.voc.imports.values import BadValue, parse_datetime, parse_level, parse_rating, text

MAX_CONTENT = 10_000
LIMITS = {"order_number": 64, "product_name": 200, "sku": 100, "buyer_nick": 100, "shop": 100}
MAX_REVIEW_ID = 64


@dataclass
class ParsedReview:
    row: int
    reviewed_at: datetime
    level: str | None  # good/neutral/bad; None: no rating (the text decides)
    rating: int | None = None
    content: str = ""
    follow_up_content: str = ""
    follow_up_at: datetime | None = None
    order_number: str = ""
    product_name: str = ""
    sku: str = ""
    buyer_nick: str = ""
    shop: str = ""
    platform_review_id: str = ""
    dedup_key: str = ""


# why a row is skipped: code → message template (translated when shown, so a report reads in the
# reader's language whichever language the worker ran in)
REASONS: dict[str, str] = {
    "empty": gettext_noop("no review text and no rating"),
    "not_rating": gettext_noop("'%(value)s' is not a rating"),
    "not_level": gettext_noop("'%(value)s' is not good, neutral or bad"),
    "missing_time": gettext_noop("the review time is missing"),
    "not_datetime": gettext_noop("'%(value)s' is not a date and time"),
    "too_long": gettext_noop("longer than %(n)d characters"),
}


def describe(code: str, *, label: str = "", value: str = "", reason: str = "") -> str:
    """The reason a row was skipped, in the active language ("评分: '优秀' is not a rating")."""
    template = REASONS.get(code)
    if template is None:
        return reason
    text_ = _(template) % {"value": value, "n": MAX_REVIEW_ID}
    return f"{label}: {text_}" if label else text_


@dataclass
class RowError:
    row: int
    field: str
    code: str
    label: str = ""  # the column header (or API field path) the error is about
    value: str = ""

    @property
    def reason(self) -> str:
        return describe(self.code, label=self.label, value=self.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "field": self.field,
            "code": self.code,
            "label": self.label,
            "value": self.value,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        return _("row %(row)d: %(reason)s") % {"row": self.row, "reason": self.reason}


def dedup_key(
    *,
    platform_review_id: str,
    order_number: str,
    sku: str,
    product_name: str,
    buyer_nick: str,
    reviewed_at: datetime,
    content: str,
) -> str:
    """The platform's review id, else sha256 of order, product, buyer, time (UTC, seconds) and text —
    the same for the same row in any re-export (other column order, CSV or XLSX)."""
    if platform_review_id:
        return platform_review_id[:MAX_REVIEW_ID]
    moment = reviewed_at.astimezone(UTC).replace(microsecond=0).isoformat()
    parts = [order_number, sku or product_name, buyer_nick, moment, " ".join(content.split())]
    return hashlib.sha256("\x1f".join(p.strip() for p in parts).encode("utf-8")).hexdigest()


def parse_values(
    values: Mapping[str, Any], *, row: int, labels: Mapping[str, str]
) -> ParsedReview | RowError:
    """Parse one row given as {field: cell}; `labels` names each field in errors (the column header, or
    the API field path)."""

    def label(field: str) -> str:
        return labels.get(field, field)

    def bad(field: str, code: str, value: Any = "") -> RowError:
        return RowError(row, field, code, label(field), text(value)[:100])

    strings = {f: text(values.get(f)) for f in LIMITS}
    content = text(values.get("content"))[:MAX_CONTENT]
    raw_rating = values.get("rating")
    raw_level = values.get("level")
    if not content and not text(raw_rating) and not text(raw_level):
        return RowError(row, "content", "empty")
    stars: int | None = None
    level: str | None = None
    if text(raw_rating):
        try:
            stars, level = parse_rating(raw_rating)
        except BadValue:
            return bad("rating", "not_rating", raw_rating)
    elif text(raw_level):
        try:
            level = parse_level(raw_level)
        except BadValue:
            return bad("level", "not_level", raw_level)
    raw_at = values.get("reviewed_at")
    if not text(raw_at):
        return bad("reviewed_at", "missing_time")
    try:
        reviewed_at = parse_datetime(raw_at)
    except BadValue:
        return bad("reviewed_at", "not_datetime", raw_at)
    follow_up = text(values.get("follow_up_content"))[:MAX_CONTENT]
    follow_up_at: datetime | None = None
    if text(values.get("follow_up_at")):
        try:
            follow_up_at = parse_datetime(values.get("follow_up_at"))
        except BadValue:
            return bad("follow_up_at", "not_datetime", values.get("follow_up_at"))
    review_id = text(values.get("platform_review_id"))
    if len(review_id) > MAX_REVIEW_ID:
        return bad("platform_review_id", "too_long")
    for field, limit in LIMITS.items():
        strings[field] = " ".join(strings[field].split())[:limit]
    parsed = ParsedReview(
        row=row,
        reviewed_at=reviewed_at,
        level=level,
        rating=stars,
        content=content,
        follow_up_content=follow_up,
        follow_up_at=follow_up_at if follow_up else None,
        platform_review_id=review_id,
        **strings,
    )
    parsed.dedup_key = dedup_key(
        platform_review_id=review_id,
        order_number=parsed.order_number,
        sku=parsed.sku,
        product_name=parsed.product_name,
        buyer_nick=parsed.buyer_nick,
        reviewed_at=reviewed_at,
        content=content,
    )
    return parsed


class ProductMatcher:
    """A review's product: a model number found in its SKU, else in its product name (case-insensitive;
    the longest model number wins, so KY-5W is not taken for KY-5)."""

    def __init__(self, products: Iterable[tuple[int, str]]):
        self._models = sorted(
            ((m.strip().lower(), pk) for pk, m in products if m and m.strip()), key=lambda t: -len(t[0])
        )

    def match(self, sku: str, product_name: str) -> int | None:
        for haystack in (sku.lower(), product_name.lower()):
            if not haystack:
                continue
            for model, pk in self._models:
                if model in haystack:
                    return pk
        return None
