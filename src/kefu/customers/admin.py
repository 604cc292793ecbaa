from django.contrib import admin

from kefu.customers.models import Customer, Identity, Product, Shop


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("model_number", "name", "category", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("model_number", "name")


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "platform", "is_active")
    list_filter = ("platform", "is_active")


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    readonly_fields = ("kind", "value", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Read-only here: customers change through the API and the console (services leave audit events)."""

    list_display = ("id", "name", "vip_tier", "merged_into", "created_at")
    search_fields = ("name", "identities__value")
    list_filter = ("vip_tier",)
    inlines = [IdentityInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
