"""The customer portal: sign-in by a magic link (proof of the email address) or by tracking number
+ phone (proof of one ticket), and customer replies with photos.

No Django user is signed in: the view keeps a `PortalAccess` in the session. Nothing here tells a
visitor whether an address, a number or a phone is known: the link request always answers the
same, the tracking sign-in fails with one generic message, and both are rate-limited.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from kefu.accounts.services import get_system_user
from kefu.audit.context import audit_context, current
from kefu.audit.services import record_event
from kefu.channels import events
from kefu.channels.models import PortalLink
from kefu.channels.selectors_portal import (
    PortalAccess,
    customer_status_label,
    get_portal_ticket,
    normalize_ticket_number,
)
from kefu.core import clock, ratelimit
from kefu.core.errors import (
    Conflict,
    DomainError,
    LimitExceeded,
    NotFound,
    UnsupportedMediaType,
    ValidationFailed,
)
from kefu.customers.choices import IdentityKind
from kefu.customers.models import Customer, Identity
from kefu.customers.normalize import normalize_email, normalize_phone
from kefu.tickets import services as tickets
from kefu.tickets.attachments import IncomingFile, accept_files
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.images import strip_metadata
from kefu.tickets.models import Message, Ticket

__all__ = [
    "LINK_TTL",
    "MAX_PHOTOS",
    "PortalAccess",
    "customer_status_label",
    "digest_token",
    "redeem_portal_link",
    "reply_as_customer",
    "send_portal_link",
    "sign_in_with_tracking",
]

log = logging.getLogger(__name__)

LINK_TTL = timedelta(minutes=30)
MAX_PHOTOS = 9
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic"})
# (limit, window in seconds)
LINK_PER_IP = (20, 3600)
LINK_PER_EMAIL = (5, 3600)
TRACKING_PER_IP = (10, 900)
TRACKING_PER_NUMBER = (5, 900)
SOURCE = "portal"  # the audit source of everything a customer does in the portal
MAIL_LANGUAGES = ("zh-hans", "en")  # the customer's language is unknown: Chinese first, then English


def digest_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _root(customer: Customer) -> Customer:
    """The surviving customer of a merge chain (identities and tickets move to it)."""
    seen: set[int] = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def _ip_key(ip: str | None) -> str:
    return ip or "unknown"


# --- magic link --------------------------------------------------------------------------------


def send_portal_link(*, email: str, ip: str | None) -> None:
    """Mail a single-use sign-in link (valid 30 minutes) if a customer has this email address.

    Returns nothing either way, so the caller cannot tell a known address from an unknown one.
    Raises ValidationFailed (not an email address) or RateLimited (before any lookup)."""
    normalized = normalize_email(email)
    ratelimit.hit("portal.link.ip", _ip_key(ip), limit=LINK_PER_IP[0], window_seconds=LINK_PER_IP[1])
    ratelimit.hit("portal.link.email", normalized, limit=LINK_PER_EMAIL[0], window_seconds=LINK_PER_EMAIL[1])
    with transaction.atomic():
        ident = (
            Identity.objects.select_related("customer")
            .filter(kind=IdentityKind.EMAIL, value=normalized)
            .first()
        )
        if ident is None:
            return
        customer = _root(ident.customer)
        nonce = secrets.token_urlsafe(32)
        now = clock.now()
        link = PortalLink.objects.create(
            customer=customer,
            email=normalized,
            nonce=nonce,
            token_hash=digest_token(link_token(nonce)),
            created_at=now,
            expires_at=now + LINK_TTL,
        )
        with audit_context(SOURCE, current()[1]):
            record_event(
                actor=None,
                verb=events.PORTAL_LINK_SENT.verb,
                subject=link,
                customer_id=customer.pk,
                data={"email": normalized, "ip": ip or ""},
            )
        # sent by the worker, so a known address answers as fast as an unknown one
        transaction.on_commit(partial(_enqueue_link_mail, link.pk), robust=True)


def link_token(nonce: str) -> str:
    return salted_hmac("kefu.portal.link", nonce, algorithm="sha256").hexdigest()


def _enqueue_link_mail(link_id: int) -> None:
    from kefu.channels.tasks import send_portal_link_task

    send_portal_link_task(link_id)


def send_portal_link_mail(*, link_id: int) -> None:
    """The worker's half of send_portal_link: mail the link unless it was used or has expired."""
    link = PortalLink.objects.filter(pk=link_id, used_at__isnull=True, expires_at__gt=clock.now()).first()
    if link is not None and link.nonce:
        deliver_portal_link(email=link.email, token=link_token(link.nonce))


