"""Reads for the channel pages: mailboxes (admins), their mail log, and single emails (visible with
their ticket: an agent sees an email when they may see its ticket; emails without a ticket are for
mailbox admins only), all scoped in SQL."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.channels.choices import Direction, MailStatus
from kefu.channels.models import ChannelSettings, EmailMessage, Mailbox
from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize, has_permission
from kefu.tickets.models import Attachment, Ticket

MANAGE = "mailbox.manage"
VIEW_RAW = "email.view_raw"
MAX_LIMIT = 200
RECENT_DAYS = 7
_CID = re.compile(r'(?P<attr>\b(?:src|href|background))="cid:(?P<cid>[^"]*)"', re.IGNORECASE)


def list_mailboxes(*, actor: Any) -> list[Mailbox]:
    """Every mailbox with its team and `received_recent` / `sent_recent`: mails of the last 7 days."""
    authorize(actor, MANAGE)
    since = clock.now() - timedelta(days=RECENT_DAYS)
    recent = Q(messages__created_at__gte=since)
    return list(
        Mailbox.objects.select_related("team")
        .annotate(
            received_recent=Count("messages", filter=recent & Q(messages__direction=Direction.INBOUND)),
            sent_recent=Count("messages", filter=recent & Q(messages__direction=Direction.OUTBOUND)),
        )
        .order_by("name", "id")
    )


def get_mailbox(*, actor: Any, mailbox_id: int) -> Mailbox:
    authorize(actor, MANAGE)
    mailbox = Mailbox.objects.select_related("team").filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(_("Mailbox %(id)s not found.") % {"id": mailbox_id}, field="mailbox_id")
    return mailbox


def get_channel_settings(*, actor: Any) -> ChannelSettings:
    authorize(actor, MANAGE)
    ChannelSettings.load()
    return ChannelSettings.objects.select_related("repair_team").get(pk=1)


@dataclass
class MailLogPage:
    emails: list[EmailMessage]
    older: int | None  # the `before_id` of the next (older) page, None at the end


def list_mailbox_emails(
    *,
    actor: Any,
    mailbox_id: int,
    direction: str | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> MailLogPage:
    """The mailbox's mail, newest first, `limit` at a time (keyset on id: pass `older` as before_id)."""
    get_mailbox(actor=actor, mailbox_id=mailbox_id)
    if direction and direction not in Direction.values:
        raise ValidationFailed(
            _("Unknown direction “%(value)s”.") % {"value": direction[:20]}, field="direction"
        )
    if status and status not in MailStatus.values:
        raise ValidationFailed(_("Unknown status “%(value)s”.") % {"value": status[:20]}, field="status")
    limit = max(1, min(int(limit), MAX_LIMIT))
    qs = EmailMessage.objects.filter(mailbox_id=mailbox_id)
    if direction:
        qs = qs.filter(direction=direction)
    if status:
        qs = qs.filter(status=status)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    rows = list(qs.select_related("ticket").defer("html", "text", "references").order_by("-id")[: limit + 1])
    older = rows[limit - 1].pk if len(rows) > limit else None
    return MailLogPage(emails=rows[:limit], older=older)


def visible_emails(actor: Any) -> QuerySet[EmailMessage]:
    """Emails of tickets the actor may see; mailbox admins also those without a ticket."""
    q = Q(ticket_id__in=Ticket.objects.visible_to(actor).values("id"))
    if has_permission(actor, MANAGE):
        q |= Q(ticket_id__isnull=True)
    return EmailMessage.objects.filter(q)


def get_email(*, actor: Any, email_id: int) -> EmailMessage:
    email = (
        visible_emails(actor)
        .select_related("mailbox", "ticket", "ticket_message", "ticket_message__author")
        .filter(pk=email_id)
        .first()
    )
    if email is None:
        raise NotFound(_("Email %(id)s not found.") % {"id": email_id}, field="email_id")
    return email


def get_email_raw(*, actor: Any, email_id: int) -> EmailMessage:
    """The email, for downloading its raw source: visible to the actor and `email.view_raw`."""
    email = get_email(actor=actor, email_id=email_id)
    authorize(actor, VIEW_RAW)
    if not email.raw:
        raise NotFound(_("The raw source of email %(id)s was not kept.") % {"id": email_id}, field="email_id")
    return email


def email_attachments(email: EmailMessage) -> list[Attachment]:
    """The attachments (inline images included) stored with the email's ticket message."""
    if not email.ticket_message_id:
        return []
    return list(Attachment.objects.filter(message_id=email.ticket_message_id).order_by("id"))


def get_inline_attachment(*, actor: Any, email_id: int, attachment_id: int) -> Attachment:
    """An inline part (one with a Content-ID) of an email the actor may see."""
    email = get_email(actor=actor, email_id=email_id)
    att = (
        Attachment.objects.filter(pk=attachment_id, message_id=email.ticket_message_id)
        .exclude(content_id="")
        .first()
        if email.ticket_message_id
        else None
    )
    if att is None:
        raise NotFound(_("Attachment %(id)s not found.") % {"id": attachment_id}, field="attachment_id")
    return att


def attachment_url(att: Attachment) -> str:
    return reverse("api-1:tickets_attachment", kwargs={"ticket_id": att.ticket_id, "attachment_id": att.pk})


def _cid_key(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


def rewrite_cid_links(
    html_text: str, attachments: list[Attachment], url_for: Callable[[Attachment], str] = attachment_url
) -> str:
    """`cid:<content id>` references in the (sanitized) HTML point at the attachment with that
    content id (at `url_for(attachment)`); unknown ones stay as they are (the browser loads nothing
    for them)."""
    urls = {_cid_key(a.content_id): url_for(a) for a in attachments if a.content_id}
    if not urls:
        return html_text

    def replace(m: re.Match[str]) -> str:
        url = urls.get(_cid_key(html.unescape(m.group("cid"))))
        return f'{m.group("attr")}="{url}"' if url else m.group(0)

    return _CID.sub(replace, html_text)
