"""Business calendars, SLA policies with escalation ladders, and per-ticket timers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel


class Weekday(models.IntegerChoices):
    MON = 0, _("Monday")
    TUE = 1, _("Tuesday")
    WED = 2, _("Wednesday")
    THU = 3, _("Thursday")
    FRI = 4, _("Friday")
    SAT = 5, _("Saturday")
    SUN = 6, _("Sunday")


class Calendar(TimeStampedModel):
    """Weekly business hours in one time zone, with Chinese holidays and admin-defined days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Shanghai")
    observe_holidays = models.BooleanField(
        _("closed on Chinese statutory holidays, open on adjusted working days (调休)"), default=True
    )
    workday_hours_from = models.PositiveSmallIntegerField(
        _("adjusted and extra working days use the hours of"), choices=Weekday.choices, default=Weekday.MON
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class CalendarHours(models.Model):
    """One open interval on a weekday, in minutes after local midnight (end may be 1440 = 24:00)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_minute = models.PositiveSmallIntegerField(_("opens"))
    end_minute = models.PositiveSmallIntegerField(_("closes"))

    class Meta:
        ordering = ["weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_minute__lt=models.F("end_minute")) & Q(end_minute__lte=1440),
                name="sla_hours_valid_interval",
            )
        ]


class DayKind(models.TextChoices):
    # the national schedule (calendar is empty): entered for years chinese-calendar does not know
    HOLIDAY = "holiday", _("Statutory holiday")
    WORKDAY = "workday", _("Adjusted working day (调休)")
    # one calendar's own days
    CLOSED = "closed", _("Closed")
    OPEN = "open", _("Extra working day")


class CalendarDay(models.Model):
    """A date that differs from the weekly hours: a national holiday/调休 entry (no calendar) or a
    calendar's own closure or extra working day."""

    calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True, default="")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_day_unique_per_calendar"),
            models.UniqueConstraint(
                fields=["date"], condition=Q(calendar__isnull=True), name="sla_day_unique_national"
            ),
        ]


class Target(models.TextChoices):
    FIRST_REPLY = "first_reply", _("First reply")
    NEXT_REPLY = "next_reply", _("Next reply")
    RESOLUTION = "resolution", _("Resolution")


class SlaPolicy(TimeStampedModel):
    """An ordered rule: the first active policy whose conditions all match a ticket applies.
    Empty condition lists match everything."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="policies")
    match_types = models.JSONField(_("ticket types"), default=list, blank=True)
    match_priorities = models.JSONField(_("priorities"), default=list, blank=True)
    match_channels = models.JSONField(_("channels"), default=list, blank=True)
    match_shop_ids = models.JSONField(_("shops"), default=list, blank=True)
    match_vip_tiers = models.JSONField(_("customer VIP tiers"), default=list, blank=True)
    match_tags = models.JSONField(_("tags (any of)"), default=list, blank=True)
    first_reply_minutes = models.PositiveIntegerField(
        _("first reply within (business minutes)"), null=True, blank=True
    )
    next_reply_minutes = models.PositiveIntegerField(
        _("next reply within (business minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolve within (business minutes)"), null=True, blank=True
    )
    resolve_same_day = models.BooleanField(
        _("resolve by the end of the same business day (当天结清)"), default=False
    )
    same_day_cutoff_minute = models.PositiveSmallIntegerField(
        _("same-day cut-off (minutes after midnight; later tickets are due the next business day)"),
        null=True,
        blank=True,
    )
    pause_on_pending = models.BooleanField(_("pause resolution while waiting on the customer"), default=True)
    pause_on_hold = models.BooleanField(_("pause resolution while on hold"), default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class Trigger(models.TextChoices):
    # xgettext:no-python-format
    ELAPSED_PERCENT = "elapsed_percent", _("% of the target elapsed")
    AFTER_BREACH = "after_breach", _("after the breach")


class ThresholdUnit(models.TextChoices):
    PERCENT = "percent", "%"
    MINUTES = "minutes", _("business minutes")
    HOURS = "hours", _("business hours")
    DAYS = "days", _("business days")


class Recipient(models.TextChoices):
    ASSIGNEE = "assignee", _("the assignee")
    SUPERVISORS = "supervisors", _("the team's supervisors")
    TEAM_LEAD = "team_lead", _("the team lead")
    DEPARTMENT_HEAD = "department_head", _("the department owner")
    EXECUTIVES = "executives", _("the executives")


class ReassignTo(models.TextChoices):
    NONE = "", _("nobody (keep the assignee)")
    TEAM_LEAD = "team_lead", _("the team lead")
    DEPARTMENT_HEAD = "department_head", _("the department owner")


class EscalationStep(models.Model):
    """One rung of a policy's ladder for one target: when it fires and what it does."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="steps")
    target = models.CharField(_("target"), max_length=20, choices=Target.choices)
    trigger = models.CharField(_("when"), max_length=20, choices=Trigger.choices)
    threshold = models.PositiveIntegerField(_("threshold"))
    unit = models.CharField(_("unit"), max_length=10, choices=ThresholdUnit.choices)
    notify = models.JSONField(_("notify"), default=list, blank=True)  # list of Recipient values
    raise_priority = models.BooleanField(_("raise the priority one level"), default=False)
    reassign_to = models.CharField(
        _("reassign to"), max_length=20, choices=ReassignTo.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["target", "trigger", "threshold", "id"]


class TimerStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    CANCELLED = "cancelled", _("Cancelled")


class SlaTimer(models.Model):
    """One target's clock on one ticket. While running, due_at = add(running_since, remaining_at_start).
    `next_action_at` is the next instant the scan must look at (a breach or a ladder step)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_timers")
    target = models.CharField(_("target"), max_length=20, choices=Target.choices)
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=TimerStatus.choices)
    cycle = models.PositiveIntegerField(default=1)  # next-reply timers restart per customer message
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    remaining_at_start = models.BigIntegerField(
        default=0
    )  # business seconds left when last (re)started or paused
    due_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    business_seconds = models.BigIntegerField(null=True, blank=True)  # elapsed business time when met (KPI)
    next_action_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target"], name="sla_timer_one_per_target"),
        ]
        indexes = [
            models.Index(
                fields=["next_action_at"], condition=Q(next_action_at__isnull=False), name="sla_timer_due_idx"
            ),
        ]

    @property
    def is_breached(self) -> bool:
        return self.breached_at is not None


class Escalation(models.Model):
    """A ladder step that fired: unique per timer, cycle and step, so it fires exactly once."""

    timer = models.ForeignKey(SlaTimer, on_delete=models.CASCADE, related_name="escalations")
    step = models.ForeignKey(EscalationStep, null=True, on_delete=models.SET_NULL, related_name="+")
    step_key = models.BigIntegerField()  # the step id, kept when the step is deleted later
    cycle = models.PositiveIntegerField()
    fired_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["timer", "cycle", "step_key"], name="sla_escalation_once"),
        ]
