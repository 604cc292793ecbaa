"""Console: log a phone call as a ticket, finding the caller by their number as the agent types."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kefu.accounts.models import User
from kefu.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from kefu.core.htmx import htmx_view
from kefu.core.permissions import authorize, has_permission
from kefu.customers.choices import IdentityKind
from kefu.customers.selectors import find_customer_by_identity
from kefu.tickets.choices import Channel
from kefu.tickets.forms_calls import CallForm
from kefu.tickets.selectors import get_ticket, list_customer_tickets
from kefu.tickets.services import create_ticket

PREVIOUS_TICKETS = 10


def ticket_url(ticket_id: int) -> str:
    try:
        return reverse("ticket_detail", args=[ticket_id])
    except NoReverseMatch:  # the ticket page is not installed yet
        return f"/tickets/{ticket_id}/"


def lookup_context(actor: Any, raw: str) -> dict[str, Any]:
    """What the call page shows about the number typed so far: empty, invalid, new or known."""
    raw = (raw or "").strip()[:40]
    if not raw:
        return {"state": "empty", "raw": raw}
    try:
        customer = find_customer_by_identity(actor, IdentityKind.PHONE, raw)
    except ValidationFailed:
        return {"state": "invalid", "raw": raw}
    if customer is None:
        return {"state": "new", "raw": raw}
    tickets = list_customer_tickets(actor=actor, customer_id=customer.pk, limit=PREVIOUS_TICKETS)
    return {"state": "known", "raw": raw, "customer": customer, "tickets": tickets}


def _denied(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/call_new.html", {"denied": True}, status=403)


@htmx_view
@require_http_methods(["GET", "POST"])
def call_new(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, "ticket.create"):
        return _denied(request)
    status = 200
    if request.method == "POST":
        form = CallForm(request.POST, actor=request.user)
        if form.is_valid():
            try:
                ticket, _created = create_ticket(
                    actor=cast(User, request.user), channel=Channel.PHONE, **form.service_kwargs()
                )
            except PermissionDenied:
                return _denied(request)
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status if 400 <= exc.status < 500 else 422
            else:
                return _after_create(request, ticket.pk, ticket.number or "")
        else:
            status = 422
        form.invalid_class()
        phone = request.POST.get("phone", "")
    else:
        phone = request.GET.get("phone", "")
        form = CallForm(initial={"phone": phone}, actor=request.user)
    ctx = {
        "form": form,
        **lookup_context(request.user, phone),
        "name_value": form["customer_name"].value() or "",
        "name_errors": form.errors.get("customer_name"),
    }
    return render(request, "tickets/call_new.html", ctx, status=status)


def _after_create(request: HttpRequest, ticket_id: int, number: str) -> HttpResponse:
    try:
        get_ticket(actor=request.user, ticket_id=ticket_id)
    except NotFound:
        # routed to a team the agent is not in: say so, and start the next call
        messages.success(request, _("Ticket %(number)s created for the chosen team.") % {"number": number})
        return redirect("call_new")
    messages.success(request, _("Ticket %(number)s created.") % {"number": number})
    return redirect(ticket_url(ticket_id))


@htmx_view
@require_GET
def call_lookup(request: HttpRequest) -> HttpResponse:
    """htmx: the caller's card for the number typed so far (partial)."""
    authorize(request.user, "ticket.create")  # refused with a toast (htmx_view)
    ctx = lookup_context(request.user, request.GET.get("phone", ""))
    ctx["name_value"] = request.GET.get("customer_name", "")
    return render(request, "tickets/partials/call_lookup.html", ctx)


urlpatterns = [
    path("calls/new/", call_new, name="call_new"),
    path("calls/lookup/", call_lookup, name="call_lookup"),
]
