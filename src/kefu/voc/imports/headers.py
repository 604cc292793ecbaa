"""Review fields and the Chinese (and English) column headers of Tmall and JD review exports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext_lazy as _

# the fields a review export may fill, in the order the mapping form shows them
FIELDS: dict[str, object] = {
    "reviewed_at": _("Review time"),
    "rating": _("Rating"),
    "content": _("Review text"),
    "follow_up_content": _("Follow-up text (追评)"),
    "follow_up_at": _("Follow-up time"),
    "order_number": _("Order number"),
    "product_name": _("Product name"),
    "sku": _("SKU / model"),
    "buyer_nick": _("Buyer nick"),
    "shop": _("Shop (informational)"),
    "platform_review_id": _("Review id"),
}

ALIASES: dict[str, tuple[str, ...]] = {
    "reviewed_at": (
        "评价时间",
        "评论时间",
        "时间",
        "评价日期",
        "评论日期",
        "初评时间",
        "首评时间",
        "创建时间",
        "review time",
        "reviewed at",
        "date",
    ),
    "rating": (
        "评分",
        "评价等级",
        "星级",
        "评价星级",
        "商品评分",
        "评价类型",
        "评价结果",
        "打分",
        "分数",
        "评价级别",
        "商品星级",
        "rating",
        "stars",
        "score",
    ),
    "content": (
        "评价内容",
        "评论内容",
        "初评内容",
        "内容",
        "首评内容",
        "评价",
        "评论",
        "买家评价",
        "review",
        "content",
        "text",
    ),
    "follow_up_content": (
        "追评内容",
        "追加评论",
        "追评",
        "追加评价",
        "追加评论内容",
        "follow-up",
        "follow up",
    ),
    "follow_up_at": (
        "追评时间",
        "追加评论时间",
        "追加评价时间",
        "追评日期",
        "follow-up time",
        "follow up time",
    ),
    "order_number": (
        "订单号",
        "订单编号",
        "订单id",
        "订单",
        "主订单编号",
        "子订单编号",
        "order",
        "order number",
    ),
    "product_name": (
        "商品名称",
        "宝贝名称",
        "商品",
        "商品标题",
        "宝贝标题",
        "宝贝",
        "产品名称",
        "product",
        "product name",
    ),
    "sku": (
        "sku",
        "商品编号",
        "商品id",
        "货号",
        "型号",
        "商品编码",
        "商家编码",
        "sku编号",
        "sku id",
        "skuid",
        "宝贝id",
        "model",
    ),
    "buyer_nick": (
        "买家昵称",
        "用户昵称",
        "会员",
        "买家",
        "昵称",
        "用户名",
        "会员名",
        "买家会员名",
        "用户",
        "buyer",
        "nick",
    ),
    "shop": ("店铺", "店铺名称", "shop"),
    "platform_review_id": ("评价id", "评论id", "评价编号", "评论编号", "评价号", "review id"),
}

_SPACE = re.compile(r"[\s\u3000:：*]+")


def normalize_header(value: object) -> str:
    return _SPACE.sub("", str(value or "")).strip().lower()


_LOOKUP: dict[str, str] = {
    normalize_header(alias): field for field, aliases in ALIASES.items() for alias in aliases
}


def field_of(header: object) -> str | None:
    """The field a column header means, or None."""
    return _LOOKUP.get(normalize_header(header))


def auto_map(headers: Iterable[str], saved: Mapping[str, str] | None = None) -> dict[str, str]:
    """{field: header} for the file's headers: the shop's saved mapping where its headers still exist,
    then the known headers (the first column of each meaning wins)."""
    headers = [h for h in headers if h]
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for field, header in (saved or {}).items():
        if field in FIELDS and header in headers:
            mapping[field] = header
            used.add(header)
    for header in headers:
        field = field_of(header)
        if field and field not in mapping and header not in used:
            mapping[field] = header
            used.add(header)
    return mapping


def known_count(values: Iterable[object]) -> int:
    """How many distinct fields the values (a candidate header row) name."""
    return len({f for f in (field_of(v) for v in values) if f})
