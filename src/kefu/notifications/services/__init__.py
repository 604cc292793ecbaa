"""Every write of the notifications app: in-app notifications, their emails, webhook endpoints and
deliveries."""

from kefu.notifications.services.dispatch import (
    BACKOFF,
    MAX_ATTEMPTS,
    SAFETY_WINDOW,
    DispatchResult,
    attempt_delivery,
    claim_due_deliveries,
    dispatch_webhooks,
    enqueue_deliveries,
    prune_webhook_deliveries,
    send_due_deliveries,
)
from kefu.notifications.services.email import compose_notification_email, send_notification_email
from kefu.notifications.services.endpoints import (
    create_webhook_endpoint,
    forget_active_endpoints,
    has_active_endpoints,
    redeliver_webhook_delivery,
    rotate_webhook_secret,
    update_webhook_endpoint,
)
from kefu.notifications.services.notify import (
    mark_all_notifications_read,
    mark_notification_read,
    notify_for_event,
)

__all__ = [
    "BACKOFF",
    "MAX_ATTEMPTS",
    "SAFETY_WINDOW",
    "DispatchResult",
    "attempt_delivery",
    "claim_due_deliveries",
    "compose_notification_email",
    "create_webhook_endpoint",
    "dispatch_webhooks",
    "enqueue_deliveries",
    "forget_active_endpoints",
    "has_active_endpoints",
    "mark_all_notifications_read",
    "mark_notification_read",
    "notify_for_event",
    "prune_webhook_deliveries",
    "redeliver_webhook_delivery",
    "rotate_webhook_secret",
    "send_due_deliveries",
    "send_notification_email",
    "update_webhook_endpoint",
]
