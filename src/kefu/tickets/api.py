from __future__ import annotations

import json
import re

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from pydantic import ValidationError as PydanticValidationError

from kefu.core.errors import ValidationFailed
from kefu.customers.api import router as customers_router
from kefu.customers.selectors import get_customer
from kefu.tickets import selectors, services
from kefu.tickets.attachments import accept_files
from kefu.tickets.filters import TicketFilterIn
from kefu.tickets.schemas import (
    CustomerDetailOut,
    ErrorOut,
    EventOut,
    MessageIn,
    MessageOut,
    TicketCreateIn,
    TicketDetailOut,
    TicketOut,
    TicketPage,
    TicketPatchIn,
    TransferIn,
    TransferOut,
    TransitionIn,
)

router = Router()
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.post("", response={200: TicketOut, 201: TicketOut, **ERRORS}, summary="Create a ticket")
def tickets_create(request: HttpRequest, payload: TicketCreateIn):
    """The customer is found or created from any identity. A repeat with the same `external_id`
    or `Idempotency-Key` header returns the first ticket with 200."""
    customer = None
    if payload.customer_id is not None:
        customer = get_customer(actor=request.user, customer_id=payload.customer_id)
    ticket, created = services.create_ticket(
        actor=request.user,
        subject=payload.subject,
        description=payload.description,
        type=payload.type,
        channel=payload.channel,
        priority=payload.priority,
        customer=customer,
        customer_name=payload.customer.name if payload.customer else "",
        customer_identities=payload.customer.identities() if payload.customer else None,
        product_id=payload.product_id,
        product_model=payload.product_model,
        shop_id=payload.shop_id,
        shop_code=payload.shop_code,
        team_id=payload.team_id,
        assignee_id=payload.assignee_id,
        category_id=payload.category_id,
        tags=payload.tags,
        custom_fields=payload.custom_fields,
        external_id=payload.external_id,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return (201 if created else 200), ticket


@router.get("", response={200: TicketPage, **ERRORS}, summary="List tickets I may see, newest first")
def tickets_list(
    request: HttpRequest,
    filters: Query[TicketFilterIn],
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    items, next_cursor = selectors.list_tickets(
        actor=request.user, filters=filters.to_filters(), cursor=cursor, limit=limit
    )
    return 200, {"items": items, "next_cursor": next_cursor}


@router.get(
    "/{int:ticket_id}", response={200: TicketDetailOut, **ERRORS}, summary="A ticket with its messages"
)
def tickets_get(request: HttpRequest, ticket_id: int):
    return 200, selectors.get_ticket(actor=request.user, ticket_id=ticket_id, with_messages=True)


@router.patch("/{int:ticket_id}", response={200: TicketOut, **ERRORS}, summary="Change ticket fields")
def tickets_patch(request: HttpRequest, ticket_id: int, payload: TicketPatchIn):
    services.update_ticket(actor=request.user, ticket_id=ticket_id, changes=payload.dict(exclude_unset=True))
    return 200, selectors.get_ticket(actor=request.user, ticket_id=ticket_id)


_MESSAGE_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": MessageIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": ["reply", "note", "customer"]},
                        "body": {"type": "string"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                }
            },
        },
        "required": True,
    }
}


def _parse_message(request: HttpRequest) -> tuple[MessageIn, list]:
    if request.content_type == "multipart/form-data":
        try:
            data = MessageIn(kind=request.POST.get("kind", "reply"), body=request.POST.get("body", ""))
        except PydanticValidationError as exc:
            raise ValidationFailed(str(exc.errors()[0]["msg"]), field="kind") from exc
        return data, accept_files(request.FILES.getlist("files"))
    try:
        raw = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(_("The body is not valid JSON."), field="body", code="malformed_json") from exc
    if not isinstance(raw, dict):
        raise ValidationFailed(_("The body must be a JSON object."), field="body")
    try:
        return MessageIn(**raw), []
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise ValidationFailed(f"{field}: {err['msg']}", field=field) from exc


