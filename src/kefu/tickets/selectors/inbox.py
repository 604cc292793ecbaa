"""The agent inbox: views (tabs) with capped counts, keyset pages in both directions, filter options.

Everything is scoped in SQL with `Ticket.objects.visible_to(actor)`. Nothing here counts a whole
result set: tab counts stop at COUNT_CAP (shown as "999+") and pages are keyset (no OFFSET).

The SLA views ("due": due within two hours or past; "breached") and the "due" sort read the
ticket's `sla_due_at` / `sla_breached` columns (written by kefu.sla, which this app never imports)
and show due times in clock time: business hours are the ticket page's SLA panel's business.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Department, Membership, Team, User
from kefu.core import clock
from kefu.core.permissions import Role
from kefu.customers.models import Product, Shop
from kefu.tickets.choices import Status
from kefu.tickets.models import Ticket
from kefu.tickets.selectors.core import (
    DUE_SOON,
    TicketFilters,
    apply_filters,
    breached_q,
    due_rows,
    due_soon_q,
)
from kefu.tickets.workflow import OPEN_STATES

# Views an inbox offers (tab order is the console's business); "due" and "breached" are the SLA views.
INBOX_VIEWS = ("mine", "unassigned", "team", "pending", "due", "breached", "all")
DUE_VIEWS = ("due", "breached")
INBOX_SORTS = ("newest", "oldest", "due")
COUNT_CAP = 999
COUNTS_CACHE_SECONDS = 60
LIST_RELATED = ("customer", "team", "assignee")
OPTION_LIMIT = 500


def my_team_ids(actor: Any) -> QuerySet:
    """A subquery of the teams an actor works in: their memberships, and for supervisors also the
    teams of their department (the teams they watch)."""
    memberships = Membership.objects.filter(user_id=actor.pk).values("team_id")
    if actor.department_id and actor.role == Role.SUPERVISOR:
        teams = Team.objects.filter(Q(pk__in=memberships) | Q(department_id=actor.department_id))
        return teams.values("pk")
    return memberships


def default_inbox_view(actor: Any) -> str:
    """Agents land on their own tickets; people who see everything (admin, QA, executives) on all."""
    return "all" if actor.sees_all_tickets else "mine"


def default_inbox_sort(view: str) -> str:
    """The SLA views list the most urgent first; the others the newest."""
    return "due" if view in DUE_VIEWS else "newest"


def inbox_queryset(*, actor: Any, view: str, now: datetime | None = None) -> QuerySet[Ticket]:
    """The unfiltered, unordered tickets of one inbox view, scoped to what the actor may see."""
    qs = Ticket.objects.visible_to(actor)
    if view == "due":
        return qs.filter(due_soon_q(now or clock.now()))
    if view == "breached":
        return qs.filter(breached_q(now or clock.now()))
    if view == "mine":
        return qs.filter(assignee_id=actor.pk, status__in=OPEN_STATES)
    if view == "unassigned":
        return qs.filter(team_id__in=my_team_ids(actor), assignee__isnull=True, status__in=OPEN_STATES)
    if view == "team":
        return qs.filter(team_id__in=my_team_ids(actor), status__in=OPEN_STATES)
    if view == "pending":
        return qs.filter(status=Status.PENDING)
    if view == "all":
        return qs
    raise ValueError(f"unknown inbox view {view!r}")


def _counts_key(actor: Any) -> str:
    return f"kefu:inbox-counts:{actor.pk}:{actor.username}"


def forget_inbox_counts(actor: Any) -> None:
    """Drop the actor's cached tab counts (after they changed tickets themselves)."""
    cache.delete(_counts_key(actor))


