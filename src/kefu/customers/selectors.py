from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kefu.core.errors import NotFound
from kefu.core.permissions import authorize
from kefu.core.text import strip_control
from kefu.customers.models import Customer
from kefu.customers.normalize import normalize_email, normalize_phone


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
        raise NotFound(f"Customer {customer_id} not found.", field="customer_id")
    return customer
