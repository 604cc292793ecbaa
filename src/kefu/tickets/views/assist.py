"""Agent assist on the ticket page: handbook articles and standard replies suggested for the ticket's
text (loaded by htmx after the page, so they never slow it down), a search box over both, the
composer's standard-reply picker, and inserting a reply with its placeholders filled.

Insert is a POST (it counts the reply's use) answering with the filled text as text/plain; assist.js
puts it into the composer at the cursor. No inline scripts (CSP).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import User
from kefu.core import clock, htmx
from kefu.core.permissions import authorize, has_permission
from kefu.core.text import strip_control
from kefu.customers.choices import IdentityKind
from kefu.customers.models import Identity
from kefu.knowledge import usage
from kefu.knowledge.choices import ArticleStatus, DocKind
from kefu.knowledge.models import Article
from kefu.knowledge.placeholders import fill_reply
from kefu.knowledge.search import search
from kefu.tickets import selectors
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.models import Message, Ticket
from kefu.tickets.selectors.timeline import format_identity

SUGGESTIONS = 3  # articles and replies each in the panel
PICKER_LIMIT = 12  # replies in the composer's picker
MAX_QUERY = 100  # characters an agent types
MAX_TICKET_TEXT = 600  # characters of the ticket's own text the suggestions search for


@dataclass
class Suggestion:
    kind: str
    id: int
    title: str
    snippet: str  # escaped HTML with <mark>, from the search index
    url: str = ""


def _kb_url(name: str, pk: int, fallback: str) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the knowledge pages are not installed
        return fallback


def _query(request: HttpRequest) -> str:
    return strip_control(request.GET.get("q", ""))[:MAX_QUERY].strip()


def ticket_text(ticket: Ticket) -> str:
    """What the suggestions search for: subject, description and the customer's last message."""
    last = (
        Message.objects.filter(ticket_id=ticket.pk, kind=MessageKind.CUSTOMER)
        .order_by("-id")
        .values_list("body", flat=True)
        .first()
    )
    parts = [ticket.subject, ticket.description, last or ""]
    return strip_control(" ".join(p.strip() for p in parts if p and p.strip()))[:MAX_TICKET_TEXT]


