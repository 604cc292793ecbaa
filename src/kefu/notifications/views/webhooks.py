"""Console: outgoing webhooks (administrators). Endpoints, their signing secret (shown once, when
created or rotated), the delivery log and "send again". Anyone else gets a 403 page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from kefu.core.events import all_types
from kefu.core.htmx import htmx_view, permission_page
from kefu.notifications import selectors, services
from kefu.notifications.choices import DeliveryStatus
from kefu.notifications.forms import WebhookEndpointForm
from kefu.notifications.models import WebhookEndpoint

# 403 page unless the user may manage webhooks; NotFound → 404
admin_only = permission_page("webhook.manage", gettext_lazy("Only administrators may manage webhooks."))


def _event_types() -> list[str]:
    return sorted(v for v in all_types() if not v.startswith("notification."))


def _no_store(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, no_store=True, private=True)
    return response


def _show_secret(request: HttpRequest, endpoint: WebhookEndpoint, secret: str, created: bool) -> HttpResponse:
    ctx = {"endpoint": endpoint, "secret": secret, "created": created}
    return _no_store(render(request, "notifications/webhook_secret.html", ctx))


@htmx_view
@require_http_methods(["GET"])
@admin_only
def webhook_list(request: HttpRequest) -> HttpResponse:
    ctx = {"endpoints": selectors.list_webhook_endpoints(actor=request.user)}
    return render(request, "notifications/webhook_list.html", ctx)


@htmx_view
@require_http_methods(["GET", "POST"])
@admin_only
def webhook_new(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint, secret = services.create_webhook_endpoint(
                    actor=request.user, **form.service_kwargs()
                )
            except ValidationFailed as exc:
                form.add_domain_error(exc)
            else:
                return _show_secret(request, endpoint, secret, created=True)
        status = 422
    else:
        form = WebhookEndpointForm(initial={"patterns": "ticket.*", "is_active": True})
    ctx = {"form": form, "event_types": _event_types()}
    return render(request, "notifications/webhook_new.html", ctx, status=status)


@htmx_view
@require_http_methods(["GET", "POST"])
@admin_only
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.get_webhook_endpoint(actor=request.user, endpoint_id=pk)
    status = 200
    if request.method == "POST":
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                services.update_webhook_endpoint(
                    actor=request.user, endpoint_id=endpoint.pk, **form.service_kwargs()
                )
            except ValidationFailed as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Webhook endpoint saved."))
                return redirect("notifications:webhook_detail", pk=endpoint.pk)
        status = 422
    else:
        form = WebhookEndpointForm(
            initial={
                "name": endpoint.name,
                "url": endpoint.url,
                "patterns": "\n".join(endpoint.patterns),
                "is_active": endpoint.is_active,
            }
        )
    shown = request.GET.get("status") if request.GET.get("status") in DeliveryStatus.values else None
    ctx = {
        "endpoint": endpoint,
        "form": form,
        "event_types": _event_types(),
        "deliveries": selectors.list_webhook_deliveries(
            actor=request.user, endpoint_id=endpoint.pk, status=shown
        ),
        "status_filter": shown,
        "statuses": DeliveryStatus.choices,
        "log_size": selectors.DELIVERY_LOG_SIZE,
    }
    return render(request, "notifications/webhook_detail.html", ctx, status=status)


@htmx_view
@require_POST
@admin_only
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint, secret = services.rotate_webhook_secret(actor=request.user, endpoint_id=pk)
    return _show_secret(request, endpoint, secret, created=False)


@htmx_view
@require_POST
@admin_only
def webhook_redeliver(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    try:
        delivery = services.redeliver_webhook_delivery(
            actor=request.user, delivery_id=delivery_pk, endpoint_id=pk
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Delivery %(id)s is queued to be sent again.") % {"id": delivery.pk})
    return redirect(reverse("notifications:webhook_detail", args=[pk]) + "#deliveries")


urlpatterns = [
    path("webhooks/", webhook_list, name="webhook_list"),
    path("webhooks/new/", webhook_new, name="webhook_new"),
    path("webhooks/<int:pk>/", webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/rotate/", webhook_rotate, name="webhook_rotate"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        webhook_redeliver,
        name="webhook_redeliver",
    ),
]
