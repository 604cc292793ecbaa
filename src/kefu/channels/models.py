"""Channel configuration and records: mailboxes, every mail received or sent, repair requests,
pending uploads from the mini-program, and customer-portal sign-in links."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.channels.choices import Direction, MailStatus, PurchaseChannel, RepairSource, Security


class Mailbox(models.Model):
    """A support address. Inbound by IMAP polling and/or `kefu smtpd`; replies go out by its SMTP
    server (or the site mailer when no SMTP host is set). Passwords are write-only in the UI."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), unique=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="mailboxes"
    )
    is_active = models.BooleanField(_("active"), default=True)
    send_acknowledgement = models.BooleanField(
        _("acknowledge new tickets"),
        default=True,
        help_text=_("Reply once with the ticket number; never to auto-replies, bounces or bulk mail."),
    )
    max_message_mb = models.PositiveIntegerField(_("size limit (MB)"), default=20)
    imap_host = models.CharField(_("IMAP host"), max_length=200, blank=True, default="")
    imap_port = models.PositiveIntegerField(_("IMAP port"), null=True, blank=True)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_username = models.CharField(_("IMAP user"), max_length=200, blank=True, default="")
    imap_password = models.CharField(_("IMAP password"), max_length=200, blank=True, default="")
    imap_folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    smtp_host = models.CharField(_("SMTP host"), max_length=200, blank=True, default="")
    smtp_port = models.PositiveIntegerField(_("SMTP port"), null=True, blank=True)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(_("SMTP user"), max_length=200, blank=True, default="")
    smtp_password = models.CharField(_("SMTP password"), max_length=200, blank=True, default="")
    # IMAP polling state: messages with UID <= imap_last_uid under this UIDVALIDITY are handled
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def polls_imap(self) -> bool:
        return self.is_active and bool(self.imap_host)

    @property
    def max_message_bytes(self) -> int:
        return self.max_message_mb * 1024 * 1024


def raw_mail_path(instance: EmailMessage, filename: str) -> str:
    return f"mail/{instance.created_at:%Y/%m}/{filename}"


class EmailMessage(models.Model):
    """One mail received or sent. Message-IDs are unique: the same mail twice is one record.
    The raw message is kept for audit."""

    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    status = models.CharField(_("status"), max_length=12, choices=MailStatus.choices)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True, default="")
    references = models.TextField(blank=True, default="")
    subject = models.CharField(_("subject"), max_length=300, blank=True, default="")
    from_name = models.CharField(max_length=200, blank=True, default="")
    from_address = models.CharField(max_length=254, blank=True, default="")
    reply_to = models.CharField(max_length=254, blank=True, default="")  # where answers go, if not From
    to_addresses = models.TextField(blank=True, default="")
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    text = models.TextField(blank=True, default="", help_text="the full plain-text body")
    html = models.TextField(blank=True, default="", help_text="sanitized HTML body (nh3), cid: links kept")
    # sent by a machine: an auto-reply/bounce/bulk mail received, or an acknowledgement/bounce we sent
    is_auto = models.BooleanField(default=False)
    raw = models.FileField(upload_to=raw_mail_path, max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=20, blank=True, default="")  # imap, smtpd, console …
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        indexes = [
            models.Index(fields=["ticket", "id"], name="email_ticket_idx"),
            models.Index(fields=["mailbox", "id"], name="email_mailbox_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="queued"),
                name="email_outbox_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_id}"


class RepairRequest(models.Model):
    """A repair request (报修) from the public web form or the mini-program; the ticket carries the
    work, this keeps what the customer submitted."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="repair_request")
    source = models.CharField(max_length=20, choices=RepairSource.choices)
    phone = models.CharField(_("phone"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    product_model = models.CharField(_("product model"), max_length=100)
    purchase_channel = models.CharField(_("purchase channel"), max_length=20, choices=PurchaseChannel.choices)
    address = models.CharField(_("address"), max_length=300)
    description = models.TextField(_("description"))
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("repair request")
        verbose_name_plural = _("repair requests")

    def __str__(self) -> str:
        return f"repair {self.ticket_id}"


class PendingUpload(models.Model):
    """A photo or video uploaded by the mini-program (one file per request, as wx.uploadFile does)
    before the repair request that uses it; the token is single use and expires."""

    token = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to="uploads/%Y/%m/", max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="pending_upload_created_idx")]

    def __str__(self) -> str:
        return self.filename


class PortalLink(models.Model):
    """A magic sign-in link for the customer portal; single use. The token is an HMAC of `nonce`
    under the site's secret key (so the mail task needs only the link's id) and only its hash is
    stored: the database alone does not give the token away."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    nonce = models.CharField(max_length=64, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"portal link for {self.customer_id}"


class ChannelSettings(models.Model):
    """Where public intake lands (one row, edited by admins on the channels page)."""

    repair_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team for repair requests"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel settings")
        verbose_name_plural = _("channel settings")

    def __str__(self) -> str:
        return "channel settings"

    @classmethod
    def load(cls) -> ChannelSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
