"""Everything that reads surveys and invitations for pages and the API."""

from django.db.models import Case, Count, Prefetch, Q, QuerySet, When

from . import tokens
from .models import Invitation, Question, Survey


def surveys_with_questions() -> QuerySet[Survey]:
    return Survey.objects.prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position", "id"))
    )


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link token belongs to, with its survey and questions; None if unknown."""
    if not tokens.looks_like_token(token):
        return None
    return (
        Invitation.objects.select_related("survey", "contact")
        .prefetch_related(Prefetch("survey__questions", queryset=Question.objects.order_by("position", "id")))
        .filter(token_hash=tokens.hash_token(token))
        .first()
    )


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
        rows.filter(response__answers__question__kind="comment")
        .exclude(response__answers__text="")
        .values("id")
        .distinct()
        .count()
    )
    return {**{s: by_status.get(s, 0) for s in Invitation.Status.values}, **funnel}
