"""Reads over individual responses for the comments page and the exports (figures come from the
rollups; these pages list rows, so they read the rows themselves, or the comment rollups)."""

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Count,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Value,
)
from django.utils.translation import gettext_lazy as _

from surveys import scales
from surveys.models import Answer, Question, Response, Survey

from . import rollups, selectors
from .models import CommentRollup
from .query import ReportQuery
from .selectors.raw import attribute_value
from .service import pick_question
from .vocabulary import ATTR_PREFIX, KEY_LENGTH, TOUCHPOINT, VALUE_LENGTH

# The bands are surveys.scales.band's; these are their names on the pages.
BANDS = {
    scales.UNHAPPY: _("Unhappy"),
    scales.NEUTRAL: _("Neutral"),
    scales.HAPPY: _("Happy"),
}
SORTS = {"unhappy": _("Unhappy first"), "newest": _("Newest first")}


def responses_in(survey: Survey, query: ReportQuery, *, tests: bool = False) -> QuerySet[Response]:
    """The survey's real responses (with `tests`, its test answers instead, which no figure
    counts) in the query's range, touchpoint, language and attributes."""
    start, end = query.bounds()
    rows = Response.objects.filter(
        survey=survey, is_test=tests, submitted_at__gte=start, submitted_at__lt=end
    )
    if query.touchpoint:
        rows = rows.filter(touchpoint_type=query.touchpoint)
    if query.language:
        rows = rows.filter(locale=query.language)
    return _with_keys(rows, query.attrs, field="attributes")


def _with_keys(rows: QuerySet, values: dict[str, str], *, field: str) -> QuerySet:
    """Rows whose JSON `field` holds every {key: value}, compared as the reports compare them
    (selectors.raw.attribute_value)."""
    for i, (key, value) in enumerate(sorted(values.items())):
        rows = rows.alias(**{f"_key_{i}": attribute_value(key, field)}).filter(
            **{f"_key_{i}": value}
        )
    return rows


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


def scored_question(survey: Survey, query: ReportQuery) -> Question | None:
    """The question the view reads scores of: the query's `question` (a scored one), else the
    primary (None when the survey has none). ReportError for a key that is not a scored question
    (reports.service.pick_question decides)."""
    return pick_question(survey, query.question) if query.question else survey.primary_question()


def comment_questions(survey: Survey) -> list[Question]:
    return [q for q in survey.questions.all() if q.kind == scales.COMMENT]


def question_bands(question: Question | None) -> dict[int, str]:
    """Each score of the question with its band (surveys.scales.bands); {} without a scale."""
    if question is None or question.scale_def is None:
        return {}
    return scales.bands(question.scale, question.reversed, question.satisfied)


def band_condition(question: Question | None, band: str) -> Q:
    """Rows annotated by with_primary_answer whose primary score is in `band`."""
    if band not in BANDS:
        raise ValueError(band)
    scores = [score for score, of in question_bands(question).items() if of == band]
    return Q(p_score__in=scores) if scores else Q(pk__isnull=True)  # a band without scores


@dataclass(frozen=True)
class CommentQuery:
    band: str = ""  # "" is every band
    search: str = ""
    sort: str = "unhappy"


def comments(survey: Survey, query: ReportQuery, listing: CommentQuery) -> QuerySet[Answer]:
    """Non-empty comment answers with the score of the view's question (scored_question),
    unhappy first by default.

    Each row carries p_score, p_norm, p_satisfied and its response (date, attributes)."""
    start, end = query.bounds()
    primary = scored_question(survey, query)
    rows = Answer.objects.filter(
        question__survey=survey,
        question__kind=scales.COMMENT,
        response__is_test=False,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
    ).exclude(text="")
    if query.touchpoint:
        rows = rows.filter(response__touchpoint_type=query.touchpoint)
    if query.language:
        rows = rows.filter(response__locale=query.language)
    rows = _with_keys(rows, query.attrs, field="response__attributes")
    if listing.search:
        rows = rows.filter(text__icontains=listing.search)
    rows = with_primary_answer(rows.select_related("response"), primary)
    if listing.band:
        rows = rows.filter(band_condition(primary, listing.band))
    if listing.sort == "newest":
        return rows.order_by("-response__submitted_at", "-pk")
    return rows.order_by(F("p_norm").asc(nulls_last=True), "-response__submitted_at", "-pk")


LATEST_WINDOW = 200  # the newest comments the dashboard's "latest comments" picks from