def count_inbox_views(*, actor: Any, cap: int | None = None, cached: bool = False) -> dict[str, int]:
    """Ticket counts per view in ONE query, each capped: a count above `cap` (default COUNT_CAP)
    comes back as cap + 1 (`count_label` shows it as "999+"), so no count reads more than cap + 1
    rows of a view: SELECT (SELECT COUNT(*) FROM (SELECT id … LIMIT 1000)), (…), …

    Every computation is remembered for COUNTS_CACHE_SECONDS; `cached=True` (list requests: filters,
    pages, the 20-second polls) reuses it, so only page loads and one poll a minute count."""
    if cached:
        hit = cache.get(_counts_key(actor))
        if hit is not None:
            return hit
    if cap is None:
        cap = COUNT_CAP
    parts: list[str] = []
    params: list[Any] = []
    db = "default"
    now = clock.now()
    for view in INBOX_VIEWS:
        qs = inbox_queryset(actor=actor, view=view, now=now).order_by().values("pk")[: cap + 1]
        db = qs.db
        try:
            sql, p = qs.query.get_compiler(using=db).as_sql()
        except EmptyResultSet:  # e.g. an inactive user sees nothing
            parts.append("0")
            continue
        # sql is compiled by Django (values stay in params); view is one of INBOX_VIEWS
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) kf_{view})")  # noqa: S608
        params.extend(p)
    with connections[db].cursor() as cur:
        cur.execute("SELECT " + ", ".join(parts), params)
        row = cur.fetchone()
    counts = {view: int(n) for view, n in zip(INBOX_VIEWS, row, strict=True)}
    cache.set(_counts_key(actor), counts, COUNTS_CACHE_SECONDS)
    return counts


def count_label(n: int) -> str:
    """A tab count for display: "999+" above the cap."""
    return f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


def format_duration(seconds: float, *, days: bool = False) -> str:
    """A duration for people: "45 min", "3 h 20 min", with `days` "1 d 2 h" (a day is 24 hours;
    minutes are dropped then). The sign is ignored; under a minute is "< 1 min"."""
    total = abs(int(seconds))
    if total < 60:
        return _("< 1 min")
    minutes = total // 60
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if days and hours >= 24:
        d, hours = divmod(hours, 24)
        return (_("%(d)d d %(h)d h") if hours else _("%(d)d d")) % {"d": d, "h": hours}
    return (_("%(h)d h %(m)d min") if minutes else _("%(h)d h")) % {"h": hours, "m": minutes}


def format_when(at: datetime, now: datetime) -> str:
    """An instant in the user's zone, as short as is clear: "14:30" today, "10-08 14:30" this year,
    else "2025-10-08 14:30"."""
    local, today = timezone.localtime(at), timezone.localtime(now)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%m-%d %H:%M" if local.year == today.year else "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class DueBadge:
    """A list row's SLA due badge, in clock time: state is "ok", "soon" (within DUE_SOON) or
    "overdue" (past due, or a target is breached); `at` is the due time in the user's zone."""

    state: str
    text: str
    at: str = ""


def due_badge(ticket: Ticket, now: datetime) -> DueBadge | None:
    """The badge for a ticket's earliest SLA due time (None without one). Past the first hour the
    time is told in whole hours (or days and hours), so a polled list changes every minute only in
    a due time's last hour either side."""
    due = ticket.sla_due_at
    if due is None:
        return DueBadge("overdue", _("SLA breached")) if ticket.sla_breached else None
    left = (due - now).total_seconds()
    coarse = abs(left) if abs(left) < 3600 else abs(left) - abs(left) % 3600
    at = format_when(due, now)
    if left < 0:
        return DueBadge(
            "overdue", _("overdue by %(duration)s") % {"duration": format_duration(coarse, days=True)}, at
        )
    state = "overdue" if ticket.sla_breached else "soon" if left <= DUE_SOON.total_seconds() else "ok"
    return DueBadge(state, _("due in %(duration)s") % {"duration": format_duration(coarse, days=True)}, at)


@dataclass
class InboxPage:
    """One keyset page. `next_cursor` / `prev_cursor` are ticket ids to pass as `after` / `before`;
    `after` / `before` are the cursors this page was actually read with. `badges` holds each
    ticket's SLA due badge (by id), computed at one instant."""

    tickets: list[Ticket]
    next_cursor: int | None = None
    prev_cursor: int | None = None
    after: int | None = None
    before: int | None = None
    sort: str = "newest"
    limit: int = 50
    badges: dict[int, DueBadge | None] = field(default_factory=dict)


def _read(
    qs: QuerySet[Ticket], view: str, sort: str, *, n: int, cursor: int | None, before: bool
) -> list[Ticket]:
    """Up to n rows after the cursor (before it with `before`, nearest first) in the sort's order."""
    if sort == "due":
        # the SLA views hold new/open tickets with a running clock (a breached clock of a new/open
        # ticket runs: clocks pause only while pending/on hold), so all have a due time
        return due_rows(qs, n=n, cursor=cursor, before=before, dated_only=view in DUE_VIEWS)
    ascending = (sort == "oldest") != before
    if cursor is not None:
        qs = qs.filter(id__gt=cursor) if ascending else qs.filter(id__lt=cursor)
    return list(qs.order_by("id" if ascending else "-id")[:n])


