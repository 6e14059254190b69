"""Counts by GROUP BY over responses and answers: exact on any database, the reference the
rollups are tested against, and what the SQLite demo reads."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, Exists, F, OuterRef, Q, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate

from surveys import scales
from surveys.models import Answer, Invitation, Response, Survey, TouchpointEvent

from .. import periods
from ..vocabulary import (
    ATTR_PREFIX,
    INVITATION_FIELDS,
    LANGUAGE,
    SATISFIED,
    TOUCHPOINT,
    Counts,
    dimensions_of,
    empty_counts,
)
from .request import Filters, PeriodRow, Span, ValueRow


class RawSource:
    """Counts by GROUP BY over the raw rows (see the module doc)."""

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

    def answer_counts(self, survey, question_ids, spans: list[Span], filters) -> list[PeriodRow]:
        cells: dict[tuple[int, date], Counts] = defaultdict(empty_counts)
        for span in spans:
            qs = (
                self._answers(survey, question_ids, span.first, span.last, filters)
                .annotate(day=TruncDate("response__submitted_at", tzinfo=periods.site_zone()))
                .values("question_id", "day", "score")
                .annotate(n=Count("id"), sat=Count("id", filter=Q(satisfied=True)))
                .order_by()
            )
            for row in qs:
                cell = cells[(row["question_id"], row["day"])]
                cell[row["score"]] += row["n"]
                cell[SATISFIED] += row["sat"]
        return [(question_id, day, counts) for (question_id, day), counts in cells.items()]

    def value_counts(self, survey, question_id, first, last, filters, dim) -> list[ValueRow]:
        qs = (
            self._answers(survey, [question_id], first, last, filters)
            .annotate(group_value=_answer_expression(dim))
            .filter(group_value__isnull=False)
            .values("group_value", "score")
            .annotate(n=Count("id"), sat=Count("id", filter=Q(satisfied=True)))
            .order_by()
        )
        cells: dict[str, Counts] = defaultdict(empty_counts)
        for row in qs:
            cell = cells[str(row["group_value"])]
            cell[row["score"]] += row["n"]
            cell[SATISFIED] += row["sat"]
        return list(cells.items())

    def invitation_counts(self, survey, first, last, filters) -> dict[str, int]:
        lo, hi = periods.day_bounds(first, last)
        qs = Invitation.objects.filter(
            survey_id=survey.pk, is_test=False, sent_at__gte=lo, sent_at__lt=hi
        )
        for dim, value in filters.dimensions():
            if dim == TOUCHPOINT:
                if value != survey.touchpoint:
                    return dict.fromkeys(INVITATION_FIELDS, 0)
                continue
            qs = qs.annotate(**{_alias(dim): _invitation_expression(dim)}).filter(
                **{_alias(dim): value}
            )
        commented = Answer.objects.filter(
            response__invitation=OuterRef("pk"), question__kind=scales.COMMENT
        ).exclude(text="")
        return qs.aggregate(
            sent=Count("id"),
            bounced=Count("id", filter=Q(bounced_at__isnull=False)),
            clicked=Count("id", filter=Q(clicked_at__isnull=False)),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            commented=Count("id", filter=Q(Exists(commented), answered_at__isnull=False)),
        )

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

    def dimension_values(self, survey, question_id, first, last) -> dict[str, set[str]]:
        """The values each dimension took in first..last among the question's answers."""
        rows = (
            self._answers(survey, [question_id], first, last, Filters())
            .values_list("response__touchpoint_type", "response__locale", "response__attributes")
            .distinct()
        )
        values: dict[str, set[str]] = defaultdict(set)
        for touchpoint, locale, attributes in rows:
            for dimension, value in dimensions_of(touchpoint, locale, attributes):
                values[dimension].add(value)
        return values


def _alias(dim: str) -> str:
    return "filter_" + "".join(c if c.isalnum() else "_" for c in dim) + f"_{abs(hash(dim))}"


def _answer_expression(dim: str):
    if dim == TOUCHPOINT:
        return F("response__touchpoint_type")
    if dim == LANGUAGE:
        return F("response__locale")
    return _attribute(dim, "response__attributes")


def _invitation_expression(dim: str):
    if dim == LANGUAGE:
        return F("locale")
    return _attribute(dim, "attributes")


def _attribute(dim: str, field_name: str):
    return attribute_value(dim.removeprefix(ATTR_PREFIX), field_name)


def attribute_value(name: str, field_name: str):
    """The attribute `name` of the JSON field `field_name` as text: reports compare attribute
    values as the text they arrived as (not as JSON, which SQLite would parse)."""
    return Cast(KeyTextTransform(name, field_name), TextField())
