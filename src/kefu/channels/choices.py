from django.db import models
from django.utils.translation import gettext_lazy as _


class Security(models.TextChoices):
    NONE = "none", _("None (plain, loopback only)")
    STARTTLS = "starttls", _("STARTTLS")
    SSL = "ssl", _("SSL/TLS")


class Direction(models.TextChoices):
    INBOUND = "in", _("Received")
    OUTBOUND = "out", _("Sent")


class MailStatus(models.TextChoices):
    # inbound
    NEW_TICKET = "new_ticket", _("New ticket")
    APPENDED = "appended", _("Added to ticket")
    FOLLOW_UP = "follow_up", _("Follow-up ticket (original closed)")
    AUTO_REPLY = "auto_reply", _("Auto-reply (not answered)")
    BOUNCE = "bounce", _("Bounce (delivery failure)")
    TOO_LARGE = "too_large", _("Rejected: too large")
    IGNORED = "ignored", _("Ignored")
    # outbound
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class RepairSource(models.TextChoices):
    WEB = "web", _("Web form")
    MINI_PROGRAM = "mini_program", _("Mini-program")


class PurchaseChannel(models.TextChoices):
    TMALL = "tmall", _("Tmall")
    JD = "jd", _("JD")
    OFFICIAL = "official", _("Official store")
    OFFLINE = "offline", _("Offline store")
    OTHER = "other", _("Other")
