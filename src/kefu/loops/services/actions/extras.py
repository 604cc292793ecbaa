"""Comments with attachments, evidence and milestones of an improvement action."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.permissions import authorize, has_permission
from kefu.loops import events
from kefu.loops.models import (
    ActionAttachment,
    ActionComment,
    ActionEvidence,
    ActionMilestone,
    ImprovementAction,
)
from kefu.loops.services.actions._common import audit, check_owner, check_text, lock_action, may_own
from kefu.loops.services.actions.create import ref
from kefu.tickets.attachments import accept_files
from kefu.tickets.models import Ticket
from kefu.voc.models import FeedbackItem


@transaction.atomic
def add_comment(
    *, actor: User, action_id: Any, body: str, files: Sequence[UploadedFile] = ()
) -> ActionComment:
    authorize(actor, "loops.view")
    incoming = accept_files(list(files or ()))  # before the lock: reading uploads takes time
    action = lock_action(action_id)
    body = check_text(body, "body", 20_000)
    if not body and not incoming:
        raise ValidationFailed(_("Write a comment or attach a file."), field="body")
    now = clock.now()
    comment = ActionComment.objects.create(action=action, author=actor, body=body, created_at=now)
    for f in incoming:
        att = ActionAttachment(
            action=action,
            comment=comment,
            file_name=f.filename,
            content_type=f.content_type,
            size=len(f.content),
            uploaded_by=actor,
            created_at=now,
        )
        att.file.save(f.sha256, f.as_django_file(), save=False)
        att.save()
    notify = sorted({i for i in (action.owner_id, action.created_by_id) if i and i != actor.pk})
    audit(
        actor,
        events.ACTION_COMMENTED.verb,
        action,
        comment_id=comment.pk,
        files=[f.filename for f in incoming],
        notify=notify,
    )
    ImprovementAction.objects.filter(pk=action.pk).update(updated_at=now)
    return comment


@transaction.atomic
def add_evidence(
    *, actor: User, action_id: Any, feedback_item_id: Any = None, ticket_id: Any = None
) -> ActionEvidence:
    authorize(actor, "loops.create")
    action = lock_action(action_id)
    item = ref(FeedbackItem, feedback_item_id, "feedback_item_id")
    ticket = ref(Ticket, ticket_id, "ticket_id")
    if (item is None) == (ticket is None):
        raise ValidationFailed(_("Give either a feedback item or a ticket."), field="feedback_item_id")
    try:
        with transaction.atomic():
            ev = ActionEvidence.objects.create(
                action=action, feedback_item=item, ticket=ticket, added_by=actor, created_at=clock.now()
            )
    except IntegrityError:
        raise Conflict(
            _("This is already evidence of the action."),
            field="ticket_id" if ticket else "feedback_item_id",
            code="duplicate_evidence",
        ) from None
    audit(
        actor,
        events.ACTION_EVIDENCE_ADDED.verb,
        action,
        feedback_item_id=item.pk if item else None,
        ticket_id=ticket.pk if ticket else None,
    )
    return ev


def _check_progress(actor: User, action: ImprovementAction) -> None:
    if may_own(actor, action):
        return
    if has_permission(actor, "loops.create") and action.created_by_id == actor.pk:
        return
    check_owner(actor, action)


def _due(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("Give the due date as YYYY-MM-DD."), field="due_date") from None


@transaction.atomic
def add_milestone(*, actor: User, action_id: Any, title: str, due_date: Any = None) -> ActionMilestone:
    authorize(actor, "loops.view")
    action = lock_action(action_id)
    _check_progress(actor, action)
    title = check_text(title, "title", 200, required=True)
    position = action.milestones.count()
    ms = ActionMilestone.objects.create(
        action=action, title=title, due_date=_due(due_date), position=position
    )
    audit(
        actor,
        events.ACTION_MILESTONE_CHANGED.verb,
        action,
        milestone_id=ms.pk,
        title=title,
        change="added",
        due_date=ms.due_date.isoformat() if ms.due_date else None,
    )
    return ms


@transaction.atomic
def complete_milestone(*, actor: User, milestone_id: Any, done: bool = True) -> ActionMilestone:
    authorize(actor, "loops.view")
    ms = ActionMilestone.objects.filter(pk=milestone_id).first() if str(milestone_id).isdigit() else None
    if ms is None:
        raise NotFound(_("No such milestone."), field="milestone_id")
    action = lock_action(ms.action_id)
    ms = ActionMilestone.objects.select_for_update().get(pk=ms.pk)
    _check_progress(actor, action)
    ms.done_at = clock.now() if done else None
    ms.save(update_fields=["done_at"])
    audit(
        actor,
        events.ACTION_MILESTONE_CHANGED.verb,
        action,
        milestone_id=ms.pk,
        title=ms.title,
        change="done" if done else "undone",
    )
    return ms
