"""Console page server time: inbox views (with filters, deep pages) and the ticket page.

Runs in-process against the database KEFU_DATABASE_URL names (seed it first, e.g.
`kefu seed-demo --tickets 1000000`), through Django's full stack (middleware, auth, templates,
DEBUG off) with the Django test client, so the figure is server time without network. The ceiling,
measured in the same run: the inbox's underlying keyset SELECT of one page issued as raw SQL.

    KEFU_DATABASE_URL=postgres://… KEFU_DATA_DIR=… .venv/bin/python bench/pages.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")
os.environ.setdefault("KEFU_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from kefu.accounts.models import User  # noqa: E402
from kefu.tickets.models import Ticket  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def measure(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    total = Ticket.objects.count()
    print(f"database: {connection.vendor}, tickets: {total:,}")

    def raw_page():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, number, subject, status, priority, customer_id FROM tickets_ticket "
                "ORDER BY id DESC LIMIT 51"
            )
            cur.fetchall()

    ceiling = measure(raw_page, args.repeat)
    rows = [("ceiling: raw keyset SELECT of one page", ceiling, 1)]

    mid_id = Ticket.objects.order_by("-id").values_list("id", flat=True)[total // 2]
    users = {u: User.objects.get(username=u) for u in ("agent1", "supervisor", "admin")}
    some_ticket = {
        u: Ticket.objects.visible_to(user).order_by("-id").values_list("id", flat=True).first()
        for u, user in users.items()
    }
    cases = []
    for u in users:
        for view in ("mine", "unassigned", "team", "pending", "all"):
            cases.append((u, f"/tickets/?view={view}"))
        cases += [
            (u, "/tickets/?view=all&status=open&type=complaint"),
            (u, "/tickets/?view=all&channel=phone&priority=high"),
            (u, f"/tickets/?view=all&after={mid_id}"),  # half-way into the table
            (u, f"/tickets/{some_ticket[u]}/"),
        ]
    ok = True
    for username, url in cases:
        c = Client()
        c.force_login(users[username])
        status = {}

        def get(c=c, url=url, status=status):
            r = c.get(url)
            status["code"] = r.status_code

        connection.force_debug_cursor = True  # request_started resets the log: read it after
        get()
        nq = len(connection.queries)
        connection.force_debug_cursor = False
        times = measure(get, args.repeat)
        ok &= status["code"] == 200
        rows.append((f"{username:10} {url}", times, nq))

    print(f"{'page':66} {'p50 ms':>8} {'p95 ms':>8} {'×ceil':>7} {'queries':>8}")
    base = statistics.median(ceiling)
    worst = 0.0
    for name, times, nq in rows:
        p95 = pct(times, 95)
        if not name.startswith("ceiling"):
            worst = max(worst, p95)
        p50 = statistics.median(times)
        print(f"{name[:66]:66} {p50:8.1f} {p95:8.1f} {p50 / base:7.1f} {nq:8}")
    print(f"worst page p95: {worst:.1f} ms (target ≤ 100 ms); all 200: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
