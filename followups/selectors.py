"""Everything that reads follow-ups for the queue, the detail page and the response page."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from access.roles import MANAGER, SURVEY_ADMIN

from .models import FollowUp


def queue(
    *, status: str = "", assignee=None, unassigned: bool = False, survey=None, overdue: bool = False
) -> QuerySet[FollowUp]:
    """The queue: unresolved first, then by due time (overdue at the top), newest resolved last."""
    rows = FollowUp.objects.select_related("survey", "contact", "assignee")
    if status == "unresolved":
        rows = rows.exclude(status=FollowUp.Status.RESOLVED)
    elif status:
        rows = rows.filter(status=status)
    if assignee is not None:
        rows = rows.filter(assignee=assignee)
    if unassigned:
        rows = rows.filter(assignee__isnull=True)
    if survey is not None:
        rows = rows.filter(survey=survey)
    if overdue:
        rows = rows.exclude(status=FollowUp.Status.RESOLVED).filter(due_at__lte=timezone.now())
    return rows.annotate(
        done=Case(
            When(status=FollowUp.Status.RESOLVED, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("done", "due_at", "-id")


def status_counts() -> dict[str, int]:
    now = timezone.now()
    open_rows = FollowUp.objects.exclude(status=FollowUp.Status.RESOLVED)
    counts = open_rows.aggregate(
        open=Count("id", filter=Q(status=FollowUp.Status.OPEN)),
        in_progress=Count("id", filter=Q(status=FollowUp.Status.IN_PROGRESS)),
        overdue=Count("id", filter=Q(due_at__lte=now)),
    )
    return {**counts, "unresolved": counts["open"] + counts["in_progress"]}


def follow_up_detail(pk: int) -> FollowUp | None:
    return (
        FollowUp.objects.select_related("survey", "contact", "assignee", "response")
        .prefetch_related("notes__author")
        .filter(pk=pk)
        .first()
    )


def assignable_users() -> QuerySet:
    """People who may own follow-ups: managers and survey admins, active ones."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=[MANAGER, SURVEY_ADMIN]) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )
