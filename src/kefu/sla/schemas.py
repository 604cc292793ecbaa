"""The SLA API's shapes."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class TicketTimerOut(Schema):
    target: str = Field(..., examples=["first_reply"], description="first_reply, next_reply or resolution")
    status: str = Field(..., examples=["running"], description="running, paused, met or cancelled")
    started_at: datetime
    due_at: datetime | None
    target_seconds: int = Field(..., description="business seconds the policy allows")
    remaining_seconds: int | None = Field(
        ...,
        description="business seconds left now, negative when overdue; null unless running or paused",
    )
    breached: bool
    breached_at: datetime | None
    met_at: datetime | None
    business_seconds: int | None = Field(..., description="business seconds it took, once met")


class TicketSlaOut(Schema):
    ticket_id: int
    at: datetime = Field(..., description="the instant remaining_seconds refer to")
    policy: str | None = Field(..., description="name of the SLA policy the clocks follow")
    calendar: str | None = Field(..., description="name of the business calendar")
    timers: list[TicketTimerOut]
