from django.contrib import admin
from django.utils import timezone

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are read and revoked here; they are made on the API keys page (/settings/api-keys/)
    or with `manage.py create_api_key`, the only places that can show their secret once."""

    list_display = ("name", "prefix", "scope", "created_by", "created_at", "last_used_at")
    list_filter = ("scope",)
    readonly_fields = (
        "name",
        "prefix",
        "key_hash",
        "scope",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
