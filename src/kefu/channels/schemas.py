"""Schemas of the public service API (mini-program): uploads, repair requests, tracking.
Nothing internal (ids, agents, teams) is exposed; the tracking number is the ticket's number."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class UploadOut(Schema):
    token: str = Field(description="single use, valid for 24 hours: list it in `uploads` of a repair request")
    filename: str
    content_type: str
    size: int
    kind: str = Field(description="image or video")


class RepairIn(Schema):
    # plain strings with defaults: the service checks each field and names it in its message
    phone: str = Field("", description="mainland China mobile number, e.g. 13800138000")
    name: str = ""
    product_model: str = ""
    purchase_channel: str = Field("", description="tmall, jd, official, offline or other")
    address: str = ""
    description: str = ""
    uploads: list[str] = Field(default_factory=list, max_length=50, description="tokens from POST /uploads")
    idempotency_key: str | None = Field(
        None, max_length=100, description="the same key (with the same phone) twice returns the first request"
    )


class RepairOut(Schema):
    tracking_number: str
    status: str = Field(description="received, in_progress, waiting_for_you, resolved or closed")
    status_label: str = Field(description="the status in words for the customer, in the request's language")
    created_at: datetime
