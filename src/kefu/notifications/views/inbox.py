"""Console: the bell (unread count, latest ten) and the notifications page. A user only ever reads
and changes their own notifications (scoped in SQL; another user's is a 404)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from kefu.core.htmx import htmx_view, is_htmx
from kefu.core.permissions import has_permission
from kefu.notifications import selectors, services
from kefu.notifications.forms import NotificationFilterForm
from kefu.notifications.models import Notification

CHANGED_EVENT = "kf-notifications-changed"


def _target_url(n: Notification) -> str:
    if n.ticket_id:
        return reverse("ticket_detail", args=[n.ticket_id])
    return reverse("notifications:list")


def _back(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return url
    return reverse("notifications:list")


@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The unread count (polled every 30 s). Signed-out pages get 204: the poll never redirects."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    count = selectors.count_unread(actor=request.user)
    label = f"{selectors.UNREAD_CAP}+" if count > selectors.UNREAD_CAP else str(count)
    response = render(request, "notifications/partials/bell_count.html", {"count": count, "label": label})
    patch_cache_control(response, no_store=True, private=True)
    return response


def _menu(request: HttpRequest) -> HttpResponse:
    ctx = {
        "items": selectors.list_latest_notifications(actor=request.user),
        "unread": selectors.count_unread(actor=request.user),
        "can_manage_webhooks": has_permission(request.user, "webhook.manage"),
    }
    response = render(request, "notifications/partials/bell_menu.html", ctx)
    patch_cache_control(response, no_store=True, private=True)
    return response


@htmx_view
@require_GET
def menu(request: HttpRequest) -> HttpResponse:
    """The bell's dropdown: the latest ten, unread first, with "mark all read"."""
    return _menu(request)


@htmx_view
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    form = NotificationFilterForm(request.GET)
    unread_only, before = False, None
    if form.is_valid():
        unread_only, before = form.cleaned_data["unread"], form.cleaned_data["before"]
    page = selectors.list_notifications(actor=request.user, before=before, unread_only=unread_only)
    ctx = {
        "page": page,
        "unread_only": unread_only,
        "before": before,
        "unread_count": selectors.count_unread(actor=request.user),
        "can_manage_webhooks": has_permission(request.user, "webhook.manage"),
    }
    status = 200 if form.is_valid() else 422
    return render(request, "notifications/notification_list.html", ctx, status=status)


@htmx_view
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark read and go to what the notification is about (its ticket)."""
    n = services.mark_notification_read(actor=request.user, notification_id=pk)
    url = _target_url(n)
    return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)


@htmx_view
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    services.mark_notification_read(actor=request.user, notification_id=pk)
    if not is_htmx(request):
        return redirect(_back(request))
    n = selectors.get_notification(actor=request.user, notification_id=pk)
    response = render(request, "notifications/partials/notification_row.html", {"n": n})
    return trigger_client_event(response, CHANGED_EVENT)


@htmx_view
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_notifications_read(actor=request.user)
    if not is_htmx(request):
        return redirect(_back(request))
    if request.POST.get("from") == "menu":
        response = _menu(request)
    else:
        response = HttpResponseClientRedirect(_back(request))
    return trigger_client_event(response, CHANGED_EVENT)


urlpatterns = [
    path("", notification_list, name="list"),
    path("bell/", bell, name="bell"),
    path("menu/", menu, name="menu"),
    path("read-all/", notification_read_all, name="read_all"),
    path("<int:pk>/open/", notification_open, name="open"),
    path("<int:pk>/read/", notification_read, name="read"),
]
