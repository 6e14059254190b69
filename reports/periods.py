"""Time buckets for trends: days, ISO weeks and months of the site's time zone, zero-filled."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

INTERVALS = ("day", "week", "month")


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime) -> date:
    """The calendar day of an aware datetime in the site's time zone."""
    return moment.astimezone(site_zone()).date()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) as aware datetimes of the site's zone."""
    zone = site_zone()
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


def period_start(day: date, interval: str) -> date:
    """The first day of the day / ISO week (Monday) / month that contains `day`."""
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown interval {interval!r}; choose one of {', '.join(INTERVALS)}")


def next_period(start: date, interval: str) -> date:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods(first: date, last: date, interval: str) -> list[date]:
    """Every period start from the one containing `first` to the one containing `last`."""
    out: list[date] = []
    current = period_start(first, interval)
    while current <= last:
        out.append(current)
        current = next_period(current, interval)
    return out


def count_periods(first: date, last: date, interval: str) -> int:
    if interval == "day":
        return (last - first).days + 1
    if interval == "week":
        return (period_start(last, "week") - period_start(first, "week")).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


def previous_range(first: date, last: date) -> tuple[date, date]:
    """The range of the same length that ends the day before `first`."""
    length = (last - first).days + 1
    return first - timedelta(days=length), first - timedelta(days=1)


def split_months(
    first: date, last: date, *, months: bool, closed_before: date, skip: set[date]
) -> tuple[list[date], list[tuple[date, date]]]:
    """first..last as whole months (their 1st) and the day ranges around them.

    A month is taken whole only when `months`, it lies entirely inside the range, it ends
    before `closed_before` and it is not in `skip`; every other day is in a day range.
    """
    whole: list[date] = []
    if months:
        month = period_start(first, "month")
        if month < first:
            month = next_period(month, "month")
        while month < closed_before and next_period(month, "month") - timedelta(days=1) <= last:
            if month not in skip:
                whole.append(month)
            month = next_period(month, "month")
    days: list[tuple[date, date]] = []
    cursor = first
    for month in whole:
        if cursor < month:
            days.append((cursor, month - timedelta(days=1)))
        cursor = next_period(month, "month")
    if cursor <= last:
        days.append((cursor, last))
    return whole, days
