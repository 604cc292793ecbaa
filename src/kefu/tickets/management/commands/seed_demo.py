"""`kefu seed-demo [--tickets N] [--seed S]`: a demo organization (康悦健康, health devices and home
appliances) and N tickets over the last 90 days.

- Deterministic: the same --seed on an empty database gives the same data (dates relative to now).
- The organization (departments, teams, users, products, shops, categories, custom fields, tags) is
  created in one transaction, only what is missing. Once seeded, a run without --tickets prints
  "already seeded, skipping"; --tickets N adds N more tickets (benchmark top-ups).
- Customers, identities, tickets, messages, transfers and audit events are written with bulk_create,
  one transaction per batch, not through the per-ticket services, but they keep the services'
  invariants: statuses follow the workflow, per-state times match the status path, numbers are
  T+local date+id, every customer, ticket, message, transfer and status change has its audit event.
- Large runs (200,000+ tickets, or --lite) write ~2 messages and ~7 audit events per ticket instead of
  ~3 and ~8.5: no optional follow-ups, notes, or pending/on-hold detours before a ticket is solved.
- On PostgreSQL, runs of 50,000+ tickets use several worker processes (--workers); batches are
  generated from (seed, batch number), so the data does not depend on the number of workers (only
  the order of ids does).
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import random
import time
import uuid
from bisect import bisect_left
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction

from kefu.accounts.models import Department, Team, User
from kefu.audit.models import AuditEvent
from kefu.core import clock
from kefu.core.db import analyze
from kefu.core.signals import demo_seeded
from kefu.customers.models import Customer, Identity, Product, Shop
from kefu.knowledge import search
from kefu.tickets import demo_data as D
from kefu.tickets.demo_data import Org, ensure_org, load_org
from kefu.tickets.models import Message, Ticket, Transfer
from kefu.tickets.services import ticket_number_for

DEFAULT_TICKETS = 2000
DEFAULT_PASSWORD = "kefu-demo"
LITE_FROM = 200_000
PARALLEL_FROM = 50_000
REUSE_CUSTOMER = 0.22  # share of tickets from a customer who already wrote in
SOURCE = "seed"
HOUR = 3600.0
PRIORITIES = ["low", "normal", "high", "urgent"]
PHONE_SPACE = len(D.MOBILE_PREFIXES) * 10**8
PHONE_MULT = 2_654_435_761  # a prime: serial -> phone number is a bijection on PHONE_SPACE


class Pick:
    """Weighted choice with precomputed cumulative weights."""

    def __init__(self, weights: Any):  # {value: weight} or [(value, weight)]
        items = list(weights.items()) if isinstance(weights, dict) else list(weights)
        self.values = [v for v, _ in items]
        self.cum = list(accumulate(w for _, w in items))

    def __call__(self, rng: random.Random) -> Any:
        return rng.choices(self.values, cum_weights=self.cum)[0]


def _gap(rng: random.Random, lo_h: float, hi_h: float) -> float:
    """Seconds, log-uniform between lo_h and hi_h hours."""
    return HOUR * lo_h * (hi_h / lo_h) ** rng.random()


@contextmanager
def _explicit_timestamps(*fields: Any):
    """Let bulk_create keep the created_at/updated_at we set (auto_now would stamp the seeding time)."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f, _, _ in saved:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in saved:
            f.auto_now, f.auto_now_add = now, add