@router.post(
    "/{int:ticket_id}/messages",
    response={201: MessageOut, **ERRORS, 413: ErrorOut, 415: ErrorOut},
    openapi_extra=_MESSAGE_BODY,
    summary="Reply, add an internal note or a customer message (JSON, or multipart with files)",
)
def tickets_add_message(request: HttpRequest, ticket_id: int):
    data, files = _parse_message(request)
    msg = services.add_message(
        actor=request.user, ticket_id=ticket_id, kind=data.kind, body=data.body, files=files
    )
    return 201, msg


@router.get(
    "/{int:ticket_id}/attachments/{int:attachment_id}", response={**ERRORS}, summary="Download an attachment"
)
def tickets_attachment(request: HttpRequest, ticket_id: int, attachment_id: int, thumb: bool = False):
    """Images and videos open inline, other files download. `?thumb=1` gives an image's JPEG preview
    (the image itself until the preview is made). Answers `Range: bytes=…` with 206, so players seek."""
    att = selectors.get_attachment(actor=request.user, ticket_id=ticket_id, attachment_id=attachment_id)
    if thumb and att.thumbnail:
        name = att.filename.rsplit(".", 1)[0] + "-thumbnail.jpg"
        return _ranged_file(request, att.thumbnail, "image/jpeg", name, False, f'"{att.sha256}-t"')
    inline = att.content_type.startswith(("image/", "video/"))
    return _ranged_file(request, att.file, att.content_type, att.filename, not inline, f'"{att.sha256}"')


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _requested_range(request: HttpRequest, size: int, etag: str) -> tuple[int, int] | None | bool:
    """(first, last) byte of a single satisfiable range; None to send everything (no Range, several
    ranges, a malformed one, or an If-Range for another version); False when it cannot be satisfied."""
    header = request.headers.get("Range", "").replace(" ", "")
    m = _RANGE.match(header)
    if m is None or not any(m.groups()):
        return None
    if_range = request.headers.get("If-Range")
    if if_range and if_range != etag:
        return None
    first, last = m.groups()
    if not first:  # the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False if start >= size else None
    return start, end


def _read_range(f, length: int, block: int = 64 * 1024):
    while length > 0:
        chunk = f.read(min(block, length))
        if not chunk:
            return
        length -= len(chunk)
        yield chunk


def _ranged_file(
    request: HttpRequest, field_file, content_type: str, filename: str, as_attachment: bool, etag: str
) -> HttpResponse:
    size = field_file.size
    wanted = _requested_range(request, size, etag)
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    f = field_file.open("rb")
    response = FileResponse(f, content_type=content_type, as_attachment=as_attachment, filename=filename)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    if isinstance(wanted, tuple):
        start, end = wanted
        f.seek(start)
        response.streaming_content = _read_range(f, end - start + 1)
        response.status_code = 206
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


@router.post("/{int:ticket_id}/transition", response={200: TicketOut, **ERRORS}, summary="Change the status")
def tickets_transition(request: HttpRequest, ticket_id: int, payload: TransitionIn):
    """An invalid transition answers 409 with the `allowed` target statuses."""
    services.transition_ticket(
        actor=request.user, ticket_id=ticket_id, to=payload.to, comment=payload.comment
    )
    return 200, selectors.get_ticket(actor=request.user, ticket_id=ticket_id)


@router.post(
    "/{int:ticket_id}/transfer", response={201: TransferOut, **ERRORS}, summary="Transfer to a department"
)
def tickets_transfer(request: HttpRequest, ticket_id: int, payload: TransferIn):
    transfer = services.transfer_ticket(
        actor=request.user,
        ticket_id=ticket_id,
        department_id=payload.department_id,
        team_id=payload.team_id,
        note=payload.note,
        reply_by=payload.reply_by,
    )
    return 201, transfer


@router.get(
    "/{int:ticket_id}/events", response={200: list[EventOut], **ERRORS}, summary="The ticket's audit trail"
)
def tickets_events(request: HttpRequest, ticket_id: int):
    return 200, selectors.list_ticket_events(actor=request.user, ticket_id=ticket_id)


@customers_router.get(
    "/{int:customer_id}",
    response={200: CustomerDetailOut, **ERRORS},
    summary="A customer with ticket history",
)
def customers_get(request: HttpRequest, customer_id: int):
    customer = get_customer(actor=request.user, customer_id=customer_id)
    customer.tickets_seen = selectors.list_customer_tickets(actor=request.user, customer_id=customer.pk)
    return 200, customer
