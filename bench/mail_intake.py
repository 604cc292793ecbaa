"""Email intake: parsing, receive_email() end to end, and duplicate delivery — each beside a ceiling.

Uses the database KEFU_DATABASE_URL names (a dedicated one: it adds --mails tickets, customers and
mails), else a SQLite file in KEFU_DATA_DIR, else in a fresh temporary directory; migrates it first
(in-process; a no-op when done), makes one mailbox without acknowledgements (no SMTP, no task; it
asserts that Huey is not immediate and that no task was queued) and measures in one thread:
  1. kefu.channels.mime.parse_message over the committed corpus (--rounds passes) and over the
     generated intake mails, in mails per CPU second (= per core), and once over a 25 MB mail (wall);
     ceilings on the same bytes: stdlib message_from_bytes(policy=default) + get_body().get_content(),
     and the legacy compat32 parser (which parse_message builds on) decoding the first text part;
  2. receive_email() of --mails new mails (even ones open threads from new customers, odd ones reply
     with In-Reply-To/References and a quoted original; half text-only, half text + HTML; realistic
     Chinese bodies, no attachments; no SLA policy unless --sla): mails/s, p50/p95, CPU of this process,
     SQL statements (with BEGIN/SAVEPOINT/COMMIT); ceiling
     per mail: a raw INSERT of a row as large as the stored mail in its own transaction + writing the
     raw bytes to a file;
  3. receive_email() of --duplicates already stored mails (the idempotency path); ceiling: a compat32
     header parse + a raw SELECT by Message-ID.

    .venv/bin/python bench/mail_intake.py --mails 2000                       # SQLite, temporary dir
    eval "$(scripts/pg-throwaway start)"
    KEFU_DATA_DIR=$(mktemp -d) .venv/bin/python bench/mail_intake.py --mails 2000 --durable
    scripts/pg-throwaway stop
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from email import message_from_bytes
from email.message import EmailMessage as Mail
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")
os.environ.setdefault("KEFU_DATA_DIR", tempfile.mkdtemp(prefix="kefu-mail-bench-"))
os.environ["KEFU_HUEY_IMMEDIATE"] = "0"  # tasks go to the queue, as deployed; none should be queued

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from huey.contrib.djhuey import HUEY  # noqa: E402

from kefu.channels.mime import parse_message  # noqa: E402
from kefu.channels.models import EmailMessage, Mailbox  # noqa: E402
from kefu.channels.services.inbound import receive_email  # noqa: E402
from kefu.channels.tests import mailcorpus  # noqa: E402
from kefu.core import clock, db  # noqa: E402
from kefu.sla.demo import ensure_demo_sla  # noqa: E402

SUPPORT = "kefu-bench@kefu.example"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜英敏静丽强磊军洋艳杰娟涛明霞"
DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com", "example.cn"]
CASES = [
    ("冰箱不制冷", "我家的冰箱（型号 BCD-520WPGX）从前天开始冷藏室不制冷，冷冻室正常，压缩机一直在响。"),
    ("洗衣机漏水，请派人上门", "滚筒洗衣机洗涤时底部漏水，地板上都是水，已经断电，不敢再用。"),
    ("空调遥控器失灵", "上个月买的空调，遥控器按了没反应，换了新电池也不行，机身显示屏正常。"),
    ("订单迟迟未发货", "订单号 2026112400{n:04d}，付款已经五天了还显示待发货，请帮忙查一下什么时候能发。"),
    ("发票抬头开错了", "收到的电子发票抬头写成了个人，我们需要公司抬头和税号，麻烦重新开一张。"),
    ("热水器显示E4故障", "燃气热水器开机几分钟后就显示 E4 并熄火，冬天没热水洗澡很不方便。"),
]
REPLIES = [
    "谢谢回复。我明天上午九点到十二点在家，师傅可以这个时间来吗？",
    "按你们说的重启过了，还是一样的问题，麻烦尽快安排维修。",
    "补充一下：购买日期是今年三月，发票和保修卡都在，需要的话我拍照发过来。",
    "已经好了，谢谢你们的耐心帮助！",
]


def build(subject, body, *, name, addr, mid, rng, reply_to=None) -> bytes:
    m = Mail()
    m["From"], m["To"], m["Subject"] = f"{name} <{addr}>", f"客服中心 <{SUPPORT}>", subject
    m["Date"], m["Message-ID"] = "Tue, 24 Nov 2026 10:00:00 +0800", f"<{mid}>"
    if reply_to:
        m["In-Reply-To"] = m["References"] = f"<{reply_to}>"
    m.set_content(body)
    if rng.random() < 0.5:  # half also carry the HTML version, as webmail and Outlook send
        paras = "".join(f"<p>{line or '&nbsp;'}</p>" for line in body.splitlines())
        m.add_alternative(f"<html><body style='font-family:微软雅黑'>{paras}</body></html>", subtype="html")
    return m.as_bytes()


def make_mails(n: int, token: str) -> list[tuple[str, bytes]]:
    """n mails in arrival order: even ones open new threads, odd ones answer an earlier thread."""
    rng = random.Random(7)
    threads: list[tuple[str, str, str, str, str]] = []
    out = []
    for i in range(n):
        mid = f"{token}.{i}.{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}@mail.example.cn"
        if i % 2 == 0:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
            addr = f"c{token}{i}@{rng.choice(DOMAINS)}"
            subject, text = rng.choice(CASES)
            body = f"您好，\n\n{text.format(n=i)}\n\n地址：上海市浦东新区张江路{rng.randint(1, 999)}号\n"
            body += f"电话：1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}\n\n{name}\n"
            threads.append((mid, subject, body, name, addr))
            out.append(("new thread", build(subject, body, name=name, addr=addr, mid=mid, rng=rng)))
        else:
            orig, subject, obody, name, addr = rng.choice(threads)
            quoted = "\n".join("> " + line for line in obody.splitlines())
            said = f"在 2026年11月24日 09:12，{name} <{addr}> 写道："
            body = f"{rng.choice(REPLIES)}\n\n{name}\n\n{said}\n{quoted}\n"
            raw = build("回复：" + subject, body, name=name, addr=addr, mid=mid, rng=rng, reply_to=orig)
            out.append(("reply", raw))
    return out


def stdlib(raw: bytes) -> str:
    """The ceiling as specified: the modern email API (header registry) and its body picker."""
    body = message_from_bytes(raw, policy=default_policy).get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""


def compat32(raw: bytes) -> str:
    """A tighter floor: the legacy parser parse_message builds on, decoding the first text part."""
    for part in message_from_bytes(raw).walk():
        if part.get_content_maintype() == "text":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def rate(fn, raws: list[bytes], rounds: int) -> float:
    """Mails per CPU second of this one thread (after one warm-up pass)."""
    list(map(fn, raws))
    t0 = time.process_time()
    list(map(fn, raws * rounds))
    return rounds * len(raws) / (time.process_time() - t0)


def wall_ms(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000, result


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, round(q * (len(values) - 1)))]


def table(rows: list[list]) -> None:
    """Rows as a Markdown table (the first is the header), padded to line up in a terminal too."""
    text = [[f"{c:,.{(c < 10) + (c < 100)}f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(text[0]))]
    for n, r in enumerate(text):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        print("| " + " | ".join(cells) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 1) + "-:"[i > 0] for i, w in enumerate(widths)) + "|")


def parsing(corpus: list[bytes], raws: list[bytes], rounds: int) -> float:
    print("\n1. parsing, one thread: mails per CPU second (the 25 MB mail: wall ms)\n")
    rows: list[list] = [["mails", "parse_message", "stdlib default", "stdlib compat32", "× fastest"]]
    for label, sample, n in [("corpus", corpus, rounds), ("intake mails", raws[:500], max(1, rounds // 10))]:
        ours, ceil, floor = (rate(fn, sample, n) for fn in (parse_message, stdlib, compat32))
        rows.append([f"{label} ({len(sample)} × {n})", ours, ceil, floor, max(ceil, floor) / ours])
    large = mailcorpus.make_large_message(25, to_addr=SUPPORT, from_addr="big@example.cn")
    ours, ceil, floor = (wall_ms(fn, large)[0] for fn in (parse_message, stdlib, compat32))
    rows.append(
        [f"one 25 MB mail ({len(large) / 2**20:.1f} MiB), ms", ours, ceil, floor, ours / min(ceil, floor)]
    )
    table(rows)
    return 1000 / rows[2][1]


def ceiling_inserts(fields: list[tuple], raws: list[bytes]) -> list[float]:
    """Per mail: a row as large as the stored mail by raw INSERT in its own transaction, plus the raw
    bytes written to a file (as the FileField does; no fsync either)."""
    scratch = Path(tempfile.mkdtemp(prefix="kefu-mail-ceiling-"))
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_mail_scratch")
        cur.execute(
            f"CREATE TABLE bench_mail_scratch (id {'BIGSERIAL' if db.is_postgres() else 'INTEGER'} PRIMARY"
            " KEY, message_id VARCHAR(255) UNIQUE, subject VARCHAR(300), from_address VARCHAR(254),"
            " text TEXT, html TEXT, created_at TIMESTAMP)"
        )
    out = []
    for row, raw in zip(fields, raws, strict=True):
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO bench_mail_scratch (message_id, subject, from_address, text, html, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [*row, clock.now()],
            )
            (scratch / f"{hashlib.sha256(raw).hexdigest()}.eml").write_bytes(raw)
        out.append((time.perf_counter() - t0) * 1000)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_mail_scratch")
    shutil.rmtree(scratch)
    return out


def intake(mailbox: Mailbox, mails: list[tuple[str, bytes]], token: str, parse_ms: float) -> None:
    print(f"\n2. receive_email of {len(mails)} new mails (wall ms per mail; CPU: this process only)\n")
    pending = HUEY.pending_count()
    times: dict[str, list[float]] = {"new thread": [], "reply": [], "all": []}
    cpu = dict.fromkeys(times, 0.0)
    for kind, raw in mails:
        c0 = time.process_time()
        took, result = wall_ms(receive_email, mailbox=mailbox, raw=raw, source="bench")
        used = (time.process_time() - c0) * 1000
        assert result.created and result.email.ticket_id, (result.email.status, result.email.error)
        for key in (kind, "all"):
            times[key].append(took)
            cpu[key] += used
    ours = EmailMessage.objects.filter(message_id__startswith=token)
    statuses = dict(ours.values("status").annotate(n=Count("id")).values_list("status", "n"))
    queued = HUEY.pending_count() - pending
    assert queued == 0, f"{queued} tasks queued"
    fields = list(ours.order_by("id").values_list("message_id", "subject", "from_address", "text", "html"))
    ceiling = ceiling_inserts(fields, [raw for _kind, raw in mails])
    sql = []
    for _kind, raw in make_mails(2, "q" + token):  # a new thread and a reply to it
        with CaptureQueriesContext(connection) as queries:
            receive_email(mailbox=mailbox, raw=raw, source="bench")
        sql.append(len(queries))
    rows: list[list] = [["mails", "n", "mails/s", "p50 ms", "p95 ms", "CPU ms", "SQL", "ceiling p50 ms", "×"]]
    parts = {"new thread": (ceiling[0::2], sql[0]), "reply": (ceiling[1::2], sql[1]), "all": (ceiling, "")}
    for key, t in times.items():
        c, p50 = statistics.median(parts[key][0]), statistics.median(t)
        rows.append(
            [key, len(t), 1000 * len(t) / sum(t), p50, pct(t, 0.95), cpu[key] / len(t), parts[key][1]]
        )
        rows[-1] += [c, p50 / c]
    table(rows)
    mean = statistics.mean(times["all"])
    print(f"\nstored: {statuses}; tasks queued: {queued}; parse_message ≈ {parse_ms:.2f} ms of each mail")
    print(f"≈ {60_000 / mean:,.0f} mails/minute per worker (mean {mean:.1f} ms)")


def duplicates(mailbox: Mailbox, raws: list[bytes]) -> None:
    print(f"\n3. duplicate delivery of {len(raws)} stored mails (wall ms per mail)\n")
    dup, ceiling = [], []
    for raw in raws:
        took, result = wall_ms(receive_email, mailbox=mailbox, raw=raw, source="bench")
        assert not result.created
        dup.append(took)
        t0 = time.perf_counter()
        mid = BytesHeaderParser().parsebytes(raw)["Message-ID"].strip().strip("<>")
        with connection.cursor() as cur:
            cur.execute(f"SELECT id FROM {EmailMessage._meta.db_table} WHERE message_id = %s", [mid])
            assert cur.fetchone()
        ceiling.append((time.perf_counter() - t0) * 1000)
    p50, c50 = statistics.median(dup), statistics.median(ceiling)
    rows = [["", "p50 ms", "p95 ms", "ceiling p50 ms (header parse + SELECT)", "×"]]
    table([*rows, ["receive_email, already stored", p50, pct(dup, 0.95), c50, p50 / c50]])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mails", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=100, help="passes over the corpus when parsing")
    ap.add_argument("--duplicates", type=int, default=200)
    ap.add_argument("--durable", action="store_true", help="PostgreSQL: fsync/synchronous_commit on")
    ap.add_argument("--sla", action="store_true", help="add the demo's SLA policies (new tickets get timers)")
    args = ap.parse_args()
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cur:
        if args.durable and db.is_postgres():  # pg-throwaway turns durability off for the test suite
            for name in ("fsync", "synchronous_commit", "full_page_writes"):
                cur.execute(f"ALTER SYSTEM SET {name} = on")
            cur.execute("SELECT pg_reload_conf(), pg_sleep(0.5)")
        if db.is_postgres():
            cur.execute("SELECT split_part(version(), ' on ', 1) || ', fsync ' || current_setting('fsync')")
        else:
            cur.execute("SELECT 'SQLite ' || sqlite_version()")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"database: {cur.fetchone()[0]}; data dir {os.environ['KEFU_DATA_DIR']}; load average {load}")
    assert not HUEY.immediate
    if args.sla:
        ensure_demo_sla(clock.now())
    token = uuid.uuid4().hex[:6]
    mails = make_mails(args.mails, token)
    corpus = [(mailcorpus.CORPUS_DIR / name).read_bytes() for name in mailcorpus.NAMES]
    parse_ms = parsing(corpus, [raw for _kind, raw in mails], args.rounds)
    mailbox, _ = Mailbox.objects.update_or_create(
        address=SUPPORT, defaults={"name": "客服中心 (bench)", "send_acknowledgement": False}
    )
    intake(mailbox, mails, token, parse_ms)
    duplicates(mailbox, [raw for _kind, raw in mails[: args.duplicates]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
