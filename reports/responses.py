"""Reads over individual responses for the comments page and the exports (figures come from the
rollups; these pages list rows, so they read the rows themselves)."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from surveys import scales
from surveys.models import Answer, Question, Response, Survey

from .filters import ReportFilters
from .models import CommentRollup

# Unhappy: below the middle of the scale; neutral: the middle or above but not satisfied;
# happy: satisfied (decided when the answer was stored). On 1-5: 1-2, 3, 4-5.
BANDS = {"unhappy": _("Unhappy"), "neutral": _("Neutral"), "happy": _("Happy")}
SORTS = {"unhappy": _("Unhappy first"), "newest": _("Newest first")}


def responses_in(survey: Survey, filters: ReportFilters) -> QuerySet[Response]:
    """The survey's real (non-test) responses inside the filters' range, touchpoint and attributes."""
    start, end = filters.bounds()
    rows = Response.objects.filter(
        survey=survey, is_test=False, submitted_at__gte=start, submitted_at__lt=end
    )
    if filters.touchpoint:
        rows = rows.filter(touchpoint_type=filters.touchpoint)
    return _with_keys(rows, filters.attrs, field="attributes")


def _with_keys(rows: QuerySet, values: dict[str, str], *, field: str) -> QuerySet:
    """Rows whose JSON `field` holds every {key: value}, compared as text (the way the attribute
    arrived in the touchpoint event, as the reports compare it)."""
    for i, (key, value) in enumerate(sorted(values.items())):
        alias = f"_key_{i}"
        # The cast makes it a plain text comparison on every database (SQLite would otherwise
        # read the value as JSON).
        expression = Cast(KeyTextTransform(key, field), TextField())
        rows = rows.alias(**{alias: expression}).filter(**{alias: value})
    return rows


def primary_answer(field: str, question: Question | None, ref: str = "pk"):
    """A subquery for one field of the response's answer to the primary question."""
    if question is None:
        return Subquery(Answer.objects.none().values(field)[:1])
    return Subquery(
        Answer.objects.filter(response_id=OuterRef(ref), question_id=question.pk).values(field)[:1]
    )


def with_primary_answer(rows: QuerySet[Answer], question: Question | None) -> QuerySet[Answer]:
    """Comment answers with p_score, p_norm, p_satisfied of their response's primary answer,
    joined once (not a subquery per row: the comments page sorts and counts by them)."""
    if question is None:
        return rows.annotate(
            p_score=Value(None, output_field=IntegerField()),
            p_norm=Value(None, output_field=FloatField()),
            p_satisfied=Value(None, output_field=BooleanField()),
        )
    return rows.annotate(
        primary=FilteredRelation(
            "response__answers", condition=Q(response__answers__question_id=question.pk)
        )
    ).annotate(
        p_score=F("primary__score"),
        p_norm=F("primary__score_norm"),
        p_satisfied=F("primary__satisfied"),
    )


def comment_questions(survey: Survey) -> list[Question]:
    return [q for q in survey.questions.all() if q.kind == scales.COMMENT]


def band_condition(band: str) -> Q:
    if band == "happy":
        return Q(p_satisfied=True)
    if band == "unhappy":
        return Q(p_satisfied=False, p_norm__lt=0.5)
    if band == "neutral":
        return Q(p_satisfied=False, p_norm__gte=0.5)
    raise ValueError(band)


def band_of(satisfied: bool | None, norm: float | None) -> str:
    if satisfied is None or norm is None:
        return ""
    if satisfied:
        return "happy"
    return "unhappy" if norm < 0.5 else "neutral"


@dataclass(frozen=True)
class CommentQuery:
    band: str = ""  # "" is every band
    search: str = ""
    sort: str = "unhappy"


def comments(survey: Survey, filters: ReportFilters, query: CommentQuery) -> QuerySet[Answer]:
    """Non-empty comment answers with the primary question's score, unhappy first by default.

    Each row carries p_score, p_norm, p_satisfied and its response (date, attributes)."""
    start, end = filters.bounds()
    primary = survey.primary_question()
    rows = Answer.objects.filter(
        question__survey=survey,
        question__kind=scales.COMMENT,
        response__is_test=False,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
    ).exclude(text="")
    if filters.touchpoint:
        rows = rows.filter(response__touchpoint_type=filters.touchpoint)
    rows = _with_keys(rows, filters.attrs, field="response__attributes")
    if query.search:
        rows = rows.filter(text__icontains=query.search)
    rows = with_primary_answer(rows.select_related("response"), primary)
    if query.band:
        rows = rows.filter(band_condition(query.band))
    if query.sort == "newest":
        return rows.order_by("-response__submitted_at", "-pk")
    return rows.order_by(F("p_norm").asc(nulls_last=True), "-response__submitted_at", "-pk")


LATEST_WINDOW = 200  # the newest comments the dashboard's "latest comments" picks from


