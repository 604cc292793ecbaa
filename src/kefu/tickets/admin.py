from django.contrib import admin

from kefu.tickets.models import Category, CustomFieldDefinition, Tag, Ticket


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "is_active")
    list_filter = ("is_active",)


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "field_type", "required", "is_active")
    list_filter = ("field_type", "required", "is_active")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only here: tickets change through services (API and console) so every change is audited."""

    list_display = (
        "number",
        "subject",
        "type",
        "status",
        "priority",
        "channel",
        "team",
        "assignee",
        "created_at",
    )
    list_filter = ("status", "type", "priority", "channel")
    search_fields = ("number", "subject")
    show_full_result_count = False  # no COUNT(*) over millions of rows
    list_select_related = ("team", "assignee")
    raw_id_fields = ("customer", "product", "shop", "team", "assignee", "category", "created_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