class Window:
    """Ticket creation times over the last WINDOW_DAYS, weighted to business hours (local time), weekdays
    and the days after shopping festivals. `at(u)` is monotonic in u: stratified u's give ordered times."""

    def __init__(self, now: datetime):
        self.tz = clock.local_tz()
        local_now = now.astimezone(self.tz)
        self.start = (local_now - timedelta(days=D.WINDOW_DAYS)).replace(minute=0, second=0, microsecond=0)
        hours = int((local_now - self.start).total_seconds() // HOUR) + 1
        years = range(self.start.year - 1, local_now.year + 1)
        promos = [(date(y, m, d), name) for y in years for (m, d), name in D.PROMO_DATES.items()]
        self.promos = sorted(p for p in promos if p[0] <= local_now.date())
        boost = {d + timedelta(days=k): (1.6 if k == 0 else 1.9) for d, _ in self.promos for k in range(6)}
        self.lens, self.cum, total = [], [], 0.0
        for h in range(hours):
            t = self.start + timedelta(hours=h)
            span = min(1.0, (local_now - t).total_seconds() / HOUR)
            w = D.HOUR_WEIGHTS[t.hour] * D.WEEKDAY_WEIGHTS[t.weekday()] * (0.9 + 0.2 * h / hours)
            w *= boost.get(t.date(), 1.0) * span
            total += w
            self.lens.append(span)
            self.cum.append(total)

    def at(self, u: float) -> datetime:
        x = u * self.cum[-1]
        i = min(bisect_left(self.cum, x), len(self.cum) - 1)
        prev = self.cum[i - 1] if i else 0.0
        frac = (x - prev) / ((self.cum[i] - prev) or 1.0)
        return (self.start + timedelta(hours=i + frac * self.lens[i])).astimezone(UTC)

    def promo_for(self, rng: random.Random, when: datetime) -> str:
        day = when.astimezone(self.tz).date()
        recent = [name for d, name in self.promos if timedelta(0) <= day - d <= timedelta(days=45)]
        return recent[-1] if recent and rng.random() < 0.8 else rng.choice(D.PROMOS)


@dataclass
class Job:
    """What every batch needs; module-level (`_JOB`) so forked workers inherit it."""

    org: Org
    window: Window
    now: datetime
    n: int
    batch: int
    lite: bool
    key: str  # seed and starting ticket count: the random stream of batch i is Random(f"{key}:{i}")
    serial: int  # first customer serial (phone numbers, e-mails, buyer nicks derive from it)
    regulars: list[Customer]  # existing customers who may write in again
    run_id: str


_JOB: Job | None = None


def run_batch(index: int) -> Counter:
    """Generate and insert batch `index` (also in a worker process)."""
    job = _JOB
    assert job is not None
    rng = random.Random(f"{job.key}:{index}")
    first, last = index * job.batch, min(job.n, (index + 1) * job.batch)
    gen = Generator(job, rng, serial=job.serial + first)
    specs = [gen.ticket((i + rng.random()) / job.n) for i in range(first, last)]
    counts = write_batch(specs, job.org.departments, job.run_id)
    del specs, gen
    gc.collect()
    return counts


class Generator:
    """Builds the tickets of one batch (unsaved objects plus their history), deterministic for its rng."""

    def __init__(self, job: Job, rng: random.Random, serial: int):
        self.rng, self.org, self.now, self.window, self.lite = rng, job.org, job.now, job.window, job.lite
        self.serial, self.pool = serial, list(job.regulars)
        self.scenario = Pick([(sc, sc["weight"]) for sc in D.SCENARIOS])
        self.types = {sc["key"]: Pick(sc["types"]) for sc in D.SCENARIOS}
        self.channels = {sc["key"]: Pick(sc.get("channels") or D.CHANNELS) for sc in D.SCENARIOS}
        self.status = [(limit, Pick(w)) for limit, w in D.STATUS_BY_AGE]
        self.vip, self.priority = Pick(D.VIP_TIERS), Pick(D.PRIORITY_LEVELS)
        self.shop_platform = Pick(D.SHOP_PLATFORMS)

    # --- customers ---------------------------------------------------------------------------

    def customer(self, channel: str, created: datetime) -> tuple[Customer, list[tuple[str, str]] | None]:
        rng = self.rng
        if self.pool and rng.random() < REUSE_CUSTOMER:
            regular = rng.choice(self.pool)
            if regular.created_at <= created:
                return regular, None
        serial, self.serial = self.serial, self.serial + 1
        surname, sur_py = rng.choice(D.SURNAMES)
        if rng.random() < 0.18:
            name, given_py = surname + rng.choice(["先生", "女士"]), ""
        else:
            given, given_py = rng.choice(D.GIVEN_NAMES)
            name = surname + given
        at = created - timedelta(seconds=rng.randint(1, 30))
        customer = Customer(name=name, vip_tier=self.vip(rng), created_at=at, updated_at=at)
        x = (serial * PHONE_MULT + 12_345_678) % PHONE_SPACE
        values = [("phone", f"+86{D.MOBILE_PREFIXES[x // 10**8]}{x % 10**8:08d}")]
        if channel == "email" or rng.random() < 0.15:
            if given_py and rng.random() < 0.6:
                values.append(("email", f"{given_py}{sur_py}{serial}@{rng.choice(D.EMAIL_DOMAINS)}"))
            else:
                values.append(("email", f"{100_000_000 + (serial * 7_919 + 31_337) % 900_000_000}@qq.com"))
        digest = hashlib.blake2b(f"{serial}".encode(), digest_size=15).hexdigest()
        if channel == "tmall" and rng.random() < 0.8:
            values.append(("shop_buyer", f"tb{serial}{digest[:4]}"))
        elif channel == "jd" and rng.random() < 0.8:
            values.append(("shop_buyer", f"jd_{digest[:6]}{serial}"))
        if channel in ("wechat", "mini_program") and rng.random() < 0.7:
            values.append(("wechat_openid", f"o{digest[:10]}{serial}"))
        self.pool.append(customer)
        return customer, values

    # --- tickets -----------------------------------------------------------------------------

    def ticket(self, u: float) -> dict[str, Any]:
        rng, org = self.rng, self.org
        created = self.window.at(u)
        sc = self.scenario(rng)
        ttype = self.types[sc["key"]](rng)
        channel = self.channels[sc["key"]](rng)
        names = [n for n in (sc["products"] or D.PRODUCT_WEIGHTS) if n in org.products]
        pname = rng.choices(names, [D.PRODUCT_WEIGHTS[n] for n in names])[0]
        product = rng.choice(org.products[pname])
        _, _, faults, parts = D.PRODUCTS[pname]
        shop = self.shop(channel, pname)
        customer, idents = self.customer(channel, created)
        age_h = (self.now - created).total_seconds() / HOUR
        final = next(pick for limit, pick in self.status if age_h < limit)(rng)
        if final == "on_hold" and not sc["dept"]:
            final = "pending"
        team_key = self.team(channel, ttype)
        if sc["key"] == "attitude" and final != "new":
            assignee: int | None = rng.choice(org.supervisors)
        elif final == "new" and channel != "phone" and rng.random() < 0.5:
            assignee = None
        else:
            assignee = rng.choice(org.agents[team_key])
        local = created.astimezone(self.window.tz)
        visit = local + timedelta(days=rng.randint(1, 4))
        fmt = {
            "product": pname,
            "model": product.model_number,
            "fault": rng.choice(faults),
            "part": rng.choice(parts),
            "days": rng.randint(2, 15),
            "order": f"{local:%y%m%d}{rng.randrange(10**12):012d}",
            "courier": rng.choice(D.COURIERS),
            "promo": self.window.promo_for(rng, created),
            "amount": rng.choice(D.AMOUNTS),
            "city": rng.choice(D.CITIES),
            "serial": f"{product.model_number.replace('-', '')[:5]}{local:%y%m}{rng.randrange(10**6):06d}",
            "agent": org.names.get(assignee or 0, "小悦"),
            "date": f"{visit.month}月{visit.day}日",
            "shop": shop.name if shop else rng.choice(D.SHOP_FALLBACK_NAMES),
        }
        subject, description = (text.format_map(fmt) for text in rng.choice(sc["cases"]))
        if rng.random() < 0.35:
            description += rng.choice(D.DESCRIPTION_EXTRAS).format_map(fmt)
        level = (
            self.priority(rng) + (ttype == "complaint" and rng.random() < 0.25) + sc.get("priority_bias", 0)
        )
        level += bool(customer.vip_tier) and rng.random() < 0.4
        priority = PRIORITIES[min(level, 3)]
        tags = list(sc["tags"])
        if sc.get("promo_tag") and fmt["promo"] in D.EXTRA_TAGS:
            tags.append(fmt["promo"])
        if customer.vip_tier:
            tags.append("VIP客户")
        if priority == "urgent":
            tags.append("加急")
        if ttype == "complaint" and channel in ("tmall", "jd") and rng.random() < 0.3:
            tags.append("差评风险")
        if idents is None and channel == "phone" and rng.random() < 0.5:
            tags.append("重复来电")
        if "老人" in description:
            tags.append("老年用户")
        custom: dict[str, Any] = {}
        if shop and rng.random() < 0.8:
            custom["purchase_channel"] = D.PURCHASE_CHANNEL[shop.platform]
        if ttype in ("repair", "defect") or sc["key"] in ("noise", "warranty"):
            custom["serial_number"] = fmt["serial"]
        if ttype == "repair" or sc["key"] == "warranty":
            custom["in_warranty"] = rng.random() < 0.75
        category = org.categories.get(sc["category"]) if final != "new" or rng.random() < 0.5 else None
        budget = (self.now - created).total_seconds()
        steps = self.lifecycle(sc, final, channel, assignee, fmt, budget)
        creator = assignee if channel in ("phone", "chat", "wechat") else None
        ticket = Ticket(
            subject=subject[:200],
            description=description,
            type=ttype,
            channel=channel,
            priority=priority,
            product_id=product.pk,
            shop_id=shop.pk if shop else None,
            team_id=org.teams[team_key].pk,
            assignee_id=assignee,
            category_id=category,
            custom_fields=custom,
            created_by_id=creator,
            created_at=created,
            updated_at=created,
            status_changed_at=created,
        )
        self.stamp(ticket, steps)
        assert ticket.status == final, (ticket.status, final)
        return {
            "ticket": ticket,
            "steps": steps,
            "tags": sorted({org.tags[t] for t in tags if t in org.tags}),
            "customer": customer,
            "identities": idents,
        }

    def shop(self, channel: str, pname: str) -> Shop | None:
        shops, rng = self.org.shops, self.rng
        platform = channel if channel in ("tmall", "jd", "mini_program") else None
        if platform is None and rng.random() < 0.4:
            platform = self.shop_platform(rng)
        candidates = shops.get(platform or "", [])
        if platform == "tmall" and len(candidates) > 1:  # the water shop sells water purifiers
            water = pname in ("净水器", "净水器滤芯")
            candidates = [s for s in candidates if (s.code == "tmall-water") == water] or candidates
        return rng.choice(candidates) if candidates else None

    def team(self, channel: str, ttype: str) -> str:
        if ttype in ("repair", "defect") and self.rng.random() < 0.3:
            return "tier2"
        if channel == "phone":
            return "hotline" if self.rng.random() < 0.6 else "outsourced"
        return "ecommerce" if channel in ("tmall", "jd", "mini_program") else "online"

    # --- history -----------------------------------------------------------------------------

    def lifecycle(
        self, sc: dict, final: str, channel: str, agent: int | None, fmt: dict, budget: float
    ) -> list:
        """Steps [offset seconds, "msg", kind, body, author] / [offset, "status", from, to, actor] /
        [offset, "transfer", department code, note, actor], in the order the services would write them."""
        rng, lite = self.rng, self.lite
        steps: list[list] = []
        clock_s = 0.0

        def add(gap: float, *step: Any) -> None:
            nonlocal clock_s
            clock_s += gap
            steps.append([clock_s, *step])

        followups, notes = sc.get("followups", []) + D.CUSTOMER_FOLLOWUPS, sc.get("notes", []) + D.AGENT_NOTES

        def text(pool: list[str]) -> str:
            return rng.choice(pool).format_map(fmt)

        def transfer() -> None:
            note = D.TRANSFER_NOTES[sc["dept"]].format_map(fmt)
            add(_gap(rng, 0.5, 24), "transfer", sc["dept"], note, agent)
            add(0, "status", "open", "on_hold", agent)
            add(0, "msg", "note", note, agent)

        if final == "new":
            if not lite and rng.random() < 0.3:
                add(_gap(rng, 0.3, 6), "msg", "customer", text(followups), None)
            return self.fit(steps, budget)
        add(
            _gap(rng, *D.FIRST_REPLY_HOURS.get(channel, (0.5, 8))), "msg", "reply", text(sc["replies"]), agent
        )
        add(0, "status", "new", "open", agent)
        if final == "open":
            if not lite and rng.random() < 0.5:
                add(_gap(rng, 1, 20), "msg", "customer", text(followups), None)
            if not lite and rng.random() < 0.2:
                add(_gap(rng, 0.2, 4), "msg", "note", text(notes), agent)
        elif final == "pending":
            add(_gap(rng, 0.5, 24), "msg", "reply", text(sc.get("asks") or D.PENDING_ASKS), agent)
            add(0, "status", "open", "pending", agent)
        elif final == "on_hold":
            transfer()
        else:  # solved or closed
            quick = channel in ("phone", "chat") and rng.random() < 0.35
            r = 1.0 if quick or lite else rng.random()
            if r < 0.2:
                add(_gap(rng, 0.5, 24), "msg", "reply", text(sc.get("asks") or D.PENDING_ASKS), agent)
                add(0, "status", "open", "pending", agent)
                add(_gap(rng, 1, 48), "msg", "customer", text(followups), None)
                add(0, "status", "pending", "open", None)
            elif r < 0.35 and sc["dept"]:
                transfer()
                dept = self.org.departments[sc["dept"]].name
                add(_gap(rng, 4, 72), "msg", "note", f"{dept}已回复，按处理方案继续跟进。", agent)
                add(0, "status", "on_hold", "open", agent)
            elif r < 0.7:
                add(_gap(rng, 1, 24), "msg", "customer", text(followups), None)
            if not quick and not lite and rng.random() < 0.2:
                add(_gap(rng, 0.1, 3), "msg", "note", text(notes), agent)
            add(
                _gap(rng, 0.02, 0.3) if quick else _gap(rng, 1, 72),
                "msg",
                "reply",
                text(sc["solutions"]),
                agent,
            )
            add(0, "status", "open", "solved", agent)
            if rng.random() < 0.06:  # the customer writes back: reopen, then solve again
                add(_gap(rng, 12, 96), "msg", "customer", text(D.CUSTOMER_REOPEN), None)
                add(0, "status", "solved", "open", None)
                add(_gap(rng, 1, 48), "msg", "reply", text(sc["solutions"]), agent)
                add(0, "status", "open", "solved", agent)
            if final == "closed":
                add(_gap(rng, 24, 96), "status", "solved", "closed", None)  # auto-close
        return self.fit(steps, budget)

    @staticmethod
    def fit(steps: list, budget: float) -> list:
        """Compress the history into the time since the ticket was created."""
        if steps and steps[-1][0] > budget * 0.95:
            k = budget * 0.95 / steps[-1][0]
            for s in steps:
                s[0] *= k
        return steps

    @staticmethod
    def stamp(ticket: Ticket, steps: list) -> None:
        """Per-state times exactly as tickets.services.add_message/_apply_transition would leave them."""
        for s in steps:
            at = ticket.created_at + timedelta(seconds=s[0])
            s.append(at)
            ticket.updated_at = at
            if s[1] == "msg" and s[2] == "reply" and ticket.first_response_at is None:
                ticket.first_response_at = at
            elif s[1] == "status":
                ticket.status, ticket.status_changed_at = s[3], at
                if s[3] == "solved":
                    ticket.solved_at = at
                elif s[3] == "closed":
                    ticket.closed_at = at
                if s[2] == "solved" and s[3] == "open":
                    ticket.reopened_count += 1
                    ticket.solved_at = None


class Events(list):
    """Audit events as the services would record them (source "seed"). They are not published:
    nothing needs to react to a demo's history."""

    def __init__(self, run_id: str):
        super().__init__()
        self.run_id = run_id

    def add(
        self, verb: str, at: datetime, actor: int | None, subject: Any, ticket: Ticket | None, data: dict
    ):
        self.append(
            AuditEvent(
                created_at=at,
                actor_id=actor,
                verb=verb,
                subject_type=subject._meta.model_name,
                subject_id=subject.pk,
                ticket_id=ticket.pk if ticket else None,
                customer_id=ticket.customer_id if ticket else subject.pk,
                data=data,
                source=SOURCE,
                request_id=self.run_id,
            )
        )


def write_batch(specs: list[dict], depts: dict[str, Department], run_id: str) -> Counter:
    """Insert one batch of generated tickets with everything that hangs off them, in one transaction."""
    events = Events(run_id)
    with transaction.atomic():
        customers = write_customers(specs, events)
        tickets = [s["ticket"] for s in specs]
        for s in specs:
            s["ticket"].customer_id = s["customer"].pk
        Ticket.objects.bulk_create(tickets)
        for t in tickets:
            t.number = ticket_number_for(t)
        with connection.cursor() as cursor:  # bulk_update's CASE WHEN costs ~0.3 ms a row, this ~0.02
            table, qn = Ticket._meta.db_table, connection.ops.quote_name
            sql = f"UPDATE {qn(table)} SET {qn('number')} = %s WHERE {qn('id')} = %s"  # noqa: S608
            cursor.executemany(sql, [(t.number, t.pk) for t in tickets])
        tagged = Ticket.tags.through
        tagged.objects.bulk_create(
            [tagged(ticket_id=s["ticket"].pk, tag_id=t) for s in specs for t in s["tags"]]
        )

        messages, transfers = [], []
        for s in specs:
            t = s["ticket"]
            for step in s["steps"]:
                _, what, a, b, actor, at = step
                if what == "msg":
                    step.append(Message(ticket_id=t.pk, kind=a, body=b, author_id=actor, created_at=at))
                    messages.append(step[6])
                elif what == "transfer":
                    answered = any(x[1:3] == ["status", "on_hold"] and x[5] > at for x in s["steps"])
                    step.append(
                        Transfer(
                            ticket_id=t.pk,
                            from_department_id=depts["cs"].pk,
                            to_department_id=depts[a].pk,
                            note=b,
                            reply_by=at + timedelta(days=2),
                            status="answered" if answered else "open",
                            created_by_id=actor,
                            created_at=at,
                        )
                    )
                    transfers.append(step[6])
        Message.objects.bulk_create(sorted(messages, key=lambda m: m.created_at))
        Transfer.objects.bulk_create(transfers)

        for s in specs:
            t = s["ticket"]
            data = {"number": t.number, "subject": t.subject, "type": t.type, "channel": t.channel}
            events.add(
                "ticket.created", t.created_at, t.created_by_id, t, t, {**data, "priority": t.priority}
            )
            for _, what, a, b, actor, at, *obj in s["steps"]:
                if what == "msg":
                    data = {"kind": a, "message_id": obj[0].pk, "attachments": []}
                    events.add("ticket.message_added", at, actor, obj[0], t, data)
                elif what == "status":
                    events.add("ticket.status_changed", at, actor, t, t, {"from": a, "to": b})
                else:
                    dept, reply_by = depts[a], obj[0].reply_by.isoformat()
                    data = {"transfer_id": obj[0].pk, "department": dept.name, "department_id": dept.pk}
                    events.add(
                        "ticket.transferred", at, actor, t, t, {**data, "team_id": None, "reply_by": reply_by}
                    )
        AuditEvent.objects.bulk_create(sorted(events, key=lambda e: e.created_at))
    return Counter(
        tickets=len(specs),
        customers=len(customers),
        messages=len(messages),
        transfers=len(transfers),
        events=len(events),
    )


def write_customers(specs: list[dict], events: Events) -> list[Customer]:
    """Insert the batch's new customers and their identities. An identity another customer already owns
    (kind + value are unique) is left out; a customer left without any gets a member id."""
    new = [s for s in specs if s["identities"] is not None]
    wanted = [(s["customer"], kind, value) for s in new for kind, value in s["identities"]]
    values: dict[str, list[str]] = {}
    for _, kind, value in wanted:
        values.setdefault(kind, []).append(value)
    taken: set[tuple[str, str]] = set()
    for kind, vals in values.items():
        for k in range(0, len(vals), 500):
            taken.update(
                Identity.objects.filter(kind=kind, value__in=vals[k : k + 500]).values_list("kind", "value")
            )
    customers = [s["customer"] for s in new]
    fields = [Customer._meta.get_field("created_at"), Customer._meta.get_field("updated_at")]
    with _explicit_timestamps(*fields, Identity._meta.get_field("created_at")):
        Customer.objects.bulk_create(customers)
        owned: dict[int, dict[str, str]] = {c.pk: {} for c in customers}
        for customer, kind, value in wanted:
            if (kind, value) not in taken:
                taken.add((kind, value))
                owned[customer.pk][kind] = value
        for pk in owned:
            owned[pk] = owned[pk] or {"member_id": f"seed-{uuid.uuid4().hex}"}
        at = {c.pk: c.created_at for c in customers}
        Identity.objects.bulk_create(
            [
                Identity(customer_id=pk, kind=k, value=v, created_at=at[pk])
                for pk, d in owned.items()
                for k, v in d.items()
            ]
        )
    for c in customers:
        events.add(
            "customer.created", c.created_at, None, c, None, {"name": c.name, "identities": owned[c.pk]}
        )
    return customers


class Command(BaseCommand):
    help = (
        "Seed the demo organization 康悦健康 (departments, teams, users, products, shops, taxonomy) "
        "and tickets over the last 90 days; deterministic for a given --seed. Once seeded, a run "
        "without --tickets skips; --tickets N adds N more."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets",
            type=int,
            default=None,
            help=f"tickets to add (default: {DEFAULT_TICKETS} when the database has no tickets yet)",
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--batch-size", type=int, default=5000, help="tickets per transaction")
        parser.add_argument(
            "--lite", action="store_true", help=f"fewer messages per ticket (automatic from {LITE_FROM:,})"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help=f"worker processes (default: 1; on PostgreSQL up to 4 from {PARALLEL_FROM:,} tickets)",
        )

    def handle(self, *args, **opts):
        n_opt, batch, self.verbosity = opts["tickets"], opts["batch_size"], opts["verbosity"]
        if (n_opt is not None and n_opt < 0) or batch < 1 or opts["workers"] < 0:
            raise CommandError("--tickets and --workers must be ≥ 0, --batch-size ≥ 1")
        started = time.monotonic()
        seeded = (
            User.objects.filter(username="admin").exists() and Department.objects.filter(code="cs").exists()
        )
        has_tickets = Ticket.objects.exists()
        if seeded and has_tickets and n_opt is None:
            self.stdout.write("already seeded, skipping")
            return
        usernames = [u[0] for u in D.USERS]
        password_hash = ""
        if User.objects.filter(username__in=usernames).count() < len(usernames):
            # hashing is slow by design: once for all demo users
            password_hash = make_password(os.environ.get("KEFU_DEMO_PASSWORD") or DEFAULT_PASSWORD)
        made = ensure_org(password_hash)
        if any(made.values()):
            self.stdout.write("Organization: created " + ", ".join(f"{v} {k}" for k, v in made.items() if v))
        n = n_opt if n_opt is not None else (0 if has_tickets else DEFAULT_TICKETS)
        added = self.seed_tickets(n, opts) if n else Counter()
        for _receiver, result in demo_seeded.send(sender=self.__class__, now=clock.now()):
            if result:
                self.stdout.write(str(result))
        if n:  # bulk-made tickets bypass the after-commit indexing: index them in one pass
            self.stdout.write(f"Search index: {search.reindex('ticket')} tickets")
        if n and not connection.in_atomic_block:
            analyze()  # fresh planner statistics, or large inboxes get slow plans
        self.report(added, time.monotonic() - started)

    def seed_tickets(self, n: int, opts: dict) -> Counter:
        global _JOB
        start_count, now = Ticket.objects.count(), clock.now()
        regulars = (
            Customer.objects.filter(merged_into__isnull=True)
            .only("id", "vip_tier", "created_at")
            .order_by("-id")
        )
        _JOB = Job(
            org=load_org(),
            window=Window(now),
            now=now,
            n=n,
            batch=opts["batch_size"],
            lite=opts["lite"] or n >= LITE_FROM,
            key=f"kefu-demo:{opts['seed']}:{start_count}",
            serial=Identity.objects.filter(kind="phone").count(),
            regulars=list(regulars[:5000]),
            run_id=f"seed-{uuid.uuid4().hex[:12]}",
        )
        batches = range((n + _JOB.batch - 1) // _JOB.batch)
        workers = opts["workers"] or (min(4, os.cpu_count() or 1) if n >= PARALLEL_FROM else 1)
        if connection.vendor == "sqlite":
            workers = 1  # one writer at a time anyway
        totals: Counter = Counter()
        t0, gc_was_enabled = time.monotonic(), gc.isenabled()
        gc.disable()  # ~35% faster: millions of short-lived objects without cycles; collected per batch
        try:
            if min(workers, len(batches)) > 1 and not connection.in_atomic_block:
                connections.close_all()  # each worker opens its own connection
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    for counts in pool.imap_unordered(run_batch, batches):
                        totals += counts
                        self.progress(totals["tickets"], n, t0)
            else:
                for index in batches:
                    totals += run_batch(index)
                    self.progress(totals["tickets"], n, t0)
        finally:
            _JOB = None
            if gc_was_enabled:
                gc.enable()
        return totals

    def progress(self, done: int, n: int, t0: float) -> None:
        if self.verbosity >= 1:
            rate = done / max(time.monotonic() - t0, 1e-6)
            self.stdout.write(f"tickets {done}/{n} ({done * 100 // n}%), {rate:,.0f}/s")
            self.stdout.flush()

    def report(self, added: Counter, elapsed: float) -> None:
        out = self.stdout.write
        if added:
            out(
                f"Added {added['tickets']} tickets, {added['customers']} customers, {added['messages']} "
                f"messages, {added['transfers']} transfers, {added['events']} audit events in {elapsed:.1f}s."
            )
        models: dict[str, Any] = {
            "departments": Department, "teams": Team, "users": User, "products": Product, "shops": Shop,
            "customers": Customer, "tickets": Ticket, "messages": Message, "audit events": AuditEvent,
        }  # fmt: skip
        out(
            "In the database: " + ", ".join(f"{m.objects.count()} {name}" for name, m in models.items()) + "."
        )
        source = (
            "the value of KEFU_DEMO_PASSWORD" if os.environ.get("KEFU_DEMO_PASSWORD") else DEFAULT_PASSWORD
        )
        out(
            f"Demo logins (password: {source}; set KEFU_DEMO_PASSWORD before the first seeding to change it):"
        )
        for username, display, role, _, _, _ in D.USERS:
            out(f"  {username:<16} {role:<17} {display}")
        out("Users that existed before seeding keep their own password.")
