"""Comment rollups: what the comments page sorts, pages and counts by."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from surveys import scales
from surveys.models import Answer, Survey

from .. import periods
from ..models import CommentCount, CommentRollup, Grain, RollupOverflow
from ..selectors import LANGUAGE, TOTAL
from .common import ANSWER, dimensions_of


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
    from ..responses import band_of, with_primary_answer

    lo, hi = periods.day_bounds(first, last)
    CommentRollup.objects.filter(survey_id=survey.pk, day__gte=first, day__lte=last).delete()
    CommentCount.objects.filter(
        survey_id=survey.pk, grain=Grain.DAY, period__gte=first, period__lte=last
    ).delete()
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
    counts: dict[tuple[date, str, str, str], int] = defaultdict(int)
    for pk, response_id, at, norm, satisfied, touchpoint, attributes in rows.iterator(
        chunk_size=5000
    ):
        day = periods.local_day(at)
        band = band_of(satisfied, norm)
        dims = comment_dimensions(touchpoint, attributes)
        counts[(day, band, TOTAL, "")] += 1
        for dim, value in dims.items():
            if (day, dim) not in overflow:
                counts[(day, band, dim, value)] += 1
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
                comments=n,
            )
            for (day, band, dim, value), n in counts.items()
        ),
        batch_size=5000,
    )