def suggest_articles(query: str, *, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Published articles (internal and public) for the query, checked against the table (the index
    is a copy that follows after commit)."""
    if not query:
        return []
    hits = search(query, kinds=(DocKind.ARTICLE,), live_only=True, limit=limit)
    ids = [h.object_id for h in hits]
    live = (
        set(Article.objects.filter(pk__in=ids, status=ArticleStatus.PUBLISHED).values_list("pk", flat=True))
        if ids
        else set()
    )
    return [
        Suggestion(
            DocKind.ARTICLE,
            h.object_id,
            h.title,
            h.snippet,
            _kb_url("knowledge:article_detail", h.object_id, f"/kb/articles/{h.object_id}/"),
        )
        for h in hits
        if h.object_id in live
    ]


def suggest_replies(
    user: User, query: str, *, team_ids: list[int], limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """Active standard replies, shared or of the user's teams, for the query."""
    if not query:
        return []
    hits = search(query, kinds=(DocKind.REPLY,), team_ids=team_ids, live_only=True, limit=limit)
    ids = [h.object_id for h in hits]
    usable = (
        set(usage.usable_replies(user, team_ids=team_ids).filter(pk__in=ids).values_list("pk", flat=True))
        if ids
        else set()
    )
    return [Suggestion(DocKind.REPLY, h.object_id, h.title, h.snippet) for h in hits if h.object_id in usable]


def can_insert(user: User, ticket: Ticket) -> bool:
    """Whether the page has a composer to insert into."""
    writes = has_permission(user, "ticket.reply") or has_permission(user, "ticket.note")
    return writes and ticket.status != Status.CLOSED


def placeholder_context(ticket: Ticket, user: User) -> dict[str, str]:
    """The values of the placeholders of standard replies, for this ticket and agent."""
    phone = (
        Identity.objects.filter(customer_id=ticket.customer_id, kind=IdentityKind.PHONE)
        .order_by("id")
        .values_list("value", flat=True)
        .first()
    )
    my_teams = {m.team_id: m.team.name for m in user.memberships.select_related("team").order_by("id")}
    team = my_teams[ticket.team_id] if ticket.team_id in my_teams else next(iter(my_teams.values()), "")
    today = timezone.localdate(clock.now())
    return {
        "customer.name": ticket.customer.name if ticket.customer_id else "",
        "customer.phone": format_identity(IdentityKind.PHONE, phone) if phone else "",
        "ticket.number": ticket.number or "",
        "ticket.subject": ticket.subject,
        "agent.name": str(user),
        "agent.team": team,
        "today": formats.date_format(today, "DATE_FORMAT"),
    }


# --- views --------------------------------------------------------------------------------------


@require_GET
@htmx.htmx_view
def ticket_assist(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Suggested answers" panel's results: for the ticket's text, or for the words typed."""
    user = cast(User, request.user)
    ticket = selectors.get_ticket(actor=user, ticket_id=pk)
    authorize(user, "kb.view")
    typed = _query(request)
    query = typed or ticket_text(ticket)
    team_ids = usage.reply_team_ids(user)
    context: dict[str, Any] = {
        "ticket": ticket,
        "typed": typed,
        "articles": suggest_articles(query),
        "replies": suggest_replies(user, query, team_ids=team_ids),
        "can_insert": can_insert(user, ticket),
    }
    return render(request, "tickets/partials/ticket_assist_results.html", context)


@require_GET
@htmx.htmx_view
def reply_picker(request: HttpRequest, pk: int) -> HttpResponse:
    """The composer's standard-reply picker: the most used replies, or those matching the words typed."""
    user = cast(User, request.user)
    ticket = selectors.get_ticket(actor=user, ticket_id=pk)
    authorize(user, "kb.view")
    typed = _query(request)
    team_ids = usage.reply_team_ids(user)
    if typed:
        replies = suggest_replies(user, typed, team_ids=team_ids, limit=PICKER_LIMIT)
    else:
        replies = [
            Suggestion(DocKind.REPLY, r.pk, r.title, "")
            for r in usage.usable_replies(user, team_ids=team_ids)
            .only("id", "title")
            .order_by("-usage_count", "title", "id")[:PICKER_LIMIT]
        ]
    context = {"ticket": ticket, "typed": typed, "replies": replies, "can_insert": can_insert(user, ticket)}
    part = "reply_picker_list" if "list" in request.GET else "reply_picker"
    return render(request, f"tickets/partials/{part}.html", context)


@require_POST
@htmx.htmx_view
def reply_insert(request: HttpRequest, pk: int, reply_id: int) -> HttpResponse:
    """A standard reply with its placeholders filled for this ticket, as plain text; counts its use.
    Placeholders left unfilled (unknown, or no value such as a customer without a phone) stay as
    typed, and a toast names them."""
    user = cast(User, request.user)
    ticket = selectors.get_ticket(actor=user, ticket_id=pk)
    team_ids = usage.reply_team_ids(user)
    reply = usage.get_usable_reply(actor=user, reply_id=reply_id, team_ids=team_ids)
    filled = fill_reply(reply.body, placeholder_context(ticket, user))
    usage.record_reply_use(actor=user, reply_id=reply.pk, team_ids=team_ids)
    response = HttpResponse(filled.text, content_type="text/plain; charset=utf-8")
    left = [*filled.missing, *filled.unknown]
    if left:
        names = ", ".join("{" + name + "}" for name in left)
        htmx.toast(response, _("Fill in by hand: %(names)s") % {"names": names}, "warning")
    return response


urlpatterns = [
    path("tickets/<int:pk>/assist/", ticket_assist, name="ticket_assist"),
    path("tickets/<int:pk>/replies/", reply_picker, name="ticket_reply_picker"),
    path("tickets/<int:pk>/replies/<int:reply_id>/insert/", reply_insert, name="ticket_reply_insert"),
]
