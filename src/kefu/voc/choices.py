from django.db import models
from django.utils.translation import gettext_lazy as _


class TaxonomyKind(models.TextChoices):
    TOUCHPOINT = "touchpoint", _("Touchpoint")
    CAUSE = "cause", _("Cause")


class RatingLevel(models.TextChoices):
    """What the shop shows: 好评 / 中评 / 差评 (stars 4–5 / 3 / 1–2)."""

    GOOD = "good", _("Positive (好评)")
    NEUTRAL = "neutral", _("Neutral (中评)")
    BAD = "bad", _("Negative (差评)")


class FeedbackSource(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("Ticket (opened)")
    TICKET_SOLVED = "ticket_solved", _("Ticket (solved)")
    REVIEW = "review", _("Review")
    REVIEW_FOLLOW_UP = "review_follow_up", _("Follow-up review (追评)")
    BOT = "bot", _("Bot conversation")
    SURVEY = "survey", _("Survey answer")


class LabelSource(models.TextChoices):
    """Who set a label: a person (the training data), a model, a keyword rule, or the star rating."""

    NONE = "", _("Not labelled")
    PERSON = "person", _("Person")
    MODEL = "model", _("Model")
    RULE = "rule", _("Keyword rule")
    RATING = "rating", _("Star rating")


class ModelKind(models.TextChoices):
    SENTIMENT = "sentiment", _("Sentiment")
    CAUSE = "cause", _("Cause category")
    TOUCHPOINT = "touchpoint", _("Touchpoint")


class ModelStatus(models.TextChoices):
    TRAINING = "training", _("Training")
    ACTIVE = "active", _("In use")
    RETIRED = "retired", _("Replaced")
    REJECTED = "rejected", _("Not better than the model in use")
    FAILED = "failed", _("Failed")


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("Awaiting confirmation")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class InsightStatus(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISMISSED = "dismissed", _("Dismissed")


class Polarity(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")
