"""Remediation orders (/api/v1/loops/remediations) and an action's target metric
(/api/v1/loops/actions/{id}/metric)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from kefu.core import clock
from kefu.core.errors import NotFound
from kefu.core.permissions import authorize
from kefu.loops.models import ImprovementAction, RemediationOrder
from kefu.loops.schemas.remediation import (
    MetricOut,
    RemediationIn,
    RemediationOut,
    RemediationPage,
    ReverseIn,
)
from kefu.loops.services import metrics, remediation, verification
from kefu.tickets.schemas import ErrorOut

router = Router(tags=["closed loop: remediation and metrics"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
MAX_LIST = 200


def order_out(order: RemediationOrder, deliveries: list | None = None) -> dict[str, Any]:
    return {
        "id": order.pk,
        "kind": order.kind,
        "status": order.status,
        "shop_id": order.shop_id,
        "shop": order.shop.code if order.shop else None,
        "target": order.target,
        "reason": order.reason,
        "action_id": order.action_id,
        "action": order.action.number if order.action else None,
        "ticket_id": order.ticket_id,
        "ticket": order.ticket.number if order.ticket else None,
        "ordered_by": order.ordered_by.get_username() if order.ordered_by else None,
        "ordered_at": order.ordered_at,
        "reversed_by": order.reversed_by.get_username() if order.reversed_by else None,
        "reversed_at": order.reversed_at,
        "reverse_reason": order.reverse_reason,
        "deliveries": [d.__dict__ for d in deliveries or []],
    }


def _one(actor: Any, order_id: int) -> dict[str, Any]:
    order = remediation.get_remediation(actor=actor, order_id=order_id)
    return order_out(order, remediation.delivery_states([order.pk])[order.pk])


@router.post("/remediations", response={201: RemediationOut, **ERRORS})
def create_remediation(request: HttpRequest, payload: RemediationIn):
    """Order a remediation; other systems receive it as the signed webhook loops.remediation_ordered."""
    order = remediation.order_remediation(actor=request.user, **payload.dict())
    return 201, _one(request.user, order.pk)


@router.get("/remediations", response={200: RemediationPage, **ERRORS})
def list_remediations(
    request: HttpRequest, action_id: int | None = None, ticket_id: int | None = None, status: str = ""
):
    """The newest orders first (at most 200), with their webhook delivery state."""
    qs = remediation.list_remediations(
        actor=request.user, action_id=action_id, ticket_id=ticket_id, status=status
    )
    rows = list(qs[:MAX_LIST])
    states = remediation.delivery_states([o.pk for o in rows])
    return {"items": [order_out(o, states[o.pk]) for o in rows], "count": qs.count()}


@router.get("/remediations/{order_id}", response={200: RemediationOut, **ERRORS})
def get_remediation(request: HttpRequest, order_id: int):
    return _one(request.user, order_id)


@router.post("/remediations/{order_id}/reverse", response={200: RemediationOut, **ERRORS})
def reverse_remediation(request: HttpRequest, order_id: int, payload: ReverseIn):
    """Take an order back; other systems receive loops.remediation_reversed."""
    remediation.reverse_remediation(actor=request.user, order_id=order_id, reason=payload.reason)
    return _one(request.user, order_id)


@router.get("/actions/{action_id}/metric", response={200: MetricOut, **ERRORS})
def action_metric(request: HttpRequest, action_id: int):
    """The action's target metric: baseline weeks, the verification window's weeks so far, and the
    stored verification result (value, baseline, goal, p_value, test, …)."""
    authorize(request.user, "loops.view")
    action = ImprovementAction.objects.filter(pk=action_id).first()
    if action is None:
        raise NotFound(_("Improvement action not found."), field="action_id")
    return metric_out(action)


@router.post("/actions/{action_id}/reverify", response={200: MetricOut, **ERRORS})
def reverify_action(request: HttpRequest, action_id: int):
    """Compute the verification again (loops.own): the result follows the data of the window."""
    action = verification.reverify(actor=request.user, action_id=action_id)
    return metric_out(action)


def metric_out(action: ImprovementAction) -> dict[str, Any]:
    base: list = []
    window: list = []
    if action.metric:
        start, end = (
            (action.baseline_from, action.baseline_to)
            if action.baseline_from and action.baseline_to
            else metrics.baseline_range(action)
        )
        base = metrics.weekly(action, start, end)
        if action.verify_from and action.verify_to:
            last = min(action.verify_to, clock.local_today())
            if last >= action.verify_from:
                window = metrics.weekly(action, action.verify_from, last)
    return {
        "action_id": action.pk,
        "metric": action.metric,
        "product_id": action.metric_product_id,
        "shop_id": action.metric_shop_id,
        "cause_id": action.metric_cause_id,
        "baseline_value": action.baseline_value,
        "baseline_from": action.baseline_from,
        "baseline_to": action.baseline_to,
        "goal_value": action.goal_value,
        "verify_from": action.verify_from,
        "verify_to": action.verify_to,
        "baseline_weekly": base,
        "window_weekly": window,
        "verification": action.verification or {},
    }