def portal_link_url(token: str) -> str:
    return settings.KEFU_BASE_URL + reverse("portal:link", kwargs={"token": token})


def compose_portal_link_email(*, email: str, token: str) -> EmailMultiAlternatives:
    """The sign-in mail, bilingual: Chinese first, then English (the same words when a translation
    is missing are shown once)."""
    context = {"url": portal_link_url(token), "minutes": int(LINK_TTL.total_seconds() // 60)}
    subjects: list[str] = []
    texts: list[str] = []
    htmls: list[str] = []
    for language in MAIL_LANGUAGES:
        with translation.override(language):
            subject = _("Your sign-in link for your service requests")
            text = render_to_string("channels/partials/portal_link_email.txt", context).strip()
            html = render_to_string("channels/partials/portal_link_email.html", context).strip()
        if text in texts:
            continue
        subjects.append(subject)
        texts.append(text)
        htmls.append(f'<div lang="{language}">{html}</div>')
    message = EmailMultiAlternatives(
        subject=" / ".join(dict.fromkeys(subjects)),
        body="\n\n————————\n\n".join(texts) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative("<html><body>" + "<hr>".join(htmls) + "</body></html>", "text/html")
    return message


def deliver_portal_link(*, email: str, token: str) -> None:
    """Send the sign-in mail (after commit). A sending error is logged, never shown: the visitor's
    answer must not depend on the address."""
    try:
        compose_portal_link_email(email=email, token=token).send()
    except Exception:  # noqa: BLE001 (the mailer may raise anything; the link can be asked again)
        log.exception("portal sign-in link could not be sent")


def _invalid_link() -> NotFound:
    return NotFound(
        _("This sign-in link has expired or was already used. Ask for a new one."),
        code="portal_link_invalid",
    )


def check_portal_link(token: str) -> PortalLink:
    """The link if it can still be used (for the confirm page; mail scanners only GET it)."""
    link = PortalLink.objects.filter(token_hash=digest_token(token or "")).first()
    if link is None or link.used_at is not None or link.expires_at <= clock.now():
        raise _invalid_link()
    return link


@transaction.atomic
def redeem_portal_link(*, token: str, ip: str | None) -> PortalAccess:
    """Use the link once: access to all of its customer's tickets. NotFound when unknown, used or
    expired."""
    link = PortalLink.objects.select_for_update().filter(token_hash=digest_token(token or "")).first()
    now = clock.now()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise _invalid_link()
    link.used_at = now
    link.save(update_fields=["used_at"])
    customer = _root(Customer.objects.get(pk=link.customer_id))
    with audit_context(SOURCE, current()[1]):
        record_event(
            actor=None,
            verb=events.PORTAL_SIGNED_IN.verb,
            subject=link,
            customer_id=customer.pk,
            data={"method": "email", "email": link.email, "ip": ip or ""},
        )
    return PortalAccess(customer_id=customer.pk)


# --- tracking number + phone --------------------------------------------------------------------


def _mismatch() -> ValidationFailed:
    return ValidationFailed(_("The tracking number and phone number do not match."), code="portal_mismatch")


def sign_in_with_tracking(*, number: str, phone: str, ip: str | None) -> Ticket:
    """Prove one ticket by its number and the phone of its customer; returns the ticket.

    Every failure — unknown number, other customer's phone — is the same ValidationFailed
    ("portal_mismatch"). Rate-limited per IP and per number, before any lookup."""
    normalized = normalize_ticket_number(number)
    ratelimit.hit(
        "portal.tracking.ip", _ip_key(ip), limit=TRACKING_PER_IP[0], window_seconds=TRACKING_PER_IP[1]
    )
    ratelimit.hit(
        "portal.tracking.number",
        normalized or "-",
        limit=TRACKING_PER_NUMBER[0],
        window_seconds=TRACKING_PER_NUMBER[1],
    )
    try:
        phone_e164 = normalize_phone(phone)
    except ValidationFailed:
        raise _mismatch() from None
    if not normalized:
        raise _mismatch()
    with transaction.atomic():
        ticket = Ticket.objects.filter(number=normalized).first()
        if (
            ticket is None
            or not Identity.objects.filter(
                customer_id=ticket.customer_id, kind=IdentityKind.PHONE, value=phone_e164
            ).exists()
        ):
            raise _mismatch()
        with audit_context(SOURCE, current()[1]):
            record_event(
                actor=None,
                verb=events.PORTAL_SIGNED_IN.verb,
                subject=ticket,
                ticket_id=ticket.pk,
                customer_id=ticket.customer_id,
                data={"method": "tracking", "number": ticket.number, "ip": ip or ""},
            )
    return ticket


def tracking_ticket_ids(ticket: Ticket) -> frozenset[int]:
    """The tickets a tracking sign-in opens: this one and, if it was merged, the one it lives on in."""
    ids = {ticket.pk}
    current_ticket: Ticket | None = ticket
    while (
        current_ticket is not None
        and current_ticket.merged_into_id
        and current_ticket.merged_into_id not in ids
    ):
        ids.add(current_ticket.merged_into_id)
        current_ticket = Ticket.objects.filter(pk=current_ticket.merged_into_id).first()
    return frozenset(ids)


# --- replies ------------------------------------------------------------------------------------


def _accept_photos(files: list[UploadedFile]) -> list[IncomingFile]:
    """Check and read the uploads: photos only (JPEG, PNG, WebP, GIF), at most 9, re-encoded
    without metadata (no EXIF location). Errors name the field "photos"."""
    if len(files) > MAX_PHOTOS:
        raise LimitExceeded(
            _("At most %(n)d photos per message.") % {"n": MAX_PHOTOS}, field="photos", code="too_many_files"
        )
    try:
        incoming = accept_files(files)
        for f in incoming:
            if f.content_type not in PHOTO_TYPES:
                raise UnsupportedMediaType(
                    _("%(name)s is not a photo; only photos can be added here.") % {"name": f.filename},
                    field="photos",
                )
        return [strip_metadata(f) for f in incoming]
    except DomainError as exc:
        exc.field = "photos"
        raise


def reply_as_customer(
    *,
    customer_id: int,
    ticket_number: str,
    body: str,
    files: list[UploadedFile] | None = None,
    ticket_ids: frozenset[int] | None = None,
) -> Message:
    """Add the customer's message (text and up to 9 photos, metadata stripped) to one of their
    tickets; a pending or solved ticket reopens. `ticket_ids` narrows the scope like the session
    does after a tracking sign-in. NotFound outside the scope; Conflict ("ticket_closed") when the
    ticket is closed."""
    access = PortalAccess(customer_id=customer_id, ticket_ids=ticket_ids)
    ticket = get_portal_ticket(access=access, number=ticket_number)
    if ticket.status == Status.CLOSED:
        raise Conflict(_("This request is closed. Please start a new request."), code="ticket_closed")
    photos = _accept_photos(list(files or []))
    if not (body or "").strip() and not photos:
        raise ValidationFailed(_("Write a message or add a photo."), field="body")
    with audit_context(SOURCE, current()[1]):
        try:
            return tickets.add_message(
                actor=get_system_user(),
                ticket_id=ticket.pk,
                kind=MessageKind.CUSTOMER,
                body=body,
                files=photos,
            )
        except Conflict as exc:  # closed meanwhile
            raise Conflict(
                _("This request is closed. Please start a new request."), code="ticket_closed"
            ) from exc
