import itertools

from django.core.paginator import EmptyPage, Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from access.views import reports_viewer_required
from surveys.models import Question, Survey

from . import dashboard as presentation
from . import export, response_list, service
from .query import INTERVALS, OVERVIEW_PARAMETERS, PRESETS, ReportError, ReportQuery, parse_query
from .redact import comment_for_display
from .responses import (
    BANDS,
    SORTS,
    CommentQuery,
    band_counts,
    comment_rollups,
    comments,
    comments_by_id,
    control_options,
    latest_comments,
    question_bands,
    responses_in,
    scored_question,
)

# What a page reads besides the report query (reports.query): the comments page's band, search,
# sort and page; the exports' band and search (from the comments page).
COMMENT_PARAMETERS = ("band", "q", "sort", "page")
EXPORT_PARAMETERS = ("band", "q", "sort")
COMMENTS_PER_PAGE = 25
MAX_SEARCH = 200
LATEST_COMMENTS = 6


@reports_viewer_required
def dashboard(request):
    """Every active survey: CSAT over the chosen range, its trend, n and target status."""
    try:
        filters = parse_query(request.GET, only=OVERVIEW_PARAMETERS)
        surveys = service.overview(filters.start, filters.end)
    except ReportError as error:
        return _bad_request(request, error)
    texts = question_texts(item["slug"] for item in surveys)
    for item in surveys:
        item["question_text"] = texts.get((item["slug"], item["question"]), item["question"])
        item["spark"] = presentation.sparkline(item["series"], item["target"])
        item["csat_text"] = presentation.fmt(item["csat"], 1, " %")
        item["query"] = filters.query(interval=item["interval"])
    others = Survey.objects.filter(status__in=[Survey.Status.PAUSED, Survey.Status.ARCHIVED])
    return render(
        request,
        "reports/overview.html",
        {
            "surveys": surveys,
            "summary": {
                "answers": sum(item["n"] for item in surveys),
                "with_target": sum(1 for item in surveys if item["target"] is not None),
                "above": sum(1 for item in surveys if item["above_target"]),
            },
            "others": others,
            "filters": filters,
            "presets": PRESETS,
            "section": "dashboard",
        },
    )


@reports_viewer_required
def survey_dashboard(request, slug: str):
    """One survey's figures, trend, distribution, breakdown, funnel and latest comments.

    The page is rendered complete on the server; the same report is embedded as JSON for the
    charts, so it is readable before (and without) JavaScript."""
    survey = _survey(slug)
    try:
        filters = parse_query(request.GET)
        report = service.csat_report(survey, **filters.report_arguments())
    except ReportError as error:
        return _bad_request(request, error, survey)
    question = next(q for q in survey.questions.all() if q.key == report["question"]["key"])
    labels = score_labels(question)
    if labels:
        # The report names scale points in the survey's first language; the page speaks the
        # manager's (as the comments beside it do).
        report = {
            **report,
            "distribution": [
                {**d, "label": labels.get(d["score"], d["label"])} for d in report["distribution"]
            ],
        }
    distribution = presentation.distribution_rows(report, question)
    latest = latest_comments(survey, filters, LATEST_COMMENTS)
    table = service.question_table(survey, **filters.report_arguments())
    test_answers = response_list.test_answers(survey, filters)
    chart = {
        "report": report,
        "bands": [d["band"] for d in distribution],
        "text": {
            "csat": _("CSAT %"),
            "target": _("Target"),
            # xgettext:no-python-format
            "interval": _("95 % interval"),
            "answers": _("Answers"),
            "small": _("small sample"),
        },
    }
    return render(
        request,
        "reports/survey.html",
        {
            **controls_context(survey, filters),
            "survey": survey,
            "section": "dashboard",
            "report": report,
            "cards": presentation.cards(report),
            "question": question,
            "question_text": question.text_in(get_language() or "en"),
            "question_rows": presentation.question_rows(
                table, survey.questions.all(), get_language() or "en"
            ),
            "question_query": filters.query(question=""),
            "test_answers": test_answers,
            "tests_query": filters.query(tests="1"),
            "distribution": distribution,
            "funnel": presentation.funnel(report),
            "series_rows": presentation.table_rows(report["series"]),
            "breakdown_rows": presentation.table_rows(report["breakdown"]),
            "small_sample_text": _("small sample"),
            "latest": comment_rows(question, latest),
            "chart": chart,
            "loop_titles": [
                ("time_to_first_contact", _("Time to first contact")),
                ("time_to_resolve", _("Time to resolve")),
            ],
            "show_interval": True,
            "show_breakdown": True,
            "hidden_params": [],
            "export_query": filters.query(),
            "breakdown_height": 60 + 34 * len(report["breakdown"]),
        },
    )


