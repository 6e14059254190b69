"""Reports: every figure of the CSAT API and dashboard, from counts (reports.selectors).

`csat_report(survey, start=, end=, ...)` returns the JSON of `GET /api/v1/reports/csat/`:

    {
      "survey": "shop", "source": "rollups" | "raw" (what was read: see reports.selectors),
      "question": {"key", "kind", "scale", "reversed"},
      "start": "YYYY-MM-DD", "end": "YYYY-MM-DD", "interval": "day" | "week" | "month",
      "filters": {"touchpoint": str|null, "language": str|null, "attrs": {name: value}},
      "group_by": str|null,
      "csat": float|null (0-100), "n": int, "satisfied": int, "mean": float|null (scale units),
      "ci_low": float|null, "ci_high": float|null (Wilson 95 %, 0-100),
      "distribution": [{"score": int, "label": str, "count": int}] (display order),
      "response_rate": float|null (0-100), "sent": int, "answered": int,
      "funnel": {"sent", "delivered", "bounced", "clicked", "answered", "commented"} (invitations
                 sent in the range),
      "coverage": float|null (0-100), "respondents": int, "customers": int,
      "nps": {"question", "score", "n", "promoters", "passives", "detractors"} | null,
      "ces": {"question", "scale", "mean", "n", "easy", "easy_percent"} | null,
      "series": [{"period": "YYYY-MM-DD" (period start), "csat", "n", "satisfied",
                  "ci_low", "ci_high", "mean"}] (every period, zero-filled: n 0, csat null),
      "breakdown": [{"value", "csat", "n", "satisfied", "ci_low", "ci_high", "small_sample"}]
                   (highest CSAT first; [] without group_by),
      "previous": {"start", "end", "csat", "n", "satisfied", "mean", "ci_low", "ci_high",
                   "change" (points, null without data), "z", "p_value", "significant": bool},
      "target": float|null, "above_target": bool|null, "small_sample": bool,
      "loop": {"opened", "contacted", "resolved" (follow-ups opened in the range, same filters),
               "time_to_first_contact": {"n", "median_seconds", "mean_seconds", "p90_seconds"},
               "time_to_resolve": {...}, "unresolved", "overdue" (the survey's, now)}
              | null (the survey never had a follow-up; see followups.metrics.loop_summary),
    }

Floats are rounded to 2 decimals. `overview(start, end)` lists every active survey as
{"slug", "name", "csat", "n", "target", "above_target", "interval", "series": [{"period",
"csat", "n"}]}. Bad input raises ReportError (a DomainError naming the parameter).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.utils.translation import gettext as _

from followups.metrics import loop_summary
from surveys import scales
from surveys.models import Question, Survey

from . import metrics, periods, selectors
from .query import ReportError, check_range, default_interval
from .selectors import Filters, Span
from .vocabulary import (
    LANGUAGE,
    SATISFIED,
    TOUCHPOINT,
    Counts,
    add_counts,
    answers_of,
    attr_dimension,
    empty_counts,
)

__all__ = ["ReportError", "csat_report", "overview", "question_table"]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def scored_questions(survey: Survey) -> list[Question]:
    return [q for q in survey.questions.all() if q.is_scored]


def pick_question(survey: Survey, key: str | None) -> Question:
    if key:
        for question in survey.questions.all():
            if question.key == key:
                if not question.is_scored:
                    raise ReportError(
                        _("The question %(key)s has no score.") % {"key": key}, field="question"
                    )
                return question
        raise ReportError(_("The survey has no question %(key)s.") % {"key": key}, field="question")
    question = survey.primary_question()
    if question is None:
        raise ReportError(_("The survey has no scored question."), field="question")
    return question


def group_dimension(group_by: str | None) -> str | None:
    """The rollup dimension of a group_by parameter: touchpoint, language or an attribute."""
    if not group_by:
        return None
    if group_by in (TOUCHPOINT, LANGUAGE):
        return group_by
    return attr_dimension(group_by.removeprefix("attr."))


def _proportion_fields(satisfied: int, n: int) -> dict:
    p = metrics.proportion(satisfied, n)
    return {
        "csat": _round(p.csat),
        "n": n,
        "satisfied": satisfied,
        "ci_low": _round(p.ci_low),
        "ci_high": _round(p.ci_high),
    }


def csat_report(
    survey: Survey,
    *,
    start: date,
    end: date,
    interval: str = "day",
    question_key: str | None = None,
    group_by: str | None = None,
    touchpoint: str | None = None,
    language: str | None = None,
    attrs: dict[str, str] | None = None,
    source: str = "rollups",
) -> dict:
    """The report of one survey over [start, end] (local days, inclusive); see the module doc.
    `source` "raw" reads the raw rows even where the database keeps rollups."""
    check_range(start, end, interval)
    question = pick_question(survey, question_key)
    filters = Filters(
        touchpoint=touchpoint,
        language=language,
        attrs=tuple(sorted((attrs or {}).items())),
    )
    dim = group_dimension(group_by)
    counts = selectors.source(source)
    prev_start, prev_end = periods.previous_range(start, end)

    questions = scored_questions(survey)
    nps_question = next((q for q in questions if q.kind == scales.NPS), None)
    ces_question = next((q for q in questions if q.kind == scales.CES), None)
    wanted = {q.pk for q in (question, nps_question, ces_question) if q is not None}

    # One read for the headline, the series, the previous range and NPS/CES. The current range
    # may be read in whole months only when the series is by month.
    spans = [Span(prev_start, prev_end), Span(start, end, months=interval == "month")]
    current: dict[int, Counts] = defaultdict(empty_counts)
    previous = empty_counts()
    series: dict[date, Counts] = defaultdict(empty_counts)
    for question_id, period, cell in counts.answer_counts(survey, wanted, spans, filters):
        if period < start:
            if question_id == question.pk:
                add_counts(previous, cell)
            continue
        add_counts(current[question_id], cell)
        if question_id == question.pk:
            add_counts(series[periods.period_start(period, interval)], cell)

    main = current[question.pk]
    figures = _question_figures(main, previous)
    n = figures["n"]
    labels = question.labels_in(survey.default_language)
    points = question.scale_def.points
    distribution = [
        {"score": p, "label": labels[i] if i < len(labels) else str(p), "count": main[p]}
        for i, p in enumerate(points)
    ]

    invitations = counts.invitation_counts(survey, start, end, filters)
    sent, answered = invitations["sent"], invitations["answered"]
    respondents, customers = counts.coverage_counts(
        survey, start, end, touchpoint or survey.touchpoint
    )

    breakdown = []
    if dim:
        for value, cell in counts.value_counts(survey, question.pk, start, end, filters, dim):
            breakdown.append(
                {
                    "value": value,
                    **_proportion_fields(cell[SATISFIED], answers_of(cell)),
                    "mean": _round(metrics.mean_score(_scores(cell))),
                    "small_sample": metrics.is_small_sample(answers_of(cell)),
                }
            )
        breakdown.sort(key=lambda b: (b["csat"] is None, -(b["csat"] or 0), -b["n"], b["value"]))

    target = float(survey.csat_target) if survey.csat_target is not None else None
    headline = {k: figures[k] for k in ("csat", "n", "satisfied", "ci_low", "ci_high")}
    report = {
        "survey": survey.slug,
        "source": getattr(counts, "used", counts.name),
        "question": {
            "key": question.key,
            "kind": question.kind,
            "scale": question.scale,
            "reversed": question.reversed,
        },
        "start": start.isoformat(),
        "end": end.isoformat(),
        "interval": interval,
        "filters": {"touchpoint": touchpoint, "language": language, "attrs": dict(filters.attrs)},
        "group_by": group_by or None,
        **headline,
        "mean": figures["mean"],
        "distribution": distribution,
        "response_rate": _round(metrics.percent(answered, sent)),
        "sent": sent,
        "answered": answered,
        "funnel": {
            "sent": sent,
            "delivered": sent - invitations["bounced"],
            "bounced": invitations["bounced"],
            "clicked": invitations["clicked"],
            "answered": answered,
            "commented": invitations["commented"],
        },
        # More respondents than customers with a touchpoint (answers whose touchpoints were
        # never recorded, e.g. an imported history): no share to give.
        "coverage": _round(metrics.percent(respondents, customers))
        if respondents <= customers
        else None,
        "respondents": respondents,
        "customers": customers,
        "nps": _nps(nps_question, current),
        "ces": _ces(ces_question, current),
        "series": [
            {
                "period": period.isoformat(),
                **_proportion_fields(series[period][SATISFIED], answers_of(series[period])),
                "mean": _round(metrics.mean_score(_scores(series[period]))),
            }
            for period in periods.periods(start, end, interval)
        ],
        "breakdown": breakdown,
        "previous": {
            "start": prev_start.isoformat(),
            "end": prev_end.isoformat(),
            **figures["previous"],
        },
        "target": target,
        "above_target": None
        if target is None or headline["csat"] is None
        else headline["csat"] >= target,
        "small_sample": metrics.is_small_sample(n),
    }
    report["loop"] = loop_summary(survey, start, end, touchpoint=touchpoint, attrs=attrs)
    return report


def _scores(counts: Counts) -> dict[int, int]:
    """Answers per score, for the scores that have any."""
    return {score: n for score, n in enumerate(counts[:SATISFIED]) if n}


def _nps(question: Question | None, current) -> dict | None:
    if question is None:
        return None
    result = metrics.nps(_scores(current.get(question.pk) or empty_counts()))
    return {
        "question": question.key,
        "score": _round(result.score),
        "n": result.n,
        "promoters": result.promoters,
        "passives": result.passives,
        "detractors": result.detractors,
    }


def _ces(question: Question | None, current) -> dict | None:
    if question is None:
        return None
    result = metrics.ces(_scores(current.get(question.pk) or empty_counts()), question.satisfied)
    return {
        "question": question.key,
        "scale": question.scale,
        "mean": _round(result.mean),
        "n": result.n,
        "easy": result.easy,
        "easy_percent": _round(result.easy_percent),
    }


def question_table(
    survey: Survey,
    *,
    start: date,
    end: date,
    touchpoint: str | None = None,
    language: str | None = None,
    attrs: dict[str, str] | None = None,
    source: str = "rollups",
    **_ignored,
) -> list[dict]:
    """Every scored question of the survey over [start, end] in one read: {"key", "kind",
    "scale", "reversed", "csat", "n", "satisfied", "ci_low", "ci_high", "mean", "nps", "ces",
    "previous": {"csat", "n", "mean", "change", "significant"}}, each figure the one csat_report
    gives for that question (the same arithmetic, _question_figures). Accepts
    ReportQuery.report_arguments() (interval, group_by and question_key do not apply)."""
    questions = scored_questions(survey)
    filters = Filters(
        touchpoint=touchpoint,
        language=language,
        attrs=tuple(sorted((attrs or {}).items())),
    )
    prev_start, prev_end = periods.previous_range(start, end)
    spans = [Span(prev_start, prev_end), Span(start, end)]
    current: dict[int, Counts] = defaultdict(empty_counts)
    previous: dict[int, Counts] = defaultdict(empty_counts)
    counts = selectors.source(source)
    for question_id, period, cell in counts.answer_counts(
        survey, {q.pk for q in questions}, spans, filters
    ):
        add_counts(previous[question_id] if period < start else current[question_id], cell)
    return [
        {
            "key": q.key,
            "kind": q.kind,
            "scale": q.scale,
            "reversed": q.reversed,
            **_question_figures(current[q.pk], previous[q.pk]),
            "nps": _nps(q, current) if q.kind == scales.NPS else None,
            "ces": _ces(q, current) if q.kind == scales.CES else None,
        }
        for q in questions
    ]


def _question_figures(main: Counts, previous: Counts) -> dict:
    """One question's headline (CSAT, n, interval, mean) and its change vs the previous range."""
    n, satisfied = answers_of(main), main[SATISFIED]
    prev_n, prev_sat = answers_of(previous), previous[SATISFIED]
    comparison = metrics.two_proportion_test(satisfied, n, prev_sat, prev_n)
    return {
        **_proportion_fields(satisfied, n),
        "mean": _round(metrics.mean_score(_scores(main))),
        "previous": {
            **_proportion_fields(prev_sat, prev_n),
            "mean": _round(metrics.mean_score(_scores(previous))),
            "change": _round(comparison.change),
            "z": None if comparison.z is None else round(comparison.z, 3),
            "p_value": None if comparison.p_value is None else round(comparison.p_value, 4),
            "significant": comparison.significant,
        },
    }


def overview(start: date, end: date, *, source: str = "rollups") -> list[dict]:
    """Every active survey with its headline CSAT over [start, end] and a sparkline series."""
    interval = default_interval((end - start).days + 1)
    check_range(start, end, interval)
    out = []
    surveys = Survey.objects.filter(status=Survey.Status.ACTIVE).prefetch_related("questions")
    for survey in surveys:
        if survey.primary_question() is None:
            continue
        report = csat_report(survey, start=start, end=end, interval=interval, source=source)
        out.append(
            {
                "slug": survey.slug,
                "name": survey.name,
                "question": report["question"]["key"],
                "csat": report["csat"],
                "n": report["n"],
                "satisfied": report["satisfied"],
                "ci_low": report["ci_low"],
                "ci_high": report["ci_high"],
                "target": report["target"],
                "above_target": report["above_target"],
                "small_sample": report["small_sample"],
                "interval": interval,
                "series": [
                    {"period": s["period"], "csat": s["csat"], "n": s["n"]}
                    for s in report["series"]
                ],
            }
        )
    return out
