"""Counts from the rollups (PostgreSQL): the cubes, the comment counts and the coverage grid.

Exact for: no filter, one or two filters, and a breakdown with at most one filter. Rarer
requests (three filters, two filters with a breakdown, a dimension that overflowed in the range)
read the raw tables; `used` tells.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from surveys.models import Survey

from .. import periods
from ..models import (
    TOTAL_MONTH,
    AnswerCube,
    AnswerPairCube,
    CommentCount,
    CoverageGrid,
    CoverageRollup,
    DirtyMonth,
    InvitationCube,
    RollupOverflow,
)
from ..vocabulary import (
    ATTR_PREFIX,
    COUNTS,
    INVITATION_FIELDS,
    KEY_LENGTH,
    TOTAL,
    customers_scope,
    respondents_scope,
)
from .raw import RawSource
from .request import PeriodRow, Span, ValueRow


def _exact(dims: list[tuple[str, str]]) -> dict[str, str]:
    """The cube key of a total (no dims), one dimension value, or a pair (sorted dims)."""
    padded = [*dims, (TOTAL, ""), (TOTAL, "")][:2]
    (dim1, value1), (dim2, value2) = padded
    return {"dimension": dim1, "value": value1, "dimension2": dim2, "value2": value2}


class RollupSource:
    """Counts from the rollups (see the module doc); `used` is "raw" once a request fell back."""

    name = "rollups"

    def __init__(self) -> None:
        self.raw = RawSource()
        self.used = "rollups"
        self._dirty: dict[int, set[date]] = {}

    def _fallback(self):
        self.used = "raw"
        return self.raw

    # --- which rows: months, days, and whether a dimension overflowed -----------------------

    def _dirty_months(self, survey: Survey) -> set[date]:
        if survey.pk not in self._dirty:
            self._dirty[survey.pk] = set(
                DirtyMonth.objects.filter(survey_id=survey.pk).values_list("month", flat=True)
            )
        return self._dirty[survey.pk]

    def _periods(self, survey: Survey, spans: list[Span]) -> Q:
        """Month rows for whole, closed, summed months; day rows for every other day. Periods
        go in as lists: the cubes' index puts the period before the dimensions."""
        closed_before = periods.local_day(timezone.now()).replace(day=1)
        months: list[date] = []
        days: list[date] = []
        for span in spans:
            whole, ranges = periods.split_months(
                span.first,
                span.last,
                months=span.months,
                closed_before=closed_before,
                skip=self._dirty_months(survey),
            )
            months += whole
            for first, last in ranges:
                days += [first + timedelta(days=i) for i in range((last - first).days + 1)]
        condition = Q(pk__in=[])
        if months:
            condition |= Q(grain="m", period__anyof=months)
        if days:
            condition |= Q(grain="d", period__anyof=days)
        return condition

    def _readable(self, survey, kind: str, dims: list[str], first: date, last: date) -> bool:
        """Whether the cubes hold every dimension of `dims` over first..last."""
        if any(len(dim) > len(ATTR_PREFIX) + KEY_LENGTH for dim in dims):
            return False
        if not dims:
            return True
        return not RollupOverflow.objects.filter(
            survey_id=survey.pk,
            kind=kind,
            dimension__in=dims,
            period__gte=first.replace(day=1),
            period__lte=last,
        ).exists()

    # --- the four questions ----------------------------------------------------------------

    def answer_counts(self, survey, question_ids, spans: list[Span], filters) -> list[PeriodRow]:
        dims = filters.dimensions()
        first, last = min(s.first for s in spans), max(s.last for s in spans)
        if len(dims) > 2 or not self._readable(survey, "a", [d for d, _ in dims], first, last):
            return self._fallback().answer_counts(survey, question_ids, spans, filters)
        if len(dims) == 2:
            rows = AnswerPairCube.objects.filter(**_exact(dims))
        else:
            (dimension, value), *_ = [*dims, (TOTAL, "")]
            rows = AnswerCube.objects.filter(dimension=dimension, value=value)
        rows = (
            rows.filter(question_id__in=list(question_ids))
            .filter(self._periods(survey, spans))
            .values_list("question_id", "period", *COUNTS, "satisfied")
        )
        return [(row[0], row[1], list(row[2:])) for row in rows]

    def value_counts(self, survey, question_id, first, last, filters, dim) -> list[ValueRow]:
        dims = filters.dimensions()
        needed = sorted({dim, *(d for d, _ in dims)})
        if len(dims) > 1 or not self._readable(survey, "a", needed, first, last):
            return self._fallback().value_counts(survey, question_id, first, last, filters, dim)
        if not dims or dims[0][0] == dim:
            rows = AnswerCube.objects.filter(dimension=dim)
            if dims:
                rows = rows.filter(value=dims[0][1])
            group = "value"
        elif dims[0][0] < dim:
            rows = AnswerPairCube.objects.filter(
                dimension=dims[0][0], value=dims[0][1], dimension2=dim
            )
            group = "value2"
        else:
            rows = AnswerPairCube.objects.filter(
                dimension=dim, dimension2=dims[0][0], value2=dims[0][1]
            )
            group = "value"
        rows = rows.filter(question_id=question_id).filter(
            self._periods(survey, [Span(first, last)])
        )
        sums = {name: Sum(name) for name in [*COUNTS, "satisfied"]}
        return [
            (row[0], list(row[1:]))
            for row in rows.values(group).annotate(**sums).order_by().values_list(group, *sums)
        ]

    def comment_counts(self, survey, first, last, dims=None) -> dict[str, int] | None:
        """Comments per band ("" for those without a primary answer) in first..last, in total
        or under one or two {dimension: value}; None for what the counts do not hold (three
        filters, or a dimension that overflowed in the range)."""
        dims = dims or {}
        if len(dims) > 2 or not self._readable(survey, "a", list(dims), first, last):
            return None
        (dimension, value), (dimension2, value2) = ([*sorted(dims.items())] + [(TOTAL, "")] * 2)[:2]
        rows = (
            CommentCount.objects.filter(
                survey_id=survey.pk,
                dimension=dimension,
                value=value,
                dimension2=dimension2,
                value2=value2,
            )
            .filter(self._periods(survey, [Span(first, last)]))
            .values("band")
            .annotate(n=Sum("comments"))
            .order_by()
            .values_list("band", "n")
        )
        return dict(rows)

    def dimension_values(self, survey, question_id, first, last) -> dict[str, set[str]]:
        """The values each dimension took in first..last (for the dashboard's controls)."""
        rows = (
            AnswerCube.objects.filter(question_id=question_id)
            .exclude(dimension=TOTAL)
            .filter(self._periods(survey, [Span(first, last)]))
            .values_list("dimension", "value")
            .distinct()
        )
        values: dict[str, set[str]] = defaultdict(set)
        for dimension, value in rows:
            values[dimension].add(value)
        return values

    def invitation_counts(self, survey, first, last, filters) -> dict[str, int]:
        dims = filters.dimensions()
        if len(dims) > 2 or not self._readable(survey, "i", [d for d, _ in dims], first, last):
            return self.raw.invitation_counts(survey, first, last, filters)
        row = (
            InvitationCube.objects.filter(survey_id=survey.pk, **_exact(dims))
            .filter(self._periods(survey, [Span(first, last)]))
            .aggregate(**{name: Sum(name) for name in INVITATION_FIELDS})
        )
        return {name: row[name] or 0 for name in INVITATION_FIELDS}

    def coverage_counts(self, survey, first, last, touchpoint_type) -> tuple[int, int]:
        return (
            _distinct_contacts(respondents_scope(survey.pk), first, last),
            _distinct_contacts(customers_scope(touchpoint_type), first, last),
        )


