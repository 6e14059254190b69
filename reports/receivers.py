"""Reactions to the survey core's signals. They run on the answer page: one statement at most."""

from django.db.models.functions import TruncDate

from surveys.models import Invitation, Response

from . import periods, rollups


def mark_response_days(sender, response: Response, **kwargs) -> None:
    """The response's day, and the day its invitation was sent (its answered count), are stale."""
    if response.is_test:
        return
    days = {periods.local_day(response.submitted_at)}
    invitation = Response.invitation.field.get_cached_value(response, default=None)
    if invitation is not None and invitation.sent_at is not None:
        days.add(periods.local_day(invitation.sent_at))
    rollups.mark_dirty(response.survey_id, days)


def mark_invitation_day(sender, invitation, **kwargs) -> None:
    """A click or bounce changes the funnel of the day the invitation was sent."""
    if invitation.sent_at is not None and not invitation.is_test:
        rollups.mark_dirty(invitation.survey_id, [periods.local_day(invitation.sent_at)])


def _mark_days(rows, field: str) -> None:
    days = (
        rows.filter(**{f"{field}__isnull": False})
        .annotate(day=TruncDate(field, tzinfo=periods.site_zone()))
        .values_list("survey_id", "day")
        .distinct()
        .order_by()
    )
    by_survey: dict[int, set] = {}
    for survey_id, day in days:
        by_survey.setdefault(survey_id, set()).add(day)
    for survey_id, survey_days in by_survey.items():
        rollups.mark_dirty(survey_id, survey_days)


def mark_contact_days(sender, contact, **kwargs) -> dict:
    """An erased customer's response and send days are recomputed without their attributes."""
    _mark_days(Response.objects.filter(contact=contact, is_test=False), "submitted_at")
    _mark_days(Invitation.objects.filter(contact=contact, is_test=False), "sent_at")
    return {}


def mark_erased_response_days(sender, response_ids, **kwargs) -> dict:
    _mark_days(Response.objects.filter(pk__in=response_ids), "submitted_at")
    _mark_days(Invitation.objects.filter(response__pk__in=response_ids), "sent_at")
    return {}
