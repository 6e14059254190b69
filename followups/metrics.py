"""Loop times: how fast unhappy customers are contacted and their follow-ups resolved."""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from reports.selectors.raw import attribute_value
from surveys.models import Survey

from .models import FollowUp

P90 = 0.9


def _bounds(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    """[start, end) as aware datetimes; dates are whole days in the site's time zone."""
    zone = timezone.get_current_timezone()
    if not isinstance(start, datetime):
        start = datetime.combine(start, time.min, tzinfo=zone)
    if not isinstance(end, datetime):
        end = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def percentile(values: list[float], fraction: float) -> float | None:
    """The `fraction` quantile with linear interpolation between the closest ranks (what
    PostgreSQL's percentile_cont computes): 0.5 is the median."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _summary(seconds: list[float]) -> dict:
    return {
        "n": len(seconds),
        "median_seconds": statistics.median(seconds) if seconds else None,
        "mean_seconds": statistics.fmean(seconds) if seconds else None,
        "p90_seconds": percentile(seconds, P90),
    }


def _narrowed(rows, touchpoint: str | None, attrs: dict[str, str] | None):
    """Follow-ups of one touchpoint type and with the given attribute values (as text)."""
    if touchpoint:
        rows = rows.filter(touchpoint_type=touchpoint)
    for i, (name, value) in enumerate(sorted((attrs or {}).items())):
        rows = rows.alias(**{f"_a{i}": attribute_value(name, "attributes")}).filter(
            **{f"_a{i}": value}
        )
    return rows


def _figures(rows) -> dict:
    """opened, contacted, resolved and both summaries, from each follow-up's three times: one
    implementation, the same on PostgreSQL and SQLite (what PostgreSQL's percentile_cont and avg
    would give)."""
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
        "opened": opened,
        "contacted": len(contact),
        "resolved": len(resolve),
        "time_to_first_contact": _summary(contact),
        "time_to_resolve": _summary(resolve),
    }


def loop_times(
    survey: Survey | None,
    start: date | datetime,
    end: date | datetime,
    *,
    touchpoint: str | None = None,
    attrs: dict[str, str] | None = None,
) -> dict:
    """Time to first contact and time to resolve of the follow-ups opened from start to end.

    Dates are inclusive days in the site's time zone (datetimes: [start, end)); `survey` None
    means every survey; `touchpoint` and `attrs` narrow to follow-ups of answers with them.
    Durations are seconds from opening; open ones count in `opened` only: {"opened",
    "contacted", "resolved", "time_to_first_contact": {"n", "median_seconds", "mean_seconds",
    "p90_seconds"}, "time_to_resolve": {...}}.
    """
    lower, upper = _bounds(start, end)
    rows = FollowUp.objects.filter(opened_at__gte=lower, opened_at__lt=upper)
    if survey is not None:
        rows = rows.filter(survey=survey)
    rows = _narrowed(rows, touchpoint, attrs)
    return {
        "survey": survey.slug if survey else None,
        "start": lower.isoformat(),
        "end": upper.isoformat(),
        **_figures(rows),
    }


def _whole(summary: dict) -> dict:
    return {
        k: (round(v) if k.endswith("_seconds") and v is not None else v) for k, v in summary.items()
    }


def loop_summary(
    survey: Survey,
    start: date,
    end: date,
    *,
    touchpoint: str | None = None,
    attrs: dict[str, str] | None = None,
) -> dict | None:
    """The `loop` object of the CSAT report; None when the survey has never had a follow-up.

    Loop times (whole seconds) of the follow-ups opened in the range, narrowed like the report,
    and `unresolved` / `overdue`: the survey's follow-ups waiting now, whatever the range (what
    the queue filtered by the survey lists).
    """
    if not FollowUp.objects.filter(survey=survey).exists():
        return None
    times = loop_times(survey, start, end, touchpoint=touchpoint, attrs=attrs)
    waiting = (
        FollowUp.objects.filter(survey=survey)
        .exclude(status=FollowUp.Status.RESOLVED)
        .aggregate(
            unresolved=Count("id"), overdue=Count("id", filter=Q(due_at__lte=timezone.now()))
        )
    )
    return {
        "opened": times["opened"],
        "contacted": times["contacted"],
        "resolved": times["resolved"],
        "time_to_first_contact": _whole(times["time_to_first_contact"]),
        "time_to_resolve": _whole(times["time_to_resolve"]),
        **waiting,
    }
