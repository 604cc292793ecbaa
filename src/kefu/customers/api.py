from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from kefu.customers.schemas import CustomerIn, CustomerOut, CustomerPage, MergeIn
from kefu.customers.selectors import get_customer, list_customers
from kefu.customers.services import find_or_create_customer, merge_customers

router = Router()


@router.get("", response=CustomerPage, summary="Search customers by name, phone (any format) or email")
def customers_list(
    request: HttpRequest, q: str = "", cursor: int | None = None, limit: int = Query(50, ge=1, le=200)
):
    items = list(list_customers(actor=request.user, q=q, cursor=cursor, limit=limit + 1))
    next_cursor = items[limit - 1].pk if len(items) > limit else None
    return {"items": items[:limit], "next_cursor": next_cursor}


@router.post(
    "", response={200: CustomerOut, 201: CustomerOut}, summary="Find or create a customer by identities"
)
def customers_create(request: HttpRequest, payload: CustomerIn):
    customer, created = find_or_create_customer(
        actor=request.user, name=payload.name, identities=payload.identities()
    )
    return (201 if created else 200), get_customer(actor=request.user, customer_id=customer.pk)


@router.post("/{int:customer_id}/merge", response=CustomerOut, summary="Merge this customer into target_id")
def customers_merge(request: HttpRequest, customer_id: int, payload: MergeIn):
    source = get_customer(actor=request.user, customer_id=customer_id)
    target = get_customer(actor=request.user, customer_id=payload.target_id)
    merge_customers(actor=request.user, source=source, target=target)
    return get_customer(actor=request.user, customer_id=target.pk)