def latest_comments(survey: Survey, query: ReportQuery, limit: int) -> list[Answer]:
    """The newest LATEST_WINDOW comments in the range, unhappy first.

    One bounded walk of the comment rollups' newest-first index at any size (filters included);
    never a sort of every comment in the range, never a scan of the responses."""
    newest = comment_rollups(survey, query, CommentQuery(sort="newest"))
    if newest is None:  # no rollups, or a filter they do not keep
        rows = comments(survey, query, CommentQuery(sort="newest"))
        picked = [(a.p_norm, a.response.submitted_at, a.pk) for a in rows[:LATEST_WINDOW]]
    else:
        picked = list(newest.values_list("norm", "submitted_at", "answer_id")[:LATEST_WINDOW])
    # unhappy first: worst score first (no score last), newest first within a score
    picked.sort(key=lambda row: (row[0] is None, row[0] or 0, -row[1].timestamp(), -row[2]))
    return comments_by_id(survey, [pk for _norm, _at, pk in picked[:limit]], query)


def comment_filters(survey: Survey, query: ReportQuery) -> dict[str, str] | None:
    """The view's touchpoint and attribute filters as comment-rollup dimensions; None without
    rollups, with a language filter (they do not keep it) or when a name or value is longer than
    they keep (those views read the rows). The rollups keep the primary question's score: a view
    of another question reads the rows too."""
    if not rollups.enabled() or query.language:
        return None
    if query.question and query.question != getattr(survey.primary_question(), "key", None):
        return None
    dims = {ATTR_PREFIX + name: value for name, value in query.attrs.items()}
    if query.touchpoint:
        dims[TOUCHPOINT] = query.touchpoint
    if any(len(dim) > len(ATTR_PREFIX) + KEY_LENGTH for dim in dims) or any(
        len(value) > VALUE_LENGTH for value in dims.values()
    ):
        return None
    return dims


def band_counts(survey: Survey, query: ReportQuery, search: str = "") -> dict[str, int]:
    """How many comments each band holds under the query (for the band tabs): from the
    rollups' counts (up to two filters the counts hold over the range), else from the
    comment rollup rows, or from the rows themselves (a search, or no rollups)."""
    dims = None if search else comment_filters(survey, query)
    if dims is None:
        primary = scored_question(survey, query)
        rows = comments(survey, query, CommentQuery(search=search)).order_by()
        return rows.aggregate(
            all=Count("pk"),
            **{band: Count("pk", filter=band_condition(primary, band)) for band in BANDS},
        )
    counts = selectors.RollupSource().comment_counts(survey, query.start, query.end, dims)
    if counts is None:
        counts = dict(
            _comment_rows(survey, query, dims)
            .values("band")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("band", "n")
        )
    return {"all": sum(counts.values()), **{band: counts.get(band, 0) for band in BANDS}}


def _comment_rows(survey: Survey, query: ReportQuery, dims: dict[str, str]) -> QuerySet:
    """The view's CommentRollup rows: its range, and every {dimension: value} of `dims` (a
    containment test the GIN index serves)."""
    start, end = query.bounds()
    rows = CommentRollup.objects.filter(
        survey_id=survey.pk, submitted_at__gte=start, submitted_at__lt=end
    )
    return rows.filter(dims__contains=dims) if dims else rows


def comment_rollups(survey: Survey, query: ReportQuery, listing: CommentQuery):
    """The comments of the view as CommentRollup rows in page order; None for a text search or
    where comment_filters gives None (those views read the comments)."""
    dims = None if listing.search else comment_filters(survey, query)
    if dims is None:
        return None
    rows = _comment_rows(survey, query, dims)
    if listing.band:
        rows = rows.filter(band=listing.band)
    if listing.sort == "newest":
        return rows.order_by("-submitted_at", "-answer_id")
    return rows.order_by(F("norm").asc(nulls_last=True), "-submitted_at", "-answer_id")


def comments_by_id(survey: Survey, answer_ids: list[int], query: ReportQuery) -> list[Answer]:
    """The comment answers of a page, in the page's order, with their answer to the view's
    question (scored_question)."""
    rows = with_primary_answer(
        Answer.objects.filter(pk__in=answer_ids).select_related("response"),
        scored_question(survey, query),
    ).in_bulk()
    return [rows[pk] for pk in answer_ids if pk in rows]


def control_options(survey: Survey, query: ReportQuery) -> tuple[list[str], dict[str, list]]:
    """The touchpoint types and the attribute values seen in the range (read from the rollups
    where there are any), plus whatever is selected now, so a bookmarked filter always shows."""
    question = survey.primary_question()
    seen = (
        selectors.source().dimension_values(survey, question.pk, query.start, query.end)
        if question
        else {}
    )
    touchpoints = set(seen.pop(TOUCHPOINT, set())) | {survey.touchpoint}
    if query.touchpoint:
        touchpoints.add(query.touchpoint)
    attributes = {
        name.removeprefix(ATTR_PREFIX): values
        for name, values in seen.items()
        if name.startswith(ATTR_PREFIX)
    }
    for name, value in query.attrs.items():
        attributes.setdefault(name, set()).add(value)
    return sorted(t for t in touchpoints if t), {
        name: sorted(values) for name, values in sorted(attributes.items())
    }
