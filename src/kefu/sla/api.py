"""The SLA API: a ticket's clocks. Mounted on /tickets next to the tickets router (its paths do
not overlap theirs)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from kefu.sla.schemas import TicketSlaOut
from kefu.sla.selectors import get_ticket_sla
from kefu.tickets.schemas import ErrorOut

router = Router()
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


@router.get(
    "/{int:ticket_id}/sla",
    response={200: TicketSlaOut, **ERRORS},
    summary="A ticket's SLA clocks, with business time remaining",
)
def tickets_sla(request: HttpRequest, ticket_id: int):
    """The policy and calendar the ticket's clocks follow and, per target, its status, due time and
    business seconds left now (negative when overdue). 404 when the ticket is not visible to you."""
    return 200, get_ticket_sla(actor=request.user, ticket_id=ticket_id)
