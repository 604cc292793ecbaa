"""Console pages for mail: mailboxes and channel settings (administrators; others get a 403 page),
the mail log of a mailbox, and one email (visible with its ticket), its raw source for roles with
email.view_raw."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.channels import selectors
from kefu.channels.forms import ChannelSettingsForm, MailboxForm, MailLogFilterForm
from kefu.channels.models import EmailMessage, Mailbox
from kefu.channels.services import mailboxes as services
from kefu.core.errors import DomainError, NotFound, PermissionDenied
from kefu.core.htmx import error_response, htmx_view, is_htmx, permission_page, toast
from kefu.core.permissions import has_permission
from kefu.tickets.models import Attachment

PERMISSION = "mailbox.manage"
LOG_PAGE = 50
INLINE_SALT = "kefu.channels.inline-image"
INLINE_MAX_AGE = 3600  # seconds a page's inline-image links work
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
STATUS_BADGES = {
    "new_ticket": "text-bg-primary",
    "appended": "text-bg-success",
    "follow_up": "text-bg-info",
    "auto_reply": "text-bg-secondary",
    "bounce": "text-bg-warning",
    "too_large": "text-bg-danger",
    "ignored": "text-bg-secondary",
    "queued": "text-bg-warning",
    "sent": "text-bg-success",
    "failed": "text-bg-danger",
}


# sign-in required; roles without mailbox.manage get the 403 page; NotFound is a 404
admin_page = permission_page(
    PERMISSION, gettext_lazy("Only administrators may configure mailboxes and channels.")
)


def _no_store[R: HttpResponseBase](response: R) -> R:
    patch_cache_control(response, no_store=True, private=True)
    return response


def _error_status(exc: DomainError) -> int:
    if isinstance(exc, PermissionDenied | NotFound):
        raise exc
    return exc.status if 400 <= exc.status < 500 else 422


# --- mailbox list and channel settings ------------------------------------------------------------


def _smtpd() -> dict[str, Any]:
    return {
        "smtpd_host": getattr(settings, "KEFU_SMTPD_HOST", "127.0.0.1"),
        "smtpd_port": getattr(settings, "KEFU_SMTPD_PORT", 2525),
    }


def _list_page(request: HttpRequest, settings_form: ChannelSettingsForm | None = None, status: int = 200):
    channel_settings = selectors.get_channel_settings(actor=request.user)
    if settings_form is None:
        settings_form = ChannelSettingsForm(
            initial={"repair_team": str(channel_settings.repair_team_id or "")}
        )
    ctx = {
        "mailboxes": selectors.list_mailboxes(actor=request.user),
        "channel_settings": channel_settings,
        "settings_form": settings_form,
        **_smtpd(),
        "recent_days": selectors.RECENT_DAYS,
    }
    return render(request, "channels/mailbox_list.html", ctx, status=status)


@admin_page
@require_GET
def mailbox_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@admin_page
@require_POST
def channel_settings(request: HttpRequest) -> HttpResponse:
    form = ChannelSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.save_channel_settings(actor=request.user, repair_team_id=form.team_id())
        except DomainError as exc:
            status = _error_status(exc)
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Channel settings saved."))
            return redirect("channels:mailbox_list")
    else:
        status = 422
    form.invalid_class()
    return _list_page(request, form, status)


# --- mailbox form, connection test, fetch now -----------------------------------------------------


def _form_page(
    request: HttpRequest, mailbox: Mailbox | None, form: MailboxForm, status: int = 200, test: Any = None
) -> HttpResponse:
    ctx = {"form": form, "mailbox": mailbox, "test": test}
    return _no_store(render(request, "channels/mailbox_edit.html", ctx, status=status))


def _mailbox_form(request: HttpRequest, mailbox: Mailbox | None) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, mailbox, MailboxForm(mailbox=mailbox))
    form = MailboxForm(request.POST, mailbox=mailbox)
    status = 422
    if form.is_valid():
        try:
            saved = services.save_mailbox(
                actor=request.user, mailbox_id=mailbox.pk if mailbox else None, data=form.service_data()
            )
        except DomainError as exc:
            status = _error_status(exc)
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Mailbox %(address)s saved.") % {"address": saved.address})
            return redirect("channels:mailbox_edit", pk=saved.pk)
    form.invalid_class()
    return _form_page(request, mailbox, form, status)


@admin_page
@require_http_methods(["GET", "POST"])
def mailbox_new(request: HttpRequest) -> HttpResponse:
    return _mailbox_form(request, None)


@admin_page
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _mailbox_form(request, selectors.get_mailbox(actor=request.user, mailbox_id=pk))


@admin_page
@require_POST
def mailbox_test(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox(actor=request.user, mailbox_id=pk)
    result = services.test_mailbox_connection(actor=request.user, mailbox_id=mailbox.pk)
    if is_htmx(request):
        return _no_store(render(request, "channels/partials/mailbox_test_result.html", {"test": result}))
    return _form_page(request, mailbox, MailboxForm(mailbox=mailbox), test=result)


@admin_page
@require_POST
def mailbox_poll(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        mailbox = services.poll_mailbox_now(actor=request.user, mailbox_id=pk)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        if is_htmx(request):
            return error_response(exc)
        messages.error(request, exc.message)
        return redirect("channels:mailbox_edit", pk=pk)
    text = _("Fetching new mail of %(address)s now; it appears in the mail log in a moment.") % {
        "address": mailbox.address
    }
    if is_htmx(request):
        return toast(HttpResponse(status=204), text, "success")
    messages.success(request, text)
    return redirect("channels:mailbox_mail", pk=pk)


# --- mail log and one email ------------------------------------------------------------------------


@admin_page
@require_GET
def mailbox_mail(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = selectors.get_mailbox(actor=request.user, mailbox_id=pk)
    filters = MailLogFilterForm(request.GET)
    values = filters.values()
    page = selectors.list_mailbox_emails(actor=request.user, mailbox_id=mailbox.pk, limit=LOG_PAGE, **values)
    for email in page.emails:
        email.badge = STATUS_BADGES.get(email.status, "text-bg-secondary")  # type: ignore[attr-defined]
    query = {k: v for k, v in (("direction", values["direction"]), ("status", values["status"])) if v}
    ctx = {
        "mailbox": mailbox,
        "filters": filters,
        "page": page,
        "query": urlencode(query),
        "paged": values["before_id"] is not None,
    }
    return render(request, "channels/mailbox_mail.html", ctx)


def inline_image_url(email: EmailMessage, att: Attachment, user: Any) -> str:
    """A signed link to an inline image of the email, for the sandboxed frame: the frame's requests
    carry no session cookie (its origin is opaque), so the link itself says who may see it."""
    token = signing.dumps([email.pk, att.pk, user.pk], salt=INLINE_SALT)
    return reverse("channels:email_inline", args=[token])


def _srcdoc(request: HttpRequest, body: str) -> str:
    """The sanitized mail HTML as a document of its own, with a CSP: no scripts, styles sheets,
    fonts, forms or remote images — only images from kefu itself (its attachments) and data: URLs."""
    origin = f"{request.scheme}://{request.get_host()}"
    policy = f"default-src 'none'; img-src {origin} data:; form-action 'none'; base-uri 'none'"
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="referrer" content="no-referrer">'
        f"</head><body>{body}</body></html>"
    )


@htmx_view
@require_GET
def email_detail(request: HttpRequest, pk: int) -> HttpResponse:
    email = selectors.get_email(actor=request.user, email_id=pk)
    attachments = selectors.email_attachments(email)
    body = ""
    if email.html:
        body = selectors.rewrite_cid_links(
            email.html, attachments, lambda a: inline_image_url(email, a, request.user)
        )
    ctx = {
        "email": email,
        "badge": STATUS_BADGES.get(email.status, "text-bg-secondary"),
        "srcdoc": _srcdoc(request, body) if body else "",
        "attachments": [
            {"attachment": a, "url": selectors.attachment_url(a), "inline": bool(a.content_id)}
            for a in attachments
        ],
        "can_manage": has_permission(request.user, PERMISSION),
        "can_view_raw": bool(email.raw) and has_permission(request.user, selectors.VIEW_RAW),
    }
    return _no_store(render(request, "channels/email_detail.html", ctx))


@htmx_view
@require_GET
def email_raw(request: HttpRequest, pk: int) -> Any:  # a FileResponse (htmx_view types HttpResponse)
    email: EmailMessage = selectors.get_email_raw(actor=request.user, email_id=pk)
    response = FileResponse(
        email.raw.open("rb"),
        content_type="message/rfc822",
        as_attachment=True,
        filename=f"email-{email.pk}.eml",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return _no_store(response)


@require_GET
def email_inline(request: HttpRequest, token: str) -> HttpResponseBase:
    """An inline image of an email, by a signed link (see inline_image_url); raster images only,
    served so that nothing in them can run even when opened on their own."""
    try:
        email_id, attachment_id, user_id = signing.loads(token, salt=INLINE_SALT, max_age=INLINE_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise Http404 from None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    try:
        att = selectors.get_inline_attachment(actor=user, email_id=email_id, attachment_id=attachment_id)
    except DomainError:
        raise Http404 from None
    if att.content_type not in INLINE_TYPES:
        raise Http404
    response = FileResponse(att.file.open("rb"), content_type=att.content_type)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, max_age=INLINE_MAX_AGE)
    return response


urlpatterns = [
    path("", mailbox_list, name="mailbox_list"),
    path("settings/", channel_settings, name="channel_settings"),
    path("mailboxes/new/", mailbox_new, name="mailbox_new"),
    path("mailboxes/<int:pk>/", mailbox_edit, name="mailbox_edit"),
    path("mailboxes/<int:pk>/test/", mailbox_test, name="mailbox_test"),
    path("mailboxes/<int:pk>/poll/", mailbox_poll, name="mailbox_poll"),
    path("mailboxes/<int:pk>/mail/", mailbox_mail, name="mailbox_mail"),
    path("mail/<int:pk>/", email_detail, name="email_detail"),
    path("mail/<int:pk>/raw/", email_raw, name="email_raw"),
    path("mail/inline/<str:token>/", email_inline, name="email_inline"),
]
