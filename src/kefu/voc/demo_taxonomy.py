"""The demo's (and a new organization's starting) touchpoint and cause trees, with keywords the rule
classifier uses before any model has been trained. `seed_taxonomies()` is idempotent: a node that
exists (same kind, parent and name) is left as it is, so admins' edits survive a re-seed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kefu.core import clock
from kefu.voc.models import TaxonomyNode

# (name, name_en, keywords, children)
Spec = tuple[str, str, str, list[Any]]

TOUCHPOINTS: list[Spec] = [
    (
        "了解认知",
        "Awareness",
        "广告\n宣传\n了解",
        [
            ("广告宣传", "Advertising", "广告\n宣传\n夸大\n虚假宣传\n直播", []),
            ("售前咨询", "Pre-sales enquiry", "咨询\n参数\n介绍\n区别\n推荐", []),
        ],
    ),
    (
        "购买",
        "Purchase",
        "购买\n下单\n买",
        [
            (
                "下单支付",
                "Ordering and payment",
                "下单\n支付\n付款\n订单",
                [
                    ("价格", "Price", "价格\n降价\n差价\n保价\n太贵", []),
                    ("发票", "Invoice", "发票\n开票", []),
                ],
            ),
            ("促销优惠", "Promotions", "活动\n优惠\n满减\n优惠券\n赠品", []),
        ],
    ),
    (
        "配送安装",
        "Delivery and installation",
        "配送\n送货\n安装",
        [
            (
                "物流配送",
                "Delivery",
                "物流\n快递\n发货",
                [
                    (
                        "配送慢",
                        "Slow delivery",
                        "还没到\n没收到\n迟迟\n物流慢\n快递慢\n发货慢\n配送慢\n还没发货",
                        [],
                    ),
                    ("包装破损", "Damaged packaging", "包装\n破损\n压坏\n箱子烂\n磕碰", []),
                ],
            ),
            (
                "安装调试",
                "Installation",
                "安装\n调试",
                [
                    ("安装预约", "Installation appointment", "预约安装\n安装师傅\n约不上\n安装费", []),
                ],
            ),
        ],
    ),
    (
        "使用维护",
        "Use and maintenance",
        "使用\n用了\n用起来",
        [
            (
                "产品使用",
                "Using the product",
                "使用\n操作\n效果",
                [
                    ("噪音", "Noise", "噪音\n太吵\n声音大\n声音很大\n嗡嗡\n吵", []),
                    ("异味", "Odour", "异味\n味道\n臭\n刺鼻", []),
                    ("操作复杂", "Hard to operate", "操作复杂\n不会用\n太复杂\n看不懂\n说明书", []),
                ],
            ),
            (
                "耗材保养",
                "Consumables and care",
                "耗材\n保养\n清洗",
                [
                    ("滤芯", "Filters", "滤芯\n过滤棉\n分子筛", []),
                ],
            ),
        ],
    ),
    (
        "维修退换",
        "Repair and returns",
        "维修\n退货\n换货\n退款",
        [
            (
                "退换货",
                "Returns and exchanges",
                "退货\n换货\n退换",
                [
                    ("退款", "Refund", "退款\n退钱\n没退\n到账", []),
                    ("换货", "Exchange", "换货\n换一台\n换新", []),
                ],
            ),
            (
                "维修服务",
                "Repair service",
                "维修\n修\n售后",
                [
                    ("上门慢", "Slow on-site visit", "上门\n师傅没来\n没人上门\n约了几天", []),
                    ("维修质量", "Repair quality", "修不好\n修了又坏\n又坏了\n返修", []),
                ],
            ),
        ],
    ),
]

CAUSES: list[Spec] = [
    (
        "产品",
        "Product",
        "产品\n机器\n质量",
        [
            ("质量", "Quality", "质量\n坏了\n故障\n漏水\n开裂\n不工作\n次品", []),
            ("性能/噪音", "Performance / noise", "噪音\n太吵\n声音大\n声音很大\n嗡嗡\n效果差\n浓度低", []),
            ("设计", "Design", "设计\n外观\n太重\n不方便\n体积大", []),
            ("说明书", "Manual", "说明书\n看不懂\n没有说明", []),
        ],
    ),
    (
        "促销活动",
        "Promotion",
        "活动\n促销",
        [
            ("价格/保价", "Price / price protection", "降价\n保价\n差价\n价格\n太贵", []),
            ("赠品", "Free gifts", "赠品\n送的\n少发\n漏发赠品", []),
            ("优惠券", "Coupons", "优惠券\n券\n满减\n红包", []),
        ],
    ),
    (
        "服务",
        "Service",
        "客服\n服务",
        [
            ("客服态度", "Agent attitude", "态度\n不耐烦\n敷衍\n骂人\n爱答不理", []),
            ("响应慢", "Slow response", "没人回\n不回复\n回复慢\n等了很久\n没人理", []),
            ("专业能力", "Expertise", "不专业\n答非所问\n一问三不知\n说不清楚", []),
        ],
    ),
    (
        "物流",
        "Logistics",
        "物流\n快递\n发货",
        [
            ("配送慢", "Slow delivery", "还没到\n没收到\n迟迟\n物流慢\n快递慢\n发货慢\n配送慢\n还没发货", []),
            ("包装", "Packaging", "包装\n破损\n压坏\n箱子烂", []),
            ("快递员", "Courier", "快递员\n送货员\n不送上楼\n快递小哥", []),
        ],
    ),
    ("安装维修", "Installation and repair", "安装\n维修\n上门\n师傅\n修不好", []),
    ("其他", "Other", "", []),
]


def _seed(kind: str, specs: list[Spec], parent: TaxonomyNode | None, level: int) -> int:
    created = 0
    now = clock.now()
    for position, (name, name_en, keywords, children) in enumerate(specs):
        node = TaxonomyNode.objects.filter(kind=kind, parent=parent, name=name).first()
        if node is None:
            node = TaxonomyNode.objects.create(
                kind=kind,
                parent=parent,
                name=name,
                name_en=name_en,
                keywords=keywords,
                level=level,
                position=position,
                created_at=now,
                updated_at=now,
            )
            created += 1
        created += _seed(kind, children, node, level + 1)
    return created


@transaction.atomic
def seed_taxonomies() -> int:
    """Create the missing nodes of both trees; returns how many were created (0 on a re-run)."""
    return _seed("touchpoint", TOUCHPOINTS, None, 1) + _seed("cause", CAUSES, None, 1)
