"""The agent inbox: views (tabs) with capped counts, keyset pages in both directions, filter options.

Everything is scoped in SQL with `Ticket.objects.visible_to(actor)`. Nothing here counts a whole
result set: tab counts stop at COUNT_CAP (shown as "999+") and pages are keyset (no OFFSET).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet

from kefu.accounts.models import Department, Membership, Team, User
from kefu.core.permissions import Role
from kefu.customers.models import Product, Shop
from kefu.tickets.choices import Status
from kefu.tickets.models import Ticket
from kefu.tickets.selectors.core import TicketFilters, apply_filters
from kefu.tickets.workflow import OPEN_STATES

# Views an inbox offers, in tab order. "due" (SLA due soon / breached) is shown disabled until the
# SLA app exists, so it is not a listable view.
INBOX_VIEWS = ("mine", "unassigned", "team", "pending", "all")
INBOX_SORTS = ("newest", "oldest")
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


def inbox_queryset(*, actor: Any, view: str) -> QuerySet[Ticket]:
    """The unfiltered, unordered tickets of one inbox view, scoped to what the actor may see."""
    qs = Ticket.objects.visible_to(actor)
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
    for view in INBOX_VIEWS:
        qs = inbox_queryset(actor=actor, view=view).order_by().values("pk")[: cap + 1]
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


@dataclass
class InboxPage:
    """One keyset page. `next_cursor` / `prev_cursor` are ticket ids to pass as `after` / `before`;
    `after` / `before` are the cursors this page was actually read with."""

    tickets: list[Ticket]
    next_cursor: int | None = None
    prev_cursor: int | None = None
    after: int | None = None
    before: int | None = None
    sort: str = "newest"
    limit: int = 50


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
    """A page of an inbox view, keyset-paginated on id in either direction (newest or oldest first):
    `after` gives the page following that ticket, `before` the page preceding it. One query (two
    when a "previous" page runs off the start and the first page is read instead)."""
    if sort not in INBOX_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    limit = max(1, min(limit, 200))
    desc = sort == "newest"
    base = apply_filters(inbox_queryset(actor=actor, view=view), filters or TicketFilters(), actor)
    base = base.select_related(*LIST_RELATED).defer("description", "custom_fields")
    forward = "-id" if desc else "id"
    backward = "id" if desc else "-id"

    if before is not None:
        rows = list(base.filter(**{"id__gt" if desc else "id__lt": before}).order_by(backward)[: limit + 1])
        if len(rows) > limit:
            page = rows[:limit][::-1]
            return InboxPage(page, page[-1].pk, page[0].pk, before=before, sort=sort, limit=limit)
        # fewer than a page before the cursor: we are at the start, show the first page
    elif after is not None:
        rows = list(base.filter(**{"id__lt" if desc else "id__gt": after}).order_by(forward)[: limit + 1])
        page = rows[:limit]
        return InboxPage(
            page,
            page[-1].pk if len(rows) > limit else None,
            page[0].pk if page else after,
            after=after,
            sort=sort,
            limit=limit,
        )
    rows = list(base.order_by(forward)[: limit + 1])
    page = rows[:limit]
    return InboxPage(page, page[-1].pk if len(rows) > limit else None, None, sort=sort, limit=limit)


def inbox_fingerprint(page: InboxPage, counts: dict[str, int]) -> str:
    """A short digest of what an inbox page shows, "<list>-<counts>": when a poll brings the same
    digest nothing needs re-rendering; when only the counts part differs, only the tabs do."""
    rows = hashlib.sha256()
    for t in page.tickets:
        rows.update(
            f"{t.pk}|{t.updated_at.isoformat()}|{t.status}|{t.priority}|{t.assignee_id}|{t.team_id}\n".encode()
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
