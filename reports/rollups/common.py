"""What every rollup module shares: the engine, locks, month chunks, overflowing dimensions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.db import connection

from .. import periods
from ..models import DirtyMonth, Grain, RollupOverflow
from ..vocabulary import ATTR_PREFIX, KEY_LENGTH, LANGUAGE, TOUCHPOINT, VALUE_LENGTH

WATERMARK_MARGIN = 200  # ids re-read every run: a transaction may commit after a higher id
MAX_DIMENSIONS = 16  # per survey day: the total, 16 dimensions and their 120 pairs per row
ANSWER = RollupOverflow.Kind.ANSWERS
INVITATION = RollupOverflow.Kind.INVITATIONS


def enabled() -> bool:
    """Whether this database keeps rollups: PostgreSQL does; on any other (the SQLite demo) the
    reports read the raw rows, and marking, refreshing and rebuilding do nothing."""
    return connection.vendor == "postgresql"


def lock(key: str) -> None:
    """Serialize recomputes of one survey or scope."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(4242, hashtext(%s))", [key])


def dimensions_sql(touchpoint: str) -> str:
    """A SELECT of (dimension, value) rows for a row aliased `src`, as
    reports.vocabulary.dimensions_of gives them; `touchpoint` is the SQL of its touchpoint."""
    return f"""
        SELECT '{TOUCHPOINT}' AS dimension, left({touchpoint}, {VALUE_LENGTH}) AS value
        UNION ALL SELECT '{LANGUAGE}', left(src.locale, {VALUE_LENGTH})
        UNION ALL SELECT '{ATTR_PREFIX}' || e.key, left(e.value #>> '{{}}', {VALUE_LENGTH})
          FROM jsonb_each(CASE WHEN jsonb_typeof(src.attributes) = 'object'
                               THEN src.attributes ELSE '{{}}'::jsonb END) e
          WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean')
            AND length(e.key) <= {KEY_LENGTH}
    """


def max_values() -> int:
    """Distinct values a dimension may have on one survey day before it overflows."""
    return settings.REPORTS_MAX_DIMENSION_VALUES


def store_overflow(survey_id: int, kind: str, overflow: Iterable[tuple[date, str]]) -> None:
    RollupOverflow.objects.bulk_create(
        RollupOverflow(survey_id=survey_id, kind=kind, grain=Grain.DAY, period=d, dimension=dim)
        for d, dim in sorted(set(overflow))
    )


def overflow_of(distinct: dict[tuple[date, str], int]) -> set[tuple[date, str]]:
    """The (day, dimension) pairs without cube rows: more distinct values that day than
    max_values(), or beyond the first MAX_DIMENSIONS dimensions (by name) of the day."""
    cap = max_values()
    by_day: dict[date, list[tuple[str, int]]] = defaultdict(list)
    for (day, dim), n in distinct.items():
        by_day[day].append((dim, n))
    out = set()
    for day, dims in by_day.items():
        kept = 0
        for dim, n in sorted(dims):
            if n > cap or kept >= MAX_DIMENSIONS:
                out.add((day, dim))
            else:
                kept += 1
    return out


def month_chunks(first: date, last: date) -> list[tuple[date, date]]:
    chunks = []
    current = first
    while current <= last:
        end = min(
            periods.next_period(periods.period_start(current, "month"), "month"),
            last + timedelta(days=1),
        )
        chunks.append((current, end - timedelta(days=1)))
        current = end
    return chunks


def mark_months(survey_id: int, first: date, last: date) -> None:
    DirtyMonth.objects.bulk_create(
        [
            DirtyMonth(survey_id=survey_id, month=periods.period_start(lo, "month"))
            for lo, _hi in month_chunks(first, last)
        ],
        ignore_conflicts=True,
    )
