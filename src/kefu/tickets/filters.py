"""The ticket list filter, shared by the API and the web inbox."""

from __future__ import annotations

from datetime import datetime

from django.db.models import TextChoices
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from kefu.core.errors import ValidationFailed
from kefu.tickets.choices import Channel, Priority, Status, TicketType
from kefu.tickets.selectors import TicketFilters
from kefu.tickets.selectors.core import LIST_SORTS, SLA_FILTERS


def _multi(value: str | None, choices: type[TextChoices], field: str) -> list[str] | None:
    if not value:
        return None
    values = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in values if v not in choices.values]
    if bad:
        raise ValidationFailed(
            _("%(field)s must be among: %(choices)s.")
            % {"field": field, "choices": ", ".join(choices.values)},
            field=field,
        )
    return values


def _one(value: str | None, choices: tuple[str, ...], field: str) -> str | None:
    if not value:
        return None
    if value not in choices:
        raise ValidationFailed(
            _("%(field)s must be among: %(choices)s.") % {"field": field, "choices": ", ".join(choices)},
            field=field,
        )
    return value


class TicketFilterIn(Schema):
    status: str | None = None
    type: str | None = None
    priority: str | None = None
    channel: str | None = None
    team: int | None = None
    assignee: str | None = None
    customer: int | None = None
    product: int | None = None
    shop: int | None = None
    tag: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = None
    sla: str | None = Field(
        None,
        description="due_soon: new/open tickets with an SLA target due within 2 hours or past; "
        "breached: new/open tickets with a breached SLA target",
    )
    sort: str | None = Field(
        None,
        description="newest (default) or due: earliest SLA due time first, tickets without one after "
        "them; the cursor is the id of the last ticket of a page either way",
    )

    def to_filters(self) -> TicketFilters:
        return TicketFilters(
            status=_multi(self.status, Status, "status"),
            type=_multi(self.type, TicketType, "type"),
            priority=_multi(self.priority, Priority, "priority"),
            channel=_multi(self.channel, Channel, "channel"),
            team=self.team,
            assignee=self.assignee,
            customer=self.customer,
            product=self.product,
            shop=self.shop,
            tag=self.tag,
            created_after=self.created_after,
            created_before=self.created_before,
            q=(self.q or "").strip()[:100] or None,
            sla=_one(self.sla, SLA_FILTERS, "sla"),
            sort=_one(self.sort, LIST_SORTS, "sort"),
        )
