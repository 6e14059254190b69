"""Coverage: distinct customers and respondents over any range, exactly.

ContactDay keeps, per scope, contact and active day, the contact's previous active day;
CoverageRollup counts them per (day, previous day); CoverageGrid keeps running sums per month,
so reports.selectors answers "distinct contacts in [s, e]" with two lookups.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import date
from itertools import accumulate, groupby

from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate

from surveys.models import Response, TouchpointEvent

from .. import periods
from ..models import TOTAL_MONTH, ContactDay, CoverageGrid, CoverageRollup
from .common import lock


def _scope_rows(scope: str):
    """(contact_id, local datetime field) rows of a scope's raw table, and the time field."""
    kind, _, key = scope.partition(":")
    if kind == "respondents":
        qs = Response.objects.filter(survey_id=int(key), is_test=False, contact_id__isnull=False)
        return qs, "submitted_at"
    return TouchpointEvent.objects.filter(type=key), "occurred_at"


def _scope_contacts(scope: str, day: date) -> set[int]:
    qs, field = _scope_rows(scope)
    lo, hi = periods.day_bounds(day, day)
    return set(
        qs.filter(**{f"{field}__gte": lo, f"{field}__lt": hi})
        .values_list("contact_id", flat=True)
        .distinct()
    )


def recompute_contact_day(scope: str, day: date) -> None:
    """Bring the ContactDay rows of one scope day, and their successors, in line with the raw rows."""
    with transaction.atomic():
        lock(scope)
        active = _scope_contacts(scope, day)
        stored = dict(
            ContactDay.objects.filter(scope=scope, day=day).values_list(
                "contact_id", "previous_day"
            )
        )
        added = active - stored.keys()
        removed = stored.keys() - active
        if not added and not removed:
            return
        ContactDay.objects.filter(scope=scope, day=day, contact_id__in=removed).delete()
        before = dict(
            ContactDay.objects.filter(scope=scope, contact_id__in=added, day__lt=day)
            .values("contact_id")
            .annotate(last=Max("day"))
            .values_list("contact_id", "last")
        )
        ContactDay.objects.bulk_create(
            [
                ContactDay(scope=scope, contact_id=c, day=day, previous_day=before.get(c))
                for c in added
            ],
            batch_size=2000,
        )
        touched = {day}
        successors = (
            ContactDay.objects.filter(scope=scope, contact_id__in=added | removed, day__gt=day)
            .values("contact_id")
            .annotate(first=Min("day"))
            .values_list("contact_id", "first")
        )
        for contact_id, next_day in successors:
            previous = day if contact_id in added else stored[contact_id]
            ContactDay.objects.filter(scope=scope, contact_id=contact_id, day=next_day).update(
                previous_day=previous
            )
            touched.add(next_day)
        _recount_coverage(scope, touched)


def _recount_coverage(scope: str, days: Iterable[date] | None) -> None:
    rollups = CoverageRollup.objects.filter(scope=scope)
    rows = ContactDay.objects.filter(scope=scope)
    if days is not None:
        days = list(days)
        rollups = rollups.filter(day__in=days)
        rows = rows.filter(day__in=days)
    rollups.delete()
    CoverageRollup.objects.bulk_create(
        (
            CoverageRollup(
                scope=scope, day=r["day"], previous_day=r["previous_day"], contacts=r["n"]
            )
            for r in rows.values("day", "previous_day").annotate(n=Count("id")).order_by()
        ),
        batch_size=5000,
    )
    regrid(scope, min(days) if days else None)


def regrid(scope: str, from_day: date | None = None) -> None:
    """The CoverageGrid rows of a scope from `from_day` on (all of them when None, or when the
    scope has none before that day), from its CoverageRollup rows."""
    grid = CoverageGrid.objects.filter(scope=scope)
    first = CoverageRollup.objects.filter(scope=scope).aggregate(d=Min("day"))["d"]
    if first is None:
        grid.delete()
        return
    running: dict[date, int] = {}  # month -> rows so far with previous_day null or before it
    total = 0
    latest = None
    if from_day is not None and from_day > first:
        latest = grid.filter(day__lt=from_day).aggregate(d=Max("day"))["d"]
    if latest is None:
        from_day = first
        grid.delete()  # from scratch: rows of days that have no rows any more go too
    else:
        running = dict(grid.filter(day=latest).values_list("month", "contacts"))
        total = running.pop(TOTAL_MONTH, 0)
        grid.filter(day__gte=from_day).delete()

    first_month = first.replace(day=1)
    entries = (
        CoverageRollup.objects.filter(scope=scope, day__gte=from_day)
        .order_by("day")
        .values_list("day", "previous_day", "contacts")
    )
    batch: list[CoverageGrid] = []
    for day, rows in groupby(entries.iterator(), key=lambda row: row[0]):
        # counts of the day's rows by previous day, nulls first: a prefix sum per month
        ordered = sorted(((p or date.min), n) for _day, p, n in rows)
        previous_days = [p for p, _n in ordered]
        prefix = list(accumulate(n for _p, n in ordered))
        month = first_month
        while month <= day:
            # a month seen for the first time: every earlier row had its previous day before it
            before = running.setdefault(month, total)
            index = bisect_left(previous_days, month)
            running[month] = before + (prefix[index - 1] if index else 0)
            batch.append(CoverageGrid(scope=scope, month=month, day=day, contacts=running[month]))
            month = periods.next_period(month, "month")
        total += prefix[-1]
        batch.append(CoverageGrid(scope=scope, month=TOTAL_MONTH, day=day, contacts=total))
        if len(batch) >= 5000:
            CoverageGrid.objects.bulk_create(batch)
            batch = []
    CoverageGrid.objects.bulk_create(batch)


def rebuild_scope(scope: str) -> None:
    """Every ContactDay and CoverageRollup row of a scope, from scratch."""
    qs, field = _scope_rows(scope)
    with transaction.atomic():
        lock(scope)
        ContactDay.objects.filter(scope=scope).delete()
        pairs = (
            qs.annotate(day=TruncDate(field, tzinfo=periods.site_zone()))
            .values_list("contact_id", "day")
            .distinct()
            .order_by()
        )
        sql, params = pairs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO reports_contactday (scope, contact_id, day, previous_day)
                SELECT %s, p.contact_id, p.day,
                       lag(p.day) OVER (PARTITION BY p.contact_id ORDER BY p.day)
                FROM ({sql}) p (contact_id, day)
                """,
                [scope, *params],
            )
        _recount_coverage(scope, None)
