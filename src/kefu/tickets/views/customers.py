"""Console: customers — search, profile with ticket history, merging duplicates.

These pages live in the tickets app because they show ticket history (customers may not import tickets).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kefu.core.errors import DomainError, NotFound, PermissionDenied
from kefu.core.htmx import htmx_view
from kefu.core.permissions import has_permission
from kefu.customers.choices import IdentityKind
from kefu.customers.models import Customer, Identity
from kefu.customers.selectors import get_customer, list_customer_orders, list_customers
from kefu.customers.services import merge_customers
from kefu.tickets.forms_calls import MergeForm
from kefu.tickets.selectors import list_customer_tickets

PAGE_SIZE = 50
HISTORY_SIZE = 50
CANDIDATES = 20
_ID = re.compile(r"^#?(\d{1,12})$")


def _denied(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "tickets/customer_denied.html", {"message": message}, status=403)


def domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """PermissionDenied → a 403 page saying why; NotFound → 404."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            return _denied(request, _("Your role may not see this page."))
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapped


def _ordered(identities: Iterable[Identity]) -> list[Identity]:
    """Phone first, then email, …, in the order they were added (the prefetch is unordered)."""
    rank = {kind: n for n, kind in enumerate(IdentityKind.values)}
    return sorted(identities, key=lambda i: (rank.get(i.kind, len(rank)), i.pk))


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


@htmx_view
@require_GET
@domain_errors
def customer_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    cursor = _int(request.GET.get("cursor"))
    rows = list(list_customers(actor=request.user, q=q, cursor=cursor, limit=PAGE_SIZE + 1))
    next_cursor = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    ctx = {"q": q, "cursor": cursor, "customers": rows[:PAGE_SIZE], "next_cursor": next_cursor}
    htmx = getattr(request, "htmx", None)
    partial = htmx is not None and bool(htmx) and not htmx.history_restore_request
    template = "tickets/partials/customer_list_results.html" if partial else "tickets/customer_list.html"
    response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


@htmx_view
@require_GET
@domain_errors
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_customer(actor=request.user, customer_id=pk)
    identities = _ordered(customer.identities.all())
    phone = next((i.value for i in identities if i.kind == IdentityKind.PHONE), "")
    ctx = {
        "customer": customer,
        "identities": identities,
        "phone": phone,
        "orders": list_customer_orders(actor=request.user, customer_id=customer.pk),
        "tickets": list_customer_tickets(actor=request.user, customer_id=customer.pk, limit=HISTORY_SIZE),
        "history_size": HISTORY_SIZE,
        "can_merge": has_permission(request.user, "customer.merge"),
        "can_log_call": has_permission(request.user, "ticket.create"),
    }
    return render(request, "tickets/customer_detail.html", ctx)


def _candidates(actor: Any, q: str, exclude: int) -> list[Customer]:
    """Customers matching a name, phone or email, or `#id`; never the customer being merged."""
    found: list[Customer] = []
    if m := _ID.match(q):
        try:
            by_id = get_customer(actor=actor, customer_id=int(m.group(1)))
        except NotFound:
            pass
        else:
            if not by_id.is_merged:
                found.append(by_id)
    found += list_customers(actor=actor, q=q, limit=CANDIDATES)
    unique = {c.pk: c for c in found if c.pk != exclude}
    return list(unique.values())[:CANDIDATES]


@htmx_view
@require_http_methods(["GET", "POST"])
@domain_errors
def customer_merge(request: HttpRequest, pk: int) -> HttpResponse:
    if not has_permission(request.user, "customer.merge"):
        return _denied(request, _("Only supervisors and administrators may merge customers."))
    source = get_customer(actor=request.user, customer_id=pk)
    q = request.GET.get("q", "").strip()[:100]
    error = ""
    status = 200
    target: Customer | None = None
    if request.method == "POST":
        form = MergeForm(request.POST)
        if not form.is_valid():
            error, status = _("Choose the customer to merge into."), 422
        else:
            try:
                target = get_customer(actor=request.user, customer_id=form.cleaned_data["target_id"])
                merge_customers(actor=request.user, source=source, target=target)
            except PermissionDenied:
                return _denied(request, _("Only supervisors and administrators may merge customers."))
            except DomainError as exc:
                error, status = exc.message, (exc.status if 400 <= exc.status < 500 else 422)
            else:
                messages.success(
                    request,
                    _("Customer #%(source)s was merged into #%(target)s.")
                    % {"source": source.pk, "target": target.pk},
                )
                return redirect("customer_detail", pk=target.pk)
    elif target_id := _int(request.GET.get("target")):
        try:
            target = get_customer(actor=request.user, customer_id=target_id)
        except NotFound:
            error, status = _("There is no customer #%(id)s.") % {"id": target_id}, 404
    ctx = {
        "customer": source,
        "identities": _ordered(source.identities.all()),
        "target": target,
        "target_identities": _ordered(target.identities.all()) if target else [],
        "q": q,
        "candidates": _candidates(request.user, q, source.pk) if q and target is None else [],
        "error": error,
    }
    return render(request, "tickets/customer_merge.html", ctx, status=status)


urlpatterns = [
    path("customers/", customer_list, name="customer_list"),
    path("customers/<int:pk>/", customer_detail, name="customer_detail"),
    path("customers/<int:pk>/merge/", customer_merge, name="customer_merge"),
]
