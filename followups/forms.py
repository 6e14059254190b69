"""Validation of every input of the follow-up pages; invalid input is a 400 with its message."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from surveys import attributes
from surveys.models import Survey, Touchpoint

from . import rules
from .models import FollowUp, FollowUpSettings, RoutingRule
from .selectors import assignable_users

STATUS_FILTERS = [
    ("unresolved", _("Open and in progress")),
    ("", _("All")),
    *FollowUp.Status.choices,
]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    assignee = forms.CharField(required=False)  # a username, "me" or "none"
    survey = forms.SlugField(required=False)
    overdue = forms.BooleanField(required=False)

    def clean_assignee(self):
        value = self.cleaned_data["assignee"].strip()
        if value in ("", "me", "none"):
            return value
        user = assignable_users().filter(username=value).first()
        if user is None:
            raise ValidationError(_("Unknown assignee."))
        return user

    def clean_survey(self):
        slug = self.cleaned_data["survey"]
        if not slug:
            return None
        survey = Survey.objects.filter(slug=slug).first()
        if survey is None:
            raise ValidationError(_("Unknown survey."))
        return survey


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=assignable_users(), required=False, to_field_name="username"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users()


class NoteForm(forms.Form):
    text = forms.CharField(max_length=5000, strip=True, widget=forms.Textarea)


class ContactForm(forms.Form):
    outcome = forms.ChoiceField(choices=FollowUp.Outcome.choices)
    text = forms.CharField(max_length=5000, required=False, strip=True, widget=forms.Textarea)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=FollowUp.Status.choices)
    text = forms.CharField(max_length=5000, required=False, strip=True)


class SettingsForm(forms.ModelForm):
    keywords = forms.CharField(
        label=_("when the comment contains"),
        required=False,
        max_length=2000,
        help_text=_("Comma-separated words or phrases, e.g. refund, cancel, never again."),
    )
    default_owner = forms.ModelChoiceField(
        queryset=assignable_users(), required=False, label=_("default owner")
    )

    class Meta:
        model = FollowUpSettings
        fields = [
            "enabled",
            "on_not_satisfied",
            "score_at_most",
            "keywords",
            "sla_hours",
            "default_owner",
            "alert_window_days",
            "alert_drop_points",
            "alert_min_answers",
        ]

    def __init__(self, *args, survey: Survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.fields["default_owner"].queryset = assignable_users()
        if not self.is_bound:
            # The text field shows the stored list as the words the admin typed, never "[]".
            self.initial["keywords"] = ", ".join(self.instance.keywords or [])
        self.fields["sla_hours"].min_value = 1
        self.fields["sla_hours"].widget.attrs.update(min=1, max=24 * 90)
        self.fields["alert_window_days"].widget.attrs.update(min=1, max=365)

    def clean_keywords(self):
        words = rules.clean_keywords(self.cleaned_data["keywords"] or "")
        if len(words) > 50:
            raise ValidationError(_("At most 50 words or phrases."))
        if any(len(w) > 100 for w in words):
            raise ValidationError(_("Each word or phrase may have at most 100 characters."))
        return words

    def clean_sla_hours(self):
        value = self.cleaned_data["sla_hours"]
        if value is None or not 1 <= value <= 24 * 90:
            raise ValidationError(_("Between 1 hour and 90 days (2160 hours)."))
        return value

    def clean_alert_window_days(self):
        value = self.cleaned_data["alert_window_days"]
        if value is None or not 1 <= value <= 365:
            raise ValidationError(_("Between 1 and 365 days."))
        return value

    def clean_alert_drop_points(self):
        value = self.cleaned_data["alert_drop_points"]
        if value is None or not 0 <= value <= 100:
            raise ValidationError(_("Between 0 and 100 points."))
        return value

    def clean_score_at_most(self):
        value = self.cleaned_data["score_at_most"]
        primary = self.survey.primary_question()
        if (
            value is not None
            and primary is not None
            and primary.scale_def is not None
            and value not in primary.scale_def.points
        ):
            raise ValidationError(
                _("%(value)s is not on the primary question's %(scale)s scale.")
                % {"value": value, "scale": primary.scale}
            )
        return value


class RoutingRuleForm(forms.Form):
    field = forms.ChoiceField(choices=RoutingRule.Field.choices)
    attribute = forms.RegexField(
        regex=attributes.NAME,
        required=False,
        error_messages={"invalid": _("Letters, digits, _ . - only.")},
    )
    value = forms.CharField(max_length=200, strip=True)
    owner = forms.ModelChoiceField(queryset=assignable_users(), to_field_name="username")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_users()

    def clean(self):
        data = super().clean()
        if data.get("field") == RoutingRule.Field.ATTRIBUTE and not data.get("attribute"):
            self.add_error("attribute", _("Name the attribute, e.g. team."))
        if data.get("field") == RoutingRule.Field.TOUCHPOINT_TYPE:
            data["attribute"] = ""
        return data


RoutingFormSet = forms.formset_factory(
    RoutingRuleForm, extra=1, can_delete=True, can_order=True, max_num=50, validate_max=True
)
TOUCHPOINT_TYPES = Touchpoint.values
