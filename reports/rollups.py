"""Writing the rollups: recompute one survey day, rebuild from scratch, fold in what is new.

Every recompute deletes the rows of a (survey, day range) and inserts them again from the raw
tables in one transaction, under a per-survey advisory lock on PostgreSQL, so running it twice,
or concurrently with the beat task, gives the same rows. PostgreSQL computes the rows with
INSERT ... SELECT ... GROUP BY; other databases (the SQLite demo) with the same rules in Python.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from itertools import accumulate, combinations, groupby

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from surveys import scales
from surveys.models import Answer, Invitation, Question, Response, Survey, TouchpointEvent

from . import periods
from .models import (
    SCORE_SLOTS,
    TOTAL_MONTH,
    AnswerCube,
    AnswerPairCube,
    CommentCount,
    CommentRollup,
    ContactDay,
    CoverageGrid,
    CoverageRollup,
    DirtyDay,
    DirtyMonth,
    Grain,
    InvitationCube,
    RollupOverflow,
    RollupWatermark,
)
from .selectors import (
    ATTR_PREFIX,
    KEY_LENGTH,
    LANGUAGE,
    TOTAL,
    TOUCHPOINT,
    VALUE_LENGTH,
    attr_dimension,
)

WATERMARK_MARGIN = 200  # ids re-read every run: a transaction may commit after a higher id


def respondents_scope(survey_id: int) -> str:
    return f"respondents:{survey_id}"


def customers_scope(touchpoint_type: str) -> str:
    return f"customers:{touchpoint_type}"[:60]


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def _lock(key: str) -> None:
    """Serialize recomputes of one survey or scope (PostgreSQL; SQLite serializes writers)."""
    if on_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(4242, hashtext(%s))", [key])


# --- dimensions ------------------------------------------------------------------------------


def attribute_text(value) -> str | None:
    """An attribute value as rollup text; None for null, lists and objects (not counted)."""
    if isinstance(value, str):
        return value[:VALUE_LENGTH]
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def dimensions_of(touchpoint_type: str, locale: str, attributes) -> list[tuple[str, str]]:
    """The (dimension, value) pairs a response or invitation is counted under, sorted."""
    dims = [(TOUCHPOINT, touchpoint_type[:VALUE_LENGTH]), (LANGUAGE, locale[:VALUE_LENGTH])]
    if isinstance(attributes, dict):
        for name, raw in attributes.items():
            text = attribute_text(raw)
            if text is not None and len(name) <= KEY_LENGTH:
                dims.append((attr_dimension(name), text))
    return sorted(dims)


# PostgreSQL: the same dimensions as dimensions_of, for a row aliased `src`.
_DIMENSIONS_SQL = """
    SELECT 'touchpoint' AS dimension, left({touchpoint}, 200) AS value
    UNION ALL SELECT 'language', left(src.locale, 200)
    UNION ALL SELECT 'attr:' || e.key, left(e.value #>> '{{}}', 200)
      FROM jsonb_each(CASE WHEN jsonb_typeof(src.attributes) = 'object'
                           THEN src.attributes ELSE '{{}}'::jsonb END) e
      WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean') AND length(e.key) <= 100
"""


# --- answers and invitations: the day rows ---------------------------------------------------

COUNTS = [f"n{score}" for score in range(SCORE_SLOTS)]
MAX_DIMENSIONS = 16  # per survey day: the total, 16 dimensions and their 120 pairs per row
ANSWER = RollupOverflow.Kind.ANSWERS
INVITATION = RollupOverflow.Kind.INVITATIONS


def max_values() -> int:
    """Distinct values a dimension may have on one survey day before it overflows."""
    return settings.REPORTS_MAX_DIMENSION_VALUES


def _mark_months(survey_id: int, first: date, last: date) -> None:
    DirtyMonth.objects.bulk_create(
        [
            DirtyMonth(survey_id=survey_id, month=periods.period_start(lo, "month"))
            for lo, _hi in month_chunks(first, last)
        ],
        ignore_conflicts=True,
    )


def _rows_of(model, survey_id: int):
    """A survey's rows of a rollup table, selected the way the table's index is laid out."""
    if model in (AnswerCube, AnswerPairCube):
        questions = Question.objects.filter(survey_id=survey_id).values("id")
        return model.objects.filter(question_id__in=questions)
    return model.objects.filter(survey_id=survey_id)


def _clear_days(models: tuple, survey_id: int, kind: str, first: date, last: date) -> None:
    for model in models:
        _rows_of(model, survey_id).filter(
            grain=Grain.DAY, period__gte=first, period__lte=last
        ).delete()
    RollupOverflow.objects.filter(
        survey_id=survey_id, kind=kind, grain=Grain.DAY, period__gte=first, period__lte=last
    ).delete()


def recompute_answers(survey: Survey, first: date, last: date) -> None:
    """AnswerCube day rows of `survey` for the local days first..last (their months go dirty)."""
    lo, hi = periods.day_bounds(first, last)
    with transaction.atomic():
        _lock(f"survey:{survey.pk}")
        _clear_days((AnswerCube, AnswerPairCube), survey.pk, ANSWER, first, last)
        if on_postgres():
            _answers_sql(survey.pk, lo, hi)
        else:
            _answers_python(survey.pk, lo, hi)
        _comments(survey, first, last)
        _mark_months(survey.pk, first, last)


def recompute_invitations(survey: Survey, first: date, last: date) -> None:
    """InvitationCube day rows of `survey` for invitations sent on the local days first..last."""
    lo, hi = periods.day_bounds(first, last)
    with transaction.atomic():
        _lock(f"survey:{survey.pk}")
        _clear_days((InvitationCube,), survey.pk, INVITATION, first, last)
        if on_postgres():
            _invitations_sql(survey, lo, hi)
        else:
            _invitations_python(survey, lo, hi)
        _mark_months(survey.pk, first, last)


def _store_overflow(survey_id: int, kind: str, overflow: Iterable[tuple[date, str]]) -> None:
    RollupOverflow.objects.bulk_create(
        RollupOverflow(survey_id=survey_id, kind=kind, grain=Grain.DAY, period=d, dimension=dim)
        for d, dim in sorted(set(overflow))
    )


def _overflow_of(distinct: dict[tuple[date, str], int]) -> set[tuple[date, str]]:
    """The (day, dimension) pairs without cube rows: more distinct values that day than
    max_values(), or beyond the first MAX_DIMENSIONS dimensions (by name) of the day."""
    cap = max_values()
    by_day: dict[date, list[tuple[str, int]]] = defaultdict(list)
    for (day, dim), n in distinct.items():
        by_day[day].append((dim, n))
    out = set()
    for day, dims in by_day.items():
        kept = 0
        for dim, n in sorted(dims):
            if n > cap or kept >= MAX_DIMENSIONS:
                out.add((day, dim))
            else:
                kept += 1
    return out


# --- PostgreSQL: one pass with GROUPING SETS ---------------------------------------------------
# The rows of a day range are read once; GROUPING SETS counts the total, every dimension and
# every pair of dimensions in that one pass (one column per dimension name of the range).

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
            CROSS JOIN LATERAL ({_DIMENSIONS_SQL.format(touchpoint=touchpoint)}) d
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
    overflow = _overflow_of(profile)
    _store_overflow(survey_id, kind, overflow)
    names = sorted({dim for (day, dim) in profile if (day, dim) not in overflow})
    if not names:
        return
    if len(names) > MAX_DIMENSIONS:
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


def _profile_python(rows: Iterable[tuple[date, list[tuple[str, str]]]]) -> set[tuple[date, str]]:
    """What overflows among rows given as (day, their dimensions)."""
    seen: dict[tuple[date, str], set[str]] = defaultdict(set)
    for day, dims in rows:
        for dim, value in dims:
            seen[(day, dim)].add(value)
    return _overflow_of({key: len(values) for key, values in seen.items()})


def _combinations(dims: list[tuple[str, str]]):
    """The cube keys (dimension, value, dimension2, value2) a row with `dims` is counted under."""
    yield TOTAL, "", TOTAL, ""
    for dim, value in dims:
        yield dim, value, TOTAL, ""
    for (dim1, value1), (dim2, value2) in combinations(dims, 2):
        yield dim1, value1, dim2, value2


def _answers_python(survey_id: int, lo, hi) -> None:
    responses = Response.objects.filter(
        survey_id=survey_id, is_test=False, submitted_at__gte=lo, submitted_at__lt=hi
    )
    overflow = _profile_python(
        (periods.local_day(at), dimensions_of(touchpoint, locale, attributes))
        for at, touchpoint, locale, attributes in responses.values_list(
            "submitted_at", "touchpoint_type", "locale", "attributes"
        ).iterator()
    )
    _store_overflow(survey_id, ANSWER, overflow)
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0] * (SCORE_SLOTS + 1))
    rows = Answer.objects.filter(response__in=responses, score__isnull=False).values_list(
        "question_id",
        "score",
        "satisfied",
        "response__submitted_at",
        "response__touchpoint_type",
        "response__locale",
        "response__attributes",
    )
    for question_id, score, satisfied, at, touchpoint, locale, attributes in rows.iterator():
        day = periods.local_day(at)
        dims = [
            d for d in dimensions_of(touchpoint, locale, attributes) if (day, d[0]) not in overflow
        ]
        for key in _combinations(dims):
            cell = cells[(question_id, day, *key)]
            cell[score] += 1
            cell[SCORE_SLOTS] += bool(satisfied)
    AnswerCube.objects.bulk_create(
        (
            AnswerCube(
                survey_id=survey_id,
                question_id=question_id,
                grain=Grain.DAY,
                period=day,
                dimension=dim1,
                value=value1,
                satisfied=cell[SCORE_SLOTS],
                **dict(zip(COUNTS, cell, strict=False)),
            )
            for (question_id, day, dim1, value1, dim2, _v2), cell in cells.items()
            if not dim2
        ),
        batch_size=2000,
    )
    AnswerPairCube.objects.bulk_create(
        (
            AnswerPairCube(
                survey_id=survey_id,
                question_id=question_id,
                grain=Grain.DAY,
                period=day,
                dimension=dim1,
                value=value1,
                dimension2=dim2,
                value2=value2,
                satisfied=cell[SCORE_SLOTS],
                **dict(zip(COUNTS, cell, strict=False)),
            )
            for (question_id, day, dim1, value1, dim2, value2), cell in cells.items()
            if dim2
        ),
        batch_size=2000,
    )


def _invitations_python(survey: Survey, lo, hi) -> None:
    invitations = list(
        Invitation.objects.filter(
            survey_id=survey.pk, is_test=False, sent_at__gte=lo, sent_at__lt=hi
        )
        .annotate(
            commented=Exists(
                Answer.objects.filter(
                    response__invitation=OuterRef("pk"), question__kind=scales.COMMENT
                ).exclude(text="")
            )
        )
        .values_list(
            "sent_at",
            "bounced_at",
            "clicked_at",
            "answered_at",
            "commented",
            "locale",
            "attributes",
        )
    )
    dims_of = [
        (periods.local_day(row[0]), dimensions_of(survey.touchpoint, row[5], row[6]))
        for row in invitations
    ]
    overflow = _profile_python(dims_of)
    _store_overflow(survey.pk, INVITATION, overflow)
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0] * 5)
    for (_sent, bounced, clicked, answered, commented, *_), (day, dims) in zip(
        invitations, dims_of, strict=True
    ):
        kept = [d for d in dims if (day, d[0]) not in overflow]
        answered = answered is not None
        flags = (1, bounced is not None, clicked is not None, answered, answered and commented)
        for key in _combinations(kept):
            cell = cells[(day, *key)]
            for i, flag in enumerate(flags):
                cell[i] += bool(flag)
    InvitationCube.objects.bulk_create(
        (
            InvitationCube(
                survey_id=survey.pk,
                grain=Grain.DAY,
                period=day,
                dimension=dim1,
                value=value1,
                dimension2=dim2,
                value2=value2,
                sent=cell[0],
                bounced=cell[1],
                clicked=cell[2],
                answered=cell[3],
                commented=cell[4],
            )
            for (day, dim1, value1, dim2, value2), cell in cells.items()
        ),
        batch_size=2000,
    )


# --- comments: what the comments page sorts, pages and counts by ---------------------------------


def _comments(survey: Survey, first: date, last: date) -> None:
    """CommentRollup rows of the comments of the local days first..last, and their counts."""
    from .responses import band_of, with_primary_answer

    lo, hi = periods.day_bounds(first, last)
    CommentRollup.objects.filter(survey_id=survey.pk, day__gte=first, day__lte=last).delete()
    CommentCount.objects.filter(
        survey_id=survey.pk, grain=Grain.DAY, period__gte=first, period__lte=last
    ).delete()
    rows = with_primary_answer(
        Answer.objects.filter(
            question__survey_id=survey.pk,
            question__kind=scales.COMMENT,
            response__is_test=False,
            response__submitted_at__gte=lo,
            response__submitted_at__lt=hi,
        ).exclude(text=""),
        survey.primary_question(),
    ).values_list("pk", "response_id", "response__submitted_at", "p_norm", "p_satisfied")
    batch: list[CommentRollup] = []
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for pk, response_id, at, norm, satisfied in rows.iterator(chunk_size=5000):
        day = periods.local_day(at)
        band = band_of(satisfied, norm)
        counts[(day, band)] += 1
        batch.append(
            CommentRollup(
                answer_id=pk,
                survey_id=survey.pk,
                response_id=response_id,
                submitted_at=at,
                day=day,
                norm=norm,
                band=band,
            )
        )
        if len(batch) >= 5000:
            CommentRollup.objects.bulk_create(batch)
            batch = []
    CommentRollup.objects.bulk_create(batch)
    CommentCount.objects.bulk_create(
        CommentCount(survey_id=survey.pk, grain=Grain.DAY, period=day, band=band, comments=n)
        for (day, band), n in counts.items()
    )


# --- months: the sums of their day rows ------------------------------------------------------

_MONTH_SQL = """
    INSERT INTO {table} ({keys}, grain, period, {counters})
    SELECT {keys}, 'm', %(month)s, {sums}
    FROM {table} c
    WHERE {rows} AND c.grain = 'd' AND c.period >= %(first)s AND c.period <= %(last)s
      AND NOT EXISTS (
        SELECT 1 FROM reports_rollupoverflow o
        WHERE o.survey_id = %(survey)s AND o.kind = %(kind)s AND o.grain = 'm'
          AND o.period = %(month)s AND o.dimension IN ({dimensions})
      )
    GROUP BY {keys}
"""
# The month rows of each cube: (table, its keys, its counters, overflow kind, dimensions).
_QUESTIONS_OF_SURVEY = (
    "c.question_id IN (SELECT id FROM surveys_question WHERE survey_id = %(survey)s)"
)
_MONTHS = [
    (
        "reports_answercube",
        "survey_id, question_id, dimension, value",
        [*COUNTS, "satisfied"],
        ANSWER,
        "c.dimension",
    ),
    (
        "reports_answerpaircube",
        "survey_id, question_id, dimension, value, dimension2, value2",
        [*COUNTS, "satisfied"],
        ANSWER,
        "c.dimension, c.dimension2",
    ),
    (
        "reports_invitationcube",
        "survey_id, dimension, value, dimension2, value2",
        ["sent", "bounced", "clicked", "answered", "commented"],
        INVITATION,
        "c.dimension, c.dimension2",
    ),
]


def current_month() -> date:
    return periods.local_day(timezone.now()).replace(day=1)


def recompute_month(survey_id: int, month: date) -> None:
    """The month rows of both cubes: sums of the month's day rows, without the dimensions that
    overflowed on any of its days. The month stops being dirty."""
    last = periods.next_period(month, "month") - timedelta(days=1)
    params = {"survey": survey_id, "month": month, "first": month, "last": last}
    with transaction.atomic():
        _lock(f"survey:{survey_id}")
        for model in (AnswerCube, AnswerPairCube, InvitationCube):
            _rows_of(model, survey_id).filter(grain=Grain.MONTH, period=month).delete()
        RollupOverflow.objects.filter(survey_id=survey_id, grain=Grain.MONTH, period=month).delete()
        RollupOverflow.objects.bulk_create(
            RollupOverflow(
                survey_id=survey_id, kind=kind, grain=Grain.MONTH, period=month, dimension=dim
            )
            for kind, dim in RollupOverflow.objects.filter(
                survey_id=survey_id, grain=Grain.DAY, period__gte=month, period__lte=last
            )
            .values_list("kind", "dimension")
            .distinct()
            .order_by()
        )
        CommentCount.objects.filter(survey_id=survey_id, grain=Grain.MONTH, period=month).delete()
        CommentCount.objects.bulk_create(
            CommentCount(
                survey_id=survey_id, grain=Grain.MONTH, period=month, band=band, comments=n
            )
            for band, n in CommentCount.objects.filter(
                survey_id=survey_id, grain=Grain.DAY, period__gte=month, period__lte=last
            )
            .values("band")
            .annotate(n=Sum("comments"))
            .order_by()
            .values_list("band", "n")
        )
        with connection.cursor() as cursor:
            for table, keys, counters, kind, dimensions in _MONTHS:
                cursor.execute(
                    _MONTH_SQL.format(
                        table=table,
                        keys=keys,
                        counters=", ".join(counters),
                        sums=", ".join(f"sum({c})" for c in counters),
                        rows=_QUESTIONS_OF_SURVEY
                        if "question_id" in keys
                        else "c.survey_id = %(survey)s",
                        dimensions=dimensions,
                    ),
                    {**params, "kind": str(kind)},
                )
        DirtyMonth.objects.filter(survey_id=survey_id, month=month).delete()


# --- coverage: distinct contacts ---------------------------------------------------------------


def _scope_rows(scope: str):
    """(contact_id, local datetime field) rows of a scope's raw table, and the time field."""
    kind, _, key = scope.partition(":")
    if kind == "respondents":
        qs = Response.objects.filter(survey_id=int(key), is_test=False, contact_id__isnull=False)
        return qs, "submitted_at"
    return TouchpointEvent.objects.filter(type=key), "occurred_at"


def _scope_contacts(scope: str, day: date) -> set[int]:
    qs, field = _scope_rows(scope)
    lo, hi = periods.day_bounds(day, day)
    return set(
        qs.filter(**{f"{field}__gte": lo, f"{field}__lt": hi})
        .values_list("contact_id", flat=True)
        .distinct()
    )


def recompute_contact_day(scope: str, day: date) -> None:
    """Bring the ContactDay rows of one scope day, and their successors, in line with the raw rows."""
    with transaction.atomic():
        _lock(scope)
        active = _scope_contacts(scope, day)
        stored = dict(
            ContactDay.objects.filter(scope=scope, day=day).values_list(
                "contact_id", "previous_day"
            )
        )
        added = active - stored.keys()
        removed = stored.keys() - active
        if not added and not removed:
            return
        ContactDay.objects.filter(scope=scope, day=day, contact_id__in=removed).delete()
        before = dict(
            ContactDay.objects.filter(scope=scope, contact_id__in=added, day__lt=day)
            .values("contact_id")
            .annotate(last=Max("day"))
            .values_list("contact_id", "last")
        )
        ContactDay.objects.bulk_create(
            [
                ContactDay(scope=scope, contact_id=c, day=day, previous_day=before.get(c))
                for c in added
            ],
            batch_size=2000,
        )
        touched = {day}
        successors = (
            ContactDay.objects.filter(scope=scope, contact_id__in=added | removed, day__gt=day)
            .values("contact_id")
            .annotate(first=Min("day"))
            .values_list("contact_id", "first")
        )
        for contact_id, next_day in successors:
            previous = day if contact_id in added else stored[contact_id]
            ContactDay.objects.filter(scope=scope, contact_id=contact_id, day=next_day).update(
                previous_day=previous
            )
            touched.add(next_day)
        _recount_coverage(scope, touched)


def _recount_coverage(scope: str, days: Iterable[date] | None) -> None:
    rollups = CoverageRollup.objects.filter(scope=scope)
    rows = ContactDay.objects.filter(scope=scope)
    if days is not None:
        days = list(days)
        rollups = rollups.filter(day__in=days)
        rows = rows.filter(day__in=days)
    rollups.delete()
    CoverageRollup.objects.bulk_create(
        (
            CoverageRollup(
                scope=scope, day=r["day"], previous_day=r["previous_day"], contacts=r["n"]
            )
            for r in rows.values("day", "previous_day").annotate(n=Count("id")).order_by()
        ),
        batch_size=5000,
    )
    regrid(scope, min(days) if days else None)


def regrid(scope: str, from_day: date | None = None) -> None:
    """The CoverageGrid rows of a scope from `from_day` on (all of them when None, or when the
    scope has none before that day), from its CoverageRollup rows."""
    grid = CoverageGrid.objects.filter(scope=scope)
    first = CoverageRollup.objects.filter(scope=scope).aggregate(d=Min("day"))["d"]
    if first is None:
        grid.delete()
        return
    running: dict[date, int] = {}  # month -> rows so far with previous_day null or before it
    total = 0
    latest = None
    if from_day is not None and from_day > first:
        latest = grid.filter(day__lt=from_day).aggregate(d=Max("day"))["d"]
    if latest is None:
        from_day = first
    else:
        running = dict(grid.filter(day=latest).values_list("month", "contacts"))
        total = running.pop(TOTAL_MONTH, 0)
    grid.filter(day__gte=from_day).delete()

    first_month = first.replace(day=1)
    entries = (
        CoverageRollup.objects.filter(scope=scope, day__gte=from_day)
        .order_by("day")
        .values_list("day", "previous_day", "contacts")
    )
    batch: list[CoverageGrid] = []
    for day, rows in groupby(entries.iterator(), key=lambda row: row[0]):
        # counts of the day's rows by previous day, nulls first: a prefix sum per month
        ordered = sorted(((p or date.min), n) for _day, p, n in rows)
        previous_days = [p for p, _n in ordered]
        prefix = list(accumulate(n for _p, n in ordered))
        month = first_month
        while month <= day:
            # a month seen for the first time: every earlier row had its previous day before it
            before = running.setdefault(month, total)
            index = bisect_left(previous_days, month)
            running[month] = before + (prefix[index - 1] if index else 0)
            batch.append(CoverageGrid(scope=scope, month=month, day=day, contacts=running[month]))
            month = periods.next_period(month, "month")
        total += prefix[-1]
        batch.append(CoverageGrid(scope=scope, month=TOTAL_MONTH, day=day, contacts=total))
        if len(batch) >= 5000:
            CoverageGrid.objects.bulk_create(batch)
            batch = []
    CoverageGrid.objects.bulk_create(batch)


def rebuild_scope(scope: str) -> None:
    """Every ContactDay and CoverageRollup row of a scope, from scratch."""
    qs, field = _scope_rows(scope)
    with transaction.atomic():
        _lock(scope)
        ContactDay.objects.filter(scope=scope).delete()
        pairs = (
            qs.annotate(day=TruncDate(field, tzinfo=periods.site_zone()))
            .values_list("contact_id", "day")
            .distinct()
            .order_by()
        )
        if on_postgres():
            sql, params = pairs.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO reports_contactday (scope, contact_id, day, previous_day)
                    SELECT %s, p.contact_id, p.day,
                           lag(p.day) OVER (PARTITION BY p.contact_id ORDER BY p.day)
                    FROM ({sql}) p (contact_id, day)
                    """,
                    [scope, *params],
                )
        else:
            previous: dict[int, date] = {}
            batch = []
            for contact_id, day in sorted(pairs):
                batch.append(
                    ContactDay(
                        scope=scope,
                        contact_id=contact_id,
                        day=day,
                        previous_day=previous.get(contact_id),
                    )
                )
                previous[contact_id] = day
            ContactDay.objects.bulk_create(batch, batch_size=2000)
        _recount_coverage(scope, None)


# --- what runs: rebuild, mark, refresh ---------------------------------------------------------


def survey_days(survey: Survey) -> tuple[date, date] | None:
    """The first and last local day with a response or a sent invitation of the survey."""
    bounds = Response.objects.filter(survey_id=survey.pk).aggregate(
        lo=Min("submitted_at"), hi=Max("submitted_at")
    )
    sent = Invitation.objects.filter(survey_id=survey.pk, sent_at__isnull=False).aggregate(
        lo=Min("sent_at"), hi=Max("sent_at")
    )
    moments = [m for m in (bounds["lo"], bounds["hi"], sent["lo"], sent["hi"]) if m]
    if not moments:
        return None
    return periods.local_day(min(moments)), periods.local_day(max(moments))


def month_chunks(first: date, last: date) -> list[tuple[date, date]]:
    chunks = []
    current = first
    while current <= last:
        end = min(
            periods.next_period(periods.period_start(current, "month"), "month"),
            last + timedelta(days=1),
        )
        chunks.append((current, end - timedelta(days=1)))
        current = end
    return chunks


def _forget_outside(survey_id: int, first: date, last: date) -> None:
    """Rows of days outside the survey's current span (its responses were deleted since)."""
    start = periods.period_start(first, "month")
    for model in (AnswerCube, AnswerPairCube, InvitationCube, RollupOverflow, CommentCount):
        rows = _rows_of(model, survey_id)
        rows.exclude(period__range=(start, last)).delete()
        rows.filter(grain=Grain.DAY, period__lt=first).delete()
    CommentRollup.objects.filter(survey_id=survey_id).exclude(day__range=(first, last)).delete()


def rebuild(*, survey: Survey | None = None, since: date | None = None, progress=None) -> int:
    """Recompute every rollup (of one survey, from `since` on); returns the days covered.

    `progress(total)` may return a tqdm-like object (update(n), close()).
    """
    surveys = [survey] if survey else list(Survey.objects.all())
    plan: list[tuple[Survey, date, date]] = []
    for s in surveys:
        span = survey_days(s)
        if span is None:
            for model in (
                AnswerCube,
                AnswerPairCube,
                InvitationCube,
                RollupOverflow,
                DirtyMonth,
                CommentRollup,
                CommentCount,
            ):
                _rows_of(model, s.pk).delete()
            continue
        first = max(span[0], since) if since else span[0]
        plan.extend((s, lo, hi) for lo, hi in month_chunks(first, span[1]))
        if not since:
            _forget_outside(s.pk, *span)
    scopes = [respondents_scope(s.pk) for s in surveys]
    types = (
        {s.touchpoint for s in surveys}
        if survey
        else set(TouchpointEvent.objects.values_list("type", flat=True).distinct())
    )
    scopes += [customers_scope(t) for t in sorted(types)]
    bar = progress(len(plan) + len(scopes)) if progress else None
    days = 0
    closed_before = current_month()
    if on_postgres():
        # Derived rows: after a crash the rebuild runs again; no need to wait for each flush.
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
    for s, lo, hi in plan:
        recompute_answers(s, lo, hi)
        recompute_invitations(s, lo, hi)
        month = periods.period_start(lo, "month")
        if month < closed_before:
            recompute_month(s.pk, month)
        days += (hi - lo).days + 1
        if bar:
            bar.update(1)
    for scope in scopes:
        rebuild_scope(scope)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    if on_postgres():
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
    if not survey and not since:
        DirtyDay.objects.all().delete()
        # scopes whose raw rows are all gone (their surveys or touchpoint types)
        for model in (ContactDay, CoverageRollup, CoverageGrid):
            model.objects.exclude(scope__in=scopes).delete()
    return days


def mark_dirty(survey_id: int, days: Iterable[date]) -> None:
    """Note survey days whose rollups are stale: one INSERT ... ON CONFLICT DO NOTHING."""
    DirtyDay.objects.bulk_create(
        [DirtyDay(survey_id=survey_id, day=d) for d in set(days)], ignore_conflicts=True
    )


def recompute_day(survey: Survey, day: date) -> None:
    recompute_answers(survey, day, day)
    recompute_invitations(survey, day, day)
    recompute_contact_day(respondents_scope(survey.pk), day)


def refresh(*, limit: int = 500, month_limit: int = 12) -> int:
    """Fold new answers, sends and touchpoint events into the rollups; returns days recomputed.

    Dirty survey days (marked when answers are stored), today's and yesterday's invitation
    sends of every published survey, the days of touchpoint events newer than the watermark,
    then the closed months whose days changed.
    """
    done = 0
    with transaction.atomic():
        dirty = list(
            DirtyDay.objects.select_for_update(skip_locked=True).order_by("survey_id", "day")[
                :limit
            ]
        )
        surveys = Survey.objects.in_bulk({d.survey_id for d in dirty})
        for row in dirty:
            if row.survey_id in surveys:
                recompute_day(surveys[row.survey_id], row.day)
                done += 1
        DirtyDay.objects.filter(pk__in=[d.pk for d in dirty]).delete()

    today = periods.local_day(timezone.now())
    for survey in Survey.objects.exclude(published_at=None):
        recompute_invitations(survey, today - timedelta(days=1), today)

    with transaction.atomic():
        mark, _ = RollupWatermark.objects.select_for_update().get_or_create(name="touchpoints")
        newest = TouchpointEvent.objects.aggregate(m=Max("id"))["m"] or 0
        if newest > mark.last_id - WATERMARK_MARGIN:
            fresh = (
                TouchpointEvent.objects.filter(
                    id__gt=mark.last_id - WATERMARK_MARGIN, id__lte=newest
                )
                .annotate(day=TruncDate("occurred_at", tzinfo=periods.site_zone()))
                .values_list("type", "day")
                .distinct()
                .order_by()
            )
            for touchpoint_type, day in list(fresh):
                recompute_contact_day(customers_scope(touchpoint_type), day)
                done += 1
            mark.last_id = max(mark.last_id, newest)
            mark.save(update_fields=["last_id"])

    closed = DirtyMonth.objects.filter(month__lt=current_month()).order_by("month", "survey_id")
    for survey_id, month in list(closed.values_list("survey_id", "month")[:month_limit]):
        recompute_month(survey_id, month)
    return done
