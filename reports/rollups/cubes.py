"""Day rows of the answer and invitation cubes: recompute a survey's days from the raw rows.

The rows of a day range are read once and the total, every dimension and every pair of
dimensions counted with GROUPING SETS. Dimensions that overflow a day are recorded and left out
(reports read them raw).
"""

from __future__ import annotations

from datetime import date
from itertools import combinations

from django.conf import settings
from django.db import connection, transaction

from surveys.models import Question, Survey

from .. import periods
from ..models import AnswerCube, AnswerPairCube, Grain, InvitationCube, RollupOverflow
from ..vocabulary import ATTR_PREFIX, LANGUAGE, SCORE_SLOTS, TOUCHPOINT, VALUE_LENGTH
from . import common
from .comments import recompute_comments
from .common import ANSWER, INVITATION, dimensions_sql, lock, mark_months


def rows_of(model, survey_id: int):
    """A survey's rows of a rollup table, selected the way the table's index is laid out."""
    if model in (AnswerCube, AnswerPairCube):
        questions = Question.objects.filter(survey_id=survey_id).values("id")
        return model.objects.filter(question_id__in=questions)
    return model.objects.filter(survey_id=survey_id)


def _clear_days(models: tuple, survey_id: int, kind: str, first: date, last: date) -> None:
    for model in models:
        rows_of(model, survey_id).filter(
            grain=Grain.DAY, period__gte=first, period__lte=last
        ).delete()
    RollupOverflow.objects.filter(
        survey_id=survey_id, kind=kind, grain=Grain.DAY, period__gte=first, period__lte=last
    ).delete()


def recompute_answers(survey: Survey, first: date, last: date) -> None:
    """AnswerCube day rows of `survey` for the local days first..last (their months go dirty)."""
    lo, hi = periods.day_bounds(first, last)
    with transaction.atomic():
        lock(f"survey:{survey.pk}")
        _clear_days((AnswerCube, AnswerPairCube), survey.pk, ANSWER, first, last)
        _answers_sql(survey.pk, lo, hi)
        recompute_comments(survey, first, last)
        mark_months(survey.pk, first, last)


def recompute_invitations(survey: Survey, first: date, last: date) -> None:
    """InvitationCube day rows of `survey` for invitations sent on the local days first..last."""
    lo, hi = periods.day_bounds(first, last)
    with transaction.atomic():
        lock(f"survey:{survey.pk}")
        _clear_days((InvitationCube,), survey.pk, INVITATION, first, last)
        _invitations_sql(survey, lo, hi)
        mark_months(survey.pk, first, last)


# --- one pass with GROUPING SETS ---------------------------------------------------------------
# One column per dimension name of the range; GROUPING SETS counts the total, every column and
# every pair of columns.

_DAY_SQL = "(src.{column} AT TIME ZONE %(tz)s)::date"
_SCALAR = "('string', 'number', 'boolean')"


