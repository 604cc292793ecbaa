"""Shapes of the remediation API (/api/v1/loops/remediations) and of an action's target metric
(/api/v1/loops/actions/{id}/metric)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class RemediationIn(Schema):
    kind: str = Field(
        ..., examples=["delist_sku"], description="delist_sku, close_warehouse or suspend_promotion"
    )
    shop_id: int | None = Field(None, description="required to delist a SKU or suspend a promotion")
    target: str = Field(
        ..., max_length=500, examples=["KY-5W"], description="SKU, warehouse code or promotion id"
    )
    reason: str = Field(..., max_length=5000, examples=["批量噪音投诉"])
    action_id: int | None = None
    ticket_id: int | None = None


class ReverseIn(Schema):
    reason: str = Field(..., max_length=5000)


class DeliveryOut(Schema):
    verb: str
    status: str = Field(..., description="pending, delivered or failed")
    attempts: int
    last_status_code: int | None
    last_error: str


class RemediationOut(Schema):
    id: int
    kind: str
    status: str = Field(..., description="active or reversed")
    shop_id: int | None
    shop: str | None = Field(None, description="the shop's code")
    target: str
    reason: str
    action_id: int | None
    action: str | None = Field(None, description="the action's number")
    ticket_id: int | None
    ticket: str | None = Field(None, description="the ticket's number")
    ordered_by: str | None
    ordered_at: datetime
    reversed_by: str | None
    reversed_at: datetime | None
    reverse_reason: str
    deliveries: list[DeliveryOut] = Field(default_factory=list, description="webhook delivery log")


class RemediationPage(Schema):
    items: list[RemediationOut]
    count: int


class MetricOut(Schema):
    action_id: int
    metric: str
    product_id: int | None
    shop_id: int | None
    cause_id: int | None
    baseline_value: float | None
    baseline_from: date | None
    baseline_to: date | None
    goal_value: float | None
    verify_from: date | None
    verify_to: date | None
    baseline_weekly: list[tuple[str, float | None]] = Field(..., description="[[week start, value], …]")
    window_weekly: list[tuple[str, float | None]] = Field(
        ..., description="the verification window so far (empty before verification)"
    )
    verification: dict[str, Any]
