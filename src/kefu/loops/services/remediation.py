"""Remediation orders (处置): customer service tells other systems to delist a SKU in a shop, close a
front warehouse or suspend a promotion, and can take the order back.

Delivery: the audit events loops.remediation_ordered / loops.remediation_reversed are the message.
kefu.notifications sends them, signed (X-Kefu-Signature) with retries and a delivery log, to every
webhook endpoint an admin subscribed with "loops.remediation_*". Reads for the pages and the API
(the list, one order, the delivery state of its events) are at the end of this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.loops import events
from kefu.loops.choices import RemediationKind, RemediationStatus
from kefu.loops.models import ImprovementAction, RemediationOrder

PERMISSION = "loops.remediate"
MAX_TARGET = 200
MAX_REASON = 2000
NEEDS_SHOP = (RemediationKind.DELIST_SKU, RemediationKind.SUSPEND_PROMOTION)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_kind(value: Any) -> str:
    kind = str(value or "").strip()
    if kind not in RemediationKind.values:
        raise ValidationFailed(
            _("Choose a remediation: %(kinds)s.") % {"kinds": ", ".join(RemediationKind.values)},
            field="kind",
        )
    return kind


def clean_target(value: Any) -> str:
    target = str(value or "").strip()
    if not target:
        raise ValidationFailed(_("Give the target: a SKU, warehouse code or promotion id."), field="target")
    if len(target) > MAX_TARGET or _CONTROL.search(target):
        raise ValidationFailed(
            _("The target must be one line of at most %(n)d characters.") % {"n": MAX_TARGET}, field="target"
        )
    return target


def clean_reason(value: Any, field: str = "reason") -> str:
    reason = str(value or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason."), field=field)
    if len(reason) > MAX_REASON:
        raise ValidationFailed(_("At most %(n)d characters.") % {"n": MAX_REASON}, field=field)
    return reason


def _event_data(order: RemediationOrder) -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "kind": order.kind,
        "shop": order.shop.code if order.shop else None,
        "target": order.target,
        "reason": order.reason,
        "action": order.action.number if order.action else None,
        "ticket": order.ticket.number if order.ticket else None,
    }


@transaction.atomic
def order_remediation(
    *,
    actor: Any,
    kind: str,
    shop_id: int | None,
    target: str,
    reason: str,
    action_id: int | None = None,
    ticket_id: int | None = None,
) -> RemediationOrder:
    """Order a remediation (delivered to other systems through the signed outgoing webhooks)."""
    from kefu.customers.models import Shop
    from kefu.tickets.selectors import get_ticket

    authorize(actor, PERMISSION)
    kind = clean_kind(kind)
    target = clean_target(target)
    reason = clean_reason(reason)
    shop = None
    if shop_id:
        shop = Shop.objects.filter(pk=shop_id).first()
        if shop is None:
            raise ValidationFailed(_("Unknown shop."), field="shop_id")
    elif kind in NEEDS_SHOP:
        raise ValidationFailed(_("Choose the shop for this remediation."), field="shop_id")
    action = None
    if action_id:
        action = ImprovementAction.objects.filter(pk=action_id).first()
        if action is None:
            raise NotFound(_("Improvement action not found."), field="action_id")
    ticket = None
    if ticket_id:
        try:
            ticket = get_ticket(actor=actor, ticket_id=ticket_id)
        except NotFound:
            raise NotFound(_("Ticket not found."), field="ticket_id") from None
    order = RemediationOrder.objects.create(
        kind=kind,
        shop=shop,
        target=target,
        reason=reason,
        action=action,
        ticket=ticket,
        ordered_by=actor,
        ordered_at=clock.now(),
    )
    record_event(
        actor=actor,
        verb=events.REMEDIATION_ORDERED.verb,
        subject=order,
        data=_event_data(order),
        ticket_id=ticket.pk if ticket else None,
        customer_id=ticket.customer_id if ticket else None,
    )
    return order


@transaction.atomic
def reverse_remediation(*, actor: Any, order_id: int, reason: str) -> RemediationOrder:
    """Take an order back (the other systems receive loops.remediation_reversed)."""
    authorize(actor, PERMISSION)
    reason = clean_reason(reason)
    order = (
        RemediationOrder.objects.select_for_update(of=("self",))
        .select_related("shop", "action", "ticket")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(_("Remediation order not found."), field="order_id")
    if order.status != RemediationStatus.ACTIVE:
        raise Conflict(_("This order has already been reversed."), code="already_reversed", field="status")
    order.status = RemediationStatus.REVERSED
    order.reversed_by = actor
    order.reversed_at = clock.now()
    order.reverse_reason = reason
    order.save(update_fields=["status", "reversed_by", "reversed_at", "reverse_reason"])
    record_event(
        actor=actor,
        verb=events.REMEDIATION_REVERSED.verb,
        subject=order,
        data={**_event_data(order), "reason": reason, "original_reason": order.reason},
        ticket_id=order.ticket_id,
        customer_id=order.ticket.customer_id if order.ticket else None,
    )
    return order


# --- reads -------------------------------------------------------------------------------------


def _visible(actor: Any) -> QuerySet[RemediationOrder]:
    authorize(actor, "loops.view")
    return RemediationOrder.objects.select_related("shop", "action", "ticket", "ordered_by", "reversed_by")


def list_remediations(
    *, actor: Any, action_id: int | None = None, ticket_id: int | None = None, status: str = ""
) -> QuerySet[RemediationOrder]:
    qs = _visible(actor)
    if action_id:
        qs = qs.filter(action_id=action_id)
    if ticket_id:
        qs = qs.filter(ticket_id=ticket_id)
    if status:
        if status not in RemediationStatus.values:
            raise ValidationFailed(_("Unknown status."), field="status")
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def get_remediation(*, actor: Any, order_id: int) -> RemediationOrder:
    order = _visible(actor).filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("Remediation order not found."), field="order_id")
    return order


@dataclass(frozen=True)
class Delivery:
    verb: str
    status: str  # pending, delivered, failed; "none" when no endpoint subscribed
    attempts: int
    last_status_code: int | None
    last_error: str


def delivery_states(order_ids: list[int]) -> dict[int, list[Delivery]]:
    """The webhook deliveries of each order's events (ordered and reversed), from the delivery log."""
    from kefu.notifications.models import WebhookDelivery

    out: dict[int, list[Delivery]] = {pk: [] for pk in order_ids}
    if not order_ids:
        return out
    evs = dict(
        AuditEvent.objects.filter(
            subject_type=RemediationOrder._meta.model_name,
            subject_id__in=order_ids,
            verb__in=[events.REMEDIATION_ORDERED.verb, events.REMEDIATION_REVERSED.verb],
        ).values_list("pk", "subject_id")
    )
    rows = WebhookDelivery.objects.filter(event_id__in=list(evs)).select_related("event").order_by("pk")
    for d in rows:
        out[evs[d.event_id]].append(
            Delivery(d.event.verb, d.status, d.attempts, d.last_status_code, d.last_error)
        )
    return out