def list_inbox(
    *,
    actor: Any,
    view: str,
    filters: TicketFilters | None = None,
    sort: str = "newest",
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> InboxPage:
    """A page of an inbox view, keyset-paginated in either direction: newest or oldest first on id,
    or "due" on (sla_due_at NULLS LAST, id) — earliest due first, tickets without a due time after
    them by id. `after` gives the page following that ticket, `before` the page preceding it (ticket
    ids in every sort). One query (two when a "previous" page runs off the start and the first page
    is read instead); the due sort reads dated and undated tickets apart, so one or two per read."""
    if sort not in INBOX_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    limit = max(1, min(limit, 200))
    now = clock.now()
    base = apply_filters(inbox_queryset(actor=actor, view=view, now=now), filters or TicketFilters(), actor)
    base = base.select_related(*LIST_RELATED).defer("description", "custom_fields")

    def done(
        page: list[Ticket],
        next_cursor: int | None,
        prev_cursor: int | None,
        after: int | None = None,
        before: int | None = None,
    ) -> InboxPage:
        badges = {t.pk: due_badge(t, now) for t in page}
        return InboxPage(page, next_cursor, prev_cursor, after, before, sort, limit, badges)

    if before is not None:
        rows = _read(base, view, sort, n=limit + 1, cursor=before, before=True)
        if len(rows) > limit:
            page = rows[:limit][::-1]
            return done(page, page[-1].pk, page[0].pk, before=before)
        # fewer than a page before the cursor: we are at the start, show the first page
    elif after is not None:
        rows = _read(base, view, sort, n=limit + 1, cursor=after, before=False)
        page = rows[:limit]
        next_cursor = page[-1].pk if len(rows) > limit else None
        return done(page, next_cursor, page[0].pk if page else after, after=after)
    rows = _read(base, view, sort, n=limit + 1, cursor=None, before=False)
    page = rows[:limit]
    return done(page, page[-1].pk if len(rows) > limit else None, None)


def inbox_fingerprint(page: InboxPage, counts: dict[str, int]) -> str:
    """A short digest of what an inbox page shows, "<list>-<counts>": when a poll brings the same
    digest nothing needs re-rendering; when only the counts part differs, only the tabs do."""
    rows = hashlib.sha256()
    for t in page.tickets:
        badge = page.badges.get(t.pk)
        due = f"{badge.state}|{badge.text}|{badge.at}" if badge else ""
        rows.update(
            f"{t.pk}|{t.updated_at.isoformat()}|{t.status}|{t.priority}|{t.assignee_id}|{t.team_id}|{due}\n".encode()
        )
    rows.update(f"{page.next_cursor}|{page.prev_cursor}".encode())
    tabs = hashlib.sha256(repr(sorted(counts.items())).encode())
    return f"{rows.hexdigest()[:12]}-{tabs.hexdigest()[:8]}"


def assignable_users(actor: Any) -> QuerySet[User]:
    """Whom the actor may assign tickets to: themself and the people of their teams (everyone in a
    team for those who see all tickets)."""
    members = Membership.objects.all()
    if not actor.sees_all_tickets:
        members = members.filter(team_id__in=my_team_ids(actor))
    return User.objects.filter(Q(pk=actor.pk) | Q(pk__in=members.values("user_id")), is_active=True).order_by(
        "display_name", "username"
    )


@dataclass
class InboxOptions:
    """Choices for the filter and bulk-action controls (one query each)."""

    teams: list[Team] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    shops: list[Shop] = field(default_factory=list)


def get_inbox_options(*, actor: Any) -> InboxOptions:
    return InboxOptions(
        teams=list(Team.objects.select_related("department").order_by("department_id", "name")),
        departments=list(Department.objects.order_by("name")),
        users=list(assignable_users(actor)[:OPTION_LIMIT]),
        products=list(Product.objects.filter(is_active=True).order_by("model_number")[:OPTION_LIMIT]),
        shops=list(Shop.objects.filter(is_active=True).order_by("name")[:OPTION_LIMIT]),
    )
