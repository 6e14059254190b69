"""Reactions to the survey core's signals. They run on the answer page: one statement at most."""

from surveys.models import Response

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
