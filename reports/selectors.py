"""Counts for the reports, read either from the rollups or straight from the raw tables.

Both sources answer the same four questions with the same rows, so the figures built on them
(reports.service) are the same whichever source is used; the rollup-vs-raw test proves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, F, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate

from surveys.models import Answer, Invitation, Response, Survey, TouchpointEvent

from . import periods

TOTAL = ""  # the dimension of the totals
TOUCHPOINT = "touchpoint"
LANGUAGE = "language"
ATTR_PREFIX = "attr:"


def attr_dimension(name: str) -> str:
    return f"{ATTR_PREFIX}{name}"


@dataclass(frozen=True)
class Filters:
    """Equality filters of a report: touchpoint type, response language, attribute values."""

    touchpoint: str | None = None
    language: str | None = None
    attrs: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def dimensions(self) -> list[tuple[str, str]]:
        dims = []
        if self.touchpoint is not None:
            dims.append((TOUCHPOINT, self.touchpoint))
        if self.language is not None:
            dims.append((LANGUAGE, self.language))
        dims.extend((attr_dimension(name), value) for name, value in self.attrs)
        return dims


# (question_id, day, score, answers, satisfied)
DayRow = tuple[int, date, int, int, int]
# (value, score, answers, satisfied)
ValueRow = tuple[str, int, int, int]


class RawSource:
    """Counts by GROUP BY over responses and answers: the reference, and the fallback."""

    name = "raw"

    def _answers(self, survey: Survey, question_ids, first: date, last: date, filters: Filters):
        lo, hi = periods.day_bounds(first, last)
        qs = Answer.objects.filter(
            question_id__in=list(question_ids),
            score__isnull=False,
            response__survey_id=survey.pk,
            response__is_test=False,
            response__submitted_at__gte=lo,
            response__submitted_at__lt=hi,
        )
        for dim, value in filters.dimensions():
            qs = qs.annotate(**{_alias(dim): _answer_expression(dim)}).filter(
                **{_alias(dim): value}
            )
        return qs

    def counts_by_day(self, survey, question_ids, first, last, filters) -> list[DayRow]:
        qs = (
            self._answers(survey, question_ids, first, last, filters)
            .annotate(day=TruncDate("response__submitted_at", tzinfo=periods.site_zone()))
            .values("question_id", "day", "score")
            .annotate(n=Count("id"), sat=Count("id", filter=Q(satisfied=True)))
            .order_by()
        )
        return [(r["question_id"], r["day"], r["score"], r["n"], r["sat"]) for r in qs]

    def counts_by_value(self, survey, question_id, first, last, filters, dim) -> list[ValueRow]:
        qs = (
            self._answers(survey, [question_id], first, last, filters)
            .annotate(group_value=_answer_expression(dim))
            .filter(group_value__isnull=False)
            .values("group_value", "score")
            .annotate(n=Count("id"), sat=Count("id", filter=Q(satisfied=True)))
            .order_by()
        )
        return [(str(r["group_value"]), r["score"], r["n"], r["sat"]) for r in qs]

    def invitation_counts(self, survey, first, last, filters) -> tuple[int, int, int]:
        lo, hi = periods.day_bounds(first, last)
        qs = Invitation.objects.filter(
            survey_id=survey.pk, is_test=False, sent_at__gte=lo, sent_at__lt=hi
        )
        for dim, value in filters.dimensions():
            if dim == TOUCHPOINT:
                if value != survey.touchpoint:
                    return 0, 0, 0
                continue
            qs = qs.annotate(**{_alias(dim): _invitation_expression(dim)}).filter(
                **{_alias(dim): value}
            )
        row = qs.aggregate(
            sent=Count("id"),
            clicked=Count("id", filter=Q(clicked_at__isnull=False)),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
        )
        return row["sent"], row["clicked"], row["answered"]

    def coverage_counts(self, survey, first, last, touchpoint_type) -> tuple[int, int]:
        lo, hi = periods.day_bounds(first, last)
        respondents = (
            Response.objects.filter(
                survey_id=survey.pk,
                is_test=False,
                contact_id__isnull=False,
                submitted_at__gte=lo,
                submitted_at__lt=hi,
            )
            .values("contact_id")
            .distinct()
            .count()
        )
        customers = (
            TouchpointEvent.objects.filter(
                type=touchpoint_type, occurred_at__gte=lo, occurred_at__lt=hi
            )
            .values("contact_id")
            .distinct()
            .count()
        )
        return respondents, customers


def _alias(dim: str) -> str:
    return "filter_" + "".join(c if c.isalnum() else "_" for c in dim) + f"_{abs(hash(dim))}"


def _answer_expression(dim: str):
    if dim == TOUCHPOINT:
        return F("response__touchpoint_type")
    if dim == LANGUAGE:
        return F("response__locale")
    return KeyTextTransform(dim.removeprefix(ATTR_PREFIX), "response__attributes")


def _invitation_expression(dim: str):
    if dim == LANGUAGE:
        return F("locale")
    return KeyTextTransform(dim.removeprefix(ATTR_PREFIX), "attributes")
