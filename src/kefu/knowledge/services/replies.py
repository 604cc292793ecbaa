"""Standard reply (标准话术) writes. Editors and admins manage every reply; supervisors only the
replies of teams they are members of (not shared ones)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Team
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.core.permissions import authorize
from kefu.core.text import clean_text
from kefu.knowledge import events
from kefu.knowledge.models import ArticleCategory, StandardReply
from kefu.knowledge.selectors import manages_all_replies, member_team_ids
from kefu.knowledge.services._common import check_ref, is_int

MAX_REPLY_BODY = 5000


def _denied() -> PermissionDenied:
    return PermissionDenied(
        _("Supervisors manage the standard replies of their own teams only."),
        field="team_id",
        action="reply.manage",
    )


def _lock(reply_id: Any) -> StandardReply:
    reply = (
        StandardReply.objects.select_for_update().filter(pk=reply_id).first() if is_int(reply_id) else None
    )
    if reply is None:
        raise NotFound(_("Standard reply %(id)s not found.") % {"id": reply_id}, field="reply_id")
    return reply


def _check_scope(actor: Any, team_id: int | None) -> None:
    """A supervisor may only touch replies of a team they belong to."""
    if manages_all_replies(actor):
        return
    if team_id is None or team_id not in member_team_ids(actor):
        raise _denied()


def _event(actor: Any, verb: str, reply: StandardReply, **data: Any) -> None:
    record_event(
        actor=actor,
        verb=verb,
        subject=reply,
        data={"reply_id": reply.pk, "title": reply.title, "team_id": reply.team_id, **data},
    )


@transaction.atomic
def save_reply(
    *,
    actor: Any,
    reply_id: int | None = None,
    title: Any,
    body: Any,
    team_id: Any = None,
    category_id: Any = None,
    is_active: Any = True,
) -> StandardReply:
    """Create (reply_id None) or change a standard reply; team_id None shares it with every team."""
    authorize(actor, "reply.manage")
    title = clean_text(title, "title", 200, required=True, single_line=True)
    body = clean_text(body, "body", MAX_REPLY_BODY, required=True)
    team = check_ref(Team, team_id, "team_id")
    category = check_ref(ArticleCategory, category_id, "category_id")
    if not isinstance(is_active, bool):
        raise ValidationFailed(_("is_active must be true or false."), field="is_active")
    _check_scope(actor, team.pk if team else None)
    now = clock.now()

    if reply_id is None:
        reply = StandardReply.objects.create(
            title=title,
            body=body,
            team=team,
            category=category,
            is_active=is_active,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
            updated_at=now,
        )
        _event(actor, events.REPLY_CREATED.verb, reply)
        return reply

    reply = _lock(reply_id)
    _check_scope(actor, reply.team_id)
    changed = []
    for field, value in (
        ("title", title),
        ("body", body),
        ("team_id", team.pk if team else None),
        ("category_id", category.pk if category else None),
        ("is_active", is_active),
    ):
        if getattr(reply, field) != value:
            setattr(reply, field, value)
            changed.append(field.removesuffix("_id"))
    if not changed:
        return reply
    reply.updated_at = now
    reply.save()
    _event(actor, events.REPLY_UPDATED.verb, reply, fields=changed)
    return reply


@transaction.atomic
def delete_reply(*, actor: Any, reply_id: int) -> None:
    authorize(actor, "reply.manage")
    reply = _lock(reply_id)
    _check_scope(actor, reply.team_id)
    _event(actor, events.REPLY_DELETED.verb, reply)
    reply.delete()
