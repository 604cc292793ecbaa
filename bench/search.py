"""Knowledge search: indexing throughput and search latency, each beside a ceiling.

Uses the database KEFU_DATABASE_URL names (a dedicated one: it adds --articles articles and --tickets
tickets), else a SQLite file in KEFU_DATA_DIR, else in a fresh temporary directory; migrates it first.
Texts are generated from a customer-service vocabulary (products, model numbers, faults, after-sales
topics) with real customer reviews from ../shared/data/*.csv as filler sentences (read here only,
never stored in the repository). Measures in one thread:
  1. indexing --articles articles with reindex("article") (load, strip Markdown, cut, upsert), in
     documents/s; beside the cutting alone and the ceiling: a raw bulk INSERT of the same rows (already
     cut) into the index table — what the database needs at the least (SQLite: with its FTS5 trigger);
     then index_article() one article at a time (an after-commit save), p50/p95;
  2. search() over the articles for --repeat rounds of realistic 1–3 word queries (two-character and
     one-character ones included) as an agent (articles + replies) and as the help center (public
     articles), p50/p95 ms, beside the ceiling: the bare full-text query in raw SQL (same terms, top 10
     by the vendor's rank, ids only);
  3. with --tickets N: N tickets (set-based: a pool of distinct generated tickets is cut once and the
     pool repeats; index entries are inserted in SQL, the GIN index built afterwards), ticket indexing
     docs/s through the reindex path on a sample, and ticket search as an admin (all tickets), as an
     agent (one team's eighth, a visible-ids subquery) and unscoped, beside the ceiling (the same
     full-text statement, raw) and the naive plan it replaces (rank every match).

    .venv/bin/python bench/search.py --articles 10000                          # SQLite, temporary dir
    eval "$(scripts/pg-throwaway start)"
    psql "$KEFU_DATABASE_URL" -c "CREATE DATABASE kb TEMPLATE template0 LOCALE 'C.UTF-8'"
    KEFU_DATABASE_URL=${KEFU_DATABASE_URL%/kefu}/kb KEFU_DATA_DIR=$(mktemp -d) \
        .venv/bin/python bench/search.py --articles 10000                      # articles only
    KEFU_DATA_DIR=$(mktemp -d) .venv/bin/python bench/search.py --articles 10000 --tickets 1000000
    scripts/pg-throwaway stop

On PostgreSQL with --tickets it also measures the knowledge-base search beside the tickets, as
migrated and then with the proposed partial GIN index (kefu.core.db.POSTGRES_KIND_INDEX_SQL[0],
created in the bench database).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")
if "KEFU_DATA_DIR" not in os.environ:
    os.environ["KEFU_DATA_DIR"] = tempfile.mkdtemp(prefix="kefu-search-bench-")
os.environ["KEFU_HUEY_IMMEDIATE"] = "0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kefu.core import clock, db  # noqa: E402
from kefu.knowledge import search  # noqa: E402
from kefu.knowledge.models import Article, ArticleVariant, SearchEntry  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PRODUCTS = [
    ("OC-3A", "便携制氧机"), ("OC-5B", "家用制氧机"), ("KJ-200", "空气净化器"), ("JS-60", "加湿器"),
    ("KT-35", "变频空调"), ("BX-520", "冰箱"), ("XY-90", "滚筒洗衣机"), ("RS-16", "燃气热水器"),
    ("SD-8", "扫地机器人"), ("XY-7", "电子血压计"), ("AM-9", "按摩椅"), ("JH-1", "净水器"),
]  # fmt: skip
ISSUES = [
    "噪音大", "不制冷", "漏水", "开机报警", "无法开机", "显示E4故障", "遥控器失灵", "滤网需要更换",
    "出氧浓度低", "有异味", "耗电高", "屏幕不亮", "充不进电", "加热慢", "有异响", "连不上WiFi", "测量不准",
]  # fmt: skip
TOPICS = [
    "退款", "退货", "换货", "发货", "物流", "发票", "保修", "安装", "维修", "上门服务", "优惠券", "会员积分",
    "价格保护", "以旧换新", "赠品", "配件购买", "售后网点", "催单", "延保", "客服",
]  # fmt: skip
# an article is about a fault of a product, or about an after-sales topic; its questions match
TITLES = {
    "fault": ["{p}{i}怎么办", "{p}{i}的处理方法", "{p}{i}原因排查", "{m} {i}", "{p}使用说明"],
    "topic": ["{t}流程说明", "{t}常见问题", "如何申请{t}", "{t}规则（{m}）", "{p}{t}说明"],
}
VARIANTS = {
    "fault": ["{p}{i}", "{i}怎么解决", "我的{p}{i}了", "为什么{p}会{i}", "{m}{i}正常吗", "{p}老是{i}"],
    "topic": ["{t}怎么弄", "{t}要多久", "{p}{t}找谁", "买的{p}想{t}", "{t}在哪里申请", "{m}能不能{t}"],
}
PARTS = [
    "电源线", "压缩机", "电机", "风扇", "滤芯", "水箱", "传感器", "主板", "显示屏", "遥控器", "电池",
    "充电座",
    "喷嘴", "管路", "密封圈", "门封条", "排水管", "加热管", "温控器", "分子筛", "袖带", "按摩头", "出风口",
    "进水阀", "排气孔", "接头", "轮子", "边刷", "尘盒", "雾化片", "氧浓度传感器", "流量计", "控制面板",
]  # fmt: skip
OPENERS = [
    "",
    "",
    "首先，",
    "然后",
    "如果",
    "一般情况下，",
    "注意：",
    "必要时",
    "另外，",
    "最后，",
    "遇到这种情况，",
]
CORES = [
    "顾客反映{p}{i}，先确认购买日期和型号{m}",
    "请顾客检查{x}是否松动或损坏",
    "让顾客拍一段视频发过来，看清{x}的状态",
    "在保修期内可以直接登记{t}",
    "{t}一般三到五个工作日完成，节假日顺延",
    "先安抚顾客情绪，说明处理时限",
    "需要上门时创建上门服务单，预约师傅时间",
    "{m}的{x}建议定期清洁或更换",
    "长期不清洁{x}会导致{i}",
    "赠品随主机寄出，单独{t}要备注订单号",
    "天猫和京东店铺的{t}规则一致，以订单页面为准",
    "处理完成后回访顾客，并邀请评价",
    "{x}属于易损件，不在免费保修范围内",
    "更换{x}后重新开机观察半小时",
    "如果{x}发烫或有焦味，立即断电并停止使用",
    "核对顾客地址和联系电话，避免师傅白跑",
    "同一问题第二次报修的，升级给二线处理",
    "超过十五天的订单，{t}需要主管审批",
    "顾客要求补偿时，按补偿标准发放优惠券",
    "把{x}的批次号记录在工单里，便于质量部追溯",
    "网点没有{x}库存时，从中心仓调货",
    "告知顾客{t}进度可以在小程序查询",
    "{p}在海拔较高或潮湿的地方使用，容易出现{i}",
    "按住电源键五秒恢复出厂设置",
    "发票在订单完成后七天内开具，抬头和税号以顾客填写为准",
    "物流停滞超过四十八小时，联系快递公司核实",
    "退款原路退回，到账时间以银行为准",
    "价格保护期为下单后三十天，差价以优惠券形式返还",
    "以旧换新需要先回收旧机，再下单新机",
    "会员积分可以兑换{x}等配件",
]
CLOSERS = [
    "。",
    "。",
    "。",
    "，并在工单中备注。",
    "，不要推诿。",
    "，记录处理结果。",
    "，如仍不能解决，转二线。",
]
QUERIES = [
    "退款", "发货", "客服", "保修", "发票", "安装", "退", "制氧机 噪音", "空调 不制冷", "洗衣机 漏水",
    "滤网 更换", "OC-3A", "KJ-200 滤网", "发票 抬头", "退货 运费", "物流 太慢", "优惠券 怎么用",
    "会员积分 兑换", "热水器 E4", "上门 维修 预约", "价格保护 申请", "售后网点 地址",
    "扫地机器人 充不进电", "血压计 测量不准", "以旧换新",
]  # fmt: skip
TICKET_QUERIES = [
    "退款", "发货", "客服", "漏水", "退", "制氧机 噪音", "空调 不制冷", "OC-3A", "发票 抬头",
    "物流 太慢", "热水器 E4", "上门 维修", "扫地机器人 充不进电", "态度 很好", "送餐 太慢",
]  # fmt: skip


def reviews() -> list[str]:
    out: list[str] = []
    for name in ("ChnSentiCorp_htl_all.csv", "waimai_10k.csv"):
        with open(DATA / name, encoding="utf-8", newline="") as f:
            out += [row[1].strip() for row in list(csv.reader(f))[1:] if len(row) > 1 and row[1].strip()]
    return out


def fill_words(rng: random.Random) -> dict[str, str]:
    m, p = rng.choice(PRODUCTS)
    return {"m": m, "p": p, "i": rng.choice(ISSUES), "t": rng.choice(TOPICS), "x": rng.choice(PARTS)}


def sentence(rng: random.Random, w: dict[str, str]) -> str:
    w = {**w, "x": rng.choice(PARTS)} if rng.random() < 0.5 else w
    return rng.choice(OPENERS) + rng.choice(CORES).format(**w) + rng.choice(CLOSERS)


def make_article(rng: random.Random, filler: list[str]) -> tuple[str, str, list[str]]:
    w = fill_words(rng)
    about = rng.choice(["fault", "topic"])
    title = rng.choice(TITLES[about]).format(**w)
    variants = list(dict.fromkeys(rng.choice(VARIANTS[about]).format(**w) for _ in range(rng.randint(1, 4))))
    parts = ["## 问题描述", "".join(sentence(rng, w) for _ in range(rng.randint(1, 3)))]
    parts += ["## 处理步骤"] + [f"{k}. " + sentence(rng, w) for k in range(1, rng.randint(2, 5))]
    parts += ["## 顾客原话", "> " + rng.choice(filler)]
    if rng.random() < 0.5:
        parts.append("> " + rng.choice(filler))
    return title, "\n\n".join(parts), variants


def make_ticket(rng: random.Random, filler: list[str]) -> tuple[str, str]:
    w = fill_words(rng)
    subject = rng.choice(["{p}{i}", "{m}{i}", "{t}问题", "{p}{t}", "咨询{t}"]).format(**w)
    desc = rng.choice(["我的{p}{i}，", "{m}{i}，", "想问一下{t}，", "{p}买了两个月，", ""]).format(**w)
    desc += rng.choice(filler)
    return subject, desc


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def table(rows: list[list[object]]) -> None:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"
        return f"{v:,}" if isinstance(v, int) else str(v)

    print("| " + " | ".join(str(c) for c in rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows[1:]:
        print("| " + " | ".join(cell(c) for c in row) + " |")
    print(flush=True)


# --- filling --------------------------------------------------------------------------------------------


def fill_articles(n: int, filler: list[str]) -> None:
    have = Article.objects.count()
    if have >= n:
        print(f"database already holds {have:,} articles")
        return
    rng = random.Random(11)
    now = clock.now()
    t0 = time.perf_counter()
    for start in range(have, n, 2000):
        batch = [make_article(rng, filler) for _ in range(start, min(n, start + 2000))]
        with transaction.atomic():
            objs = Article.objects.bulk_create(
                [
                    Article(
                        title=title[:200],
                        body=body,
                        audience="public" if rng.random() < 0.4 else "internal",
                        status="published" if rng.random() < 0.9 else "draft",
                        created_at=now,
                        updated_at=now,
                    )
                    for title, body, _ in batch
                ]
            )
            ArticleVariant.objects.bulk_create(
                [
                    ArticleVariant(article_id=a.pk, text=v[:300], created_at=now)
                    for a, (_, _, variants) in zip(objs, batch, strict=True)
                    for v in variants
                ]
            )
    print(f"added {n - have:,} articles in {time.perf_counter() - t0:,.1f} s", flush=True)


def raw_insert(entries: list[SearchEntry]) -> float:
    """Seconds to INSERT the rows as they are (no cutting), 1,000 per statement batch and transaction."""
    cols = "kind, object_id, title, text, tokens, audience, team_id, is_live, updated_at"
    sql = f"INSERT INTO knowledge_searchentry ({cols}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    rows = [
        (e.kind, e.object_id, e.title, e.text, e.tokens, e.audience, e.team_id, e.is_live, e.updated_at)
        for e in entries
    ]
    t0 = time.perf_counter()
    for i in range(0, len(rows), 1000):
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, rows[i : i + 1000])
    return time.perf_counter() - t0


def indexing_articles(n: int) -> None:
    print(f"\n## indexing {n:,} articles")
    SearchEntry.objects.filter(kind="article").delete()
    lex = search.lexicon()  # the dictionary is loaded once per process (~1 s), not part of indexing
    lex._cut_cache.clear()
    t0 = time.perf_counter()
    count = search.reindex("article")
    fresh = time.perf_counter() - t0
    lex._cut_cache.clear()
    t0 = time.perf_counter()
    search.reindex("article")
    again = time.perf_counter() - t0
    # generated texts repeat phrases more than real ones: once more with no phrase ever cut before
    lex._cut_cache.clear()
    lex.cut_cache_size = 0
    t0 = time.perf_counter()
    search.reindex("article")
    uncached = time.perf_counter() - t0
    # the same documents, cut only (Python), and the ceiling: their rows inserted raw
    docs = _all_docs()
    chars = sum(len(d.title) * 3 + sum(len(v) * 2 for v in d.variants) + len(d.text) for d in docs)
    now = clock.now()
    t0 = time.perf_counter()
    entries = [search.build_entry("article", d, lex, now) for d in docs]
    cut_uncached = time.perf_counter() - t0
    lex.cut_cache_size = type(lex).cut_cache_size
    t0 = time.perf_counter()
    entries = [search.build_entry("article", d, lex, now) for d in docs]
    cut = time.perf_counter() - t0
    SearchEntry.objects.filter(kind="article").delete()
    ceiling = raw_insert(entries)
    search.reindex("article")  # back to the real entries
    db.tidy_search_index()  # as `kefu reindex_search` does after a rebuild
    terms = sum(len(e.tokens.split()) for e in entries) / len(entries)
    print(f"{count:,} articles, {chars / count:,.0f} characters and {terms:,.0f} terms each on average\n")
    table(
        [
            ["step", "seconds", "docs/s", "× ceiling time"],
            ["reindex, empty index", fresh, count / fresh, fresh / ceiling],
            ["reindex, over existing entries (upsert)", again, count / again, again / ceiling],
            ["reindex, upsert, no phrase cache", uncached, count / uncached, uncached / ceiling],
            ["cutting alone (build_entry, Python)", cut, count / cut, cut / ceiling],
            ["cutting alone, no phrase cache", cut_uncached, count / cut_uncached, cut_uncached / ceiling],
            ["ceiling: raw INSERT of the same rows", ceiling, count / ceiling, 1.0],
        ]
    )
    ids = list(Article.objects.order_by("?").values_list("id", flat=True)[:300])
    one = []
    for pk in ids:
        t0 = time.perf_counter()
        search.index_article(pk)
        one.append((time.perf_counter() - t0) * 1000)
    print(f"index_article() one at a time (300): p50 {pct(one, 0.5):.2f} ms, p95 {pct(one, 0.95):.2f} ms\n")


def _all_docs() -> list[search.Document]:
    out: list[search.Document] = []
    after = 0
    while batch := search._article_documents(after, 2000):
        out += batch
        after = batch[-1].object_id
    return out


# --- searching ------------------------------------------------------------------------------------------


def bare_sql(terms: list[tuple[str, bool]], kind: str = "article") -> list[tuple[str, list]]:
    """The ceiling: the full-text statement(s) alone — for tickets the first window's candidates
    (newest first, no visibility check) and their ranking, as fts_search_newest sends them."""
    q = db.fts_query(terms)
    if db.is_postgres():
        rank = db.PG_RANK.format(tsv="tsv")
        if kind == "ticket":
            return [
                ("SET jit = off", []),
                ("SET work_mem = '32MB'", []),
                (
                    "WITH m AS MATERIALIZED (SELECT id, object_id FROM knowledge_searchentry WHERE "
                    "tsv @@ to_tsquery('simple', %s) AND kind = 'ticket' AND object_id > %s) "
                    "SELECT id FROM knowledge_searchentry WHERE id IN "
                    "(SELECT id FROM m ORDER BY object_id DESC "
                    f"LIMIT {search.TICKET_CANDIDATES}) ORDER BY {rank} DESC LIMIT 10",
                    [q, TOP_TICKET[0] - 20_000, q],
                ),
            ]
        return [
            (
                "SELECT id FROM knowledge_searchentry WHERE tsv @@ to_tsquery('simple', %s) "
                f"AND kind = '{kind}' ORDER BY {rank} DESC LIMIT 10",
                [q, q],
            )
        ]
    if kind == "ticket":
        return [
            (
                "SELECT rowid, r FROM (SELECT rowid, bm25(knowledge_search_fts) AS r "
                "FROM knowledge_search_fts "
                f"WHERE knowledge_search_fts MATCH %s ORDER BY rowid DESC LIMIT {search.TICKET_CANDIDATES}) "
                "ORDER BY r LIMIT 10",
                [q],
            )
        ]
    return [
        (
            "SELECT rowid FROM knowledge_search_fts WHERE knowledge_search_fts MATCH %s "
            "ORDER BY bm25(knowledge_search_fts) LIMIT 10",
            [q],
        )
    ]


TOP_TICKET = [0]  # the newest ticket id, for the ceiling's fixed window


def naive_sql(terms: list[tuple[str, bool]]) -> list[tuple[str, list]]:
    """What the newest-first strategy replaces: rank every ticket that matches."""
    q = db.fts_query(terms)
    rank = db.PG_RANK.format(tsv="tsv")
    return [
        (
            "SELECT id FROM knowledge_searchentry WHERE tsv @@ to_tsquery('simple', %s) AND kind = 'ticket' "
            f"ORDER BY {rank} DESC LIMIT 10",
            [q, q],
        )
    ]


def timed(fn, queries: list[str], repeat: int) -> list[float]:
    for q in queries:  # warm-up
        fn(q)
    out = []
    for _ in range(repeat):
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def raw(sql_of):
    def run(q: str) -> None:
        with connection.cursor() as cur:
            for sql, params in sql_of(search._query_terms(q, search.lexicon())):
                cur.execute(sql, params or None)
                if cur.description:
                    cur.fetchall()

    return run


def matches(q: str, where: str) -> int:
    terms = search._query_terms(q, search.lexicon())
    with connection.cursor() as cur:
        if db.is_postgres():
            cur.execute(
                f"SELECT count(*) FROM knowledge_searchentry WHERE tsv @@ to_tsquery('simple', %s){where}",
                [db.fts_query(terms)],
            )
        else:
            cur.execute(
                "SELECT count(*) FROM knowledge_search_fts WHERE knowledge_search_fts MATCH %s",
                [db.fts_query(terms)],
            )
        return cur.fetchone()[0]


def searching_articles(repeat: int, note: str = "") -> None:
    print(
        f"## searching {Article.objects.count():,} articles{note} "
        f"({len(QUERIES)} queries × {repeat} rounds)\n"
    )
    counts = [matches(q, " AND kind = 'article'") for q in QUERIES]
    print(f"matches per query: median {statistics.median(counts):,.0f}, max {max(counts):,}\n")
    rows: list[list[object]] = [["", "p50 ms", "p95 ms", "max ms", "× ceiling (p50)"]]
    ceiling = timed(raw(lambda t: bare_sql(t)), QUERIES, repeat)
    for label, fn in [
        ("search() as an agent (articles + replies)", lambda q: search.search(q)),
        (
            "search() as the help center (public)",
            lambda q: search.search(q, kinds=("article",), audience="public"),
        ),
        ("search(limit=50) as an agent", lambda q: search.search(q, limit=50)),
    ]:
        ms = timed(fn, QUERIES, repeat)
        rows.append([label, pct(ms, 0.5), pct(ms, 0.95), max(ms), pct(ms, 0.5) / pct(ceiling, 0.5)])
    rows.append(
        ["ceiling: bare full-text query, raw SQL", pct(ceiling, 0.5), pct(ceiling, 0.95), max(ceiling), 1.0]
    )
    table(rows)
    for q in ("制氧机 噪音", "退款", "OC-3A"):
        hits = search.search(q, limit=3)
        print(f"  {q!r}: " + " | ".join(f"{h.title} ({h.score:.3g})" for h in hits))
    print()


# --- tickets --------------------------------------------------------------------------------------------


def fill_tickets(n: int, filler: list[str], pool_size: int) -> None:
    from kefu.accounts.models import Department, Membership, Team, User
    from kefu.customers.models import Customer
    from kefu.tickets.models import Ticket

    have = SearchEntry.objects.filter(kind="ticket").count()
    if have >= n:
        print(f"database already holds {have:,} ticket entries")
        return
    print(f"\n## filling {n:,} tickets (a pool of {pool_size:,} distinct ones, repeated)")
    dept, _ = Department.objects.get_or_create(code="bench", defaults={"name": "bench"})
    teams = [Team.objects.get_or_create(name=f"bench-{k}", department=dept)[0] for k in range(8)]
    agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": "agent"})
    Membership.objects.get_or_create(user=agent, team=teams[0])
    User.objects.get_or_create(username="bench-admin", defaults={"role": "admin"})
    customer, _ = Customer.objects.get_or_create(name="bench")
    rng = random.Random(5)
    pool = [make_ticket(rng, filler) for _ in range(pool_size)]
    lex, now = search.lexicon(), clock.now()
    lex._cut_cache.clear()
    lex.cut_cache_size = 0  # every phrase cut afresh: the unfavourable case
    t0 = time.perf_counter()
    pool_tokens = [search.build_entry("ticket", search.Document(0, s, d), lex, now).tokens for s, d in pool]
    cut = time.perf_counter() - t0
    lex.cut_cache_size = type(lex).cut_cache_size
    chars = sum(len(s) * 3 + len(d) for s, d in pool) / pool_size
    terms = sum(len(t.split()) for t in pool_tokens) / pool_size
    print(
        f"cut {pool_size:,} tickets ({chars:,.0f} characters, {terms:,.0f} terms each) in {cut:,.1f} s "
        f"without the phrase cache: {pool_size / cut:,.0f} docs/s"
    )
    start = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    tt = Ticket._meta.db_table
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_pool "
            "(k integer PRIMARY KEY, subject text, description text, tokens text)"
        )
        rows = [(k, s, d, tok) for k, ((s, d), tok) in enumerate(zip(pool, pool_tokens, strict=True))]
        if db.is_postgres():
            buf = io.StringIO()
            for row in rows:
                buf.write(
                    "\t".join(
                        str(v).replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n") for v in row
                    )
                )
                buf.write("\n")
            buf.seek(0)
            with cur.cursor.copy("COPY bench_pool FROM STDIN") as copy:
                copy.write(buf.read())
            series = "generate_series(%s, %s) AS g(i)"
            cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cur.execute("DROP INDEX IF EXISTS knowledge_search_tsv_idx")
        else:
            cur.executemany("INSERT INTO bench_pool VALUES (%s, %s, %s, %s)", rows)
            series = (
                "(WITH RECURSIVE s(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM s WHERE i < %s) "
                "SELECT i FROM s)"
            )
        team_case = "CASE (i %% 8) " + " ".join(f"WHEN {k} THEN {t.pk}" for k, t in enumerate(teams)) + " END"
        cur.execute(
            f"""INSERT INTO {tt} (number, subject, description, type, channel, status, priority, customer_id,
                team_id, custom_fields, created_at, updated_at, reopened_count, sla_breached)
            SELECT 'S' || i, p.subject, p.description, 'inquiry', 'phone', 'open', 'normal', %s, {team_case},
                '{{}}', %s, %s, 0, %s
            FROM {series} JOIN bench_pool p ON p.k = i %% {pool_size}""",
            [customer.pk, now, now, False, start + 1, start + n - have],
        )
        t1 = time.perf_counter()
        print(f"  tickets inserted in {t1 - t0:,.0f} s", flush=True)
        cur.execute(
            f"""INSERT INTO knowledge_searchentry
                (kind, object_id, title, text, tokens, audience, is_live, updated_at)
            SELECT 'ticket', t.id, t.subject, t.description, p.tokens, '', %s, %s
            FROM {tt} t JOIN bench_pool p ON p.k = (CAST(substr(t.number, 2) AS integer)) %% {pool_size}
            WHERE t.id > %s AND t.number LIKE 'S%%'""",
            [True, now, start],
        )
        t2 = time.perf_counter()
        print(f"  index entries inserted in {t2 - t1:,.0f} s", flush=True)
        if db.is_postgres():
            cur.execute("CREATE INDEX knowledge_search_tsv_idx ON knowledge_searchentry USING GIN (tsv)")
            print(f"  GIN index built in {time.perf_counter() - t2:,.0f} s", flush=True)
        cur.execute("DROP TABLE bench_pool")
    db.analyze()
    print(f"  filled in {time.perf_counter() - t0:,.0f} s\n", flush=True)


def indexing_tickets(sample: int) -> None:
    from kefu.tickets.handlers import ticket_documents

    lo = (
        SearchEntry.objects.filter(kind="ticket")
        .order_by("object_id")
        .values_list("object_id", flat=True)[5000]
    )
    docs: list[search.Document] = []
    t0 = time.perf_counter()
    lex = search.lexicon()
    lex._cut_cache.clear()
    after = lo
    while len(docs) < sample:
        batch = ticket_documents(after, 1000)
        if not batch:
            break
        now = clock.now()
        entries = [search.build_entry("ticket", d, lex, now) for d in batch]
        with transaction.atomic():
            search.write_entries(entries)
        docs += batch
        after = batch[-1].object_id
    took = time.perf_counter() - t0
    entries = [search.build_entry("ticket", d, lex, clock.now()) for d in docs]
    ids = [d.object_id for d in docs]
    SearchEntry.objects.filter(kind="ticket", object_id__in=ids).delete()
    ceiling = raw_insert(entries)
    print(
        f"ticket indexing, reindex path over {len(docs):,} tickets (upserts): "
        f"{len(docs) / took:,.0f} docs/s; "
        f"ceiling raw INSERT {len(docs) / ceiling:,.0f} docs/s ({took / ceiling:.1f}×)\n"
    )


def searching_tickets(repeat: int) -> None:
    from kefu.accounts.models import User
    from kefu.tickets.models import Ticket

    n = SearchEntry.objects.filter(kind="ticket").count()
    print(f"## searching {n:,} tickets ({len(TICKET_QUERIES)} queries × {repeat} rounds)\n")
    counts = [matches(q, " AND kind = 'ticket'") for q in TICKET_QUERIES]
    print(f"matches per query: median {statistics.median(counts):,.0f}, max {max(counts):,}\n")
    TOP_TICKET[0] = SearchEntry.objects.filter(kind="ticket").order_by("-object_id")[0].object_id
    admin = User.objects.get(username="bench-admin")
    agent = User.objects.get(username="bench-agent")
    every = Ticket.objects.visible_to(admin).values("id")
    team = Ticket.objects.visible_to(agent).values("id")
    kinds = ("ticket",)
    rows: list[list[object]] = [["", "p50 ms", "p95 ms", "max ms", "× ceiling (p50)"]]
    cap = search.TICKET_CANDIDATES
    ceiling = timed(raw(lambda t: bare_sql(t, "ticket")), TICKET_QUERIES, repeat)
    for label, fn in [
        (
            "search() as an admin (all tickets visible)",
            lambda q: search.search(q, kinds=kinds, ticket_ids=every),
        ),
        (
            "search() as an agent (one team: ⅛ of tickets)",
            lambda q: search.search(q, kinds=kinds, ticket_ids=team),
        ),
        ("search() unscoped (ticket_ids=None)", lambda q: search.search(q, kinds=kinds)),
        (
            "search() as an agent, articles + replies + tickets",
            lambda q: search.search(q, kinds=("article", "reply", "ticket"), ticket_ids=team),
        ),
    ]:
        ms = timed(fn, TICKET_QUERIES, repeat)
        rows.append([label, pct(ms, 0.5), pct(ms, 0.95), max(ms), pct(ms, 0.5) / pct(ceiling, 0.5)])
    rows.append(
        [
            f"ceiling: the newest-{cap:,} statement, raw SQL",
            pct(ceiling, 0.5),
            pct(ceiling, 0.95),
            max(ceiling),
            1.0,
        ]
    )
    with connection.cursor() as cur:
        if db.is_postgres():
            cur.execute("SET statement_timeout = '20s'")
        naive = timed(raw(naive_sql), TICKET_QUERIES, 1)
        if db.is_postgres():
            cur.execute("SET statement_timeout = 0")
    rows.append(
        ["for comparison: rank every match, raw SQL", pct(naive, 0.5), pct(naive, 0.95), max(naive), "—"]
    )
    table(rows)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--tickets", type=int, default=0)
    ap.add_argument(
        "--pool", type=int, default=100_000, help="distinct generated tickets (repeated to --tickets)"
    )
    ap.add_argument("--repeat", type=int, default=8)
    args = ap.parse_args()
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT split_part(version(), ' on ', 1)"
            if db.is_postgres()
            else "SELECT 'SQLite ' || sqlite_version()"
        )
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"database: {cur.fetchone()[0]}; load average {load}")
    if db.is_postgres():  # measure as migrated first (a previous run may have left the proposed index)
        with connection.cursor() as cur:
            cur.execute("DROP INDEX IF EXISTS knowledge_search_kb_tsv_idx")
    filler = reviews()
    fill_articles(args.articles, filler)
    indexing_articles(Article.objects.count())
    searching_articles(args.repeat)
    if args.tickets:
        fill_tickets(args.tickets, filler, min(args.pool, args.tickets))
        indexing_tickets(20_000)
        searching_tickets(args.repeat)
        tickets = SearchEntry.objects.filter(kind="ticket").count()
        searching_articles(args.repeat, f" beside {tickets:,} tickets in the same index")
        if db.is_postgres():
            t0 = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute(db.POSTGRES_KIND_INDEX_SQL[0])  # the proposed knowledge-base partial index
                cur.execute("ANALYZE knowledge_searchentry")
            print(
                "(built the proposed partial GIN index of the knowledge base in "
                f"{time.perf_counter() - t0:,.0f} s)"
            )
            searching_articles(args.repeat, f" beside {tickets:,} tickets, with the proposed partial index")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