def question_texts(slugs) -> dict[tuple[str, str], str]:
    """{(survey slug, question key): the question's text in the reader's language}."""
    language = get_language() or "en"
    return {
        (q.survey.slug, q.key): q.text_in(language)
        for q in Question.objects.filter(survey__slug__in=list(slugs)).select_related("survey")
    }


def _survey(slug: str) -> Survey:
    return get_object_or_404(
        Survey.objects.exclude(status=Survey.Status.DRAFT).prefetch_related("questions"), slug=slug
    )


def _bad_request(request, error: ReportError, survey: Survey | None = None):
    # the page's sentence ends with its own full stop
    return render(
        request,
        "reports/bad_request.html",
        {
            "error": {"param": error.param, "message": error.message.rstrip(".")},
            "survey": survey,
            "section": "dashboard",
        },
        status=error.status,
    )


def score_labels(question: Question | None) -> dict[int, str]:
    """Each scale point's label in the manager's language, for showing a score in words."""
    if question is None or question.scale_def is None:
        return {}
    return dict(
        zip(question.scale_def.points, question.labels_in(get_language() or "en"), strict=False)
    )


def comment_rows(question: Question | None, answers) -> list[dict]:
    """Comment answers (with their primary answer, responses.with_primary_answer) as the pages
    show them: text (masked), score in words, band, date and attributes."""
    labels, bands = score_labels(question), question_bands(question)
    return [
        {
            "response_id": answer.response_id,
            "text": comment_for_display(answer.text),
            "score": answer.p_score,
            "score_label": labels.get(answer.p_score, ""),
            "band": bands.get(answer.p_score, ""),
            "submitted_at": answer.response.submitted_at,
            "attributes": sorted((answer.response.attributes or {}).items()),
        }
        for answer in answers
    ]


def controls_context(survey: Survey, filters: ReportQuery) -> dict:
    """What the shared controls bar (templates/reports/_controls.html) needs."""
    active = len(filters.attrs) + bool(filters.touchpoint) + bool(filters.language)
    summary = (
        str(PRESETS[filters.preset])
        if filters.preset != "custom"
        else f"{date_format(filters.start, 'j M')} – {date_format(filters.end, 'j M Y')}"
    )
    if active:
        summary += " · " + ngettext("%(n)d filter", "%(n)d filters", active) % {"n": active}
    touchpoints, attributes = control_options(survey, filters)
    language = get_language() or "en"
    primary = survey.primary_question()
    return {
        "question_choices": [
            (q.key, q.text_in(language)) for q in survey.questions.all() if q.is_scored
        ],
        "question_selected": filters.question or (primary.key if primary else ""),
        "filters": filters,
        "filters_summary": summary,
        "presets": PRESETS,
        "intervals": INTERVALS,
        "touchpoints": touchpoints,
        "attribute_controls": [
            {
                "name": name,
                "param": f"attr.{name}",
                "values": values,
                "selected": filters.attrs.get(name, ""),
            }
            for name, values in attributes.items()
        ],
    }


def parse_comment_query(params) -> CommentQuery:
    band = (params.get("band") or "").strip()
    if band and band not in BANDS:
        raise ReportError(f"{band!r} is not one of {', '.join(BANDS)}", field="band")
    sort = (params.get("sort") or "unhappy").strip()
    if sort not in SORTS:
        raise ReportError(f"{sort!r} is not one of {', '.join(SORTS)}", field="sort")
    search = (params.get("q") or "").strip()
    if len(search) > MAX_SEARCH:
        raise ReportError(f"at most {MAX_SEARCH} characters", field="q")
    return CommentQuery(band=band, search=search, sort=sort)


