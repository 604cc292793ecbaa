"""Bulk actions from the inbox: the single-ticket services applied to each ticket in its own
transaction (a savepoint inside an outer one), so one ticket's failure never undoes another's change.

Each call checks what is common to all tickets once (role, target user/department/status/tag), then
returns one BulkResult per requested ticket, in request order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Department, Team, User
from kefu.core.errors import DomainError, InvalidTransition, ValidationFailed
from kefu.core.permissions import authorize
from kefu.tickets.choices import Status
from kefu.tickets.models import Ticket
from kefu.tickets.selectors.inbox import assignable_users
from kefu.tickets.services._common import check_ref, check_text, lock_ticket
from kefu.tickets.services.status import transition_ticket
from kefu.tickets.services.transfer import transfer_ticket
from kefu.tickets.services.update import update_ticket

MAX_BULK = 200


@dataclass(frozen=True)
class BulkResult:
    ticket_id: int
    number: str
    ok: bool
    message: str = ""
    code: str = ""


def _ids(ticket_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in ticket_ids))
    if not ids:
        raise ValidationFailed(_("Select at least one ticket."), field="ids")
    if len(ids) > MAX_BULK:
        raise ValidationFailed(
            _("At most %(n)d tickets at a time.") % {"n": MAX_BULK}, field="ids", limit=MAX_BULK
        )
    return ids


def _message(error: DomainError) -> str:
    if isinstance(error, InvalidTransition) and error.field == "to" and "current" in error.extra:
        labels = dict(Status.choices)
        current, target = error.extra["current"], error.extra.get("to", "")
        return _("Cannot change status from %(from)s to %(to)s.") % {
            "from": labels.get(current, current),
            "to": labels.get(target, target),
        }
    return error.message


def _each(actor: User, ids: list[int], apply: Callable[[int], Any]) -> list[BulkResult]:
    numbers = dict(Ticket.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", "number"))
    results = []
    for ticket_id in ids:
        number = numbers.get(ticket_id) or f"#{ticket_id}"
        try:
            with transaction.atomic():
                apply(ticket_id)
        except DomainError as e:
            results.append(BulkResult(ticket_id, number, False, _message(e), e.code))
        else:
            results.append(BulkResult(ticket_id, number, True))
    return results


def bulk_assign(*, actor: User, ticket_ids: Iterable[int], assignee_id: int | None) -> list[BulkResult]:
    """Assign each ticket to the actor or someone of their teams (None unassigns)."""
    authorize(actor, "ticket.update")
    ids = _ids(ticket_ids)
    if assignee_id is not None and not assignable_users(actor).filter(pk=assignee_id).exists():
        raise ValidationFailed(
            _("You can assign tickets to yourself or people of your teams."), field="assignee"
        )
    return _each(
        actor,
        ids,
        lambda tid: update_ticket(actor=actor, ticket_id=tid, changes={"assignee_id": assignee_id}),
    )


def bulk_transition(*, actor: User, ticket_ids: Iterable[int], to: str) -> list[BulkResult]:
    """Move each ticket to a status; tickets whose workflow forbids it are reported, not changed."""
    authorize(actor, "ticket.transition")
    ids = _ids(ticket_ids)
    if to not in Status.values:
        raise ValidationFailed(_("Choose a status."), field="status")

    def apply(tid: int) -> None:
        try:
            transition_ticket(actor=actor, ticket_id=tid, to=to)
        except InvalidTransition as e:
            e.extra.setdefault("to", to)
            raise

    return _each(actor, ids, apply)


def bulk_transfer(
    *,
    actor: User,
    ticket_ids: Iterable[int],
    department_id: int,
    team_id: int | None = None,
    note: str = "",
) -> list[BulkResult]:
    """Hand each ticket to a department (and optionally one of its teams)."""
    authorize(actor, "ticket.transfer")
    ids = _ids(ticket_ids)
    department = check_ref(Department, department_id, "department")
    if team_id is not None:
        team = check_ref(Team, team_id, "team")
        if team.department_id != department.pk:
            raise ValidationFailed(
                _("Team %(team)s is not in %(department)s.") % {"team": team, "department": department},
                field="team",
            )
    note = check_text(note, "note", 10_000)
    return _each(
        actor,
        ids,
        lambda tid: transfer_ticket(
            actor=actor, ticket_id=tid, department_id=department.pk, team_id=team_id, note=note
        ),
    )


def bulk_add_tag(*, actor: User, ticket_ids: Iterable[int], tag: str) -> list[BulkResult]:
    """Add one tag to each ticket, keeping its other tags."""
    authorize(actor, "ticket.update")
    ids = _ids(ticket_ids)
    name = check_text(tag, "tag", 50, required=True)

    def apply(tid: int) -> None:
        ticket = lock_ticket(actor=actor, ticket_id=tid, action="ticket.update")
        names = list(ticket.tags.values_list("name", flat=True))
        if name not in names:
            update_ticket(actor=actor, ticket_id=tid, changes={"tags": [*names, name]})

    return _each(actor, ids, apply)
