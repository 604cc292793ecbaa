"""The closed loop: improvement actions owned by departments (the outer loop: fix the cause), their
evidence, milestones and comments, remediation orders carried out by other systems, the risk register
and the weekly voice-of-customer report. Every write goes through kefu.loops.services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.loops.choices import (
    ActionSource,
    ActionStatus,
    EscalationLevel,
    MetricKind,
    RemediationKind,
    RemediationStatus,
    RiskStatus,
    RiskType,
)

OPEN_STATUSES = (
    ActionStatus.PROPOSED,
    ActionStatus.ACCEPTED,
    ActionStatus.IN_PROGRESS,
    ActionStatus.IMPLEMENTED,
    ActionStatus.VERIFYING,
)

# still owed by the department: an action in these states past its deadline or date is overdue
OWED_STATUSES = (ActionStatus.PROPOSED, ActionStatus.ACCEPTED, ActionStatus.IN_PROGRESS)

_USER = settings.AUTH_USER_MODEL


class LoopSettings(models.Model):
    """One row: how long a department has to accept an action and commit a date, on which calendar,
    and when an unanswered or overdue action climbs the ladder (owner → department head → executives)."""

    commit_within_days = models.PositiveSmallIntegerField(
        _("accept and commit a date within (business days)"), default=3
    )
    calendar = models.ForeignKey(
        "sla.Calendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("business calendar"),
    )
    # business days after the deadline (commit deadline or committed date) for each ladder step
    escalate_owner_after = models.PositiveSmallIntegerField(
        _("remind the owner after (business days)"), default=0
    )
    escalate_head_after = models.PositiveSmallIntegerField(
        _("department head after (business days)"), default=2
    )
    escalate_executive_after = models.PositiveSmallIntegerField(
        _("executives after (business days)"), default=5
    )
    verification_days = models.PositiveSmallIntegerField(_("verification window (days)"), default=28)
    report_recipients = models.TextField(
        _("weekly report recipients"), blank=True, default=""
    )  # one address per line
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("loop settings")
        verbose_name_plural = _("loop settings")

    def __str__(self) -> str:
        return "loop settings"

    @classmethod
    def load(cls) -> LoopSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class ImprovementAction(models.Model):
    """改善项/闭环单: a cause to fix, owned by a department, with a target metric that is verified
    from the data after the fix. Tickets are the inner loop (one customer's case); they link here as
    evidence."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem statement"))
    source = models.CharField(_("source"), max_length=20, choices=ActionSource.choices, default="manual")
    insight = models.ForeignKey(
        "voc.Insight", null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    status = models.CharField(_("status"), max_length=20, choices=ActionStatus.choices, default="proposed")
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="actions", verbose_name=_("department")
    )
    owner = models.ForeignKey(
        _USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_actions",
        verbose_name=_("owner"),
    )
    created_by = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reject_reason = models.TextField(_("reason for rejecting"), blank=True, default="")
    # accountability
    commit_deadline = models.DateTimeField(_("accept and commit by"), null=True, blank=True)
    committed_date = models.DateField(_("committed fix date"), null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation"), choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    next_check_at = models.DateTimeField(null=True, blank=True)  # when the worker looks at it again
    # target metric: what, for which product/shop/cause, from what to what
    metric = models.CharField(
        _("target metric"), max_length=30, choices=MetricKind.choices, blank=True, default=""
    )
    metric_product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    metric_shop = models.ForeignKey(
        "customers.Shop", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    metric_cause = models.ForeignKey(
        "voc.TaxonomyNode", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    baseline_value = models.FloatField(_("baseline"), null=True, blank=True)
    baseline_from = models.DateField(null=True, blank=True)
    baseline_to = models.DateField(null=True, blank=True)
    goal_value = models.FloatField(_("goal"), null=True, blank=True)
    # verification (after implementation)
    verify_from = models.DateField(null=True, blank=True)
    verify_to = models.DateField(null=True, blank=True)
    verified_value = models.FloatField(null=True, blank=True)
    verification = models.JSONField(
        default=dict, blank=True
    )  # {"p_value": …, "weekly": [[week, value], …], …}
    # an executive's claim (认领) from the weekly report
    claimed_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_actions"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # state times
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    implemented_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["department", "status"], name="loops_action_dept_idx"),
            models.Index(fields=["status", "id"], name="loops_action_status_idx"),
            models.Index(
                fields=["next_check_at"],
                name="loops_action_check_idx",
                condition=models.Q(next_check_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ActionEvidence(models.Model):
    """What shows the problem: feedback items and tickets (the inner loop) linked to the action."""

    action = models.ForeignKey(ImprovementAction, on_delete=models.CASCADE, related_name="evidence")
    feedback_item = models.ForeignKey(
        "voc.FeedbackItem", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="improvement_links"
    )
    added_by = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "feedback_item"], name="loops_evidence_item_unique"),
            models.UniqueConstraint(fields=["action", "ticket"], name="loops_evidence_ticket_unique"),
        ]


class ActionMilestone(models.Model):
    action = models.ForeignKey(ImprovementAction, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=200)
    due_date = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class ActionComment(models.Model):
    action = models.ForeignKey(ImprovementAction, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(_USER, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class ActionAttachment(models.Model):
    action = models.ForeignKey(ImprovementAction, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        ActionComment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to="loops/%Y/%m/", max_length=255)
    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(_USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()


class RemediationOrder(models.Model):
    """An order customer service gives other systems (delist a SKU, close a front warehouse, suspend a
    promotion). Delivered as the audit event `loops.remediation_ordered` (and `…_reversed`) through
    the signed outgoing webhooks of kefu.notifications (endpoints subscribe with "loops.remediation_*")."""

    kind = models.CharField(_("remediation"), max_length=30, choices=RemediationKind.choices)
    shop = models.ForeignKey(
        "customers.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target = models.CharField(_("target"), max_length=200)  # SKU, warehouse code or promotion id
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=20, choices=RemediationStatus.choices, default="active")
    action = models.ForeignKey(
        ImprovementAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="remediations"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ordered_by = models.ForeignKey(_USER, null=True, on_delete=models.SET_NULL, related_name="+")
    ordered_at = models.DateTimeField()
    reversed_by = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reversed_at = models.DateTimeField(null=True, blank=True)
    reverse_reason = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("remediation order")
        verbose_name_plural = _("remediation orders")
        ordering = ["-id"]


class Risk(models.Model):
    """风险: likelihood × impact (1–5 each), an owner, a contingency plan, drills and periodic review."""

    title = models.CharField(_("risk"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    type = models.CharField(_("type"), max_length=20, choices=RiskType.choices)
    likelihood = models.PositiveSmallIntegerField(_("likelihood (1–5)"), default=3)
    impact = models.PositiveSmallIntegerField(_("impact (1–5)"), default=3)
    owner = models.ForeignKey(_USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contingency_plan = models.TextField(_("contingency plan"), blank=True, default="")
    status = models.CharField(_("status"), max_length=20, choices=RiskStatus.choices, default="open")
    review_every_days = models.PositiveSmallIntegerField(_("review every (days)"), default=90)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    next_review_at = models.DateTimeField(null=True, blank=True)
    insights = models.ManyToManyField("voc.Insight", blank=True, related_name="risks")
    actions = models.ManyToManyField(ImprovementAction, blank=True, related_name="risks")
    created_by = models.ForeignKey(_USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def score(self) -> int:
        return self.likelihood * self.impact


class RiskDrill(models.Model):
    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="drills")
    held_on = models.DateField(_("date"))
    result = models.TextField(_("result"))
    lessons = models.TextField(_("lessons"), blank=True, default="")
    recorded_by = models.ForeignKey(_USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-held_on", "-id"]


class WeeklyReport(models.Model):
    """每周客户声音: the previous week's figures, frozen when generated (Monday morning or on demand)."""

    week_start = models.DateField(_("week"), unique=True)  # Monday of the reported week
    data = models.JSONField(default=dict)
    generated_at = models.DateTimeField()
    generated_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("weekly report")
        verbose_name_plural = _("weekly reports")
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"VoC week of {self.week_start}"
