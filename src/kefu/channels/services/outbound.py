"""Outbound mail: public replies on email tickets, acknowledgements of new tickets, and notices of
mail rejected as too large. Each is an EmailMessage row queued in the same transaction as its cause
(an outbox), sent after commit by a task and retried by a periodic one.

Replies thread in the customer's client: Message-ID is ours, In-Reply-To names the customer's last
mail, References carries the chain, and the subject carries the ticket number."""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
from datetime import timedelta
from email.utils import formataddr

from django.core import mail
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.accounts.services import get_system_user
from kefu.audit.services import record_event
from kefu.channels import events
from kefu.channels.choices import Direction, MailStatus
from kefu.channels.models import EmailMessage, Mailbox
from kefu.channels.smtp import send_raw
from kefu.core import clock
from kefu.customers.choices import IdentityKind
from kefu.customers.models import Identity
from kefu.tickets.choices import Channel
from kefu.tickets.models import Message, Ticket

log = logging.getLogger("kefu.channels")

RETRY_MINUTES = (1, 5, 30, 120)  # then failed
MAX_REFERENCES = 20
ACK_LIMIT_PER_HOUR = 3  # acknowledgements to one address: a last guard against loops with broken robots
_PREFIX_RE = re.compile(r"^\s*((re|fw|fwd|aw|sv|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)
_NUMBER_TAG_RE = re.compile(r"\s*\[#?T\d{13,}\]")


def reply_subject(subject: str, number: str) -> str:
    """'Re: <subject without prefixes or an old number tag> [T…]'."""
    base = _NUMBER_TAG_RE.sub("", _PREFIX_RE.sub("", subject or "")).strip()
    return f"Re: {base} [{number}]" if base else f"Re: [{number}]"


def _new_message_id(mailbox: Mailbox | None, tag: str) -> str:
    domain = (mailbox.address.rsplit("@", 1)[-1] if mailbox else "") or "kefu.invalid"
    return f"kefu.{tag}.{secrets.token_hex(8)}@{domain}"


def _last_inbound(ticket: Ticket) -> EmailMessage | None:
    return (
        EmailMessage.objects.filter(ticket=ticket, direction=Direction.INBOUND, is_auto=False)
        .select_related("mailbox")
        .order_by("-id")
        .first()
    )


def _thread_headers(last: EmailMessage | None) -> tuple[str, str]:
    if last is None:
        return "", ""
    refs = [r for r in last.references.split() if r]
    refs.append(last.message_id)
    return last.message_id, " ".join(refs[-MAX_REFERENCES:])


def _queue(**fields) -> EmailMessage:
    now = clock.now()
    email = EmailMessage.objects.create(
        direction=Direction.OUTBOUND, status=MailStatus.QUEUED, created_at=now, next_attempt_at=now, **fields
    )

    def enqueue() -> None:
        from kefu.channels.tasks import send_email_task

        send_email_task(email.pk)

    transaction.on_commit(enqueue)
    return email


def queue_reply_email(*, ticket_id: int, message_id: int) -> EmailMessage | None:
    """Queue a public reply as mail when the ticket is an email conversation (called inside the
    reply's transaction). Returns None for tickets that are not answered by mail."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    msg = Message.objects.filter(pk=message_id, ticket_id=ticket_id).first()
    if ticket is None or msg is None:
        return None
    last = _last_inbound(ticket)
    if last is None and ticket.channel != Channel.EMAIL:
        return None
    to = (last.reply_to or last.from_address if last else "") or _customer_email(ticket)
    if not to:
        return None
    mailbox = last.mailbox if last and last.mailbox else _mailbox_for(ticket)
    if mailbox is None:
        return None
    in_reply_to, references = _thread_headers(last)
    return _queue(
        mailbox=mailbox,
        message_id=_new_message_id(mailbox, f"{ticket.pk}.{msg.pk}"),
        in_reply_to=in_reply_to,
        references=references,
        subject=reply_subject(last.subject if last else ticket.subject, ticket.number or ""),
        from_name=mailbox.name[:200],
        from_address=mailbox.address,
        to_addresses=to,
        ticket=ticket,
        ticket_message=msg,
        text=msg.body,
    )


def _customer_email(ticket: Ticket) -> str:
    identity = (
        Identity.objects.filter(customer_id=ticket.customer_id, kind=IdentityKind.EMAIL)
        .order_by("id")
        .first()
    )
    return identity.value if identity else ""


def _mailbox_for(ticket: Ticket) -> Mailbox | None:
    boxes = Mailbox.objects.filter(is_active=True).order_by("id")
    return (boxes.filter(team_id=ticket.team_id).first() if ticket.team_id else None) or boxes.first()


def _bilingual(render) -> str:
    """Customer mail before we know the customer's language: Chinese first, then English."""
    parts = []
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            parts.append(render())
    return "\n\n----\n\n".join(parts)


def queue_acknowledgement(*, original: EmailMessage, ticket: Ticket) -> EmailMessage | None:
    """Tell the sender of a new ticket its number, once; never more than a few per hour per address."""
    to = original.reply_to or original.from_address
    recent = EmailMessage.objects.filter(
        direction=Direction.OUTBOUND,
        is_auto=True,
        to_addresses=to,
        created_at__gte=clock.now() - timedelta(hours=1),
    ).count()
    if recent >= ACK_LIMIT_PER_HOUR:
        log.info("acknowledgement to %s skipped: %d in the last hour", to, recent)
        return None
    mailbox = original.mailbox
    number = ticket.number or ""

    def render() -> str:
        return _(
            "Hello,\n\nwe have received your message; your ticket number is %(number)s. "
            "Reply to this mail to add anything — please keep the ticket number in the subject."
        ) % {"number": number}

    in_reply_to, references = _thread_headers(original)
    return _queue(
        mailbox=mailbox,
        message_id=_new_message_id(mailbox, f"{ticket.pk}.ack"),
        in_reply_to=in_reply_to,
        references=references,
        subject=reply_subject(original.subject, number),
        from_name=mailbox.name[:200] if mailbox else "",
        from_address=mailbox.address if mailbox else "",
        to_addresses=to,
        ticket=ticket,
        text=_bilingual(render),
        is_auto=True,
    )


def queue_size_bounce(*, original: EmailMessage, limit_mb: int) -> EmailMessage:
    """Tell the sender their mail was not accepted because of its size."""
    mailbox = original.mailbox
    size_mb = original.size / (1024 * 1024)

    def render() -> str:
        return _(
            "Your message to %(address)s was not delivered: it is %(size).1f MB and this mailbox accepts "
            "at most %(limit)d MB. Please send large files in several mails or as download links."
        ) % {"address": mailbox.address if mailbox else "", "size": size_mb, "limit": limit_mb}

    subject_prefix = _bilingual(lambda: _("Undeliverable")).replace("\n\n----\n\n", " / ")
    return _queue(
        mailbox=mailbox,
        message_id=_new_message_id(mailbox, "bounce"),
        in_reply_to=original.message_id,
        references=original.message_id,
        subject=f"{subject_prefix}: {original.subject}"[:300],
        from_name=mailbox.name[:200] if mailbox else "",
        from_address=mailbox.address if mailbox else "",
        to_addresses=original.reply_to or original.from_address,
        text=_bilingual(render),
        is_auto=True,
    )


def compose(email: EmailMessage) -> mail.EmailMultiAlternatives:
    """The mail as it goes on the wire."""
    headers = {"Message-ID": f"<{email.message_id}>"}
    if email.in_reply_to:
        headers["In-Reply-To"] = f"<{email.in_reply_to}>"
    if email.references:
        headers["References"] = " ".join(f"<{r}>" for r in email.references.split())
    if email.is_auto:
        headers["Auto-Submitted"] = "auto-replied"  # RFC 3834: robots must not answer this
        headers["X-Auto-Response-Suppress"] = "All"
    if email.ticket_id and email.ticket and email.ticket.number:
        headers["X-Kefu-Ticket"] = email.ticket.number
    sender = formataddr((email.from_name, email.from_address)) if email.from_name else email.from_address
    msg = mail.EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=sender,
        to=[a.strip() for a in email.to_addresses.split(",") if a.strip()],
        headers=headers,
    )
    if email.ticket_message_id:
        for att in email.ticket_message.attachments.all():  # type: ignore[union-attr]
            with att.file.open("rb") as fh:
                msg.attach(att.filename, fh.read(), att.content_type)
    return msg


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def send_email(*, email_id: int) -> str:
    """Send one queued mail; retried with backoff, then marked failed (the assignee is told).
    Returns the resulting status. Safe to call twice: only a queued row is sent."""
    with transaction.atomic():
        email = (
            EmailMessage.objects.select_for_update(of=("self",))
            .select_related("mailbox", "ticket", "ticket_message")
            .filter(pk=email_id, status=MailStatus.QUEUED)
            .first()
        )
        if email is None:
            return ""
        msg = compose(email)
        raw = msg.message().as_bytes()
        now = clock.now()
        email.attempts += 1
        try:
            send_raw(email.mailbox, msg)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
            email.error = error
            if _permanent(exc) or email.attempts > len(RETRY_MINUTES):
                email.status = MailStatus.FAILED
                email.next_attempt_at = None
                _failed_event(email, error)
            else:
                email.next_attempt_at = now + timedelta(minutes=RETRY_MINUTES[email.attempts - 1])
            log.warning(
                "mail %s to %s not sent (attempt %d): %s", email.pk, email.to_addresses, email.attempts, error
            )
            email.save()
            return email.status
        email.status = MailStatus.SENT
        email.sent_at = now
        email.next_attempt_at = None
        email.error = ""
        email.size = len(raw)
        email.raw.save(f"{email.pk}-sent.eml", ContentFile(raw), save=False)
        email.save()
        if email.ticket_id and not email.is_auto:
            record_event(
                actor=get_system_user(),
                verb=events.EMAIL_SENT.verb,
                subject=email,
                ticket_id=email.ticket_id,
                customer_id=email.ticket.customer_id,  # type: ignore[union-attr]
                data={"to": email.to_addresses, "email_id": email.pk},
            )
        return email.status


def _failed_event(email: EmailMessage, error: str) -> None:
    ticket = email.ticket
    data: dict = {"to": email.to_addresses, "error": error[:300], "email_id": email.pk}
    if ticket is not None and ticket.assignee_id:
        data["notify"] = [ticket.assignee_id]
    record_event(
        actor=get_system_user(),
        verb=events.EMAIL_FAILED.verb,
        subject=email,
        ticket_id=ticket.pk if ticket else None,
        customer_id=ticket.customer_id if ticket else None,
        data=data,
    )


def due_outbound_ids(limit: int = 100) -> list[int]:
    return list(
        EmailMessage.objects.filter(status=MailStatus.QUEUED, next_attempt_at__lte=clock.now())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
