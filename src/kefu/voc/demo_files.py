"""A realistic JD review export (XLSX) for the demo: ~60 reviews over the last two weeks — 制氧机 noise
complaints rising this week, slow delivery, praise, a few 追评 — and two rows the import skips."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HEADERS = [
    "商品名称",
    "商品编号",
    "订单编号",
    "评价星级",
    "评价内容",
    "评价时间",
    "追评内容",
    "追评时间",
    "用户昵称",
    "评价ID",
]

NOISE = [
    "制氧机噪音太大了，晚上根本睡不着",
    "声音大，像拖拉机一样，老人嫌吵",
    "机器运行起来嗡嗡响，太吵了，后悔买了",
    "噪音比描述的大很多，放卧室没法用",
    "出氧还行，就是声音大，吵得头疼",
    "用了三天噪音越来越大，申请换货",
]
LOGISTICS = [
    "物流太慢了，下单五天才到",
    "快递慢，催了好几次客服",
    "发货慢，包装还压坏了一个角",
    "配送太慢，说好次日达结果等了四天",
]
NEUTRAL = ["东西还可以，就是说明书看不太懂", "一般般吧，价格有点贵", "功能够用，外观普通"]
GOOD = [
    "很好用，老人说呼吸舒服多了",
    "质量不错，操作简单，客服很耐心",
    "物流很快，第二天就到了，包装完好",
    "测量准确，和医院的差不多",
    "性价比高，推荐购买",
    "已经是第二次购买了，一如既往的好",
    "外观漂亮，声音也不大，满意",
]
FOLLOW_UPS_BAD = ["用了一周，噪音还是很大，联系客服没人管", "追评：换货后还是吵，不推荐"]
FOLLOW_UPS_GOOD = ["用了半个月，一切正常", "追评：效果很好，家人都说好"]


def _product_list(products: Iterable[Any]) -> list[tuple[str, str]]:
    """(name, model number) of each product (Product objects, or (name, model) pairs)."""
    out = []
    for p in products:
        if isinstance(p, (tuple, list)):
            out.append((str(p[0]), str(p[1])))
        else:
            out.append((str(getattr(p, "name", "")), str(getattr(p, "model_number", ""))))
    return out or [("制氧机", "KY-5W"), ("血压计", "BP-620")]


def write_jd_export(path: str | Path, *, shop_name: str, products: Iterable[Any], now: datetime) -> Path:
    """Write the export to `path` (an .xlsx file) and return it. Deterministic for the same inputs."""
    from openpyxl import Workbook

    tz = ZoneInfo("Asia/Shanghai")
    local_now = now.astimezone(tz).replace(tzinfo=None, microsecond=0)
    rng = random.Random(f"{shop_name}-{local_now.date().isoformat()}")
    items = _product_list(products)
    oxygen = [p for p in items if "制氧" in p[0]] or items[:1]
    others = [p for p in items if p not in oxygen] or items
    week_start = local_now - timedelta(days=local_now.weekday())
    week_start = week_start.replace(hour=0, minute=0, second=0)

    def when(this_week: bool) -> datetime:
        start = week_start if this_week else week_start - timedelta(days=7)
        end = local_now if this_week else week_start
        span = max(int((end - start).total_seconds()) - 3600, 3600)
        return start + timedelta(seconds=rng.randrange(span))

    plan: list[tuple[str, int, tuple[str, str], bool]] = []  # (text, stars, product, this week)
    plan += [(NOISE[i % len(NOISE)], rng.choice([1, 1, 2]), oxygen[i % len(oxygen)], True) for i in range(9)]
    plan += [(NOISE[i % len(NOISE)], rng.choice([1, 2]), oxygen[i % len(oxygen)], False) for i in range(2)]
    plan += [
        (LOGISTICS[i % len(LOGISTICS)], rng.choice([1, 2, 3]), rng.choice(items), i % 2 == 0)
        for i in range(7)
    ]
    plan += [(NEUTRAL[i % len(NEUTRAL)], 3, rng.choice(others), i % 2 == 1) for i in range(6)]
    plan += [(GOOD[i % len(GOOD)], rng.choice([4, 5, 5]), rng.choice(items), i % 2 == 0) for i in range(34)]

    wb = Workbook()
    ws = wb.active
    ws.title = "评价列表"
    ws.append(HEADERS)
    rows = []
    for n, (text, stars, (name, model), this_week) in enumerate(plan):
        at = when(this_week)
        follow_up, follow_up_at = "", None
        if n in (1, 4) and at + timedelta(days=2) < local_now:
            follow_up, follow_up_at = FOLLOW_UPS_BAD[n % 2], at + timedelta(days=2, hours=3)
        elif n in (20, 25) and at + timedelta(days=3) < local_now:
            follow_up, follow_up_at = FOLLOW_UPS_GOOD[n % 2], at + timedelta(days=3)
        rows.append(
            [
                f"康悦{name} {model} 家用",
                str(100_012_000_000 + rng.randrange(1_000_000)),
                str(280_000_000_000 + rng.randrange(10**9)),
                stars,
                text,
                at,
                follow_up,
                follow_up_at,
                f"jd_{rng.randrange(16**6):06x}",
                f"JD{int(at.timestamp())}{n:03d}",
            ]
        )
    rows.sort(key=lambda r: r[5], reverse=True)
    # two rows the import skips: an unreadable date, and a row with nothing but a nick
    name0, model0 = items[0]
    bad_time = [f"康悦{name0} {model0} 家用", "100012999999", "280999999999", 5, "不错", "上周三下午"]
    rows.insert(7, [*bad_time, "", None, "jd_badtime", "JDBAD001"])
    rows.insert(30, ["", "", "", None, "", None, "", None, "jd_only_nick", ""])
    for r in rows:
        ws.append(r)
    for cell in ws["F"][1:] + ws["H"][1:]:
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
