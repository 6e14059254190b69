from django import forms
from django.contrib import admin

from .models import Answer, Contact, Invitation, Question, Response, Survey, TouchpointEvent


class QuestionForm(forms.ModelForm):
    """A published (frozen) question's kind, scale, direction and satisfied set are shown, not
    editable: the API refuses the same change with a 409, because it would corrupt the figures."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.frozen:
            for name in Question.FROZEN_FIELDS:
                self.fields[name].disabled = True


class QuestionInline(admin.TabularInline):
    model = Question
    form = QuestionForm
    extra = 0
    fields = (
        "position",
        "key",
        "kind",
        "scale",
        "reversed",
        "satisfied",
        "primary",
        "required",
        "frozen",
    )
    readonly_fields = ("frozen",)

    def has_delete_permission(self, request, obj=None) -> bool:
        # A published survey's questions stay (services refuse to remove them as well).
        return super().has_delete_permission(request, obj) and not (obj and obj.is_published)


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "touchpoint", "status", "published_at")
    list_filter = ("status", "touchpoint")
    search_fields = ("name", "slug")
    inlines = [QuestionInline]
    # The lifecycle moves through the designer and the API, which freeze questions on publishing.
    readonly_fields = ("status", "published_at", "archived_at")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "external_id", "locale", "unsubscribed_at", "undeliverable_at")
    search_fields = ("email", "external_id", "name")


@admin.register(TouchpointEvent)
class TouchpointEventAdmin(admin.ModelAdmin):
    list_display = ("type", "external_id", "occurred_at", "contact")
    list_filter = ("type",)
    search_fields = ("external_id",)
    raw_id_fields = ("contact",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "survey",
        "contact",
        "status",
        "due_at",
        "sent_at",
        "answered_at",
        "is_test",
    )
    list_filter = ("status", "survey", "is_test")
    raw_id_fields = ("contact", "touchpoint")
    readonly_fields = ("salt", "token_hash")


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    readonly_fields = ("question", "score", "score_norm", "satisfied", "text")


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("id", "survey", "submitted_at", "locale", "source", "is_test")
    list_filter = ("survey", "source", "is_test")
    raw_id_fields = ("invitation", "contact")
    inlines = [AnswerInline]
