"""Writing the rollups: recompute one survey day, rebuild from scratch, fold in what is new.

Every recompute deletes the rows of a (survey, day range) and inserts them again from the raw
tables in one transaction, under a per-survey advisory lock on PostgreSQL, so running it twice,
or concurrently with the beat task, gives the same rows. PostgreSQL computes the rows with
INSERT ... SELECT ... GROUP BY; other databases (the SQLite demo) with the same rules in Python.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from itertools import combinations

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from surveys.models import Answer, Invitation, Response, Survey, TouchpointEvent

from . import periods
from .models import (
    AnswerPairRollup,
    AnswerRollup,
    ContactDay,
    CoverageRollup,
    DirtyDay,
    InvitationRollup,
    RollupWatermark,
)
from .selectors import LANGUAGE, TOTAL, TOUCHPOINT, attr_dimension

KEY_LENGTH, VALUE_LENGTH = 100, 200
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
            if text is not None:
                dims.append((attr_dimension(name[:KEY_LENGTH]), text))
    return sorted(dict(dims).items())


# PostgreSQL: the same dimensions as dimensions_of, for a row aliased `src`.
_DIMENSIONS_SQL = """
    SELECT 'touchpoint' AS dimension, left({touchpoint}, 200) AS value
    UNION ALL SELECT 'language', left(src.locale, 200)
    UNION ALL SELECT 'attr:' || left(e.key, 100), left(e.value #>> '{{}}', 200)
      FROM jsonb_each(CASE WHEN jsonb_typeof(src.attributes) = 'object'
                           THEN src.attributes ELSE '{{}}'::jsonb END) e
      WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean')
"""


# --- answers -----------------------------------------------------------------------------------


def recompute_answers(survey: Survey, first: date, last: date) -> None:
    """AnswerRollup and AnswerPairRollup rows of `survey` for the local days first..last."""
    lo, hi = periods.day_bounds(first, last)
    with transaction.atomic():
        _lock(f"survey:{survey.pk}")
        AnswerRollup.objects.filter(survey_id=survey.pk, day__gte=first, day__lte=last).delete()
        AnswerPairRollup.objects.filter(survey_id=survey.pk, day__gte=first, day__lte=last).delete()
        if on_postgres():
            _answers_sql(survey.pk, lo, hi)
        else:
            _answers_python(survey.pk, lo, hi)


_ANSWER_SOURCE = """
    FROM surveys_response src
    JOIN surveys_answer a ON a.response_id = src.id
    {lateral}
    WHERE src.survey_id = %(survey)s AND src.submitted_at >= %(lo)s AND src.submitted_at < %(hi)s
      AND NOT src.is_test AND a.score IS NOT NULL {where}
"""


def _answers_sql(survey_id: int, lo, hi) -> None:
    dims = _DIMENSIONS_SQL.format(touchpoint="src.touchpoint_type")
    params = {"survey": survey_id, "lo": lo, "hi": hi, "tz": settings.TIME_ZONE}
    day = "(src.submitted_at AT TIME ZONE %(tz)s)::date"
    single = f"""
        INSERT INTO reports_answerrollup
            (survey_id, question_id, day, dimension, value, score, answers, satisfied)
        SELECT src.survey_id, a.question_id, {day}, d.dimension, d.value, a.score,
               count(*), count(*) FILTER (WHERE a.satisfied)
        {
        _ANSWER_SOURCE.format(
            lateral=f"CROSS JOIN LATERAL (SELECT '' AS dimension, '' AS value UNION ALL {dims}) d",
            where="",
        )
    }
        GROUP BY 1, 2, 3, 4, 5, 6
    """
    pairs = f"""
        INSERT INTO reports_answerpairrollup
            (survey_id, question_id, day, dimension, value, dimension2, value2, score,
             answers, satisfied)
        SELECT src.survey_id, a.question_id, {day}, d1.dimension, d1.value,
               d2.dimension, d2.value, a.score, count(*), count(*) FILTER (WHERE a.satisfied)
        {
        _ANSWER_SOURCE.format(
            lateral=f"CROSS JOIN LATERAL ({dims}) d1 CROSS JOIN LATERAL ({dims}) d2",
            where="AND d1.dimension < d2.dimension",
        )
    }
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    """
    with connection.cursor() as cursor:
        cursor.execute(single, params)
        cursor.execute(pairs, params)


def _answers_python(survey_id: int, lo, hi) -> None:
    single: Counter = Counter()
    single_sat: Counter = Counter()
    pairs: Counter = Counter()
    pairs_sat: Counter = Counter()
    rows = Answer.objects.filter(
        response__survey_id=survey_id,
        response__is_test=False,
        response__submitted_at__gte=lo,
        response__submitted_at__lt=hi,
        score__isnull=False,
    ).values_list(
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
        dims = dimensions_of(touchpoint, locale, attributes)
        for dim, value in [(TOTAL, ""), *dims]:
            key = (question_id, day, dim, value, score)
            single[key] += 1
            single_sat[key] += bool(satisfied)
        for (dim1, value1), (dim2, value2) in combinations(dims, 2):
            key = (question_id, day, dim1, value1, dim2, value2, score)
            pairs[key] += 1
            pairs_sat[key] += bool(satisfied)
    AnswerRollup.objects.bulk_create(
        (
            AnswerRollup(
                survey_id=survey_id,
                question_id=q,
                day=d,
                dimension=dim,
                value=v,
                score=s,
                answers=n,
                satisfied=single_sat[(q, d, dim, v, s)],
            )
            for (q, d, dim, v, s), n in single.items()
        ),
        batch_size=2000,
    )
    AnswerPairRollup.objects.bulk_create(
        (
            AnswerPairRollup(
                survey_id=survey_id,
                question_id=q,
                day=d,
                dimension=d1,
                value=v1,
                dimension2=d2,
                value2=v2,
                score=s,
                answers=n,
                satisfied=pairs_sat[key],
            )
            for key, n in pairs.items()
            for (q, d, d1, v1, d2, v2, s) in [key]
        ),
        batch_size=2000,
    )


# --- invitations -------------------------------------------------------------------------------


def recompute_invitations(survey: Survey, first: date, last: date) -> None:
    """InvitationRollup rows of `survey` for invitations sent on the local days first..last."""
    lo, hi = periods.day_bounds(first, last)
    with transaction.atomic():
        _lock(f"survey:{survey.pk}")
        InvitationRollup.objects.filter(survey_id=survey.pk, day__gte=first, day__lte=last).delete()
        if on_postgres():
            dims = _DIMENSIONS_SQL.format(touchpoint="%(touchpoint)s")
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO reports_invitationrollup
                        (survey_id, day, dimension, value, sent, clicked, answered)
                    SELECT src.survey_id, (src.sent_at AT TIME ZONE %(tz)s)::date,
                           d.dimension, d.value,
                           count(*), count(src.clicked_at), count(src.answered_at)
                    FROM surveys_invitation src
                    CROSS JOIN LATERAL (SELECT '' AS dimension, '' AS value UNION ALL {dims}) d
                    WHERE src.survey_id = %(survey)s AND src.sent_at >= %(lo)s
                      AND src.sent_at < %(hi)s AND NOT src.is_test
                    GROUP BY 1, 2, 3, 4
                    """,
                    {
                        "survey": survey.pk,
                        "lo": lo,
                        "hi": hi,
                        "tz": settings.TIME_ZONE,
                        "touchpoint": survey.touchpoint,
                    },
                )
            return
        counts: Counter = Counter()
        rows = Invitation.objects.filter(
            survey_id=survey.pk, is_test=False, sent_at__gte=lo, sent_at__lt=hi
        ).values_list("sent_at", "clicked_at", "answered_at", "locale", "attributes")
        for sent_at, clicked_at, answered_at, locale, attributes in rows.iterator():
            day = periods.local_day(sent_at)
            for dim, value in [(TOTAL, ""), *dimensions_of(survey.touchpoint, locale, attributes)]:
                counts[(day, dim, value, "sent")] += 1
                counts[(day, dim, value, "clicked")] += clicked_at is not None
                counts[(day, dim, value, "answered")] += answered_at is not None
        InvitationRollup.objects.bulk_create(
            InvitationRollup(
                survey_id=survey.pk,
                day=day,
                dimension=dim,
                value=value,
                sent=n,
                clicked=counts[(day, dim, value, "clicked")],
                answered=counts[(day, dim, value, "answered")],
            )
            for (day, dim, value, what), n in list(counts.items())
            if what == "sent"
        )


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


