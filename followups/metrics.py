"""Loop times: how fast unhappy customers are contacted and their follow-ups resolved."""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from surveys.models import Survey

from .models import FollowUp


def _bounds(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    """[start, end) as aware datetimes; dates are whole days in the site's time zone."""
    zone = timezone.get_current_timezone()
    if not isinstance(start, datetime):
        start = datetime.combine(start, time.min, tzinfo=zone)
    if not isinstance(end, datetime):
        end = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _summary(seconds: list[float]) -> dict:
    return {
        "n": len(seconds),
        "median_seconds": statistics.median(seconds) if seconds else None,
        "mean_seconds": statistics.fmean(seconds) if seconds else None,
    }


def loop_times(survey: Survey | None, start: date | datetime, end: date | datetime) -> dict:
    """Time to first contact and time to resolve of the follow-ups opened from start to end.

    Dates are inclusive days in the site's time zone (datetimes: [start, end)); `survey` None
    means every survey. Durations are seconds from opening; open ones count in `opened` only:
    {"opened", "contacted", "resolved", "time_to_first_contact": {"n", "median_seconds",
    "mean_seconds"}, "time_to_resolve": {...}}.
    """
    lower, upper = _bounds(start, end)
    rows = FollowUp.objects.filter(opened_at__gte=lower, opened_at__lt=upper)
    if survey is not None:
        rows = rows.filter(survey=survey)
    contact, resolve, opened = [], [], 0
    for opened_at, first_contact_at, resolved_at in rows.values_list(
        "opened_at", "first_contact_at", "resolved_at"
    ):
        opened += 1
        if first_contact_at:
            contact.append(max(0.0, (first_contact_at - opened_at).total_seconds()))
        if resolved_at:
            resolve.append(max(0.0, (resolved_at - opened_at).total_seconds()))
    return {
        "survey": survey.slug if survey else None,
        "start": lower.isoformat(),
        "end": upper.isoformat(),
        "opened": opened,
        "contacted": len(contact),
        "resolved": len(resolve),
        "time_to_first_contact": _summary(contact),
        "time_to_resolve": _summary(resolve),
    }
