"""Console: one search over handbook articles, standard replies and tickets (`/search/?q=&kind=`).

Articles and replies come through kefu.knowledge.selectors.search_knowledge (internal and public
articles — editors also see drafts —, shared replies and those of the user's teams); tickets through
the same index, scoped in SQL to the tickets the user may see. Without `kind` the page shows the best
few of each kind; a tab shows one kind. Counts are capped (“50+”).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from kefu.accounts.models import User
from kefu.core import htmx
from kefu.core.text import strip_control
from kefu.knowledge import selectors as kb_selectors
from kefu.knowledge.choices import DocKind
from kefu.knowledge.search import search
from kefu.tickets import selectors
from kefu.tickets.models import Ticket

MAX_QUERY = 100
PER_KIND = 50  # results in one kind's tab
PREVIEW = 5  # results of each kind when all kinds are shown
KINDS = (
    (DocKind.ARTICLE.value, _("Articles")),
    (DocKind.REPLY.value, _("Standard replies")),
    (DocKind.TICKET.value, _("Tickets")),
)


@dataclass
class Result:
    kind: str
    id: int
    title: str
    snippet: str  # escaped HTML with <mark>, from the search index
    url: str
    ticket: Ticket | None = None


@dataclass
class Section:
    kind: str
    label: Any
    results: list[Result] = field(default_factory=list)
    more: bool = False  # more than PER_KIND matched

    @property
    def count_label(self) -> str:
        return f"{len(self.results)}+" if self.more else str(len(self.results))


def _knowledge(user: User, q: str, kind: str, limit: int) -> tuple[list[Result], bool]:
    hits = kb_selectors.search_knowledge(actor=user, query=q, kinds=(kind,), limit=limit + 1)
    rows = [Result(h.kind, h.id, h.title, h.snippet, h.url) for h in hits]
    return rows[:limit], len(rows) > limit


def _tickets(user: User, q: str, limit: int) -> tuple[list[Result], bool]:
    visible = selectors.visible_tickets(user)
    hits = search(q, kinds=(DocKind.TICKET,), ticket_ids=visible.values("id"), limit=limit + 1)
    ids = [h.object_id for h in hits]
    tickets = visible.select_related("customer").in_bulk(ids) if ids else {}  # the index is a copy
    rows = [
        Result(h.kind, h.object_id, h.title, h.snippet, reverse("ticket_detail", args=[h.object_id]), t)
        for h in hits
        if (t := tickets.get(h.object_id)) is not None
    ]
    return rows[:limit], len(rows) > limit


def _section(user: User, q: str, kind: str, label: Any, limit: int) -> Section:
    if kind == DocKind.TICKET:
        rows, more = _tickets(user, q, limit)
    else:
        rows, more = _knowledge(user, q, kind, limit)
    return Section(kind, label, rows, more)


@require_GET
@htmx.htmx_view
def search_page(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    q = strip_control(request.GET.get("q", ""))[:MAX_QUERY].strip()
    kind = request.GET.get("kind", "")
    if kind not in {k for k, _label in KINDS}:
        kind = ""
    sections: list[Section] = []
    if q:
        sections = [_section(user, q, k, label, PER_KIND) for k, label in KINDS]
    shown = [s for s in sections if s.kind == kind] if kind else sections
    context = {
        "q": q,
        "kind": kind,
        "kinds": KINDS,
        "sections": sections,
        "shown": shown,
        "preview": PREVIEW if not kind else PER_KIND,
        "total": sum(len(s.results) for s in sections),
    }
    return render(request, "tickets/search.html", context)


urlpatterns = [path("search/", search_page, name="search")]
