"""The public repair form (/service/repair/, no login) and its confirmation page.

The form works without JavaScript: a multipart POST with photos and videos. An error re-renders the
form with the message next to its field and the typed values kept (files must be chosen again), with
the error's 4xx status. A body larger than every file at its limit is refused with 413 before it is
read; CSRF stays on (checked after that size check)."""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from kefu.channels.forms_repair import RepairForm
from kefu.channels.services import repair
from kefu.core.errors import DomainError, RateLimited
from kefu.core.ratelimit import client_ip

_NUMBER = re.compile(r"^T\d{8,20}$")


def _page(request: HttpRequest, form: RepairForm, *, status: int = 200, error: str = "") -> HttpResponse:
    if form.is_bound:
        form.mark_invalid()
    ctx = {
        "form": form,
        "page_error": error,
        "max_image_mb": repair.max_bytes("image") // (1024 * 1024),
        "max_video_mb": repair.max_bytes("video") // (1024 * 1024),
    }
    return render(request, "channels/repair_form.html", ctx, status=status)


@csrf_exempt  # only for the size check below: _repair_form checks the CSRF token
@never_cache
@require_http_methods(["GET", "POST"])
def repair_form(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        limit = repair.max_body_bytes()
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            message = _(
                "The photos and videos are too large together: at most %(photos)d photos of %(image)d MB "
                "and %(videos)d videos of %(video)d MB each. Please send fewer or smaller files."
            ) % {
                "photos": repair.MAX_PHOTOS,
                "image": repair.max_bytes("image") // (1024 * 1024),
                "videos": repair.MAX_VIDEOS,
                "video": repair.max_bytes("video") // (1024 * 1024),
            }
            response = _page(request, RepairForm(), status=413, error=message)
            response["Connection"] = "close"  # the unread body is not worth receiving
            return response
    return _repair_form(request)


@csrf_protect
def _repair_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, RepairForm())
    form = RepairForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=422)
    data = form.cleaned_data
    uploads = [("photos", f) for f in data["photos"]] + [("videos", f) for f in data["videos"]]
    try:
        files = repair.read_uploads(uploads)
        rr = repair.submit_repair_request(
            source="web",
            phone=data["phone"],
            name=data["name"],
            product_model=data["product_model"],
            purchase_channel=data["purchase_channel"],
            address=data["address"],
            description=data["description"],
            files=files,
            ip=client_ip(request),
            idempotency_key=data["idempotency_key"] or None,
        )
    except RateLimited as exc:
        response = _page(request, form, status=exc.status, error=exc.message)
        response["Retry-After"] = str(exc.extra.get("retry_after", 3600))
        return response
    except DomainError as exc:
        form.add_domain_error(exc)
        return _page(request, form, status=exc.status)
    return redirect("service:repair_done", number=rr.ticket.number)


@require_GET
def repair_done(request: HttpRequest, number: str) -> HttpResponse:
    """The tracking number and how to follow up. It shows nothing but the number in its address."""
    if not _NUMBER.match(number):
        raise Http404
    return render(request, "channels/repair_done.html", {"number": number})


urlpatterns = [
    path("repair/", repair_form, name="repair"),
    path("repair/done/<str:number>/", repair_done, name="repair_done"),
]
