"""In-app notifications and outgoing webhooks (endpoints and their delivery log).

The audit event table is the webhooks' outbox: a delivery row is made per (endpoint, event) by the
dispatcher (kefu.notifications.services.dispatch) and retried until delivered or failed.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core import events as registry
from kefu.notifications.choices import DeliveryStatus


class NotificationQuerySet(models.QuerySet):
    def for_recipient(self, user):
        if user is None or not getattr(user, "is_active", False) or not user.pk:
            return self.none()
        return self.filter(recipient_id=user.pk)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One thing a user should know about. Display text is rendered from `verb` and `data`."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    event = models.ForeignKey(
        "audit.AuditEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    verb = models.CharField(max_length=64)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at", "id"], name="notif_recipient_read_idx"),
            models.Index(fields=["recipient", "id"], name="notif_recipient_idx"),
            models.Index(fields=["ticket", "id"], name="notif_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} → {self.recipient_id}"

    @property
    def text(self) -> str:
        return registry.render(self.verb, self.data)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class WebhookEndpoint(models.Model):
    """A URL that receives audit events whose verb matches one of `patterns` (fnmatch), signed
    with `secret` (HMAC-SHA256). `cursor_event_id` is the last audit event id the dispatcher scanned."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(max_length=128)
    patterns = models.JSONField(_("event patterns"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    cursor_event_id = models.BigIntegerField(default=0)
    active_since = models.DateTimeField()  # events recorded before this are not sent
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one endpoint. `next_attempt_at` is set while pending and
    cleared once delivered or failed; a worker claims due rows by moving it forward (a lease)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.ForeignKey("audit.AuditEvent", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    response_snippet = models.CharField(max_length=500, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_unique_event"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "id"], name="webhook_delivery_log_idx"),
            models.Index(fields=["status", "created_at"], name="webhook_delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint_id}/{self.event_id} {self.status}"
