"""The answer bot: conversations, each question with what the bot did, and its settings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    LOW_CONFIDENCE = "low_confidence", _("Answered with low confidence")
    HANDED_OFF = "handed_off", _("Handed to a person")


class BotSettings(models.Model):
    """One row: how sure the bot must be to answer on its own."""

    threshold = models.FloatField(
        _("confidence threshold"),
        default=0.5,
        help_text=_("0–1: below it the bot hands the question to a person"),
    )
    low_confidence_margin = models.FloatField(
        _("low-confidence band"),
        default=0.15,
        help_text=_("answers less than this above the threshold are logged for tuning"),
    )
    handoff_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team for hand-offs"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bot settings")
        verbose_name_plural = _("bot settings")

    def __str__(self) -> str:
        return "bot settings"

    @classmethod
    def load(cls) -> BotSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class BotSession(models.Model):
    key = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=20, default="web")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="bot_sessions"
    )
    created_at = models.DateTimeField()
    last_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class BotTurn(models.Model):
    """One question and what the bot did with it. Low-confidence and handed-off questions are the
    tuning list until an editor deals with them (resolved_at)."""

    session = models.ForeignKey(BotSession, on_delete=models.CASCADE, related_name="turns")
    question = models.TextField()
    answer = models.TextField(blank=True, default="")
    article = models.ForeignKey(
        "knowledge.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confidence = models.FloatField(default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # variant_added, article_written or dismissed
    resolution = models.CharField(max_length=20, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(resolved_at__isnull=True) & ~models.Q(outcome="answered"),
                name="bot_turn_tuning_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.question[:30]}"
