"""Review import: a large JD export through the real import path, beside the database's own ceiling.

Uses the database KEFU_DATABASE_URL names (a dedicated one), else a SQLite file in KEFU_DATA_DIR, else
a fresh temporary directory; migrates it first. Generates an XLSX export of --rows reviews (JD headers,
varied Chinese texts, 1–5 stars, some 追评, unique review ids), then in one thread:
  1. parsing alone: kefu.voc.imports.read_table + parse_rows (rows/s);
  2. the import as the worker runs it: create_import + confirm_import (the preview and the mapping)
     then run_import (batches of 500: reviews, feedback items labelled by analyze(), no review-ticket
     rule) — rows/s, and the share of the time spent in analyze();
  3. the same file again (every row a duplicate): rows/s;
  ceiling: the same rows as plain INSERTs into the review table (executemany, one transaction per 500).

    .venv/bin/python bench/voc_import.py --rows 10000                  # SQLite, temporary dir
    eval "$(scripts/pg-throwaway start)"
    KEFU_DATA_DIR=$(mktemp -d) .venv/bin/python bench/voc_import.py --rows 10000
    scripts/pg-throwaway stop
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")
os.environ.setdefault("KEFU_DATA_DIR", tempfile.mkdtemp(prefix="kefu-import-bench-"))
os.environ["KEFU_HUEY_IMMEDIATE"] = "0"

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kefu import voc  # noqa: E402, F401
from kefu.accounts.models import User  # noqa: E402
from kefu.customers.models import Product, Shop  # noqa: E402
from kefu.voc import imports, textmodels  # noqa: E402
from kefu.voc.models import Review  # noqa: E402
from kefu.voc.services import reviews as review_services  # noqa: E402

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
OPENERS = ["收到货了，", "用了一周，", "第二次购买，", "帮家里老人买的，", "双十一入手，", ""]
GOOD = [
    "质量不错，操作简单",
    "物流很快，包装完好",
    "客服很耐心，讲解清楚",
    "氧浓度稳定，老人用着放心",
    "性价比高，推荐购买",
]
BAD = [
    "噪音太大，晚上根本睡不着",
    "快递太慢，催了好几次物流都没动",
    "客服态度很差，问了半天没人回复",
    "用了三天就坏了，申请换货",
    "包装压坏了，机器外壳有裂痕",
    "价格刚买就降了，差价不给退",
]
CLOSERS = ["。", "，失望。", "，还可以吧。", "！", "，希望改进。"]


def _text(rng: random.Random, stars: int) -> str:
    body = rng.choice(GOOD if stars >= 4 else BAD if stars <= 2 else GOOD + BAD)
    return rng.choice(OPENERS) + body + rng.choice(CLOSERS)


def make_export(rows: int, seed: int = 7) -> bytes:
    from openpyxl import Workbook

    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADERS)
    start = datetime(2026, 9, 1, 8, 0)
    for n in range(rows):
        stars = rng.choices([5, 4, 3, 2, 1], weights=[60, 15, 8, 7, 10])[0]
        at = start + timedelta(minutes=rng.randrange(0, 80 * 24 * 60))
        follow = rng.random() < 0.1
        ws.append(
            [
                "康悦制氧机 KY-5W 家用",
                "KY-5W",
                f"JD{880000000 + n}",
                stars,
                _text(rng, stars),
                at.strftime("%Y-%m-%d %H:%M:%S"),
                _text(rng, 2) if follow else "",
                (at + timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S") if follow else "",
                f"jd_{rng.randrange(10**6):06d}***",
                f"R{1_000_000 + n}",
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def setup() -> tuple[User, Shop]:
    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(username="bench-manager", defaults={"role": "supervisor"})
    shop, _ = Shop.objects.get_or_create(code="bench-jd", defaults={"name": "基准京东店", "platform": "jd"})
    Product.objects.get_or_create(model_number="KY-5W", defaults={"name": "制氧机"})
    return user, shop


def run_import(user: User, shop: Shop, data: bytes) -> tuple[float, object]:
    upload = SimpleUploadedFile("jd.xlsx", data)
    with transaction.atomic():
        imp = review_services.create_import(actor=user, shop_id=shop.pk, uploaded_file=upload)
    with transaction.atomic():
        imp = review_services.confirm_import(actor=user, import_id=imp.pk, columns=imp.columns)
    t0 = time.perf_counter()
    done = review_services.run_import(imp.pk)
    return time.perf_counter() - t0, done


def ceiling(rows: int) -> float:
    """Plain INSERTs of as many review rows (same columns), 500 per transaction, then removed."""
    table = Review._meta.db_table
    cols = [
        "shop_id", "platform", "platform_review_id", "dedup_key", "rating", "level", "content",
        "reviewed_at", "follow_up_content", "order_number", "product_name", "sku", "buyer_nick",
        "created_at", "updated_at",
    ]  # fmt: skip
    shop_id = Shop.objects.get(code="bench-jd").pk
    now = datetime.now().astimezone()
    values = [
        (shop_id, "jd", f"C{n}", f"ceiling-{n:064d}"[-64:], 5, "good", "质量不错，操作简单。", now, "",
         f"JD{n}", "康悦制氧机 KY-5W 家用", "KY-5W", "jd_000000***", now, now)
        for n in range(rows)
    ]  # fmt: skip
    placeholders = ", ".join(["%s"] * len(cols))
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders})"  # noqa: S608
    t0 = time.perf_counter()
    for start in range(0, rows, 500):
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, values[start : start + 500])
    elapsed = time.perf_counter() - t0
    Review.objects.filter(platform_review_id__startswith="C", dedup_key__startswith="ceiling").delete()
    return elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=10000)
    args = p.parse_args()
    user, shop = setup()
    print(f"database: {connection.vendor}; rows: {args.rows:,}")
    data = make_export(args.rows)
    print(f"export: {len(data) / 1e6:.1f} MB XLSX")

    t0 = time.perf_counter()
    table = imports.read_table(data)
    parsed = list(imports.parse_rows(table, imports.auto_map(table.headers)))
    t_parse = time.perf_counter() - t0
    texts = [p.content for p in parsed if isinstance(p, imports.ParsedReview)]
    t0 = time.perf_counter()
    for start in range(0, len(texts), 500):
        textmodels.analyze(texts[start : start + 500])
    t_analyze = time.perf_counter() - t0

    t_import, done = run_import(user, shop, data)
    assert done.status == "done", (done.status, done.error)
    created = done.created_count
    t_again, again = run_import(user, shop, data)
    assert again.created_count == 0 and again.duplicate_count == created, again.duplicate_count
    t_ceiling = ceiling(args.rows)

    rate = args.rows / t_import
    rows = [
        ("parse only (read_table + parse_rows)", args.rows / t_parse, ""),
        ("analyze() of the texts alone, batches of 500", len(texts) / t_analyze, ""),
        (
            f"import, new reviews ({created:,} created)",
            rate,
            f"{t_analyze / t_import:.0%} of it in analyze()",
        ),
        ("same file again (all duplicates)", args.rows / t_again, ""),
        ("ceiling: plain INSERT of the rows", args.rows / t_ceiling, ""),
    ]
    print(f"\n{'step':<48} {'rows/s':>10}")
    for name, value, note in rows:
        print(f"{name:<48} {value:>10,.0f}  {note}")
    print(f"\nimport / ceiling: {rate / (args.rows / t_ceiling):.2f}; {args.rows:,} rows in {t_import:.1f} s")


if __name__ == "__main__":
    main()
