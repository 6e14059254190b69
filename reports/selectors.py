"""Counts for the reports, read either from the rollups or straight from the raw tables.

Both sources answer the same four questions with the same rows, so the figures built on them
(reports.service) are the same whichever source is used; the rollup-vs-raw test proves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, F, Q, Sum, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate

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
    return _attribute(dim, "response__attributes")


def _invitation_expression(dim: str):
    if dim == LANGUAGE:
        return F("locale")
    return _attribute(dim, "attributes")


def _attribute(dim: str, field_name: str):
    # Cast: compared as text, not as JSON (SQLite would parse the value as a JSON document)
    return Cast(KeyTextTransform(dim.removeprefix(ATTR_PREFIX), field_name), TextField())


class RollupSource:
    """Counts from the rollups. Exact for: no filter, one filter, two filters, and one filter
    with a breakdown on another dimension (pair rollups). Rarer combinations (three or more
    filters, or two filters with a breakdown) read the raw tables; `used` tells which it was."""

    name = "rollups"

    def __init__(self) -> None:
        self.raw = RawSource()
        self.used = "rollups"

    def _fallback(self):
        self.used = "raw"
        return self.raw

    def counts_by_day(self, survey, question_ids, first, last, filters) -> list[DayRow]:
        from .models import AnswerPairRollup, AnswerRollup

        dims = sorted(filters.dimensions())
        base = {"question_id__in": list(question_ids), "day__gte": first, "day__lte": last}
        if len(dims) == 0:
            qs = AnswerRollup.objects.filter(dimension=TOTAL, value="", **base)
        elif len(dims) == 1:
            qs = AnswerRollup.objects.filter(dimension=dims[0][0], value=dims[0][1], **base)
        elif len(dims) == 2:
            (dim1, value1), (dim2, value2) = dims
            qs = AnswerPairRollup.objects.filter(
                dimension=dim1, value=value1, dimension2=dim2, value2=value2, **base
            )
        else:
            return self._fallback().counts_by_day(survey, question_ids, first, last, filters)
        rows = (
            qs.values("question_id", "day", "score")
            .annotate(n=Sum("answers"), sat=Sum("satisfied"))
            .order_by()
            .values_list("question_id", "day", "score", "n", "sat")
        )
        return list(rows)

    def counts_by_value(self, survey, question_id, first, last, filters, dim) -> list[ValueRow]:
        from .models import AnswerPairRollup, AnswerRollup

        dims = filters.dimensions()
        base = {"question_id": question_id, "day__gte": first, "day__lte": last}
        if not dims or (len(dims) == 1 and dims[0][0] == dim):
            qs = AnswerRollup.objects.filter(dimension=dim, **base)
            if dims:
                qs = qs.filter(value=dims[0][1])
            field = "value"
        elif len(dims) == 1:
            f_dim, f_value = dims[0]
            if f_dim < dim:
                qs = AnswerPairRollup.objects.filter(
                    dimension=f_dim, value=f_value, dimension2=dim, **base
                )
                field = "value2"
            else:
                qs = AnswerPairRollup.objects.filter(
                    dimension2=f_dim, value2=f_value, dimension=dim, **base
                )
                field = "value"
        else:
            return self._fallback().counts_by_value(survey, question_id, first, last, filters, dim)
        rows = (
            qs.values(field, "score")
            .annotate(n=Sum("answers"), sat=Sum("satisfied"))
            .order_by()
            .values_list(field, "score", "n", "sat")
        )
        return list(rows)

    def invitation_counts(self, survey, first, last, filters) -> tuple[int, int, int]:
        from .models import InvitationRollup

        dims = filters.dimensions()
        if len(dims) > 1:
            return self.raw.invitation_counts(survey, first, last, filters)
        dim, value = dims[0] if dims else (TOTAL, "")
        row = InvitationRollup.objects.filter(
            survey_id=survey.pk, dimension=dim, value=value, day__gte=first, day__lte=last
        ).aggregate(sent=Sum("sent"), clicked=Sum("clicked"), answered=Sum("answered"))
        return row["sent"] or 0, row["clicked"] or 0, row["answered"] or 0

    def coverage_counts(self, survey, first, last, touchpoint_type) -> tuple[int, int]:
        from .models import CoverageRollup
        from .rollups import customers_scope, respondents_scope

        def distinct(scope: str) -> int:
            return (
                CoverageRollup.objects.filter(scope=scope, day__gte=first, day__lte=last)
                .filter(Q(previous_day__isnull=True) | Q(previous_day__lt=first))
                .aggregate(n=Sum("contacts"))["n"]
                or 0
            )

        return distinct(respondents_scope(survey.pk)), distinct(customers_scope(touchpoint_type))
