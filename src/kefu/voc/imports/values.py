"""Parsing the cells of a review export: star ratings and 好评/中评/差评, Chinese date formats, texts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
GOOD, NEUTRAL, BAD = "good", "neutral", "bad"

_LEVEL_WORDS = {
    "好评": GOOD,
    "好": GOOD,
    "好评价": GOOD,
    "good": GOOD,
    "positive": GOOD,
    "中评": NEUTRAL,
    "中": NEUTRAL,
    "中评价": NEUTRAL,
    "neutral": NEUTRAL,
    "差评": BAD,
    "差": BAD,
    "差评价": BAD,
    "bad": BAD,
    "negative": BAD,
}
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_STARS = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:星|颗星|分|stars?|points?)?$", re.IGNORECASE)
_CN_STARS = re.compile(r"^([一二两三四五])\s*(?:星|颗星|分)$")


class BadValue(ValueError):
    """A cell that does not hold what its column promises."""


def text(value: Any) -> str:
    """A cell as text: numbers without a spurious ".0", whitespace trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).replace("\r\n", "\n").strip()


def level_of(stars: int) -> str:
    return GOOD if stars >= 4 else NEUTRAL if stars == 3 else BAD


def parse_rating(value: Any) -> tuple[int | None, str]:
    """(stars or None, level) from 5, "5", "5星", "5分", "★★★★☆", "五星", 好评/中评/差评. Raises BadValue."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = float(value)
        return _stars(number, value)
    raw = text(value)
    s = raw.replace(" ", "").lower()
    if not s:
        raise BadValue("empty")
    if s in _LEVEL_WORDS:
        return None, _LEVEL_WORDS[s]
    if "★" in s or "☆" in s:
        if set(s) <= {"★", "☆"}:
            return _stars(float(s.count("★")), raw)
        raise BadValue(raw)
    m = _STARS.match(s)
    if m:
        return _stars(float(m.group(1)), raw)
    m = _CN_STARS.match(s)
    if m:
        return _stars(float(_CN_DIGITS[m.group(1)]), raw)
    raise BadValue(raw)


def _stars(number: float, raw: Any) -> tuple[int, str]:
    if not number.is_integer() or not 1 <= number <= 5:
        raise BadValue(str(raw))
    stars = int(number)
    return stars, level_of(stars)


def parse_level(value: Any) -> str:
    """good/neutral/bad from the words (English or Chinese). Raises BadValue."""
    s = text(value).replace(" ", "").lower()
    if s in _LEVEL_WORDS:
        return _LEVEL_WORDS[s]
    raise BadValue(text(value))


_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T\s]?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:[.,](\d{1,6}))?)?\s*秒?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s*(\d{2}):?(\d{2}):?(\d{2})?)?$")
EXCEL_EPOCH = datetime(1899, 12, 30)


def parse_datetime(value: Any, tz: ZoneInfo = SHANGHAI) -> datetime:
    """An aware datetime from a cell: a datetime/date (Excel), an Excel serial number, or text such as
    "2026-11-02 08:30:15", "2026/11/2 8:30", "2026年11月2日 08:30", ISO 8601 with an offset. Naive times
    are in `tz` (Asia/Shanghai). Raises BadValue."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _excel_serial(float(value), tz, value)
    raw = text(value)
    s = raw.strip()
    if not s:
        raise BadValue("empty")
    m = _DATE.match(s)
    if m:
        y, mo, d, h, mi, sec, frac, offset = m.groups()
        return _build(raw, tz, y, mo, d, h, mi, sec, frac, offset)
    m = _COMPACT.match(s)
    if m:
        y, mo, d, h, mi, sec = m.groups()
        return _build(raw, tz, y, mo, d, h, mi, sec, None, None)
    try:
        number = float(s)
    except ValueError:
        raise BadValue(raw) from None
    return _excel_serial(number, tz, raw)


def _excel_serial(number: float, tz: ZoneInfo, raw: Any) -> datetime:
    if not 20_000 <= number <= 80_000:  # 1954 … 2119: anything else is not a date
        raise BadValue(str(raw))
    moment = EXCEL_EPOCH + timedelta(days=number)
    moment = moment.replace(microsecond=0) + timedelta(seconds=round(moment.microsecond / 1e6))
    return moment.replace(tzinfo=tz)


def _build(
    raw: str,
    tz: ZoneInfo,
    y: str,
    mo: str,
    d: str,
    h: str | None,
    mi: str | None,
    sec: str | None,
    frac: str | None,
    offset: str | None,
) -> datetime:
    zone: Any = tz
    if offset:
        if offset.upper() == "Z":
            zone = UTC
        else:
            digits = offset.replace(":", "")
            minutes = int(digits[1:3]) * 60 + int(digits[3:5])
            zone = timezone(timedelta(minutes=minutes if digits[0] == "+" else -minutes))
    try:
        return datetime(
            int(y),
            int(mo),
            int(d),
            int(h or 0),
            int(mi or 0),
            int(sec or 0),
            int((frac or "0").ljust(6, "0")[:6]),
            tzinfo=zone,
        )
    except ValueError:
        raise BadValue(raw) from None
