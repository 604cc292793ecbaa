from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from kefu.customers.schemas import CustomerIn, CustomerOut
from kefu.tickets import workflow


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)


class ProductRef(Schema):
    id: int
    model_number: str
    name: str


class ShopRef(Schema):
    id: int
    code: str
    name: str
    platform: str


class TicketOut(Schema):
    id: int
    number: str
    subject: str
    description: str
    type: str
    channel: str
    status: str
    priority: str
    customer: Ref
    product: ProductRef | None
    shop: ShopRef | None
    team: Ref | None
    assignee: UserRef | None
    category: Ref | None
    tags: list[str]
    custom_fields: dict[str, Any]
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    reopened_count: int
    sla_due_at: datetime | None = Field(
        None, description="earliest due instant of the running SLA targets (null when none runs)"
    )
    sla_breached: bool = Field(False, description="a running or paused SLA target is breached")
    allowed_transitions: list[str]

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return sorted(t.name for t in obj.tags.all())

    @staticmethod
    def resolve_allowed_transitions(obj) -> list[str]:
        return workflow.allowed_transitions(obj.status)


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/v1/tickets/{obj.ticket_id}/attachments/{obj.id}"


class MessageOut(Schema):
    id: int
    kind: str
    body: str
    author: UserRef | None
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.all())


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(obj) -> list:
        return list(obj.messages.all())


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: int | None = Field(None, description="pass as ?cursor= for the next page")


class TicketCreateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(..., max_length=200)
    description: str = ""
    type: str | None = Field(None, examples=["complaint"])
    channel: str | None = Field(None, examples=["phone"])
    priority: str | None = Field(None, examples=["normal"])
    customer: CustomerIn | None = None
    customer_id: int | None = None
    product_id: int | None = None
    product_model: str | None = Field(None, description="model number, instead of product_id")
    shop_id: int | None = None
    shop_code: str | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    category_id: int | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    external_id: str | None = Field(
        None, max_length=100, description="your system's id; repeats return the first ticket"
    )


class TicketPatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = None
    type: str | None = None
    priority: str | None = None
    product_id: int | None = None
    shop_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    category_id: int | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None


class MessageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field("reply", description="reply (public), note (internal) or customer")
    body: str = ""


class TransitionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to: str
    comment: str = ""


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    department_id: int
    team_id: int | None = None
    note: str = ""
    reply_by: datetime | None = None


class TransferOut(Schema):
    id: int
    ticket_id: int
    to_department: Ref
    to_team: Ref | None
    note: str
    reply_by: datetime | None
    status: str
    created_at: datetime


class EventOut(Schema):
    id: int
    created_at: datetime
    verb: str
    text: str
    actor: UserRef | None
    data: dict[str, Any]
    source: str


class CustomerDetailOut(CustomerOut):
    tickets: list[TicketOut]

    @staticmethod
    def resolve_tickets(obj) -> list:
        return getattr(obj, "tickets_seen", [])


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