def rebuild(*, survey: Survey | None = None, since: date | None = None, progress=None) -> int:
    """Recompute every rollup (of one survey, from `since` on); returns the days covered.

    `progress(total)` may return a tqdm-like object (update(n), close()).
    """
    surveys = [survey] if survey else list(Survey.objects.all())
    plan: list[tuple[Survey, date, date]] = []
    for s in surveys:
        span = survey_days(s)
        if span is None:
            continue
        first = max(span[0], since) if since else span[0]
        plan.extend((s, lo, hi) for lo, hi in month_chunks(first, span[1]))
        if not since:
            # rows of days outside the current span (responses deleted since) go as well
            AnswerRollup.objects.filter(survey_id=s.pk).exclude(day__range=span).delete()
    scopes = [respondents_scope(s.pk) for s in surveys]
    types = (
        {s.touchpoint for s in surveys}
        if survey
        else set(TouchpointEvent.objects.values_list("type", flat=True).distinct())
    )
    scopes += [customers_scope(t) for t in sorted(types)]
    bar = progress(len(plan) + len(scopes)) if progress else None
    days = 0
    for s, lo, hi in plan:
        recompute_answers(s, lo, hi)
        recompute_invitations(s, lo, hi)
        days += (hi - lo).days + 1
        if bar:
            bar.update(1)
    for scope in scopes:
        rebuild_scope(scope)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    if not survey and not since:
        DirtyDay.objects.all().delete()
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


def refresh(*, limit: int = 500) -> int:
    """Fold new answers, sends and touchpoint events into the rollups; returns days recomputed.

    Dirty survey days (marked when answers are stored), today's and yesterday's invitation
    sends of every published survey, and the days of touchpoint events newer than the watermark.
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
    return done
