"""Shapes of the insights API (/api/v1/voc/insights)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class InsightWeekOut(Schema):
    week: date = Field(..., description="the Monday of the ISO week (local time zone)")
    count: int


class InsightOut(Schema):
    id: int
    key: str = Field(..., examples=["12:34:噪音"], description="product id : cause id : key phrase; stable")
    title: str = Field(..., examples=["制氧机 KY-5W · 噪音 (产品/质量问题)"])
    status: str = Field(..., description="new, acknowledged or dismissed")
    product_id: int | None
    product: str | None
    cause_id: int | None
    cause: str | None = Field(None, description="the cause node's name")
    key_phrases: list[str]
    first_seen: datetime
    last_seen: datetime
    item_count: int = Field(
        ..., description="negative items in the window (this week and the trailing eight)"
    )
    this_week: int
    baseline_mean: float = Field(..., description="mean weekly count over the trailing eight weeks")
    share_of_negative: float = Field(..., description="share of all negative items in the window, 0–1")
    is_spike: bool
    spike_p_value: float | None = Field(
        None, description="one-sided binomial test of this week's share of negative items"
    )
    impact: float
    breakdown: dict[str, Any] = Field(..., description="{shops: {name: n}, channels: {…}, products: {…}}")
    computed_at: datetime


class InsightExampleOut(Schema):
    id: int
    text: str
    occurred_at: datetime
    source: str
    shop: str | None
    product: str | None
    channel: str
    sentiment: float | None


class InsightDetailOut(InsightOut):
    weekly: list[InsightWeekOut]
    examples: list[InsightExampleOut] = Field(..., description="the 10 most recent items")


class InsightPage(Schema):
    items: list[InsightOut]
    count: int


class InsightStatusIn(Schema):
    status: str = Field(..., examples=["acknowledged"], description="new, acknowledged or dismissed")