class CountedPaginator(Paginator):
    """A paginator told its count (the comments' band counts come from the rollups)."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._count = count

    @property
    def count(self) -> int:
        return self._count


def _page_number(params) -> int:
    raw = (params.get("page") or "1").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ReportError(f"{raw!r} is not a page number", field="page")
    return int(raw)


@reports_viewer_required
def survey_comments(request, slug: str):
    """Comments next to their score, date and attributes; filterable, unhappy first."""
    survey = _survey(slug)
    try:
        filters = parse_query(request.GET, own=COMMENT_PARAMETERS)
        query = parse_comment_query(request.GET)
        number = _page_number(request.GET)
        question = scored_question(survey, filters)
    except ReportError as error:
        return _bad_request(request, error, survey)
    counts = band_counts(survey, filters, query.search)
    fast = comment_rollups(survey, filters, query)
    if fast is None:
        paginator = Paginator(comments(survey, filters, query), COMMENTS_PER_PAGE)
    else:
        paginator = CountedPaginator(fast, COMMENTS_PER_PAGE, count=counts[query.band or "all"])
    try:
        page = paginator.page(number)
    except EmptyPage:
        if number != 1:
            raise Http404(_("There is no page %(n)s.") % {"n": number}) from None
        page = paginator.page(1)
    if fast is not None:
        page.object_list = comments_by_id(
            survey, [row.answer_id for row in page.object_list], filters
        )
    rows = comment_rows(question, page.object_list)
    extra = {"band": query.band, "q": query.search, "sort": query.sort}
    return render(
        request,
        "reports/comments.html",
        {
            **controls_context(survey, filters),
            "survey": survey,
            "section": "dashboard",
            "page": page,
            "rows": rows,
            "query": query,
            "bands": [(value, label, counts[value]) for value, label in BANDS.items()],
            "all_count": counts["all"],
            "sorts": SORTS,
            "hidden_params": [("band", query.band), ("sort", query.sort), ("q", query.search)],
            "base_query": filters.query(**extra),
            "tab_query": filters.query(q=query.search, sort=query.sort),
            "export_query": filters.query(band=query.band, q=query.search),
            "question_text": question.text_in(get_language() or "en") if question else "",
        },
    )


@reports_viewer_required
def export_responses(request, slug: str, fmt: str):
    """Every response matching the filters (and, from the comments page, its band and search),
    one row each, as CSV (streamed) or XLSX (written row by row to a temporary file)."""
    survey = _survey(slug)
    try:
        filters = parse_query(request.GET, own=EXPORT_PARAMETERS)
        query = parse_comment_query(request.GET)
    except ReportError as error:
        return _bad_request(request, error, survey)
    rows = responses_in(survey, filters)
    if query.band or query.search:
        matching = comments(survey, filters, query).values("response_id")
        rows = rows.filter(pk__in=matching)
    name = f"{survey.slug}-responses-{filters.start}-{filters.end}"
    return _table_response(export.response_table(survey, rows), name, fmt)


@reports_viewer_required
def export_series(request, slug: str, fmt: str):
    """The trend of the dashboard's current view (csat_report's series) as CSV or XLSX."""
    survey = _survey(slug)
    try:
        filters = parse_query(request.GET, own=EXPORT_PARAMETERS)
        report = service.csat_report(survey, **{**filters.report_arguments(), "group_by": None})
    except ReportError as error:
        return _bad_request(request, error, survey)
    name = f"{survey.slug}-csat-{filters.interval}-{filters.start}-{filters.end}"
    return _table_response(export.series_table(report), name, fmt)


def _table_response(table, name: str, fmt: str):
    # The header comes first and runs the filters' first query: whatever the database refuses
    # is an error before the 200 and the first byte, not a download that stops short.
    table = iter(table)
    table = itertools.chain([next(table)], table)
    if fmt == "csv":
        response = StreamingHttpResponse(
            export.csv_lines(table), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    return FileResponse(
        export.xlsx_file(table),
        as_attachment=True,
        filename=f"{name}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
