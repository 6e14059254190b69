"""Month rows: every closed month summed from its day rows, so reports read whole months."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from .. import periods
from ..models import (
    AnswerCube,
    AnswerPairCube,
    CommentCount,
    DirtyMonth,
    Grain,
    InvitationCube,
    RollupOverflow,
)
from ..vocabulary import COUNTS
from .common import ANSWER, INVITATION, lock
from .cubes import rows_of

_MONTH_SQL = """
    INSERT INTO {table} ({keys}, grain, period, {counters})
    SELECT {keys}, 'm', %(month)s, {sums}
    FROM {table} c
    WHERE {rows} AND c.grain = 'd' AND c.period >= %(first)s AND c.period <= %(last)s
      AND NOT EXISTS (
        SELECT 1 FROM reports_rollupoverflow o
        WHERE o.survey_id = %(survey)s AND o.kind = %(kind)s AND o.grain = 'm'
          AND o.period = %(month)s AND o.dimension IN ({dimensions})
      )
    GROUP BY {keys}
"""
# The month rows of each cube: (table, its keys, its counters, overflow kind, dimensions).
_QUESTIONS_OF_SURVEY = (
    "c.question_id IN (SELECT id FROM surveys_question WHERE survey_id = %(survey)s)"
)
_MONTHS = [
    (
        "reports_answercube",
        "survey_id, question_id, dimension, value",
        [*COUNTS, "satisfied"],
        ANSWER,
        "c.dimension",
    ),
    (
        "reports_answerpaircube",
        "survey_id, question_id, dimension, value, dimension2, value2",
        [*COUNTS, "satisfied"],
        ANSWER,
        "c.dimension, c.dimension2",
    ),
    (
        "reports_invitationcube",
        "survey_id, dimension, value, dimension2, value2",
        ["sent", "bounced", "clicked", "answered", "commented"],
        INVITATION,
        "c.dimension, c.dimension2",
    ),
]


def current_month() -> date:
    return periods.local_day(timezone.now()).replace(day=1)


def recompute_month(survey_id: int, month: date) -> None:
    """The month rows of both cubes: sums of the month's day rows, without the dimensions that
    overflowed on any of its days. The month stops being dirty."""
    last = periods.next_period(month, "month") - timedelta(days=1)
    params = {"survey": survey_id, "month": month, "first": month, "last": last}
    with transaction.atomic():
        lock(f"survey:{survey_id}")
        for model in (AnswerCube, AnswerPairCube, InvitationCube):
            rows_of(model, survey_id).filter(grain=Grain.MONTH, period=month).delete()
        RollupOverflow.objects.filter(survey_id=survey_id, grain=Grain.MONTH, period=month).delete()
        RollupOverflow.objects.bulk_create(
            RollupOverflow(
                survey_id=survey_id, kind=kind, grain=Grain.MONTH, period=month, dimension=dim
            )
            for kind, dim in RollupOverflow.objects.filter(
                survey_id=survey_id, grain=Grain.DAY, period__gte=month, period__lte=last
            )
            .values_list("kind", "dimension")
            .distinct()
            .order_by()
        )
        CommentCount.objects.filter(survey_id=survey_id, grain=Grain.MONTH, period=month).delete()
        CommentCount.objects.bulk_create(
            (
                CommentCount(
                    survey_id=survey_id,
                    grain=Grain.MONTH,
                    period=month,
                    band=band,
                    dimension=dim,
                    value=value,
                    dimension2=dim2,
                    value2=value2,
                    comments=n,
                )
                for band, dim, value, dim2, value2, n in CommentCount.objects.filter(
                    survey_id=survey_id, grain=Grain.DAY, period__gte=month, period__lte=last
                )
                .values("band", "dimension", "value", "dimension2", "value2")
                .annotate(n=Sum("comments"))
                .order_by()
                .values_list("band", "dimension", "value", "dimension2", "value2", "n")
            ),
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            for table, keys, counters, kind, dimensions in _MONTHS:
                cursor.execute(
                    _MONTH_SQL.format(
                        table=table,
                        keys=keys,
                        counters=", ".join(counters),
                        sums=", ".join(f"sum({c})" for c in counters),
                        rows=_QUESTIONS_OF_SURVEY
                        if "question_id" in keys
                        else "c.survey_id = %(survey)s",
                        dimensions=dimensions,
                    ),
                    {**params, "kind": str(kind)},
                )
        DirtyMonth.objects.filter(survey_id=survey_id, month=month).delete()
