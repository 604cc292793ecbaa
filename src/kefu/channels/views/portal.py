"""The customer portal (/portal/): sign in by a magic link or by tracking number + phone, see your
own tickets in customer words, reply with photos.

The portal session is separate from staff sign-in: no Django user is signed in; the session holds
the customer id, the tickets a tracking sign-in opened (none kept for an email proof: all of the
customer's tickets) and the sign-in time. Anything outside that scope is a 404. Pages are never
cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages as flash
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.channels import selectors_portal as selectors
from kefu.channels.forms_portal import EmailLinkForm, ReplyForm, TrackingForm, first_error
from kefu.channels.selectors_portal import PortalAccess
from kefu.channels.services import portal as services
from kefu.core import clock
from kefu.core.errors import Conflict, DomainError, NotFound, RateLimited
from kefu.core.ratelimit import client_ip
from kefu.tickets.choices import Status

SESSION_CUSTOMER = "portal_customer_id"
SESSION_TICKETS = "portal_ticket_ids"
SESSION_SINCE = "portal_signed_in_at"
SESSION_MAX_AGE = 24 * 3600  # a portal sign-in lasts a day at most


# --- the portal session -------------------------------------------------------------------------


def _clear_session(request: HttpRequest) -> None:
    for key in (SESSION_CUSTOMER, SESSION_TICKETS, SESSION_SINCE):
        request.session.pop(key, None)


def portal_access(request: HttpRequest) -> PortalAccess | None:
    """What the visitor proved in this session, or None (never signed in, signed out, too old)."""
    customer_id = request.session.get(SESSION_CUSTOMER)
    since = request.session.get(SESSION_SINCE)
    if not isinstance(customer_id, int) or not isinstance(since, int | float):
        return None
    if clock.now().timestamp() - since > SESSION_MAX_AGE:
        _clear_session(request)
        return None
    ids = request.session.get(SESSION_TICKETS)
    if ids is None:
        return PortalAccess(customer_id=customer_id)
    return PortalAccess(customer_id=customer_id, ticket_ids=frozenset(int(i) for i in ids))


def start_portal_session(request: HttpRequest, access: PortalAccess) -> PortalAccess:
    """Sign the customer in with a new session key. A second proof for the same customer widens
    the scope (tracking + tracking = both tickets; an email proof = all); another customer replaces
    it."""
    before = portal_access(request)
    if before is not None and before.customer_id == access.customer_id:
        if before.ticket_ids is None or access.ticket_ids is None:
            access = PortalAccess(customer_id=access.customer_id)
        else:
            access = PortalAccess(access.customer_id, before.ticket_ids | access.ticket_ids)
    request.session.cycle_key()
    request.session[SESSION_CUSTOMER] = access.customer_id
    request.session[SESSION_TICKETS] = None if access.ticket_ids is None else sorted(access.ticket_ids)
    request.session[SESSION_SINCE] = int(clock.now().timestamp())
    return access


def portal_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for signed-in customers: others go to the sign-in page; NotFound becomes a 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        access = portal_access(request)
        if access is None:
            flash.info(request, _("Please sign in to see your service requests."))
            return redirect("portal:sign_in")
        try:
            return view(request, access, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return never_cache(wrapper)


def _rate_limited(request: HttpRequest, exc: RateLimited, context: dict[str, Any]) -> HttpResponse:
    context["rate_limited"] = exc.message  # "Too many requests. Please try again in 15 minutes."
    response = _sign_in_page(request, context, status=429)
    retry_after = exc.extra.get("retry_after")
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _sign_in_page(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    context.setdefault("email_form", EmailLinkForm())
    context.setdefault("tracking_form", TrackingForm())
    context.setdefault("access", portal_access(request))
    return render(request, "channels/portal_sign_in.html", context, status=status)


def _repair_url() -> str:
    try:
        return reverse("service:repair")
    except NoReverseMatch:
        return "/service/repair"


# --- sign-in ------------------------------------------------------------------------------------


@require_GET
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    return _sign_in_page(request, {})


@require_POST
@never_cache
def request_link(request: HttpRequest) -> HttpResponse:
    """Ask for a magic link. The answer is the same whether the address is known or not."""
    form = EmailLinkForm(request.POST)
    if not form.is_valid():
        return _sign_in_page(request, {"email_form": form, "email_error": first_error(form)}, status=422)
    try:
        services.send_portal_link(email=form.cleaned_data["email"], ip=client_ip(request))
    except RateLimited as exc:
        return _rate_limited(request, exc, {"email_form": form})
    except DomainError as exc:
        return _sign_in_page(request, {"email_form": form, "email_error": exc.message}, status=exc.status)
    minutes = int(services.LINK_TTL.total_seconds() // 60)
    return render(request, "channels/portal_link_sent.html", {"minutes": minutes})


@require_POST
@never_cache
def track(request: HttpRequest) -> HttpResponse:
    """Sign in with the tracking (ticket) number and the phone it was filed with."""
    form = TrackingForm(request.POST)
    if not form.is_valid():
        return _sign_in_page(
            request, {"tracking_form": form, "tracking_error": first_error(form)}, status=422
        )
    try:
        ticket = services.sign_in_with_tracking(
            number=form.cleaned_data["number"], phone=form.cleaned_data["phone"], ip=client_ip(request)
        )
    except RateLimited as exc:
        return _rate_limited(request, exc, {"tracking_form": form})
    except DomainError as exc:
        return _sign_in_page(
            request, {"tracking_form": form, "tracking_error": exc.message}, status=exc.status
        )
    start_portal_session(request, PortalAccess(ticket.customer_id, services.tracking_ticket_ids(ticket)))
    return redirect("portal:ticket", number=ticket.number)


@require_http_methods(["GET", "POST"])
@never_cache
def link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners fetch links; they must not use them up); POST signs in."""
    try:
        if request.method == "GET":
            services.check_portal_link(token)
            return render(request, "channels/portal_link_confirm.html", {"token": token})
        access = services.redeem_portal_link(token=token, ip=client_ip(request))
    except NotFound as exc:
        return render(request, "channels/portal_link_invalid.html", {"message": exc.message}, status=410)
    start_portal_session(request, access)
    return redirect("portal:tickets")


