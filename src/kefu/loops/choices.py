from django.db import models
from django.utils.translation import gettext_lazy as _


class ActionStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    IMPLEMENTED = "implemented", _("Implemented")
    VERIFYING = "verifying", _("Verifying")
    VERIFIED = "verified", _("Verified")
    NOT_EFFECTIVE = "not_effective", _("Not effective")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")


class ActionSource(models.TextChoices):
    INSIGHT = "insight", _("Insight")
    FEEDBACK = "feedback", _("Feedback item")
    TICKET = "ticket", _("Ticket")
    MANUAL = "manual", _("By hand")


class MetricKind(models.TextChoices):
    """What an action's target metric measures (computed from kefu's own data)."""

    NEGATIVE_REVIEW_RATE = "negative_review_rate", _("Negative-review rate (差评率)")
    COMPLAINT_VOLUME = "complaint_volume", _("Negative feedback per week")
    REPEAT_CONTACT_RATE = "repeat_contact_rate", _("Repeat-contact rate")


class EscalationLevel(models.IntegerChoices):
    NONE = 0, _("Not escalated")
    OWNER = 1, _("Owner reminded")
    DEPARTMENT_HEAD = 2, _("Department head")
    EXECUTIVE = 3, _("Executives")


class RemediationKind(models.TextChoices):
    DELIST_SKU = "delist_sku", _("Delist a product SKU in a shop")
    CLOSE_WAREHOUSE = "close_warehouse", _("Close a front warehouse")
    SUSPEND_PROMOTION = "suspend_promotion", _("Suspend a promotion")


class RemediationStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    REVERSED = "reversed", _("Reversed")


class RiskType(models.TextChoices):
    METRIC = "metric", _("Metric (指标)")
    SETTLEMENT = "settlement", _("Settlement (结算)")
    MANAGEMENT = "management", _("Management (管理)")
    SYSTEM = "system", _("System (系统)")
    BRAND = "brand", _("Brand (品牌)")


class RiskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MITIGATED = "mitigated", _("Mitigated")
    CLOSED = "closed", _("Closed")
