"""Everything that reads surveys and invitations for pages and the API."""

from django.db.models import Case, Count, Prefetch, Q, QuerySet, When

from . import tokens
from .models import Invitation, Question, Survey


def surveys_with_questions() -> QuerySet[Survey]:
    return Survey.objects.prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position", "id"))
    )


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link token belongs to, with its survey; None if unknown."""
    if not tokens.looks_like_token(token):
        return None
    # No ORDER BY (token_hash is unique) and only the columns the pages read: this query runs on
    # every answer-page request.
    rows = list(
        Invitation.objects.select_related("survey")
        .only(*ANSWER_PAGE_FIELDS)
        .filter(token_hash=tokens.hash_token(token))[:1]
    )
    return rows[0] if rows else None


ANSWER_PAGE_FIELDS = (
    "id",
    "survey_id",
    "contact_id",
    "locale",
    "attributes",
    "is_test",
    "status",
    "expires_at",
    "clicked_at",
    "answered_at",
    "sent_at",
    "salt",
    "token_hash",
    "survey__id",
    "survey__name",
    "survey__slug",
    "survey__status",
    "survey__touchpoint",
    "survey__languages",
    "survey__intro",
    "survey__thank_you",
    "survey__updated_at",
    "survey__published_at",
    "survey__expires_after_days",
)


# Questions per (survey id, survey.updated_at): every change to a survey's questions goes through
# the survey (services.update_survey, change_status, the admin) and moves updated_at, so a stale
# entry is never read. Saves a query and its ORM work on every answer-page request.
_QUESTIONS: dict[tuple[int, object], list[Question]] = {}


def survey_questions(survey: Survey) -> list[Question]:
    """The survey's questions in order, from a small per-process cache."""
    key = (survey.pk, survey.updated_at)
    questions = _QUESTIONS.get(key)
    if questions is None:
        questions = list(Question.objects.filter(survey_id=survey.pk).order_by("position", "id"))
        if len(_QUESTIONS) > 500:
            _QUESTIONS.clear()
        _QUESTIONS[key] = questions
    for question in questions:
        # The cached rows are shared; give each the caller's survey so nothing stale is reached.
        question.survey = survey
    return questions


def survey_overview() -> QuerySet[Survey]:
    """Surveys for the admin's list, with their question and response counts."""
    return Survey.objects.annotate(
        question_count=Count("questions", distinct=True),
        response_count=Count("responses", filter=Q(responses__is_test=False), distinct=True),
    ).order_by(Case(When(status="archived", then=1), default=0), "-updated_at")


def invitation_counts(survey: Survey) -> dict[str, int]:
    """Invitation states and the delivery funnel of one survey (test invitations excluded)."""
    rows = Invitation.objects.filter(survey=survey, is_test=False)
    by_status = dict(rows.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    funnel = rows.aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        delivered=Count("id", filter=Q(sent_at__isnull=False, bounced_at__isnull=True)),
        bounced=Count("id", filter=Q(bounced_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
    )
    funnel["commented"] = (
        rows.filter(response__answers__question__kind="comment", response__answers__text__gt="")
        .values("id")
        .distinct()
        .count()
    )
    return {**{s: by_status.get(s, 0) for s in Invitation.Status.values}, **funnel}
