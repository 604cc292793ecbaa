"""Reads, scoped in SQL: a user sees only their own notifications; webhooks are for admins."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core.errors import NotFound
from kefu.core.permissions import authorize
from kefu.notifications.choices import DeliveryStatus
from kefu.notifications.models import Notification, WebhookDelivery, WebhookEndpoint

UNREAD_CAP = 99
PAGE_SIZE = 30
MENU_SIZE = 10
DELIVERY_LOG_SIZE = 100


def count_unread(*, actor: User, cap: int = UNREAD_CAP) -> int:
    """Unread notifications of the actor, counted up to cap + 1 (shown as "99+")."""
    return Notification.objects.for_recipient(actor).unread().order_by()[: cap + 1].count()


def _notifications(actor: User) -> QuerySet[Notification]:
    return (
        Notification.objects.for_recipient(actor)
        .select_related("ticket", "event__actor")
        .defer("ticket__description", "ticket__custom_fields", "event__data")
    )


@dataclass
class NotificationPage:
    items: list[Notification] = field(default_factory=list)
    next_before: int | None = None


def list_notifications(
    *, actor: User, before: int | None = None, unread_only: bool = False, limit: int = PAGE_SIZE
) -> NotificationPage:
    """The actor's notifications, newest first, `limit` per page (keyset: ids below `before`)."""
    qs = _notifications(actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(rows, rows[-1].pk if more and rows else None)


def list_latest_notifications(*, actor: User, limit: int = MENU_SIZE) -> list[Notification]:
    """For the bell menu: unread first (newest first), then the newest read ones, `limit` in all."""
    unread = list(_notifications(actor).filter(read_at__isnull=True).order_by("-pk")[:limit])
    if len(unread) < limit:
        read = _notifications(actor).filter(read_at__isnull=False).order_by("-pk")
        unread += list(read[: limit - len(unread)])
    return unread


def get_notification(*, actor: User, notification_id: int) -> Notification:
    n = _notifications(actor).filter(pk=notification_id).first()
    if n is None:
        raise NotFound(_("Notification %(id)s not found.") % {"id": notification_id}, field="notification_id")
    return n


# --- webhooks --------------------------------------------------------------------------------------


def list_webhook_endpoints(*, actor: User) -> list[WebhookEndpoint]:
    """Endpoints with `pending_count` and `failed_count` (deliveries) attached."""
    authorize(actor, "webhook.manage")
    endpoints = list(WebhookEndpoint.objects.order_by("pk"))
    counts: dict[tuple[int, str], int] = {
        (r["endpoint_id"], r["status"]): r["n"]
        for r in WebhookDelivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
        .values("endpoint_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    }
    for e in endpoints:
        e.pending_count = counts.get((e.pk, DeliveryStatus.PENDING), 0)  # type: ignore[attr-defined]
        e.failed_count = counts.get((e.pk, DeliveryStatus.FAILED), 0)  # type: ignore[attr-defined]
    return endpoints


def get_webhook_endpoint(*, actor: User, endpoint_id: int) -> WebhookEndpoint:
    authorize(actor, "webhook.manage")
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(_("Webhook endpoint %(id)s not found.") % {"id": endpoint_id}, field="endpoint_id")
    return endpoint


def list_webhook_deliveries(
    *, actor: User, endpoint_id: int, status: str | None = None, limit: int = DELIVERY_LOG_SIZE
) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries (newest first) with their event's verb."""
    authorize(actor, "webhook.manage")
    qs = WebhookDelivery.objects.filter(endpoint_id=endpoint_id).select_related("event")
    if status:
        qs = qs.filter(status=status)
    return list(qs.defer("event__data").order_by("-pk")[:limit])
