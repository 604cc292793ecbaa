"""Voice of customer: reviews, feedback items, taxonomies, text-model versions, insights.

Every write goes through kefu.voc.services; reads through kefu.voc.selectors (scoped in SQL)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.voc.choices import (
    FeedbackSource,
    ImportStatus,
    InsightStatus,
    LabelSource,
    ModelKind,
    ModelStatus,
    Polarity,
    RatingLevel,
    TaxonomyKind,
)

MAX_DEPTH = 3  # touchpoint and cause trees have up to three levels


class TaxonomyNode(models.Model):
    """One node of the touchpoint tree (了解认知 → 购买 → 配送安装 → 使用维护 → 维修退换, two more levels
    below) or of the cause tree (产品, 促销活动, 服务, 物流, …). Feedback items point at nodes by id, so
    renaming or moving a node keeps every item's label; nodes are deactivated, never deleted once used.
    `keywords` (one per line) label items before any model has been trained."""

    kind = models.CharField(_("kind"), max_length=20, choices=TaxonomyKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80, blank=True, default="")
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    position = models.PositiveIntegerField(_("position"), default=0)
    keywords = models.TextField(_("keywords"), blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("taxonomy node")
        verbose_name_plural = _("taxonomy nodes")
        ordering = ["kind", "level", "position", "id"]
        indexes = [models.Index(fields=["kind", "parent", "position"], name="voc_node_tree_idx")]

    def __str__(self) -> str:
        return self.name


class ReviewMapping(models.Model):
    """How one shop's review export files map to review fields ({field: column header}), saved on
    import so the next file of that shop is mapped without asking."""

    shop = models.OneToOneField("customers.Shop", on_delete=models.CASCADE, related_name="review_mapping")
    columns = models.JSONField(default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"mapping for {self.shop_id}"


class ReviewImport(models.Model):
    """One uploaded review export: previewed, confirmed, then imported by the worker in batches."""

    shop = models.ForeignKey("customers.Shop", on_delete=models.PROTECT, related_name="review_imports")
    file = models.FileField(upload_to="voc/imports/%Y/%m/", max_length=255)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    columns = models.JSONField(default=dict)  # the mapping used: {field: column header}
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices, default="preview")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)  # a follow-up review added to a known review
    duplicate_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list)  # [{"row": 12, "field": "rating", "reason": "…"}], capped
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("review import")
        verbose_name_plural = _("review imports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.file_name


class Review(models.Model):
    """An e-commerce review; its 追评 (follow-up) is a later part of the same review.

    Idempotent by (shop, dedup_key): the platform's review id when the export has one, else a stable
    hash of order number, product, buyer, time and text (see kefu.voc.imports)."""

    shop = models.ForeignKey("customers.Shop", on_delete=models.PROTECT, related_name="reviews")
    platform = models.CharField(_("platform"), max_length=20)
    platform_review_id = models.CharField(_("review id"), max_length=64, blank=True, default="")
    dedup_key = models.CharField(max_length=64)
    rating = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    level = models.CharField(_("rating"), max_length=10, choices=RatingLevel.choices)
    content = models.TextField(_("review"), blank=True, default="")
    reviewed_at = models.DateTimeField(_("reviewed at"))
    follow_up_content = models.TextField(_("follow-up review"), blank=True, default="")
    follow_up_at = models.DateTimeField(_("follow-up at"), null=True, blank=True)
    order_number = models.CharField(_("order number"), max_length=64, blank=True, default="")
    product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    product_name = models.CharField(_("product name"), max_length=200, blank=True, default="")
    sku = models.CharField(_("SKU"), max_length=100, blank=True, default="")
    buyer_nick = models.CharField(_("buyer"), max_length=100, blank=True, default="")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    source_import = models.ForeignKey(
        ReviewImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    follow_up_ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [models.UniqueConstraint(fields=["shop", "dedup_key"], name="voc_review_unique")]
        indexes = [
            models.Index(fields=["shop", "reviewed_at"], name="voc_review_shop_idx"),
            models.Index(fields=["product", "reviewed_at"], name="voc_review_product_idx"),
            models.Index(fields=["level", "reviewed_at"], name="voc_review_level_idx"),
            models.Index(fields=["reviewed_at"], name="voc_review_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_review_id or self.dedup_key[:12]}"


class ReviewTicketRule(models.Model):
    """Which reviews become tickets, and for which team. The row with no shop is the default for
    shops without a rule of their own."""

    shop = models.OneToOneField(
        "customers.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="review_rule"
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    on_bad = models.BooleanField(_("差评 (negative)"), default=True)
    on_neutral = models.BooleanField(_("中评 (neutral)"), default=True)
    on_negative_follow_up = models.BooleanField(_("negative 追评 (follow-up)"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(shop=None), name="voc_rule_one_default")
        ]

    def __str__(self) -> str:
        return f"review rule {self.shop_id or 'default'}"


class FeedbackItemQuerySet(models.QuerySet["FeedbackItem"]):
    def negative(self) -> FeedbackItemQuerySet:
        return self.filter(polarity=Polarity.NEGATIVE)


class FeedbackItem(models.Model):
    """One piece of voice of customer (客户声音) from any source, with its labels and who set them.

    `source_key` makes creation idempotent ("ticket:12:created", "review:5", "review:5:follow_up",
    "bot:7"). Labels: `*_source` says whether a person, a model, a keyword rule or the star rating set
    them; items labelled by people are the training data of the text models."""

    source = models.CharField(_("source"), max_length=20, choices=FeedbackSource.choices)
    source_key = models.CharField(max_length=80, unique=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_items"
    )
    review = models.ForeignKey(
        Review, null=True, blank=True, on_delete=models.CASCADE, related_name="feedback_items"
    )
    bot_session = models.ForeignKey(
        "bot.BotSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("text"))
    occurred_at = models.DateTimeField(_("time"))
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shop = models.ForeignKey(
        "customers.Shop", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20, blank=True, default="")

    touchpoint = models.ForeignKey(
        TaxonomyNode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("touchpoint"),
    )
    touchpoint_source = models.CharField(max_length=10, choices=LabelSource.choices, blank=True, default="")
    touchpoint_confidence = models.FloatField(null=True, blank=True)
    touchpoint_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cause = models.ForeignKey(
        TaxonomyNode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cause"),
    )
    cause_source = models.CharField(max_length=10, choices=LabelSource.choices, blank=True, default="")
    cause_confidence = models.FloatField(null=True, blank=True)
    cause_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sentiment = models.FloatField(_("sentiment"), null=True, blank=True)  # −1 (angry) … 1 (delighted)
    polarity = models.CharField(
        _("polarity"), max_length=10, choices=Polarity.choices, blank=True, default=""
    )
    sentiment_source = models.CharField(max_length=10, choices=LabelSource.choices, blank=True, default="")
    sentiment_confidence = models.FloatField(null=True, blank=True)
    sentiment_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_versions = models.JSONField(default=dict, blank=True)  # {kind: TextModel id} that labelled it
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = FeedbackItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("feedback item")
        verbose_name_plural = _("feedback items")
        indexes = [
            models.Index(fields=["occurred_at", "id"], name="voc_item_time_idx"),
            models.Index(fields=["polarity", "occurred_at"], name="voc_item_polarity_idx"),
            models.Index(fields=["cause", "occurred_at"], name="voc_item_cause_idx"),
            models.Index(fields=["touchpoint", "occurred_at"], name="voc_item_touchpoint_idx"),
            models.Index(fields=["product", "occurred_at"], name="voc_item_product_idx"),
            models.Index(fields=["shop", "occurred_at"], name="voc_item_shop_idx"),
            models.Index(fields=["source", "occurred_at"], name="voc_item_source_idx"),
        ]

    def __str__(self) -> str:
        return self.source_key

    @property
    def is_negative(self) -> bool:
        return self.polarity == Polarity.NEGATIVE


class TextModel(models.Model):
    """One trained version of a text model (sentiment, cause or touchpoint). A new version is used
    (ACTIVE) only when it beats the one in use on the same held-out slice of the organization's labels;
    `artifact` is the fitted pipeline (joblib), `report` per-class figures and top terms."""

    kind = models.CharField(_("model"), max_length=20, choices=ModelKind.choices)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=ModelStatus.choices, default="training")
    n_train = models.PositiveIntegerField(_("training examples"), default=0)
    n_test = models.PositiveIntegerField(_("held-out examples"), default=0)
    accuracy = models.FloatField(_("accuracy"), null=True, blank=True)
    baseline_accuracy = models.FloatField(_("accuracy of the model in use"), null=True, blank=True)
    labels = models.JSONField(default=list)
    report = models.JSONField(default=dict)
    artifact = models.BinaryField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    trained_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("text model")
        verbose_name_plural = _("text models")
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="voc_model_version_unique"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(status=ModelStatus.ACTIVE), name="voc_model_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class Insight(models.Model):
    """A recurring root cause (问题): similar negative feedback about one product and cause, grouped by
    key phrase. Recomputed by the worker; `key` is stable across recomputations so status and links
    (improvement actions, later) survive."""

    key = models.CharField(max_length=200, unique=True)
    title = models.CharField(_("title"), max_length=200)
    product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cause = models.ForeignKey(
        TaxonomyNode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    key_phrases = models.JSONField(default=list)
    status = models.CharField(_("status"), max_length=20, choices=InsightStatus.choices, default="new")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    item_count = models.PositiveIntegerField(default=0)
    share_of_negative = models.FloatField(default=0)  # of all negative items in the window
    weekly = models.JSONField(default=list)  # [["2026-09-07", 3], …] the last 9 weeks, oldest first
    this_week = models.PositiveIntegerField(default=0)
    baseline_mean = models.FloatField(default=0)  # trailing eight weeks
    is_spike = models.BooleanField(default=False)
    spike_p_value = models.FloatField(null=True, blank=True)
    impact = models.FloatField(default=0)
    breakdown = models.JSONField(default=dict)  # {"shops": {id: n}, "channels": {…}, "products": {…}}
    computed_at = models.DateTimeField()
    items = models.ManyToManyField(FeedbackItem, through="InsightItem", related_name="insights")

    class Meta:
        verbose_name = _("insight")
        verbose_name_plural = _("insights")
        indexes = [models.Index(fields=["-impact"], name="voc_insight_impact_idx")]

    def __str__(self) -> str:
        return self.title


class InsightItem(models.Model):
    insight = models.ForeignKey(Insight, on_delete=models.CASCADE, related_name="links")
    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["insight", "item"], name="voc_insight_item_unique")]


def label_fields(kind: str) -> dict[str, Any]:
    """Field names of one label kind on FeedbackItem (cause, touchpoint, sentiment)."""
    return {
        "value": "sentiment" if kind == ModelKind.SENTIMENT else kind,
        "source": f"{kind}_source",
        "confidence": f"{kind}_confidence",
        "by": f"{kind}_by",
    }
