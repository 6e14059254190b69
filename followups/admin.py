from django.contrib import admin

from .models import (
    CsatAlert,
    FollowUp,
    FollowUpNote,
    FollowUpSettings,
    RoutingRule,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0
    raw_id_fields = ("owner",)


@admin.register(FollowUpSettings)
class FollowUpSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "survey",
        "enabled",
        "on_not_satisfied",
        "score_at_most",
        "sla_hours",
        "default_owner",
    )
    raw_id_fields = ("default_owner",)
    inlines = [RoutingRuleInline]


class NoteInline(admin.TabularInline):
    model = FollowUpNote
    extra = 0
    readonly_fields = ("created_at",)
    raw_id_fields = ("author",)


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("id", "survey", "status", "assignee", "opened_at", "due_at", "resolved_at")
    list_filter = ("status", "survey")
    raw_id_fields = ("response", "contact", "assignee")
    readonly_fields = ("opened_at", "first_contact_at", "resolved_at", "notified_at", "erased_at")
    inlines = [NoteInline]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "active", "payload_format", "survey", "events")
    list_filter = ("active", "payload_format")


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ("attempt", "status_code", "error", "duration_ms", "created_at")
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "webhook",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "event", "webhook")
    readonly_fields = ("body", "attempts", "last_status_code", "last_error", "delivered_at")
    inlines = [AttemptInline]


@admin.register(CsatAlert)
class CsatAlertAdmin(admin.ModelAdmin):
    list_display = ("survey", "kind", "firing", "fired_at", "recovered_at", "times_fired")
