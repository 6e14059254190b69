from django.contrib import admin

from .models import Connector, Delivery


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = ("id", "provider", "survey", "name", "active", "refused", "created_at")
    list_filter = ("provider", "active")

    def has_add_permission(self, request) -> bool:
        return False  # made on the connector pages or through the API, which set the secret

    # The secrets are set through the pages or the API (create, rotate), never shown here.
    exclude = ("secret", "link_key")
    readonly_fields = (
        "public_id",
        "created_at",
        "secret_set_at",
        "link_key_set_at",
        "refused",
        "last_refused_at",
    )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "connector", "received_at", "outcome", "topic", "delivery_id")
    list_filter = ("outcome",)
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
