from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.tickets.choices import (
    Channel,
    FieldType,
    MessageKind,
    Priority,
    Status,
    TicketType,
    TransferStatus,
)
from kefu.tickets.workflow import OPEN_STATES


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """Cause category (placeholder for the voice-of-customer cause taxonomy)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class CustomFieldDefinition(models.Model):
    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=10, choices=FieldType.choices, default=FieldType.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True, help_text=_("for choice fields"))
    required = models.BooleanField(_("required"), default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.label


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATES)

    def visible_to(self, user):
        """Tickets the user may see, as SQL: agents their teams' and their own; supervisors their
        department's; department owners those transferred to their department; executives, QA and
        admins all."""
        from kefu.accounts.models import Membership, Team
        from kefu.core.permissions import Role

        if user is None or not user.is_active:
            return self.none()
        if user.sees_all_tickets:
            return self
        q = models.Q(assignee_id=user.pk) | models.Q(
            team_id__in=Membership.objects.filter(user_id=user.pk).values("team_id")
        )
        if user.department_id and user.role in (Role.SUPERVISOR, Role.DEPARTMENT_OWNER):
            q |= models.Q(team_id__in=Team.objects.filter(department_id=user.department_id).values("id"))
        if user.department_id and user.role == Role.DEPARTMENT_OWNER:
            q |= models.Exists(
                Transfer.objects.filter(ticket_id=models.OuterRef("pk"), to_department_id=user.department_id)
            )
        return self.filter(q)


class Ticket(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True, null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    type = models.CharField(_("type"), max_length=20, choices=TicketType.choices, default=TicketType.INQUIRY)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.API)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    product = models.ForeignKey(
        "customers.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    shop = models.ForeignKey(
        "customers.Shop",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
        db_index=False,
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    # per-state times for KPIs
    status_changed_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveIntegerField(default=0)
    # written by kefu.sla: the earliest due instant of the running SLA timers, and whether one is breached
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    sla_breached = models.BooleanField(_("SLA breached"), default=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "id"], name="ticket_status_idx"),
            models.Index(fields=["team", "id"], name="ticket_team_idx"),
            models.Index(fields=["assignee", "id"], name="ticket_assignee_idx"),
            # inbox queues: open tickets of a team / of an assignee, newest first
            models.Index(fields=["team", "status", "id"], name="ticket_team_status_idx"),
            models.Index(fields=["assignee", "status", "id"], name="ticket_assignee_status_idx"),
            models.Index(fields=["customer", "id"], name="ticket_customer_idx"),
            models.Index(fields=["product", "id"], name="ticket_product_idx"),
            models.Index(fields=["shop", "id"], name="ticket_shop_idx"),
            models.Index(fields=["type", "id"], name="ticket_type_idx"),
            models.Index(fields=["channel", "id"], name="ticket_channel_idx"),
            models.Index(fields=["priority", "id"], name="ticket_priority_idx"),
            models.Index(fields=["created_at"], name="ticket_created_idx"),
            models.Index(
                fields=["sla_due_at", "id"],
                condition=models.Q(sla_due_at__isnull=False),
                name="ticket_sla_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # the SLA columns belong to kefu.sla, which writes them with queryset updates; a full save of
        # a ticket loaded earlier in the same transaction must not put back stale values
        if self.pk is not None and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in SLA_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES


SLA_FIELDS = frozenset({"sla_due_at", "sla_breached"})


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    body = models.TextField(_("body"), blank=True, default="")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["ticket", "id"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind != MessageKind.NOTE


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # a JPEG preview for images, made in the background (tickets.tasks.make_thumbnail_task)
    thumbnail = models.FileField(upload_to="thumbnails/%Y/%m/", max_length=200, blank=True)
    # the Content-ID of an inline image in an email, so its HTML can show it
    content_id = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class Transfer(models.Model):
    """A ticket handed to another department (流转/协办) with a reply-by time."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transfers")
    from_department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="transfers_in"
    )
    to_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, default="")
    reply_by = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        indexes = [models.Index(fields=["to_department", "ticket"], name="transfer_dept_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.to_department_id}"
