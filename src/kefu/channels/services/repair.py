"""Repair requests (报修) from the public: the web form at /service/repair and the mini-program API.

Fields are checked with messages naming the field; photos (≤ 9) and videos (≤ 2) are sniffed from
their content and size-limited, photos re-encoded without metadata (repair_uploads); submissions are
rate-limited per IP and per phone. One transaction then finds or creates the customer, creates a
repair ticket with the files as the customer's first message, and keeps what was submitted. The
tracking number is the ticket's number."""

from __future__ import annotations

import hashlib
import re
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.services import get_system_user
from kefu.audit.services import record_event
from kefu.channels import events
from kefu.channels.choices import PurchaseChannel, RepairSource
from kefu.channels.models import ChannelSettings, PendingUpload, RepairRequest
from kefu.channels.services.repair_uploads import (
    MAX_PHOTOS,
    MAX_VIDEOS,
    check_counts,
    checked_files,
    create_pending_upload,
    file_kind,
    hit,
    max_body_bytes,
    max_bytes,
    prune_pending_uploads,
    read_pending,
    read_uploads,
    refield,
    usable_uploads,
)
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.text import clean_text
from kefu.customers.models import Product
from kefu.customers.normalize import normalize_phone
from kefu.customers.services import find_or_create_customer
from kefu.tickets.attachments import IncomingFile
from kefu.tickets.choices import Channel, MessageKind, Status, TicketType
from kefu.tickets.images import strip_metadata
from kefu.tickets.services import add_message, create_ticket

__all__ = [
    "MAX_PHOTOS",
    "MAX_VIDEOS",
    "check_counts",
    "check_phone",
    "create_pending_upload",
    "customer_status",
    "file_kind",
    "get_repair_status",
    "max_body_bytes",
    "max_bytes",
    "prune_pending_uploads",
    "read_uploads",
    "submit_repair_request",
]

_MAINLAND_MOBILE = re.compile(r"^\+861[3-9]\d{9}$")

LABELS = {
    "phone": gettext_lazy("Mobile phone"),
    "name": gettext_lazy("Name"),
    "product_model": gettext_lazy("Product model"),
    "purchase_channel": gettext_lazy("Where you bought it"),
    "address": gettext_lazy("Address"),
    "description": gettext_lazy("Problem description"),
}

# what a customer reads about their request, by ticket status
# the status codes the mini-program API returns; labels are the portal's customer-facing words
CUSTOMER_STATUS_CODES: dict[str, str] = {
    Status.NEW: "received",
    Status.OPEN: "in_progress",
    Status.ON_HOLD: "in_progress",
    Status.PENDING: "waiting_for_you",
    Status.SOLVED: "resolved",
    Status.CLOSED: "closed",
}

# --- fields --------------------------------------------------------------------------------------


def _text(value: object, field: str, max_len: int, *, single_line: bool = True) -> str:
    try:
        return clean_text(value, str(LABELS[field]), max_len, required=True, single_line=single_line)
    except ValidationFailed as exc:
        exc.field = field
        raise


def check_phone(raw: object) -> str:
    """A mainland China mobile number in E.164 (+8613800138000); ValidationFailed naming `phone`."""
    text = raw if isinstance(raw, str) else ""
    if not text.strip():
        raise ValidationFailed(_("%(field)s must not be empty.") % {"field": LABELS["phone"]}, field="phone")
    try:
        phone = normalize_phone(text)
    except ValidationFailed:
        phone = ""
    if not _MAINLAND_MOBILE.match(phone):
        raise ValidationFailed(
            _("Enter a mainland China mobile number: 11 digits starting with 1, e.g. 13800138000."),
            field="phone",
        )
    return phone


def _check_fields(
    *, phone: str, name: str, product_model: str, purchase_channel: str, address: str, description: str
) -> dict[str, str]:
    fields = {
        "phone": check_phone(phone),
        "name": _text(name, "name", 100),
        "product_model": _text(product_model, "product_model", 100),
        "purchase_channel": purchase_channel,
        "address": _text(address, "address", 300),
        "description": _text(description, "description", 5000, single_line=False),
    }
    if purchase_channel not in PurchaseChannel.values:
        raise ValidationFailed(
            _("Choose where you bought the product: %(choices)s.")
            % {"choices": ", ".join(str(label) for label in PurchaseChannel.labels)},
            field="purchase_channel",
            allowed=list(PurchaseChannel.values),
        )
    return fields


def _idempotency_key(phone: str, key: str | None) -> str | None:
    key = clean_text(key, "idempotency_key", 100, single_line=True)
    if not key:
        return None
    # namespaced by the phone: a key guessed by someone else never returns another person's request
    return "repair:" + hashlib.sha256(f"{phone}\0{key}".encode()).hexdigest()[:64]


# --- the request ---------------------------------------------------------------------------------


def _description(fields: dict[str, str], source: str) -> str:
    rows = [
        (_("Product model"), fields["product_model"]),
        (_("Where bought"), PurchaseChannel(fields["purchase_channel"]).label),
        (_("Name"), fields["name"]),
        (_("Phone"), fields["phone"]),
        (_("Address"), fields["address"]),
        (_("Submitted via"), RepairSource(source).label),
    ]
    return "\n".join([*(f"{label}: {value}" for label, value in rows), "", fields["description"]])


def _repeat(ticket_key: str | None) -> RepairRequest | None:
    if ticket_key is None:
        return None
    return RepairRequest.objects.select_related("ticket").filter(ticket__idempotency_key=ticket_key).first()


