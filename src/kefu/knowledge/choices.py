from django.db import models
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    INTERNAL = "internal", _("Internal (agents)")
    PUBLIC = "public", _("Public (help center and bot)")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class VariantSource(models.TextChoices):
    EDITOR = "editor", _("Written by an editor")
    BOT_TUNING = "bot_tuning", _("From bot tuning")
    IMPORT = "import", _("Imported")


class DocKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    REPLY = "reply", _("Standard reply")
    TICKET = "ticket", _("Ticket")


class TermKind(models.TextChoices):
    PRODUCT = "product", _("Product name")
    MODEL = "model", _("Model number")
    SLANG = "slang", _("Slang")
    OTHER = "other", _("Other")
