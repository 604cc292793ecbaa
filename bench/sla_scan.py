"""The periodic SLA scan over many open tickets: time with nothing due, and with k timers due.

Fills the database KEFU_DATABASE_URL names (migrated; a dedicated one — it adds --tickets open
tickets with a running resolution timer each, through set-based SQL) unless it already holds them,
then measures in-process:
  * the scan when nothing is due, beside its ceiling: the same index probe as raw SQL;
  * the scan with k timers due (breach + ladder steps, each in its own transaction), per timer,
    beside its ceiling: a raw one-row UPDATE in its own transaction.

    eval "$(scripts/pg-throwaway start)"
    KEFU_DATABASE_URL=$KEFU_DATABASE_URL KEFU_DATA_DIR=/tmp/bench-sla .venv/bin/kefu migrate
    KEFU_DATABASE_URL=$KEFU_DATABASE_URL KEFU_DATA_DIR=/tmp/bench-sla .venv/bin/python bench/sla_scan.py \
        --tickets 1000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from kefu.core import clock, db  # noqa: E402
from kefu.sla.models import SlaPolicy, SlaTimer  # noqa: E402
from kefu.sla.services import scan_due_timers  # noqa: E402


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"median {statistics.median(values):8.2f} ms   p95 {p95:8.2f} ms"


def fill(n: int) -> None:
    """n open tickets, one customer, one running resolution timer each, due far in the future."""
    from kefu.customers.models import Customer
    from kefu.sla.demo import ensure_demo_sla
    from kefu.tickets.models import Ticket

    have = SlaTimer.objects.filter(status="running").count()
    if have >= n:
        print(f"database already holds {have:,} running timers")
        return
    if not SlaPolicy.objects.exists():
        ensure_demo_sla(clock.now())
    policy = SlaPolicy.objects.get(name="投诉")
    customer, _ = Customer.objects.get_or_create(name="bench", defaults={})
    start = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    todo = n - have
    print(f"adding {todo:,} open tickets with timers …", flush=True)
    t0 = time.perf_counter()
    now = clock.now()
    far = now + timedelta(days=30)
    tt, st = Ticket._meta.db_table, SlaTimer._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        if db.is_postgres():
            series = "generate_series(%s, %s) AS g(i)"
        else:  # SQLite: a recursive CTE
            series = (
                "(WITH RECURSIVE s(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM s WHERE i < %s) "
                "SELECT i FROM s)"
            )
        cur.execute(
            f"""INSERT INTO {tt} (number, subject, description, type, channel, status, priority,
                customer_id, custom_fields, created_at, updated_at, status_changed_at, reopened_count,
                sla_due_at, sla_breached)
            SELECT 'B' || i, 'bench ' || i, '', 'complaint', 'phone', 'open', 'normal', %s, '{{}}',
                %s, %s, %s, 0, %s, %s FROM {series}""",
            [customer.pk, now, now, now, far, False, start + 1, start + todo],
        )
        cur.execute(
            f"""INSERT INTO {st} (ticket_id, target, policy_id, status, cycle, target_seconds, started_at,
                running_since, remaining_at_start, due_at, next_action_at, updated_at)
            SELECT id, 'resolution', %s, 'running', 1, 144000, %s, %s, 144000, %s, %s, %s
            FROM {tt} WHERE id > %s AND number LIKE 'B%%'""",
            [policy.pk, now, now, far, far, now, start],
        )
    db.analyze()
    print(f"  filled in {time.perf_counter() - t0:,.0f} s", flush=True)


def make_due(k: int) -> list[int]:
    ids = list(
        SlaTimer.objects.filter(status="running", breached_at__isnull=True)
        .order_by("?")[:k]
        .values_list("pk", flat=True)
    )
    past = clock.now() - timedelta(minutes=1)
    SlaTimer.objects.filter(pk__in=ids).update(due_at=past, next_action_at=past)
    return ids


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--due", default="10,100,1000")
    args = ap.parse_args()
    fill(args.tickets)
    running = SlaTimer.objects.filter(status="running").count()
    print(f"database: {connection.vendor}, open tickets with a running timer: {running:,}")

    def probe() -> None:
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT id, ticket_id FROM {SlaTimer._meta.db_table} WHERE next_action_at <= %s "
                "ORDER BY next_action_at LIMIT 200",
                [clock.now()],
            )
            cur.fetchall()

    def timed(fn) -> list[float]:
        fn()
        out = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    print("\nnothing due")
    scan = timed(scan_due_timers)
    raw = timed(probe)
    print(f"  scan_due_timers        {ms(scan)}")
    print(f"  ceiling: raw probe     {ms(raw)}")
    print(f"  ratio (median)         {statistics.median(scan) / statistics.median(raw):.1f}×")

    def raw_update(ids: list[int]) -> float:
        t0 = time.perf_counter()
        for pk in ids:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(
                    f"UPDATE {SlaTimer._meta.db_table} SET updated_at = %s WHERE id = %s", [clock.now(), pk]
                )
        return (time.perf_counter() - t0) * 1000

    for k in [int(x) for x in args.due.split(",")]:
        ids = make_due(k)
        t0 = time.perf_counter()
        result = scan_due_timers()
        took = (time.perf_counter() - t0) * 1000
        ceiling = raw_update(ids)
        print(
            f"\n{k} due: scan {took:9.1f} ms ({took / k:6.2f} ms per timer; {result.breaches} breaches, "
            f"{result.steps} steps)\n  ceiling: {k} one-row UPDATE transactions {ceiling:8.1f} ms "
            f"({ceiling / k:.3f} ms each); ratio {took / ceiling:.1f}×"
        )
        again = timed(scan_due_timers)
        print(f"  the next scan (nothing due again)  {ms(again)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
