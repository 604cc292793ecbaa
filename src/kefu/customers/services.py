from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.permissions import authorize
from kefu.core.text import clean_text
from kefu.customers import events
from kefu.customers.choices import IdentityKind
from kefu.customers.models import Customer, Identity
from kefu.customers.normalize import normalize_identity


def normalize_identities(identities: dict[str, str | None]) -> dict[str, str]:
    """Normalize the given identities (kind -> raw value); empty values are ignored."""
    out: dict[str, str] = {}
    for kind, raw in identities.items():
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if kind not in IdentityKind.values:
            raise ValidationFailed(_("Unknown identity kind '%(kind)s'.") % {"kind": kind}, field=kind)
        out[kind] = normalize_identity(kind, str(raw))
    return out


def _root(customer: Customer) -> Customer:
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def _find(normalized: dict[str, str]) -> Customer | None:
    from django.db.models import Q

    q = Q()
    for kind, value in normalized.items():
        q |= Q(kind=kind, value=value)
    found = list(Identity.objects.filter(q).select_related("customer").order_by("id")[:5])
    if not found:
        return None
    return _root(found[0].customer)


@transaction.atomic
def find_or_create_customer(
    *, actor: Any, name: str = "", identities: dict[str, str | None]
) -> tuple[Customer, bool]:
    """Find the customer owning any of the identities, or create one; add identities they lack."""
    authorize(actor, "customer.create")
    normalized = normalize_identities(identities)
    if not normalized:
        raise ValidationFailed(_("Give at least one identity (phone, email, …)."), field="customer")
    name = clean_text(name, "name", 100)
    customer = _find(normalized)
    created = False
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(name=name)
                Identity.objects.bulk_create(
                    [Identity(customer=customer, kind=k, value=v) for k, v in normalized.items()]
                )
                record_event(
                    actor=actor,
                    verb=events.CUSTOMER_CREATED.verb,
                    subject=customer,
                    customer_id=customer.pk,
                    data={"name": name, "identities": normalized},
                )
            return customer, True
        except IntegrityError:
            # another request created one of these identities concurrently: use theirs
            customer = _find(normalized)
            if customer is None:
                raise
    assert customer is not None
    _add_missing_identities(actor=actor, customer=customer, normalized=normalized)
    if name and not customer.name:
        customer.name = name
        customer.save(update_fields=["name", "updated_at"])
        record_event(
            actor=actor,
            verb=events.CUSTOMER_UPDATED.verb,
            subject=customer,
            customer_id=customer.pk,
            data={"fields": "name", "changes": {"name": {"from": "", "to": name}}},
        )
    return customer, created


def _add_missing_identities(*, actor: Any, customer: Customer, normalized: dict[str, str]) -> None:
    from django.db.models import Q

    q = Q()
    for kind, value in normalized.items():
        q |= Q(kind=kind, value=value)
    taken = {(i.kind, i.value) for i in Identity.objects.filter(q)}
    for kind, value in normalized.items():
        if (kind, value) in taken:
            continue
        try:
            with transaction.atomic():
                Identity.objects.create(customer=customer, kind=kind, value=value)
        except IntegrityError:
            continue  # claimed concurrently by someone; leave it with them
        record_event(
            actor=actor,
            verb=events.IDENTITY_ADDED.verb,
            subject=customer,
            customer_id=customer.pk,
            data={"kind": kind, "value": value},
        )


@transaction.atomic
def add_identity(*, actor: Any, customer: Customer, kind: str, value: str) -> Identity:
    authorize(actor, "customer.create")
    normalized = normalize_identity(kind, value)
    existing = Identity.objects.filter(kind=kind, value=normalized).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise Conflict(
            _("%(kind)s %(value)s belongs to customer #%(customer)s; merge the customers instead.")
            % {"kind": kind, "value": normalized, "customer": existing.customer_id},
            field=kind,
        )
    ident = Identity.objects.create(customer=customer, kind=kind, value=normalized)
    record_event(
        actor=actor,
        verb=events.IDENTITY_ADDED.verb,
        subject=customer,
        customer_id=customer.pk,
        data={"kind": kind, "value": normalized},
    )
    return ident


@transaction.atomic
def merge_customers(*, actor: Any, source: Customer, target: Customer) -> Customer:
    """Merge `source` into `target`: identities move, the source is kept as a pointer, events are kept.

    Apps that hold customer references (tickets, …) move them in the same transaction by subscribing
    in-transaction to `customer.merged`.
    """
    authorize(actor, "customer.merge")
    if source.pk == target.pk:
        raise ValidationFailed(_("A customer cannot be merged into itself."), field="target_id")
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk])}
    source, target = locked[source.pk], locked[target.pk]
    if source.is_merged:
        raise Conflict(_("Customer #%(id)s was already merged.") % {"id": source.pk}, field="source_id")
    if target.is_merged:
        raise Conflict(
            _("Customer #%(id)s was merged into another customer.") % {"id": target.pk}, field="target_id"
        )
    moved = list(Identity.objects.filter(customer=source).values_list("kind", "value"))
    Identity.objects.filter(customer=source).update(customer=target)
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    Customer.objects.filter(merged_into=source).update(merged_into=target)
    if not target.name and source.name:
        target.name = source.name
    target.tags = sorted(set(target.tags) | set(source.tags))
    target.save(update_fields=["name", "tags", "updated_at"])
    record_event(
        actor=actor,
        verb=events.CUSTOMER_MERGED.verb,
        subject=target,
        customer_id=target.pk,
        data={
            "source_id": source.pk,
            "target_id": target.pk,
            "identities": [f"{k}:{v}" for k, v in moved],
        },
    )
    return target
