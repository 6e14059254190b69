"""Comment rollups: what the comments page sorts, pages and counts by."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import connection

from surveys import scales
from surveys.models import Question, Survey

from .. import periods
from ..models import CommentCount, CommentRollup, Grain
from ..vocabulary import LANGUAGE, TOTAL
from .common import ANSWER, dimensions_sql


def recompute_comments(survey: Survey, first: date, last: date) -> None:
    """CommentRollup rows of the comments of the local days first..last, and their counts: in
    total and per dimension value, except for dimensions that overflowed the answer cubes on
    that day (a filter by them counts the comment rows instead)."""
    CommentRollup.objects.filter(survey_id=survey.pk, day__gte=first, day__lte=last).delete()
    CommentCount.objects.filter(
        survey_id=survey.pk, grain=Grain.DAY, period__gte=first, period__lte=last
    ).delete()
    primary = survey.primary_question()
    questions = [q.pk for q in survey.questions.all() if q.kind == scales.COMMENT]
    if not questions:
        return
    lo, hi = periods.day_bounds(first, last)
    with connection.cursor() as cursor:
        cursor.execute(
            _COMMENTS_SQL.replace("{band}", band_sql("p.score", primary)),
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


def band_sql(score: str, question: Question | None) -> str:
    """A CASE giving the band of the SQL expression `score`, an answer to `question`: one branch
    per point of its scale, from surveys.scales.bands."""
    if question is None or question.scale_def is None:
        return "''"
    points = scales.bands(question.scale, question.reversed, question.satisfied)
    branches = " ".join(
        f"WHEN {int(point)} THEN '{band}'" for point, band in points.items() if band in scales.BANDS
    )
    return f"CASE {score} {branches} ELSE '' END"


# The rows and counts in one statement, for the rows of a day range; the dimensions are the
# cubes' without the language.
_COMMENTS_SQL = (
    """
WITH src AS MATERIALIZED (
    SELECT id, submitted_at, touchpoint_type, locale, attributes FROM surveys_response
    WHERE survey_id = %(survey)s AND submitted_at >= %(lo)s AND submitted_at < %(hi)s
      AND NOT is_test
),
c AS MATERIALIZED (
    SELECT a.id AS answer_id, src.id AS response_id, src.submitted_at,
           (src.submitted_at AT TIME ZONE %(tz)s)::date AS day,
           p.score_norm AS norm,
           {band} AS band,
           (SELECT jsonb_object_agg(d.dimension, d.value) FROM ({dimensions}) d
            WHERE d.dimension <> '{language}') AS dims
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
    SELECT day, band, '{total}' AS key, '' AS value, '{total}' AS key2, '' AS value2 FROM c
    UNION ALL
    SELECT day, band, key, value, '{total}', '' FROM counted
    UNION ALL
    SELECT a.day, a.band, a.key, a.value, b.key, b.value
    FROM counted a JOIN counted b
      ON b.answer_id = a.answer_id AND a.key COLLATE "C" < b.key COLLATE "C"
) x
GROUP BY day, band, key, value, key2, value2
""".replace("{dimensions}", dimensions_sql("src.touchpoint_type"))
    .replace("{language}", LANGUAGE)
    .replace("{total}", TOTAL)
)
