"""Everything that writes a survey's design: surveys, questions, their lifecycle and templates.
Invitations are made by surveys.invitations, responses written by surveys.responses. Domain
failures raise DomainError."""

from __future__ import annotations

import copy

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .errors import DomainError, FrozenQuestionError
from .models import Question, Survey
from .survey_templates import TEMPLATES

SURVEY_FIELDS = (
    "name",
    "slug",
    "touchpoint",
    "languages",
    "title",
    "intro",
    "thank_you",
    "email_subject",
    "email_body",
    "csat_target",
    "send_delay_minutes",
    "expires_after_days",
    "reminder_after_days",
    "min_days_between_surveys",
    "sample_rate",
    "filters",
    "quiet_hours_start",
    "quiet_hours_end",
)
QUESTION_FIELDS = (
    "kind",
    "scale",
    "text",
    "labels",
    "reversed",
    "satisfied",
    "primary",
    "required",
    "max_length",
)

ALLOWED_TRANSITIONS = {
    Survey.Status.DRAFT: {Survey.Status.ACTIVE, Survey.Status.ARCHIVED},
    Survey.Status.ACTIVE: {Survey.Status.PAUSED, Survey.Status.ARCHIVED},
    Survey.Status.PAUSED: {Survey.Status.ACTIVE, Survey.Status.ARCHIVED},
    Survey.Status.ARCHIVED: set(),
}


@transaction.atomic
def create_survey(*, data: dict, created_by=None) -> Survey:
    """A draft survey from validated API data (see SurveySerializer)."""
    data = dict(data)
    questions = data.pop("questions", [])
    status = data.pop("status", Survey.Status.DRAFT)
    if Survey.objects.filter(slug=data["slug"]).exists():
        raise DomainError(
            f"a survey with the slug {data['slug']!r} exists", field="slug", status=409
        )
    survey = Survey.objects.create(
        **{k: v for k, v in data.items() if k in SURVEY_FIELDS}, created_by=created_by
    )
    _replace_questions(survey, questions)
    if status != Survey.Status.DRAFT:
        change_status(survey=survey, status=status)
    return survey


@transaction.atomic
def update_survey(*, survey: Survey, data: dict) -> Survey:
    """Apply a partial, validated update. Published scales stay frozen (FrozenQuestionError)."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.status == Survey.Status.ARCHIVED:
        raise DomainError("an archived survey cannot be changed", status=409)
    data = dict(data)
    questions = data.pop("questions", None)
    status = data.pop("status", None)
    if "slug" in data and data["slug"] != survey.slug:
        if survey.is_published:
            raise DomainError(
                "the slug of a published survey cannot change", field="slug", status=409
            )
        if Survey.objects.filter(slug=data["slug"]).exclude(pk=survey.pk).exists():
            raise DomainError(
                f"a survey with the slug {data['slug']!r} exists", field="slug", status=409
            )
    for field, value in data.items():
        if field in SURVEY_FIELDS:
            setattr(survey, field, value)
    survey.save()
    if questions is not None:
        _replace_questions(survey, questions)
    if status is not None and status != survey.status:
        change_status(survey=survey, status=status)
    return survey


def _replace_questions(survey: Survey, questions: list[dict]) -> None:
    """Make the survey's questions exactly `questions`, matched by key, in that order."""
    existing = {q.key: q for q in survey.questions.all()}
    wanted = [q["key"] for q in questions]
    removed = [key for key in existing if key not in wanted]
    if removed and survey.is_published:
        raise FrozenQuestionError(
            f"question {removed[0]!r} belongs to a published survey and cannot be removed",
            field="questions",
        )
    if removed:
        Question.objects.filter(survey=survey, key__in=removed).delete()
    # Clear primary first so the one-primary constraint holds while rows are rewritten.
    Question.objects.filter(survey=survey).update(primary=False)
    for position, data in enumerate(questions):
        question = existing.get(data["key"])
        if question is None:
            Question.objects.create(
                survey=survey,
                key=data["key"],
                position=position,
                frozen=survey.is_published,
                **{f: data[f] for f in QUESTION_FIELDS if f in data},
            )
            continue
        if question.frozen:
            for field in Question.FROZEN_FIELDS:
                if field in data and _normal(data[field]) != _normal(getattr(question, field)):
                    raise FrozenQuestionError(
                        f"question {question.key!r} is published: its {field} can no longer "
                        "change (texts and labels may still be corrected)",
                        field=field,
                    )
        for field in QUESTION_FIELDS:
            if field in data:
                setattr(question, field, data[field])
        question.position = position
        question.save()


def _normal(value):
    return sorted(value) if isinstance(value, list) else value


@transaction.atomic
def change_status(*, survey: Survey, status: str) -> Survey:
    """Move along draft → active ⇄ paused → archived; publishing freezes every question."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if status == survey.status:
        return survey
    if status not in ALLOWED_TRANSITIONS[survey.status]:
        raise DomainError(
            f"a survey cannot go from {survey.status} to {status}", field="status", status=409
        )
    now = timezone.now()
    if status == Survey.Status.ACTIVE and not survey.is_published:
        _check_publishable(survey)
        survey.published_at = now
        survey.questions.update(frozen=True)
    if status == Survey.Status.ARCHIVED:
        survey.archived_at = now
    survey.status = status
    survey.save(update_fields=["status", "published_at", "archived_at", "updated_at"])
    return survey


@transaction.atomic
def delete_draft(*, survey: Survey) -> None:
    """Delete a draft that was never published, with its test invitations and answers.
    DomainError (409) for any other survey: its answers are history; archive it instead."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.status != Survey.Status.DRAFT or survey.is_published:
        raise DomainError(
            gettext("Only a draft that was never published can be deleted; archive this one."),
            status=409,
        )
    survey.delete()


def publish_survey(*, survey: Survey) -> Survey:
    return change_status(survey=survey, status=Survey.Status.ACTIVE)


def _check_publishable(survey: Survey) -> None:
    questions = list(survey.questions.all())
    if not any(q.is_scored for q in questions):
        raise DomainError(
            gettext("add at least one rating, NPS or CES question before publishing"),
            field="questions",
        )
    for q in questions:
        if not q.text.get(survey.default_language):
            raise DomainError(
                gettext("question %(key)s has no text in %(language)s")
                % {"key": repr(q.key), "language": survey.default_language},
                field="questions",
            )


def create_survey_from_template(*, template: str, name: str, slug: str, created_by=None) -> Survey:
    try:
        definition = copy.deepcopy(TEMPLATES[template]["survey"])
    except KeyError:
        raise DomainError(f"unknown template {template!r}", field="template") from None
    # Templates are written in the API's format; run them through the same validation.
    from .api.serializers import SurveySerializer

    languages = definition["languages"]
    for question in definition["questions"]:
        for field in ("text", "labels"):
            if field in question:
                question[field] = {k: v for k, v in question[field].items() if k in languages}

    serializer = SurveySerializer(data={**definition, "name": name, "slug": slug})
    serializer.is_valid(raise_exception=True)
    return create_survey(data=serializer.validated_data, created_by=created_by)