def _profile_sql(table: str, column: str, touchpoint: str, where: str, params: dict) -> dict:
    """{(day, dimension): distinct values} of the rows of a day range."""
    day = _DAY_SQL.format(column=column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {day}, d.dimension, count(DISTINCT d.value)
            FROM {table} src
            CROSS JOIN LATERAL ({dimensions_sql(touchpoint)}) d
            WHERE {where}
            GROUP BY 1, 2
            """,
            params,
        )
        return {(day, dim): n for day, dim, n in cursor.fetchall()}


def _dimension_columns(
    names: list[str], overflow: set[tuple[date, str]], *, touchpoint: str, day: str, params: dict
) -> list[str]:
    """One SELECT expression per dimension name (NULL where the row has no such value or the
    dimension overflowed that day); adds the key names and overflow days to `params`."""
    columns = []
    for i, name in enumerate(names):
        if name == TOUCHPOINT:
            expression = f"left({touchpoint}, {VALUE_LENGTH})"
        elif name == LANGUAGE:
            expression = f"left(src.locale, {VALUE_LENGTH})"
        else:
            params[f"key{i}"] = name.removeprefix(ATTR_PREFIX)
            expression = (
                f"CASE WHEN jsonb_typeof(src.attributes -> %(key{i})s) IN {_SCALAR} "
                f"THEN left(src.attributes ->> %(key{i})s, {VALUE_LENGTH}) END"
            )
        days = sorted(d.isoformat() for d, dim in overflow if dim == name)
        if days:
            params[f"overflow{i}"] = days
            expression = (
                f"CASE WHEN ({day})::text = ANY(%(overflow{i})s::text[]) THEN NULL "
                f"ELSE {expression} END"
            )
        columns.append(f"{expression} AS c{i}")
    return columns


def _grouping_insert(
    *,
    table: str,
    pair_table: str | None = None,
    keys: list[str],
    measures: dict[str, str],
    source: str,
    names: list[str],
) -> str:
    """INSERT ... SELECT of day rows from `source` (columns: keys, day, c0..cn and what
    `measures` read): the total, each dimension c_i and each pair (c_i, c_j), i < j. Pairs go
    to `pair_table` when given (else to `table`, which then has dimension2/value2 columns)."""
    width = len(names)
    columns = [f"x.c{i}" for i in range(width)]
    sets = [(), *((i,) for i in range(width)), *combinations(range(width), 2)]

    def mask(chosen: tuple[int, ...]) -> int:  # GROUPING(): a 1 bit for each column left out
        return sum(1 << (width - 1 - i) for i in range(width) if i not in chosen)

    def case(pick, of_sets) -> str:
        branches = " ".join(f"WHEN {mask(s)} THEN {pick(s)}" for s in of_sets)
        return f"CASE g.mask {branches} ELSE '' END" if branches else "''"

    def kept(of_sets) -> str:
        return (
            " OR ".join(
                f"(g.mask = {mask(s)}{''.join(f' AND g.c{i} IS NOT NULL' for i in s)})"
                for s in of_sets
            )
            or "false"
        )

    singles = [s for s in sets if len(s) < 2]
    pairs = [s for s in sets if len(s) == 2]
    first = case(lambda s: f"%(name{s[0]})s", [s for s in sets if s])
    first_value = case(lambda s: f"g.c{s[0]}", [s for s in sets if s])
    second = case(lambda s: f"%(name{s[1]})s", pairs)
    second_value = case(lambda s: f"g.c{s[1]}", pairs)
    grouping = ", ".join("(" + ", ".join(columns[i] for i in s) + ")" for s in sets)
    key_list = "".join(f"x.{k}, " for k in keys)
    into = f"survey_id, {''.join(f'{k}, ' for k in keys)}grain, period"
    select = f"%(survey)s, {''.join(f'g.{k}, ' for k in keys)}'d', g.day"
    counted = ", ".join(measures)
    sums = ", ".join(f"g.{m}" for m in measures)
    grouped = f"""
        SELECT {key_list}x.day, {", ".join(columns)}, GROUPING({", ".join(columns)}) AS mask,
               {", ".join(f"{expression} AS {m}" for m, expression in measures.items())}
        FROM ({source}) x
        GROUP BY {key_list}x.day, GROUPING SETS ({grouping})
    """
    if pair_table is None:
        return f"""
            INSERT INTO {table} ({into}, dimension, value, dimension2, value2, {counted})
            SELECT {select}, {first}, {first_value}, {second}, {second_value}, {sums}
            FROM ({grouped}) g WHERE {kept(sets)}
        """
    return f"""
        WITH g AS MATERIALIZED ({grouped}),
        singles AS (
            INSERT INTO {table} ({into}, dimension, value, {counted})
            SELECT {select}, {first}, {first_value}, {sums} FROM g WHERE {kept(singles)}
        )
        INSERT INTO {pair_table} ({into}, dimension, value, dimension2, value2, {counted})
        SELECT {select}, {first}, {first_value}, {second}, {second_value}, {sums}
        FROM g WHERE {kept(pairs)}
    """


def _cube_sql(
    *,
    kind: str,
    survey_id: int,
    lo,
    hi,
    table: str,
    column: str,
    touchpoint: str,
    where: str,
    params: dict,
    build,
) -> None:
    """Profile the day range, record what overflows, insert the cube rows (per day when the
    range holds more dimension names than one pass should group)."""
    profile = _profile_sql(table, column, touchpoint, where, params)
    overflow = common.overflow_of(profile)
    common.store_overflow(survey_id, kind, overflow)
    names = sorted({dim for (day, dim) in profile if (day, dim) not in overflow})
    if not names:
        return
    if len(names) > common.MAX_DIMENSIONS:
        days = sorted({day for day, _dim in profile})
        for day in days:
            day_lo, day_hi = periods.day_bounds(day, day)
            day_names = sorted(dim for (d, dim) in profile if d == day and (d, dim) not in overflow)
            build({**params, "lo": day_lo, "hi": day_hi}, day_names, overflow)
        return
    build(params, names, overflow)


def _answers_sql(survey_id: int, lo, hi) -> None:
    params = {"survey": survey_id, "lo": lo, "hi": hi, "tz": settings.TIME_ZONE}
    where = (
        "src.survey_id = %(survey)s AND src.submitted_at >= %(lo)s "
        "AND src.submitted_at < %(hi)s AND NOT src.is_test"
    )
    day = _DAY_SQL.format(column="submitted_at")

    def build(params: dict, names: list[str], overflow) -> None:
        params = {**params, **{f"name{i}": name for i, name in enumerate(names)}}
        columns = _dimension_columns(
            names, overflow, touchpoint="src.touchpoint_type", day=day, params=params
        )
        source = f"""
            SELECT a.question_id, {day} AS day, a.score, a.satisfied, {", ".join(columns)}
            FROM surveys_response src JOIN surveys_answer a ON a.response_id = src.id
            WHERE {where} AND a.score IS NOT NULL
        """
        measures = {f"n{s}": f"count(*) FILTER (WHERE x.score = {s})" for s in range(SCORE_SLOTS)}
        measures["satisfied"] = "count(*) FILTER (WHERE x.satisfied)"
        sql = _grouping_insert(
            table="reports_answercube",
            pair_table="reports_answerpaircube",
            keys=["question_id"],
            measures=measures,
            source=source,
            names=names,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    _cube_sql(
        kind=ANSWER,
        survey_id=survey_id,
        lo=lo,
        hi=hi,
        table="surveys_response",
        column="submitted_at",
        touchpoint="src.touchpoint_type",
        where=where,
        params=params,
        build=build,
    )


def _invitations_sql(survey: Survey, lo, hi) -> None:
    params = {
        "survey": survey.pk,
        "lo": lo,
        "hi": hi,
        "tz": settings.TIME_ZONE,
        "touchpoint": survey.touchpoint,
    }
    where = (
        "src.survey_id = %(survey)s AND src.sent_at >= %(lo)s AND src.sent_at < %(hi)s "
        "AND NOT src.is_test"
    )
    day = _DAY_SQL.format(column="sent_at")

    def build(params: dict, names: list[str], overflow) -> None:
        params = {**params, **{f"name{i}": name for i, name in enumerate(names)}}
        columns = _dimension_columns(
            names, overflow, touchpoint="%(touchpoint)s", day=day, params=params
        )
        source = f"""
            SELECT {day} AS day, src.bounced_at, src.clicked_at, src.answered_at,
                   src.answered_at IS NOT NULL AND EXISTS (
                       SELECT 1 FROM surveys_response r
                       JOIN surveys_answer a ON a.response_id = r.id
                       JOIN surveys_question q ON q.id = a.question_id
                       WHERE r.invitation_id = src.id AND q.kind = 'comment' AND a.text <> ''
                   ) AS commented,
                   {", ".join(columns)}
            FROM surveys_invitation src
            WHERE {where}
        """
        sql = _grouping_insert(
            table="reports_invitationcube",
            keys=[],
            measures={
                "sent": "count(*)",
                "bounced": "count(x.bounced_at)",
                "clicked": "count(x.clicked_at)",
                "answered": "count(x.answered_at)",
                "commented": "count(*) FILTER (WHERE x.commented)",
            },
            source=source,
            names=names,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    _cube_sql(
        kind=INVITATION,
        survey_id=survey.pk,
        lo=lo,
        hi=hi,
        table="surveys_invitation",
        column="sent_at",
        touchpoint="%(touchpoint)s",
        where=where,
        params=params,
        build=build,
    )
