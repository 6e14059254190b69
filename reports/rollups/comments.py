"""Comment rollups: what the comments page sorts, pages and counts by."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.conf import settings
from django.db import connection

from surveys import scales
from surveys.models import Answer, Survey

from .. import periods
from ..models import CommentCount, CommentRollup, Grain, RollupOverflow
from ..selectors import LANGUAGE, TOTAL
from .common import ANSWER, DIMENSIONS_SQL, dimensions_of, on_postgres


def comment_dimensions(touchpoint_type: str, attributes) -> dict[str, str]:
    """The dimensions a comment can be filtered by: its touchpoint type and scalar attributes."""
    return {
        dim: value
        for dim, value in dimensions_of(touchpoint_type, "", attributes)
        if dim != LANGUAGE
    }


def recompute_comments(survey: Survey, first: date, last: date) -> None:
    """CommentRollup rows of the comments of the local days first..last, and their counts: in
    total and per dimension value, except for dimensions that overflowed the answer cubes on
    that day (a filter by them counts the comment rows instead)."""
    lo, hi = periods.day_bounds(first, last)
    CommentRollup.objects.filter(survey_id=survey.pk, day__gte=first, day__lte=last).delete()
    CommentCount.objects.filter(
        survey_id=survey.pk, grain=Grain.DAY, period__gte=first, period__lte=last
    ).delete()
    if on_postgres():
        _comments_sql(survey, lo, hi)
    else:
        _comments_python(survey, first, last, lo, hi)


def _comments_python(survey: Survey, first: date, last: date, lo, hi) -> None:
    from ..responses import band_of, with_primary_answer

    overflow = set(
        RollupOverflow.objects.filter(
            survey_id=survey.pk, kind=ANSWER, grain=Grain.DAY, period__gte=first, period__lte=last
        ).values_list("period", "dimension")
    )
    rows = with_primary_answer(
        Answer.objects.filter(
            question__survey_id=survey.pk,
            question__kind=scales.COMMENT,
            response__is_test=False,
            response__submitted_at__gte=lo,
            response__submitted_at__lt=hi,
        ).exclude(text=""),
        survey.primary_question(),
    ).values_list(
        "pk",
        "response_id",
        "response__submitted_at",
        "p_norm",
        "p_satisfied",
        "response__touchpoint_type",
        "response__attributes",
    )
    batch: list[CommentRollup] = []
    counts: dict[tuple[date, str, str, str, str, str], int] = defaultdict(int)
    for pk, response_id, at, norm, satisfied, touchpoint, attributes in rows.iterator(
        chunk_size=5000
    ):
        day = periods.local_day(at)
        band = band_of(satisfied, norm)
        dims = comment_dimensions(touchpoint, attributes)
        counted = sorted((d, v) for d, v in dims.items() if (day, d) not in overflow)
        counts[(day, band, TOTAL, "", TOTAL, "")] += 1
        for i, (dim, value) in enumerate(counted):
            counts[(day, band, dim, value, TOTAL, "")] += 1
            for dim2, value2 in counted[i + 1 :]:
                counts[(day, band, dim, value, dim2, value2)] += 1
        batch.append(
            CommentRollup(
                answer_id=pk,
                survey_id=survey.pk,
                response_id=response_id,
                submitted_at=at,
                day=day,
                norm=norm,
                band=band,
                dims=dims,
            )
        )
        if len(batch) >= 5000:
            CommentRollup.objects.bulk_create(batch)
            batch = []
    CommentRollup.objects.bulk_create(batch)
    CommentCount.objects.bulk_create(
        (
            CommentCount(
                survey_id=survey.pk,
                grain=Grain.DAY,
                period=day,
                band=band,
                dimension=dim,
                value=value,
                dimension2=dim2,
                value2=value2,
                comments=n,
            )
            for (day, band, dim, value, dim2, value2), n in counts.items()
        ),
        batch_size=5000,
    )


# PostgreSQL: the same rows and counts in one statement, for the rows of a day range; the
# dimensions are the cubes' (DIMENSIONS_SQL) without the language.
_COMMENTS_SQL = """
WITH src AS MATERIALIZED (
    SELECT id, submitted_at, touchpoint_type, locale, attributes FROM surveys_response
    WHERE survey_id = %(survey)s AND submitted_at >= %(lo)s AND submitted_at < %(hi)s
      AND NOT is_test
),
c AS MATERIALIZED (
    SELECT a.id AS answer_id, src.id AS response_id, src.submitted_at,
           (src.submitted_at AT TIME ZONE %(tz)s)::date AS day,
           p.score_norm AS norm,
           CASE WHEN p.satisfied IS NULL OR p.score_norm IS NULL THEN ''
                WHEN p.satisfied THEN 'happy'
                WHEN p.score_norm < 0.5 THEN 'unhappy'
                ELSE 'neutral' END AS band,
           (SELECT jsonb_object_agg(d.dimension, d.value) FROM ({dimensions}) d
            WHERE d.dimension <> 'language') AS dims
    FROM src
    JOIN surveys_answer a ON a.response_id = src.id
    LEFT JOIN surveys_answer p ON p.response_id = src.id AND p.question_id = %(primary)s
    WHERE a.question_id = ANY(%(questions)s) AND a.text <> ''
),
rows AS (
    INSERT INTO reports_commentrollup
        (answer_id, survey_id, response_id, submitted_at, day, norm, band, dims)
    SELECT answer_id, %(survey)s, response_id, submitted_at, day, norm, band, dims FROM c
),
counted AS MATERIALIZED (  -- the dimensions counted: those that did not overflow that day
    SELECT c.answer_id, c.day, c.band, e.key, e.value
    FROM c CROSS JOIN LATERAL jsonb_each_text(c.dims) e
    WHERE NOT EXISTS (
        SELECT 1 FROM reports_rollupoverflow o
        WHERE o.survey_id = %(survey)s AND o.kind = %(kind)s AND o.grain = 'd'
          AND o.period = c.day AND o.dimension = e.key
    )
)
INSERT INTO reports_commentcount
    (survey_id, grain, period, band, dimension, value, dimension2, value2, comments)
SELECT %(survey)s, 'd', day, band, key, value, key2, value2, count(*)
FROM (
    SELECT day, band, '' AS key, '' AS value, '' AS key2, '' AS value2 FROM c
    UNION ALL
    SELECT day, band, key, value, '', '' FROM counted
    UNION ALL
    SELECT a.day, a.band, a.key, a.value, b.key, b.value
    FROM counted a JOIN counted b
      ON b.answer_id = a.answer_id AND a.key COLLATE "C" < b.key COLLATE "C"
) x
GROUP BY day, band, key, value, key2, value2
""".replace("{dimensions}", DIMENSIONS_SQL.format(touchpoint="src.touchpoint_type"))


def _comments_sql(survey: Survey, lo, hi) -> None:
    primary = survey.primary_question()
    questions = [q.pk for q in survey.questions.all() if q.kind == scales.COMMENT]
    if not questions:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _COMMENTS_SQL,
            {
                "tz": settings.TIME_ZONE,
                "survey": survey.pk,
                "primary": primary.pk if primary else None,
                "questions": questions,
                "lo": lo,
                "hi": hi,
                "kind": str(ANSWER),
            },
        )
