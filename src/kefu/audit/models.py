from django.conf import settings
from django.db import models

from kefu.core import events as registry


class AuditEvent(models.Model):
    """Append-only record of every change. Display text is rendered from the registry."""

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=40)
    subject_id = models.BigIntegerField()
    ticket_id = models.BigIntegerField(null=True, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=20, default="system")
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["ticket_id", "id"], name="audit_ticket_idx"),
            models.Index(fields=["customer_id", "id"], name="audit_customer_idx"),
            models.Index(fields=["subject_type", "subject_id", "id"], name="audit_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.subject_type}#{self.subject_id}"

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.pop("_allow_update", False):
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    @property
    def text(self) -> str:
        return registry.render(self.verb, self.data)
