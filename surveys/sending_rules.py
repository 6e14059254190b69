"""The rules that decide whether a touchpoint gets a survey and when an invitation is due. Plain
code, no database: the one invitation constructor (surveys.invitations) feeds it rows it loaded
in bulk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from .attributes import value_matches

SAMPLE_SCALE = 2**64


@dataclass(frozen=True)
class Schedule:
    due_at: datetime
    expires_at: datetime
    reminder_due_at: datetime | None


@lru_cache(maxsize=1024)
def zone(name: str) -> tzinfo | None:
    """The IANA time zone `name`, or None when there is no such zone."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def site_zone() -> tzinfo:
    return zone(settings.TIME_ZONE) or ZoneInfo("UTC")


def filter_mismatch(filters: dict[str, list[str]], attributes: dict) -> str | None:
    """None when the attributes pass every filter, else a short reason for the admin.

    A filter {"channel": ["web", "phone"]} passes when the attribute is one of the values, compared
    exactly as the reports show them (surveys.attributes); several attributes must all pass; a
    missing attribute fails.
    """
    for name, allowed in (filters or {}).items():
        if name not in attributes:
            return f"no {name}"
        if not any(value_matches(attributes[name], wanted) for wanted in allowed):
            return f"{name} = {attributes[name]}"[:200]
    return None


def sampled_in(*, survey_id: int, touchpoint_type: str, external_id: str, rate: float) -> bool:
    """Whether this touchpoint is in the survey's sample: a hash of the two, so a repeat of the
    same event, a re-import or another worker decide the same, and surveys sample independently."""
    if rate >= 1:
        return True
    if rate <= 0:
        return False
    key = f"{survey_id}\x1f{touchpoint_type}\x1f{external_id}".encode()
    draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
    return draw < rate * SAMPLE_SCALE


def after_quiet_hours(
    due_at: datetime, start: time | None, end: time | None, tz: tzinfo
) -> datetime:
    """`due_at`, or the end of the quiet window (local time in `tz`) when it falls inside it.

    The window is [start, end); start > end spans midnight (21:00-08:00); equal or unset means
    no quiet hours.
    """
    if start is None or end is None or start == end:
        return due_at
    local = due_at.astimezone(tz)
    now = local.time().replace(tzinfo=None)
    day = local.date()
    if start < end:
        if not (start <= now < end):
            return due_at
    elif now >= start:
        day = day + timedelta(days=1)
    elif not now < end:
        return due_at
    ends = datetime.combine(day, end, tzinfo=tz)
    return max(ends.astimezone(due_at.tzinfo), due_at)


def schedule(survey, *, due_at: datetime, tz: tzinfo | None) -> Schedule:
    """When an invitation wanted at `due_at` is due (out of the customer's quiet hours in `tz`;
    None: no quiet hours), when its link expires, and when its one reminder is due (none when
    the link would be dead by then)."""
    start, end = (survey.quiet_hours_start, survey.quiet_hours_end) if tz else (None, None)
    tz = tz or UTC
    due_at = after_quiet_hours(due_at, start, end, tz)
    expires_at = due_at + timedelta(days=survey.expires_after_days or 3650)
    reminder_due_at = None
    if survey.reminder_after_days:
        reminder_due_at = due_at + timedelta(days=survey.reminder_after_days)
        if reminder_due_at >= expires_at:
            reminder_due_at = None  # the link would be dead by then
        else:
            reminder_due_at = after_quiet_hours(reminder_due_at, start, end, tz)
    return Schedule(due_at=due_at, expires_at=expires_at, reminder_due_at=reminder_due_at)


def is_stale(survey, *, occurred_at: datetime, now: datetime) -> bool:
    """A touchpoint so old that its link would have expired already had it been sent on time
    (a backlog import): asking about it now would surprise the customer."""
    days = survey.expires_after_days or 3650
    return occurred_at + timedelta(minutes=survey.send_delay_minutes, days=days) <= now
