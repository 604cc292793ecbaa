from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound
from kefu.core.permissions import authorize
from kefu.core.text import strip_control
from kefu.customers.models import Customer, Identity, Order
from kefu.customers.normalize import normalize_email, normalize_identity, normalize_phone


def list_customers(
    *, actor: Any, q: str = "", limit: int = 50, cursor: int | None = None
) -> QuerySet[Customer]:
    """Search by name, phone (any format) or email; newest first, keyset-paginated by id."""
    authorize(actor, "customer.view")
    qs = Customer.objects.filter(merged_into__isnull=True).prefetch_related("identities")
    q = strip_control(q or "").strip()[:100]
    if q:
        cond = Q(name__icontains=q) | Q(identities__value=q)
        for norm in (normalize_phone, normalize_email):
            try:
                cond |= Q(identities__value=norm(q))
            except Exception:  # noqa: S112 - not that kind of identity
                continue
        qs = qs.filter(cond).distinct()
    if cursor:
        qs = qs.filter(id__lt=cursor)
    return qs.order_by("-id")[:limit]


def get_customer(*, actor: Any, customer_id: int) -> Customer:
    authorize(actor, "customer.view")
    customer = Customer.objects.prefetch_related("identities").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer %(id)s not found.") % {"id": customer_id}, field="customer_id")
    return customer


def find_customer_by_identity(actor: Any, kind: str, value: str) -> Customer | None:
    """The (surviving) customer owning this identity, or None. `value` may be in any common format;
    raises ValidationFailed (field = kind) when it cannot be normalized."""
    authorize(actor, "customer.view")
    normalized = normalize_identity(kind, value)
    ident = Identity.objects.select_related("customer").filter(kind=kind, value=normalized).first()
    if ident is None:
        return None
    customer = ident.customer
    seen: set[int] = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        # merging moves identities to the survivor; follow the pointers should one be left behind
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def list_customer_orders(*, actor: Any, customer_id: int, limit: int = 20) -> list[Order]:
    """The customer's latest orders with their shop and product."""
    authorize(actor, "customer.view")
    return list(
        Order.objects.filter(customer_id=customer_id)
        .select_related("shop", "product")
        .order_by("-ordered_at", "-id")[:limit]
    )
