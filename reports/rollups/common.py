"""What every rollup module shares: the database, locks, scopes, month chunks, dimensions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.db import connection

from .. import periods
from ..models import DirtyMonth, Grain, RollupOverflow
from ..selectors import KEY_LENGTH, LANGUAGE, TOUCHPOINT, VALUE_LENGTH, attr_dimension

WATERMARK_MARGIN = 200  # ids re-read every run: a transaction may commit after a higher id
MAX_DIMENSIONS = 16  # per survey day: the total, 16 dimensions and their 120 pairs per row
ANSWER = RollupOverflow.Kind.ANSWERS
INVITATION = RollupOverflow.Kind.INVITATIONS


def respondents_scope(survey_id: int) -> str:
    return f"respondents:{survey_id}"


def customers_scope(touchpoint_type: str) -> str:
    return f"customers:{touchpoint_type}"[:60]


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def lock(key: str) -> None:
    """Serialize recomputes of one survey or scope (PostgreSQL; SQLite serializes writers)."""
    if on_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(4242, hashtext(%s))", [key])


# --- dimensions ------------------------------------------------------------------------------


def attribute_text(value) -> str | None:
    """An attribute value as rollup text; None for null, lists and objects (not counted)."""
    if isinstance(value, str):
        return value[:VALUE_LENGTH]
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def dimensions_of(touchpoint_type: str, locale: str, attributes) -> list[tuple[str, str]]:
    """The (dimension, value) pairs a response or invitation is counted under, sorted."""
    dims = [(TOUCHPOINT, touchpoint_type[:VALUE_LENGTH]), (LANGUAGE, locale[:VALUE_LENGTH])]
    if isinstance(attributes, dict):
        for name, raw in attributes.items():
            text = attribute_text(raw)
            if text is not None and len(name) <= KEY_LENGTH:
                dims.append((attr_dimension(name), text))
    return sorted(dims)


# PostgreSQL: the same dimensions as dimensions_of, for a row aliased `src`.
DIMENSIONS_SQL = """
    SELECT 'touchpoint' AS dimension, left({touchpoint}, 200) AS value
    UNION ALL SELECT 'language', left(src.locale, 200)
    UNION ALL SELECT 'attr:' || e.key, left(e.value #>> '{{}}', 200)
      FROM jsonb_each(CASE WHEN jsonb_typeof(src.attributes) = 'object'
                           THEN src.attributes ELSE '{{}}'::jsonb END) e
      WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean') AND length(e.key) <= 100
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


def profile_python(rows: Iterable[tuple[date, list[tuple[str, str]]]]) -> set[tuple[date, str]]:
    """What overflows among rows given as (day, their dimensions)."""
    seen: dict[tuple[date, str], set[str]] = defaultdict(set)
    for day, dims in rows:
        for dim, value in dims:
            seen[(day, dim)].add(value)
    return overflow_of({key: len(values) for key, values in seen.items()})


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