# G(x, m) of reports.models.CoverageGrid: the latest row of the month on or before x; without
# one, every row up to x had its previous day before m (the latest running total).
_GRID_SQL = """
    COALESCE(
        (SELECT contacts FROM reports_coveragegrid WHERE scope = %(scope)s AND month = %(month)s
            AND day <= %({day})s ORDER BY day DESC LIMIT 1),
        (SELECT contacts FROM reports_coveragegrid WHERE scope = %(scope)s AND month = %(total)s
            AND day <= %({day})s ORDER BY day DESC LIMIT 1),
        0)
"""


def _distinct_contacts(scope: str, first: date, last: date) -> int:
    """Distinct contacts of a scope in first..last from CoverageGrid: two lookups and at most a
    month of previous days (see reports.models.CoverageGrid)."""
    grid_first = (
        CoverageGrid.objects.filter(scope=scope).order_by("month").values_list("month").first()
    )
    if grid_first is None:  # not built yet (rebuild_rollups builds it): count the rows
        return (
            CoverageRollup.objects.filter(scope=scope, day__gte=first, day__lte=last)
            .filter(Q(previous_day__isnull=True) | Q(previous_day__lt=first))
            .aggregate(n=Sum("contacts"))["n"]
            or 0
        )
    month = max(first.replace(day=1), grid_first[0])
    params = {
        "scope": scope,
        "month": month,
        "total": TOTAL_MONTH,
        "first": first,
        "last": last,
        "before": first - timedelta(days=1),
    }
    sql = f"SELECT {_GRID_SQL.format(day='last')} - {_GRID_SQL.format(day='before')}"
    if month < first:
        sql += """
            + COALESCE((SELECT sum(contacts) FROM reports_coveragerollup
                WHERE scope = %(scope)s AND previous_day >= %(month)s
                  AND previous_day < %(first)s AND day >= %(first)s AND day <= %(last)s), 0)
        """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])
