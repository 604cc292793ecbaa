"""The knowledge base (客服宝典): articles with question variants and versions, standard replies
(标准话术), the search dictionary (user words, synonyms) and the search index rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.knowledge.choices import ArticleStatus, Audience, DocKind, TermKind, VariantSource


class ArticleCategory(models.Model):
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="kb_category_unique_name")]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=220, allow_unicode=True, blank=True)
    body = models.TextField(_("body (Markdown)"), blank=True, default="")
    body_html = models.TextField(blank=True, default="")  # rendered from body and sanitized
    category = models.ForeignKey(
        ArticleCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    products = models.ManyToManyField("customers.Product", blank=True, related_name="articles")
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.INTERNAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [models.Index(fields=["status", "audience", "id"], name="kb_article_status_idx")]

    def __str__(self) -> str:
        return self.title


class ArticleVariant(models.Model):
    """Another way customers ask the same thing (相似问法)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="variants")
    text = models.CharField(_("question"), max_length=300)
    source = models.CharField(max_length=20, choices=VariantSource.choices, default=VariantSource.EDITOR)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("question variant")
        verbose_name_plural = _("question variants")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["article", "text"], name="kb_variant_unique")]

    def __str__(self) -> str:
        return self.text


class ArticleVersion(models.Model):
    """What an article said at each saved version (title, body, variants), by whom and when."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    variants = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=ArticleStatus.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="kb_version_unique")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.version}"


def kb_attachment_path(instance: ArticleAttachment, filename: str) -> str:
    return f"kb/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class ArticleAttachment(models.Model):
    """An image or file of an article; Markdown links to it by its URL."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=kb_attachment_path, max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.filename


class ArticleVote(models.Model):
    """A "was this helpful?" answer in the help center (or from the bot), kept for analysis."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    helpful = models.BooleanField()
    comment = models.CharField(max_length=500, blank=True, default="")
    source = models.CharField(max_length=20, default="help_center")
    voter = models.CharField(max_length=64, blank=True, default="")  # a hash of the session, one vote each
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["article", "created_at"], name="kb_vote_article_idx")]

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.helpful else '-'}"


class StandardReply(models.Model):
    """A canned reply (标准话术) with placeholders such as {customer.name}; shared or a team's own."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="standard_replies",
        help_text=_("empty: shared by every team"),
    )
    category = models.ForeignKey(
        ArticleCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("standard reply")
        verbose_name_plural = _("standard replies")
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class DictionaryWord(models.Model):
    """A word jieba must keep whole (product names, model numbers, slang)."""

    word = models.CharField(_("word"), max_length=50, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TermKind.choices, default=TermKind.OTHER)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dictionary word")
        verbose_name_plural = _("dictionary words")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class SynonymGroup(models.Model):
    """Words that mean the same to customers (制氧机 = 氧气机); the first is the one indexed."""

    terms = models.CharField(
        _("terms"), max_length=300, help_text=_("comma-separated; the first is the main term")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("synonyms")
        verbose_name_plural = _("synonyms")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.terms

    @property
    def term_list(self) -> list[str]:
        return [t.strip() for t in self.terms.replace("，", ",").split(",") if t.strip()]


class SearchEntry(models.Model):
    """One searchable document (an article, a standard reply or a ticket) as the index sees it:
    `tokens` is the segmented text the full-text index (SQLite FTS5 / PostgreSQL tsvector) covers."""

    kind = models.CharField(max_length=10, choices=DocKind.choices)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=300, blank=True, default="")
    text = models.TextField(blank=True, default="")  # the original text, for snippets
    tokens = models.TextField(blank=True, default="")
    audience = models.CharField(max_length=10, blank=True, default="")  # articles
    team_id = models.BigIntegerField(null=True, blank=True)  # standard replies of one team
    is_live = models.BooleanField(default=True)  # published article / active reply
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="kb_search_entry_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"
