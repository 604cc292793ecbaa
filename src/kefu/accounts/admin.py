from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import ApiToken, Department, Membership, Team, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "department", "is_active")
    list_filter = ("role", "department", "is_active")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("kefu"), {"fields": ("role", "display_name", "department", "time_zone")}),
    )
    inlines = [MembershipInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent", "head")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "vendor")
    list_filter = ("department",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at", "revoked_at", "user")

    def has_add_permission(self, request):
        return False  # tokens are created with `kefu token create` so the raw value can be shown once
