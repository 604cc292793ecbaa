"""Public endpoints without login for the mini-program: uploads and repair requests.

No session or token is read here (auth=None), so there is no CSRF check to pass: a browser's cookies
give a caller nothing on these endpoints. Errors use the API's format {code, message, field}."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import Router

from kefu.channels.schemas import RepairIn, RepairOut, UploadOut
from kefu.channels.services import repair
from kefu.core.ratelimit import client_ip
from kefu.tickets.schemas import ErrorOut

router = Router(auth=None)
ERRORS = {
    400: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}

_UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
        "required": True,
    }
}


def too_large(limit: int) -> JsonResponse:
    message = _("The upload is too large: at most %(mb)d MB per request.") % {"mb": limit // (1024 * 1024)}
    return JsonResponse({"code": "too_large", "message": message}, status=413)


def body_too_large(request: HttpRequest, limit: int) -> bool:
    """Judge the declared body size before anything reads (and spools) the body."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return False


def _repair_out(rr) -> dict:
    code, label = repair.customer_status(rr.ticket.status)
    return {
        "tracking_number": rr.ticket.number,
        "status": code,
        "status_label": label,
        "created_at": rr.created_at,
    }


@router.post(
    "/uploads",
    response={201: UploadOut, **ERRORS},
    openapi_extra=_UPLOAD_BODY,
    summary="Upload one photo or video (multipart, field `file`, as wx.uploadFile sends it)",
)
def service_upload(request: HttpRequest):
    """Photos (JPEG, PNG, WebP, GIF; ≤ 10 MB) are stored re-encoded without EXIF location; videos
    (MP4, MOV, WebM; ≤ 100 MB) as they are. The token is single use and valid for 24 hours."""
    limit = repair.max_bytes("video") + 1024 * 1024
    if body_too_large(request, limit):
        return too_large(limit)
    try:
        file = request.FILES.get("file")
    except MultiPartParserError:
        message = _("The upload could not be read: send multipart/form-data with the file as “file”.")
        return 400, {"code": "bad_request", "message": message, "field": "file"}
    if file is None:
        return 422, {
            "code": "validation_failed",
            "message": _("Send the photo or video as the multipart field “file”."),
            "field": "file",
        }
    upload = repair.create_pending_upload(file=file, ip=client_ip(request))
    return 201, {
        "token": upload.token,
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "kind": repair.file_kind(upload.content_type),
    }


@router.post("/repairs", response={201: RepairOut, **ERRORS}, summary="Submit a repair request (报修)")
def service_repair_create(request: HttpRequest, payload: RepairIn):
    """Photos and videos go first to `POST /uploads`; list their tokens in `uploads`. The answer's
    `tracking_number` lets the customer follow the request (`GET /repairs/{tracking_number}`).
    A repeat with the same `idempotency_key` (or `Idempotency-Key` header) and phone returns the first."""
    rr = repair.submit_repair_request(
        source="mini_program",
        phone=payload.phone,
        name=payload.name,
        product_model=payload.product_model,
        purchase_channel=payload.purchase_channel,
        address=payload.address,
        description=payload.description,
        files=[],
        upload_tokens=payload.uploads,
        ip=client_ip(request),
        idempotency_key=payload.idempotency_key or request.headers.get("Idempotency-Key"),
    )
    return 201, _repair_out(rr)


@router.get(
    "/repairs/{tracking_number}", response={200: RepairOut, **ERRORS}, summary="Follow a repair request"
)
def service_repair_status(request: HttpRequest, tracking_number: str, phone: str = ""):
    """The status in the customer's words. 404 unless the number and the phone belong together."""
    rr = repair.get_repair_status(tracking_number=tracking_number, phone=phone, ip=client_ip(request))
    return 200, _repair_out(rr)
