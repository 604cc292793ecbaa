"""Inbound mail: one raw RFC 5322 message in → one EmailMessage record and (usually) a ticket
message, idempotent by Message-ID.

Threading (docs/channels.md): a reply lands on its ticket by In-Reply-To/References first, then by the
ticket number in the subject when the sender is that ticket's customer; anything else is a new ticket.
Auto-replies, bounces and bulk mail never make tickets and are never answered."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.accounts.services import get_system_user
from kefu.audit.services import record_event
from kefu.channels import events
from kefu.channels.choices import Direction, MailStatus
from kefu.channels.mime import ParsedMail, parse_message, parse_message_id
from kefu.channels.models import EmailMessage, Mailbox
from kefu.channels.quotes import trim_quoted
from kefu.core import clock
from kefu.core.errors import ValidationFailed
from kefu.customers.choices import IdentityKind
from kefu.customers.services import find_or_create_customer
from kefu.tickets.attachments import ALLOWED_TYPES, IncomingFile, sniff
from kefu.tickets.choices import Channel, MessageKind, Status
from kefu.tickets.models import Ticket
from kefu.tickets.services import add_message, create_ticket

log = logging.getLogger("kefu.channels")

# the ticket number in a subject: "[T2026112400017]", "#T2026112400017", "T2026112400017"
NUMBER_RE = re.compile(r"(?<![A-Za-z0-9])#?(T\d{13,})(?![0-9])")
MAX_MESSAGE_ID = 255
MAX_REFERENCES = 30


@dataclass
class ReceiveResult:
    email: EmailMessage
    created: bool  # False when this Message-ID was already stored


def stored_message_id(value: str) -> str:
    """Message-IDs are stored as sent (without <>); over-long ones by their hash."""
    value = value.strip()
    if len(value) <= MAX_MESSAGE_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def receive_email(*, mailbox: Mailbox, raw: bytes, source: str) -> ReceiveResult:
    """Store the mail and thread it onto a ticket. Safe to call twice with the same message.
    `source` is "imap", "smtpd" or "test"."""
    # a repeat (IMAP re-read, also piped through smtpd) is found from the headers alone, before the
    # whole message — which may be 25 MB — is parsed
    early = _header_message_id(raw)
    if early and (existing := EmailMessage.objects.filter(message_id=early).first()) is not None:
        return ReceiveResult(existing, False)
    parsed = parse_message(raw)
    message_id = stored_message_id(parsed.message_id)
    existing = EmailMessage.objects.filter(message_id=message_id).first()
    if existing is not None:
        return ReceiveResult(existing, False)
    if len(raw) > mailbox.max_message_bytes:
        return _reject(
            mailbox=mailbox, parsed=parsed, raw_headers=_headers_of(raw), size=len(raw), source=source
        )
    try:
        with transaction.atomic():
            email = _store(mailbox=mailbox, parsed=parsed, message_id=message_id, raw=raw, source=source)
    except IntegrityError:
        # the same message arrived twice at once (IMAP and smtpd, or two workers): the first one won
        existing = EmailMessage.objects.filter(message_id=message_id).first()
        if existing is None:
            raise
        return ReceiveResult(existing, False)
    return ReceiveResult(email, True)


def reject_too_large(*, mailbox: Mailbox, headers: bytes, size: int, source: str) -> ReceiveResult:
    """A message over the mailbox's size limit, known only by its headers: record it and tell the
    sender (unless the mail was automatic). Idempotent by Message-ID."""
    parsed = parse_message(headers)
    existing = EmailMessage.objects.filter(message_id=stored_message_id(parsed.message_id)).first()
    if existing is not None:
        return ReceiveResult(existing, False)
    return _reject(mailbox=mailbox, parsed=parsed, raw_headers=headers, size=size, source=source)


def _header_message_id(raw: bytes) -> str:
    """The stored form of the Message-ID header, "" when there is none (or it cannot be read)."""
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(_headers_of(raw))["Message-ID"]
        return stored_message_id(parse_message_id(str(value))) if value else ""
    except Exception:  # noqa: BLE001 (malformed headers: the full parse decides)
        return ""


def _headers_of(raw: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return raw[: at + len(sep)]
    return raw[:65536]


def _reject(
    *, mailbox: Mailbox, parsed: ParsedMail, raw_headers: bytes, size: int, source: str
) -> ReceiveResult:
    from kefu.channels.services.outbound import queue_size_bounce

    message_id = stored_message_id(parsed.message_id)
    try:
        with transaction.atomic():
            email = _new_record(
                mailbox=mailbox,
                parsed=parsed,
                message_id=message_id,
                status=MailStatus.TOO_LARGE,
                source=source,
            )
            email.size = size
            email.error = _("%(size).1f MB is over the limit of %(limit)d MB.") % {
                "size": size / (1024 * 1024),
                "limit": mailbox.max_message_mb,
            }
            email.raw.save(
                f"{hashlib.sha256(raw_headers).hexdigest()}-headers.eml", ContentFile(raw_headers), save=False
            )
            email.save()
            record_event(
                actor=get_system_user(),
                verb=events.EMAIL_REJECTED.verb,
                subject=email,
                data={"from": parsed.from_address, "reason": email.error, "mailbox": mailbox.address},
            )
            if _may_answer(parsed, mailbox):
                queue_size_bounce(original=email, limit_mb=mailbox.max_message_mb)
    except IntegrityError:
        existing = EmailMessage.objects.filter(message_id=message_id).first()
        if existing is None:
            raise
        return ReceiveResult(existing, False)
    return ReceiveResult(email, True)


def _new_record(
    *, mailbox: Mailbox, parsed: ParsedMail, message_id: str, status: str, source: str
) -> EmailMessage:
    return EmailMessage.objects.create(
        mailbox=mailbox,
        direction=Direction.INBOUND,
        status=status,
        message_id=message_id,
        in_reply_to=stored_message_id(parsed.in_reply_to[0]) if parsed.in_reply_to else "",
        references=" ".join(parsed.references[-MAX_REFERENCES:]),
        subject=parsed.subject[:300],
        from_name=parsed.from_name[:200],
        from_address=parsed.from_address[:254],
        reply_to=parsed.reply_to[:254],
        to_addresses=", ".join(parsed.to + parsed.cc)[:5000],
        text=parsed.text,
        html=parsed.html,
        is_auto=bool(parsed.auto),
        source=source[:20],
        created_at=clock.now(),
    )


def _our_addresses() -> set[str]:
    return {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}


def _may_answer(parsed: ParsedMail, mailbox: Mailbox) -> bool:
    """Never answer machines (auto-replies, bounces, lists) or ourselves: no mail loops."""
    sender = parsed.reply_to or parsed.from_address
    if parsed.auto or not sender or sender in _our_addresses():
        return False
    local = sender.split("@", 1)[0]
    return local not in ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply")


def _store(*, mailbox: Mailbox, parsed: ParsedMail, message_id: str, raw: bytes, source: str) -> EmailMessage:
    email = _new_record(
        mailbox=mailbox, parsed=parsed, message_id=message_id, status=MailStatus.IGNORED, source=source
    )
    email.size = len(raw)
    email.raw.save(f"{hashlib.sha256(raw).hexdigest()}.eml", ContentFile(raw), save=False)
    system = get_system_user()
    sender = parsed.from_address
    if parsed.auto == "bounce":
        _on_bounce(email, parsed)
    elif parsed.auto:
        ticket = _thread_ticket(parsed, sender)
        email.status = MailStatus.AUTO_REPLY if parsed.auto == "auto_reply" else MailStatus.IGNORED
        email.ticket = ticket
        if ticket is not None:
            record_event(
                actor=system,
                verb=events.EMAIL_AUTO_REPLY.verb,
                subject=email,
                ticket_id=ticket.pk,
                customer_id=ticket.customer_id,
                data={"from": sender, "subject": parsed.subject[:200], "email_id": email.pk},
            )
    elif not sender or sender in _our_addresses():
        email.error = _("No sender address, or sent by one of our own mailboxes.")
    else:
        _to_ticket(email, parsed, mailbox, system)
    email.save()
    return email


def _thread_ticket(parsed: ParsedMail, sender: str) -> Ticket | None:
    """The ticket this mail answers: by headers, then by the ticket number in the subject."""
    ids = [stored_message_id(i) for i in [*parsed.in_reply_to, *reversed(parsed.references)] if i]
    ticket: Ticket | None = None
    if ids:
        known = (
            EmailMessage.objects.filter(message_id__in=ids, ticket__isnull=False)
            .select_related("ticket")
            .order_by("-id")
            .first()
        )
        if known is not None:
            ticket = known.ticket
    if ticket is None and sender:
        match = NUMBER_RE.search(parsed.subject)
        if match:
            ticket = Ticket.objects.filter(
                number=match.group(1),
                customer__identities__kind=IdentityKind.EMAIL,
                customer__identities__value=sender,
            ).first()
    seen = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


def _files(parsed: ParsedMail) -> tuple[list[IncomingFile], list[str]]:
    """Attachments kefu keeps on the ticket; the others stay in the raw mail (named in the record)."""
    kept: list[IncomingFile] = []
    skipped: list[str] = []
    limit = settings.KEFU_MAX_ATTACHMENT_BYTES
    for a in parsed.attachments:
        name = (a.filename or "attachment").replace("/", "_").replace("\\", "_")[:200]
        mime = sniff(a.content) if a.content else ""
        if not a.content or len(a.content) > limit or mime not in ALLOWED_TYPES:
            skipped.append(name)
            continue
        kept.append(
            IncomingFile(
                name, a.content, mime, hashlib.sha256(a.content).hexdigest(), content_id=a.content_id[:200]
            )
        )
    return kept, skipped


def _to_ticket(email: EmailMessage, parsed: ParsedMail, mailbox: Mailbox, system) -> None:
    sender = parsed.from_address
    ticket = _thread_ticket(parsed, sender)
    files, skipped = _files(parsed)
    if skipped:
        email.error = _("Attachments kept only in the original mail: %(names)s") % {
            "names": ", ".join(skipped)
        }
    if ticket is not None and ticket.status != Status.CLOSED:
        body = trim_quoted(parsed.text, subject=parsed.subject).strip() or parsed.text.strip()
        msg = add_message(
            actor=system, ticket_id=ticket.pk, kind=MessageKind.CUSTOMER, body=body[:50_000], files=files
        )
        email.status, email.ticket, email.ticket_message = MailStatus.APPENDED, ticket, msg
        _received_event(email, ticket, system)
        return
    try:
        customer, _created = find_or_create_customer(
            actor=system, name=parsed.from_name, identities={IdentityKind.EMAIL: parsed.reply_to or sender}
        )
    except ValidationFailed as exc:
        email.error = exc.message
        return
    text = parsed.text.strip()
    if ticket is not None:  # a reply to a closed ticket: a follow-up ticket that names the old one
        text = (
            _("Follow-up to ticket %(number)s") % {"number": ticket.number}
            + "\n\n"
            + trim_quoted(text, subject=parsed.subject).strip()
        )
        email.status = MailStatus.FOLLOW_UP
    else:
        email.status = MailStatus.NEW_TICKET
    new_ticket, _created = create_ticket(
        actor=system,
        subject=_subject(parsed.subject),
        description=text[:50_000],
        channel=Channel.EMAIL,
        customer=customer,
        team_id=mailbox.team_id,
    )
    email.ticket = new_ticket
    if files:
        email.ticket_message = add_message(
            actor=system, ticket_id=new_ticket.pk, kind=MessageKind.CUSTOMER, body="", files=files
        )
    _received_event(email, new_ticket, system)
    if mailbox.send_acknowledgement and _may_answer(parsed, mailbox):
        from kefu.channels.services.outbound import queue_acknowledgement

        queue_acknowledgement(original=email, ticket=new_ticket)


def _subject(subject: str) -> str:
    clean = subject.strip()[:200]
    return clean or _("(no subject)")


def _received_event(email: EmailMessage, ticket: Ticket, system) -> None:
    record_event(
        actor=system,
        verb=events.EMAIL_RECEIVED.verb,
        subject=email,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data={"from": email.from_address, "subject": email.subject[:200], "email_id": email.pk},
    )


def _on_bounce(email: EmailMessage, parsed: ParsedMail) -> None:
    """A delivery failure of a mail we sent: the ticket shows it and its assignee is told."""
    email.status = MailStatus.BOUNCE
    ids = [i for i in [parsed.bounce_message_id, *parsed.in_reply_to, *parsed.references] if i]
    original = (
        EmailMessage.objects.filter(
            message_id__in=[stored_message_id(i) for i in ids], direction=Direction.OUTBOUND
        )
        .select_related("ticket")
        .first()
    )
    if original is None:
        return
    original.status = MailStatus.FAILED
    original.error = _("Bounced: %(recipients)s") % {"recipients": ", ".join(parsed.bounce_recipients) or "?"}
    original.save(update_fields=["status", "error"])
    ticket = original.ticket
    email.ticket = ticket
    if ticket is None:
        return
    data: dict = {
        "recipients": ", ".join(parsed.bounce_recipients) or original.to_addresses,
        "email_id": original.pk,
    }
    if ticket.assignee_id:
        data["notify"] = [ticket.assignee_id]
    record_event(
        actor=get_system_user(),
        verb=events.EMAIL_BOUNCED.verb,
        subject=email,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data=data,
    )
