"""The survey definition as JSON. Texts for customers are {"lang": "text"}; a plain string
means the survey's first language. Validation names the field; services do the writing."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys import attributes, scales
from surveys.invitations import invitation_link
from surveys.models import Survey, Touchpoint

LANGUAGE_CODES = [code for code, _ in settings.LANGUAGES]


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "object", "additionalProperties": {"type": "string"}},
        ],
        "example": {"en": "How satisfied are you?", "de": "Wie zufrieden sind Sie?"},
    }
)
class LocalizedTextField(serializers.Field):
    """{"en": "...", "de": "..."} or a plain string (the survey's first language)."""

    def __init__(self, *, max_length: int = 5000, **kwargs):
        self.max_length = max_length
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        language = self.context.get("language", LANGUAGE_CODES[0])
        if isinstance(data, str):
            data = {language: data} if data else {}
        if not isinstance(data, dict):
            raise serializers.ValidationError('Give a string or an object like {"en": "..."}.')
        allowed = self.context.get("languages") or LANGUAGE_CODES
        for lang, text in data.items():
            if lang not in allowed:
                raise serializers.ValidationError(
                    f"{lang!r} is not one of the survey's languages ({', '.join(allowed)})."
                )
            if not isinstance(text, str):
                raise serializers.ValidationError(f"{lang}: the text must be a string.")
            if len(text) > self.max_length:
                raise serializers.ValidationError(f"{lang}: at most {self.max_length} characters.")
        return {lang: text.strip() for lang, text in data.items() if text.strip()}

    def to_representation(self, value):
        return value or {}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "example": {
            "en": ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"]
        },
    }
)
class LabelsField(serializers.Field):
    """{"en": ["label of point 1", ...]} or a plain list (the survey's first language)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        language = self.context.get("language", LANGUAGE_CODES[0])
        if isinstance(data, list):
            data = {language: data} if data else {}
        if not isinstance(data, dict):
            raise serializers.ValidationError('Give a list or an object like {"en": [...]}.')
        allowed = self.context.get("languages") or LANGUAGE_CODES
        clean = {}
        for lang, labels in data.items():
            if lang not in allowed:
                raise serializers.ValidationError(f"{lang!r} is not one of the survey's languages.")
            if not isinstance(labels, list) or any(not isinstance(t, str) for t in labels):
                raise serializers.ValidationError(f"{lang}: give a list of texts.")
            if any(len(t) > 200 for t in labels):
                raise serializers.ValidationError(f"{lang}: a label has at most 200 characters.")
            clean[lang] = [t.strip() for t in labels]
        return clean

    def to_representation(self, value):
        return value or {}


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "21:00"}
)
class HourMinuteField(serializers.TimeField):
    """A time of day; read as HH:MM (HH:MM:SS is accepted), shown as HH:MM."""


class QuestionSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=50)
    kind = serializers.ChoiceField(choices=scales.KINDS)
    scale = serializers.CharField(required=False, allow_blank=True, max_length=10)
    text = LocalizedTextField(max_length=500)
    labels = LabelsField()
    reversed = serializers.BooleanField(required=False, default=False)
    satisfied = serializers.ListField(child=serializers.IntegerField(), required=False)
    primary = serializers.BooleanField(required=False, default=False)
    required = serializers.BooleanField(
        required=False, help_text="Default: true for the primary question, else false."
    )
    max_length = serializers.IntegerField(
        required=False, min_value=1, max_value=10000, allow_null=True
    )
    frozen = serializers.BooleanField(
        read_only=True, help_text="The scale can no longer change: the survey was published."
    )

    def validate(self, attrs):
        kind = attrs["kind"]
        attrs.setdefault("required", bool(attrs.get("primary")) and kind != scales.COMMENT)
        if attrs.get("max_length") is None:
            attrs.pop("max_length", None)
        if kind == scales.COMMENT:
            attrs.update(scale="", labels={}, reversed=False, satisfied=[], primary=False)
            attrs.setdefault("max_length", 1000)
            return attrs
        attrs["scale"] = attrs.get("scale") or scales.DEFAULT_SCALE[kind]
        if "satisfied" not in attrs and attrs["scale"] in scales.SCALES:
            attrs["satisfied"] = scales.default_satisfied(
                kind, attrs["scale"], attrs.get("reversed", False)
            )
        errors = scales.validate_definition(
            kind=kind,
            code=attrs["scale"],
            reversed=attrs.get("reversed", False),
            satisfied=attrs.get("satisfied", []),
            labels=attrs.get("labels", {}),
        )
        if errors:
            raise serializers.ValidationError(errors)
        attrs["satisfied"] = sorted(set(attrs["satisfied"]))
        return attrs

    def to_representation(self, question):
        return {
            "key": question.key,
            "kind": question.kind,
            "scale": question.scale,
            "text": question.text,
            "labels": question.labels,
            "reversed": question.reversed,
            "satisfied": question.satisfied,
            "primary": question.primary,
            "required": question.required,
            "max_length": question.max_length if question.kind == scales.COMMENT else None,
            "frozen": question.frozen,
        }


class SurveySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80)
    touchpoint = serializers.ChoiceField(choices=Touchpoint.choices)
    status = serializers.ChoiceField(choices=Survey.Status.choices, required=False)
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGE_CODES), required=False, min_length=1
    )
    title = LocalizedTextField(
        max_length=200, help_text="The title customers see; empty: the name."
    )
    intro = LocalizedTextField()
    thank_you = LocalizedTextField()
    email_subject = LocalizedTextField(max_length=200)
    email_body = LocalizedTextField()
    csat_target = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        coerce_to_string=False,
        help_text="The CSAT % goal, e.g. 80.",
    )
    send_delay_minutes = serializers.IntegerField(
        required=False, min_value=0, max_value=60 * 24 * 90
    )
    expires_after_days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    reminder_after_days = serializers.IntegerField(
        required=False, min_value=1, max_value=60, allow_null=True
    )
    min_days_between_surveys = serializers.IntegerField(required=False, min_value=0, max_value=3650)
    sample_rate = serializers.FloatField(required=False, min_value=0, max_value=1)
    filters = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=200), min_length=1),
        required=False,
    )
    quiet_hours_start = HourMinuteField(
        required=False, allow_null=True, help_text="HH:MM in the customer's time zone"
    )
    quiet_hours_end = HourMinuteField(required=False, allow_null=True)
    questions = QuestionSerializer(many=True, required=False)
    published_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    url = serializers.URLField(read_only=True, help_text="This survey in the API.")

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        languages = data.get("languages")
        if not isinstance(languages, list) or not languages:
            languages = self.instance.languages if self.instance else [LANGUAGE_CODES[0]]
        languages = [code for code in languages if code in LANGUAGE_CODES] or [LANGUAGE_CODES[0]]
        # Child fields read the survey's languages to resolve plain strings.
        self.context["language"] = languages[0]
        self.context["languages"] = languages
        return super().to_internal_value(data)

    def validate_languages(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError("A language is listed twice.")
        return value

    def validate_questions(self, questions):
        keys = [q["key"] for q in questions]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Duplicate question key {duplicates[0]!r}.")
        primaries = [q["key"] for q in questions if q.get("primary")]
        if len(primaries) > 1:
            raise serializers.ValidationError(
                f"Only one question can be primary (got {', '.join(primaries)})."
            )
        return questions

    def validate_filters(self, value):
        for name in value:
            problem = attributes.name_error(name)
            if problem:
                raise serializers.ValidationError(problem)
        return {name: [v.strip() for v in values] for name, values in value.items()}

    def validate(self, attrs):
        start = attrs.get("quiet_hours_start", getattr(self.instance, "quiet_hours_start", None))
        end = attrs.get("quiet_hours_end", getattr(self.instance, "quiet_hours_end", None))
        if (start is None) != (end is None):
            field = "quiet_hours_end" if end is None else "quiet_hours_start"
            raise serializers.ValidationError(
                {field: ["Give both ends of the quiet hours, or neither."]}
            )
        if not self.instance and "languages" not in attrs:
            attrs["languages"] = [self.context["language"]]
        return attrs

    def to_representation(self, survey: Survey):
        request = self.context.get("request")
        out = {
            "name": survey.name,
            "slug": survey.slug,
            "touchpoint": survey.touchpoint,
            "status": survey.status,
            "languages": survey.languages,
            "title": survey.title,
            "intro": survey.intro,
            "thank_you": survey.thank_you,
            "email_subject": survey.email_subject,
            "email_body": survey.email_body,
            "csat_target": float(survey.csat_target) if survey.csat_target is not None else None,
            "send_delay_minutes": survey.send_delay_minutes,
            "expires_after_days": survey.expires_after_days,
            "reminder_after_days": survey.reminder_after_days,
            "min_days_between_surveys": survey.min_days_between_surveys,
            "sample_rate": survey.sample_rate,
            "filters": survey.filters,
            "quiet_hours_start": _hhmm(survey.quiet_hours_start),
            "quiet_hours_end": _hhmm(survey.quiet_hours_end),
            "published_at": survey.published_at,
            "created_at": survey.created_at,
            "updated_at": survey.updated_at,
            "questions": [QuestionSerializer(q).data for q in survey.questions.all()],
        }
        if request is not None:
            out["url"] = request.build_absolute_uri(f"/api/v1/surveys/{survey.slug}/")
        return out


class PublishedSurveySerializer(SurveySerializer):
    """The answer to publishing: the survey, and texts missing in one of its languages."""

    warnings = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        read_only=True,
        help_text='[{"language": "de", "field": "intro", "message": "..."}]',
    )


class SurveyTemplateSerializer(serializers.Serializer):
    """A ready-made survey definition to start from."""

    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    survey = serializers.DictField(help_text="A survey definition without name and slug.")


def _hhmm(value) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


class InvitationRequestSerializer(serializers.Serializer):
    """Who (an email and/or the customer's external id, matched as touchpoints match them), and
    optionally when: `send_at` replaces the survey's send delay, never its quiet hours."""

    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    external_id = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    locale = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    attributes = serializers.DictField(
        required=False, default=dict, help_text='{"channel": "web", ...}, as on touchpoints'
    )
    send_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="At most a year ahead."
    )

    def validate_send_at(self, value):
        if value is not None and value > timezone.now() + timedelta(days=366):
            raise serializers.ValidationError("Give a time at most a year ahead.")
        return value


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.CharField(source="survey.slug")
    email = serializers.CharField(source="contact.email")
    locale = serializers.CharField()
    status = serializers.CharField()
    due_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    link = serializers.SerializerMethodField()

    def get_link(self, invitation) -> str:
        token = self.context.get("token")
        return invitation_link(token) if token else ""