@require_POST
@never_cache
def sign_out(request: HttpRequest) -> HttpResponse:
    _clear_session(request)
    request.session.cycle_key()
    flash.success(request, _("You have signed out."))
    return redirect("portal:sign_in")


# --- tickets ------------------------------------------------------------------------------------


@require_GET
@portal_page
def ticket_list(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    rows = selectors.list_portal_tickets(access=access)
    return render(
        request,
        "channels/portal_ticket_list.html",
        {"rows": rows, "access": access, "repair_url": _repair_url()},
    )


def _ticket_page(
    request: HttpRequest,
    access: PortalAccess,
    number: str,
    *,
    form: ReplyForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    ticket = selectors.get_portal_ticket(access=access, number=number)
    if ticket.merged_into_id:
        target = selectors.portal_tickets(access).filter(pk=ticket.merged_into_id).first()
        if target is not None and target.number:
            return redirect("portal:ticket", number=target.number)
    context = {
        "access": access,
        "ticket": ticket,
        "status_label": selectors.customer_status_label(ticket.status),
        "status_badge": selectors.customer_status_badge(ticket.status),
        "is_closed": ticket.status == Status.CLOSED,
        "is_waiting": ticket.status == Status.PENDING,
        "submission": selectors.get_repair_submission(ticket=ticket),
        "messages_list": selectors.list_portal_messages(ticket=ticket),
        "form": form or ReplyForm(),
        "error": error,
        "max_photos": services.MAX_PHOTOS,
        "repair_url": _repair_url(),
    }
    return render(request, "channels/portal_ticket_detail.html", context, status=status)


@require_GET
@portal_page
def ticket_detail(request: HttpRequest, access: PortalAccess, number: str) -> HttpResponse:
    return _ticket_page(request, access, number)


@require_POST
@portal_page
def ticket_reply(request: HttpRequest, access: PortalAccess, number: str) -> HttpResponse:
    """The customer's message with photos; back to the ticket page (errors shown on the form)."""
    selectors.get_portal_ticket(access=access, number=number)  # a 404 before reading any upload
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, access, number, form=form, error=first_error(form), status=422)
    try:
        msg = services.reply_as_customer(
            customer_id=access.customer_id,
            ticket_number=number,
            body=form.cleaned_data["body"],
            files=request.FILES.getlist("photos"),
            ticket_ids=access.ticket_ids,
        )
    except NotFound:
        raise
    except Conflict as exc:
        return _ticket_page(request, access, number, form=form, error=exc.message, status=409)
    except DomainError as exc:
        return _ticket_page(request, access, number, form=form, error=exc.message, status=exc.status)
    flash.success(request, _("Thank you, your message was sent."))
    return redirect(reverse("portal:ticket", kwargs={"number": msg.ticket.number}) + f"#m{msg.pk}")


def _attachment(
    request: HttpRequest, number: str, attachment_id: int, *, thumbnail: bool
) -> HttpResponseBase:
    """A file of a public message of one of the customer's tickets; 404 for anything else (also
    when not signed in: the portal does not say that a file exists)."""
    access = portal_access(request)
    if access is None:
        raise Http404
    try:
        att = selectors.get_portal_attachment(access=access, number=number, attachment_id=attachment_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if thumbnail and att.thumbnail:
        response = FileResponse(att.thumbnail.open("rb"), content_type="image/jpeg")
    else:
        inline = selectors.attachment_kind(att.content_type) in ("image", "video")
        response = FileResponse(
            att.file.open("rb"),
            content_type=att.content_type if inline else "application/octet-stream",
            as_attachment=not inline,
            filename=att.filename,
        )
    patch_cache_control(response, private=True, max_age=3600)
    return response


@require_GET
def attachment(request: HttpRequest, number: str, attachment_id: int) -> HttpResponseBase:
    return _attachment(request, number, attachment_id, thumbnail=False)


@require_GET
def attachment_thumbnail(request: HttpRequest, number: str, attachment_id: int) -> HttpResponseBase:
    return _attachment(request, number, attachment_id, thumbnail=True)


urlpatterns = [
    path("", sign_in, name="sign_in"),
    path("email/", request_link, name="request_link"),
    path("track/", track, name="track"),
    path("link/<str:token>/", link, name="link"),
    path("sign-out/", sign_out, name="sign_out"),
    path("tickets/", ticket_list, name="tickets"),
    path("tickets/<str:number>/", ticket_detail, name="ticket"),
    path("tickets/<str:number>/reply/", ticket_reply, name="reply"),
    path("tickets/<str:number>/files/<int:attachment_id>/", attachment, name="attachment"),
    path("tickets/<str:number>/files/<int:attachment_id>/thumbnail/", attachment_thumbnail, name="thumbnail"),
]
