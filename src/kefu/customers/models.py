from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel
from kefu.customers.choices import IdentityKind, Platform, VipTier


class Customer(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    vip_tier = models.CharField(_("VIP tier"), max_length=20, choices=VipTier.choices, blank=True, default="")
    tags = models.JSONField(_("tags"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True, default="")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class Identity(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=20, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=190)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_kind_value")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Product(models.Model):
    model_number = models.CharField(_("model number"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=50, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["model_number"]

    def __str__(self) -> str:
        return f"{self.name} {self.model_number}"


class Shop(models.Model):
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """A purchase, imported or pushed from a shop, so agents see what the customer bought."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    order_number = models.CharField(_("order number"), max_length=64)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=30, blank=True, default="")
    ordered_at = models.DateTimeField(_("ordered at"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [models.UniqueConstraint(fields=["shop", "order_number"], name="order_unique_per_shop")]
        indexes = [models.Index(fields=["customer", "-ordered_at"], name="order_customer_idx")]

    def __str__(self) -> str:
        return self.order_number