def submit_repair_request(
    *,
    source: str,
    phone: str,
    name: str,
    product_model: str,
    purchase_channel: str,
    address: str,
    description: str,
    files: list[IncomingFile],
    ip: str | None,
    idempotency_key: str | None = None,
    upload_tokens: list[str] | None = None,
) -> RepairRequest:
    """Check, throttle and record a repair request; see the module docstring. A repeat with the same
    phone and idempotency_key returns the first request (nothing counted or created again)."""
    if source not in RepairSource.values:
        raise ValidationFailed(_("Unknown source '%(source)s'.") % {"source": source}, field="source")
    fields = _check_fields(
        phone=phone,
        name=name,
        product_model=product_model,
        purchase_channel=purchase_channel,
        address=address,
        description=description,
    )
    ticket_key = _idempotency_key(fields["phone"], idempotency_key)
    repeat = _repeat(ticket_key)
    if repeat is not None:
        return repeat
    pending = usable_uploads(upload_tokens or [])
    files = checked_files([*files, *(read_pending(u) for u in pending)])
    hit("repair-ip", ip, limit=settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR, window_seconds=3600)
    hit("repair-phone", fields["phone"], limit=settings.KEFU_REPAIR_LIMIT_PER_PHONE_DAY, window_seconds=86400)
    # photos from pending uploads were stripped when uploaded; stripping again is harmless but slow
    already_clean = {u.sha256 for u in pending}
    files = [
        refield(strip_metadata, f, "photos")
        if file_kind(f.content_type) == "image" and f.sha256 not in already_clean
        else f
        for f in files
    ]
    return _record(source=source, fields=fields, files=files, ip=ip, ticket_key=ticket_key, pending=pending)


@transaction.atomic
def _record(
    *,
    source: str,
    fields: dict[str, str],
    files: list[IncomingFile],
    ip: str | None,
    ticket_key: str | None,
    pending: list[PendingUpload],
) -> RepairRequest:
    now = clock.now()
    if pending:
        used = PendingUpload.objects.filter(pk__in=[u.pk for u in pending], used_at__isnull=True).update(
            used_at=now
        )
        if used != len(pending):
            raise Conflict(
                _("These uploads were just used by another request; upload the files again."),
                field="uploads",
            )
    system = get_system_user()
    customer, _created = find_or_create_customer(
        actor=system, name=fields["name"], identities={"phone": fields["phone"]}
    )
    product = Product.objects.filter(model_number__iexact=fields["product_model"]).first()
    team = ChannelSettings.load().repair_team
    with translation.override(settings.LANGUAGE_CODE):  # the ticket is read by the service team
        subject = _("Repair: %(model)s") % {"model": fields["product_model"]}
        ticket_description = _description(fields, source)
    ticket, created = create_ticket(
        actor=system,
        subject=subject,
        description=ticket_description,
        type=TicketType.REPAIR,
        channel=Channel.WEB if source == RepairSource.WEB else Channel.MINI_PROGRAM,
        customer=customer,
        product_id=product.pk if product else None,
        team_id=team.pk if team else None,
        idempotency_key=ticket_key,
    )
    if not created:  # the same request raced in: answer with the first one
        repeat = _repeat(ticket_key)
        if repeat is None:
            raise Conflict(_("This request was already submitted."), field="idempotency_key")
        return repeat
    add_message(
        actor=system, ticket_id=ticket.pk, kind=MessageKind.CUSTOMER, body=fields["description"], files=files
    )
    rr = RepairRequest.objects.create(
        ticket=ticket,
        source=source,
        phone=fields["phone"],
        name=fields["name"],
        product_model=fields["product_model"],
        purchase_channel=fields["purchase_channel"],
        address=fields["address"],
        description=fields["description"],
        ip=ip,
        created_at=now,
    )
    kinds = [file_kind(f.content_type) for f in files]
    record_event(
        actor=system,
        verb=events.REPAIR_REQUESTED.verb,
        subject=rr,
        ticket_id=ticket.pk,
        customer_id=customer.pk,
        data={
            "source": source,
            "number": ticket.number,
            "photos": kinds.count("image"),
            "videos": kinds.count("video"),
        },
    )
    if pending:  # the attachments hold the content now
        transaction.on_commit(partial(_delete_files, [u.file for u in pending]), robust=True)
    return rr


def _delete_files(files: list) -> None:
    for f in files:
        f.storage.delete(f.name)


# --- tracking ------------------------------------------------------------------------------------


def customer_status(status: str) -> tuple[str, str]:
    from kefu.channels.selectors_portal import customer_status_label

    return CUSTOMER_STATUS_CODES.get(status, "in_progress"), customer_status_label(status)


def get_repair_status(*, tracking_number: str, phone: str, ip: str | None) -> RepairRequest:
    """The repair request with this tracking number, when the phone is the one it was submitted
    with; NotFound otherwise — never saying which of the two did not match. Rate-limited per IP."""
    hit("repair-lookup", ip, limit=settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR, window_seconds=3600)
    not_found = NotFound(_("No repair request matches this tracking number and phone number."))
    number = (tracking_number or "").strip().upper()
    try:
        normalized = check_phone(phone)
    except ValidationFailed:
        raise not_found from None
    rr = (
        RepairRequest.objects.select_related("ticket").filter(ticket__number=number, phone=normalized).first()
        if number
        else None
    )
    if rr is None:
        raise not_found
    return rr