def latest_comments(survey: Survey, filters: ReportFilters, limit: int) -> list[Answer]:
    """The newest LATEST_WINDOW comments in the range, unhappy first.

    One bounded walk of the comment rollups' newest-first index at any size (filters included);
    never a sort of every comment in the range, never a scan of the responses."""
    newest = comment_rollups(survey, filters, CommentQuery(sort="newest"))
    if newest is None:  # a filter value longer than the rollups keep
        rows = comments(survey, filters, CommentQuery(sort="newest"))
        picked = [(a.p_norm, a.response.submitted_at, a.pk) for a in rows[:LATEST_WINDOW]]
    else:
        picked = list(newest.values_list("norm", "submitted_at", "answer_id")[:LATEST_WINDOW])
    # unhappy first: worst score first (no score last), newest first within a score
    picked.sort(key=lambda row: (row[0] is None, row[0] or 0, -row[1].timestamp(), -row[2]))
    return comments_by_id(survey, [pk for _norm, _at, pk in picked[:limit]])


def comment_filters(filters: ReportFilters) -> dict[str, str] | None:
    """The view's touchpoint and attribute filters as comment-rollup dimensions; None when a
    name or value is longer than the rollups keep (those views read the rows)."""
    from .selectors import ATTR_PREFIX, KEY_LENGTH, TOUCHPOINT, VALUE_LENGTH

    dims = {ATTR_PREFIX + name: value for name, value in filters.attrs.items()}
    if filters.touchpoint:
        dims[TOUCHPOINT] = filters.touchpoint
    if any(len(dim) > len(ATTR_PREFIX) + KEY_LENGTH for dim in dims) or any(
        len(value) > VALUE_LENGTH for value in dims.values()
    ):
        return None
    return dims


def band_counts(survey: Survey, filters: ReportFilters, search: str = "") -> dict[str, int]:
    """How many comments each band holds under the filters (for the band tabs): from the
    rollups' counts (up to two filters the counts hold over the range), else from the
    comment rollup rows, or from the rows themselves when the view is searched."""
    dims = None if search else comment_filters(filters)
    if dims is None:
        rows = comments(survey, filters, CommentQuery(search=search)).order_by()
        return rows.aggregate(
            all=Count("pk"), **{band: Count("pk", filter=band_condition(band)) for band in BANDS}
        )
    from .selectors import RollupSource

    counts = RollupSource().comment_counts(survey, filters.start, filters.end, dims)
    if counts is None:
        counts = dict(
            _comment_rows(survey, filters, dims)
            .values("band")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("band", "n")
        )
    return {"all": sum(counts.values()), **{band: counts.get(band, 0) for band in BANDS}}


def _comment_rows(survey: Survey, filters: ReportFilters, dims: dict[str, str]) -> QuerySet:
    """The view's CommentRollup rows: its range, and every {dimension: value} of `dims` (a
    containment test the GIN index serves on PostgreSQL; a key lookup each elsewhere)."""
    start, end = filters.bounds()
    rows = CommentRollup.objects.filter(
        survey_id=survey.pk, submitted_at__gte=start, submitted_at__lt=end
    )
    if not dims:
        return rows
    if connection.vendor == "postgresql":
        return rows.filter(dims__contains=dims)
    return _with_keys(rows, dims, field="dims")


def comment_rollups(survey: Survey, filters: ReportFilters, query: CommentQuery):
    """The comments of the view as CommentRollup rows in page order; None for a text search or
    a filter value longer than the rollups keep (those views read the comments)."""
    dims = None if query.search else comment_filters(filters)
    if dims is None:
        return None
    rows = _comment_rows(survey, filters, dims)
    if query.band:
        rows = rows.filter(band=query.band)
    if query.sort == "newest":
        return rows.order_by("-submitted_at", "-answer_id")
    return rows.order_by(F("norm").asc(nulls_last=True), "-submitted_at", "-answer_id")


def comments_by_id(survey: Survey, answer_ids: list[int]) -> list[Answer]:
    """The comment answers of a page, in the page's order, with their primary answer."""
    rows = with_primary_answer(
        Answer.objects.filter(pk__in=answer_ids).select_related("response"),
        survey.primary_question(),
    ).in_bulk()
    return [rows[pk] for pk in answer_ids if pk in rows]


def control_options(survey: Survey, filters: ReportFilters) -> tuple[list[str], dict[str, list]]:
    """The touchpoint types and the attribute values seen in the range (read from the rollups),
    plus whatever is selected now, so a bookmarked filter always shows."""
    from .selectors import ATTR_PREFIX, TOUCHPOINT, RollupSource

    question = survey.primary_question()
    seen = (
        RollupSource().dimension_values(survey, question.pk, filters.start, filters.end)
        if question
        else {}
    )
    touchpoints = set(seen.pop(TOUCHPOINT, set())) | {survey.touchpoint}
    if filters.touchpoint:
        touchpoints.add(filters.touchpoint)
    attributes = {
        name.removeprefix(ATTR_PREFIX): values
        for name, values in seen.items()
        if name.startswith(ATTR_PREFIX)
    }
    for name, value in filters.attrs.items():
        attributes.setdefault(name, set()).add(value)
    return sorted(t for t in touchpoints if t), {
        name: sorted(values) for name, values in sorted(attributes.items())
    }
