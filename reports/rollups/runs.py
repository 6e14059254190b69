"""What runs: rebuild from scratch, mark days stale, and beat's refresh. Each does nothing on a
database without rollups (common.enabled): there the reports read the raw rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Max, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from csat_platform.prepared import prepared_cursor
from surveys.models import Invitation, Response, Survey, TouchpointEvent

from .. import periods
from ..models import (
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
from ..vocabulary import customers_scope, respondents_scope
from .common import WATERMARK_MARGIN, enabled, month_chunks
from .coverage import rebuild_scope, recompute_contact_day
from .cubes import recompute_answers, recompute_invitations, rows_of
from .months import current_month, recompute_month


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


def _forget_outside(survey_id: int, first: date, last: date) -> None:
    """Rows of days outside the survey's current span (its responses were deleted since)."""
    start = periods.period_start(first, "month")
    for model in (AnswerCube, AnswerPairCube, InvitationCube, RollupOverflow, CommentCount):
        rows = rows_of(model, survey_id)
        rows.exclude(period__range=(start, last)).delete()
        rows.filter(grain=Grain.DAY, period__lt=first).delete()
    CommentRollup.objects.filter(survey_id=survey_id).exclude(day__range=(first, last)).delete()


def rebuild(*, survey: Survey | None = None, since: date | None = None, progress=None) -> int:
    """Recompute every rollup (of one survey, from `since` on); returns the days covered.

    `progress(total)` may return a tqdm-like object (update(n), close()).
    """
    if not enabled():
        return 0
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
                rows_of(model, s.pk).delete()
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
    with connection.cursor() as cursor:
        cursor.execute("RESET synchronous_commit")
    if not survey and not since:
        DirtyDay.objects.all().delete()
        # scopes whose raw rows are all gone (their surveys or touchpoint types)
        for model in (ContactDay, CoverageRollup, CoverageGrid):
            model.objects.exclude(scope__in=scopes).delete()
    return days


def mark_dirty(survey_id: int, days: Iterable[date]) -> None:
    """Note survey days whose rollups are stale: one INSERT ... ON CONFLICT DO NOTHING, a single
    round trip outside a transaction (it runs on every answer), prepared once per connection."""
    if not enabled():
        return
    days = sorted(set(days))
    if not days:
        return
    rows = ", ".join(["(%s, %s)"] * len(days))
    sql = (
        f"INSERT INTO {DirtyDay._meta.db_table} (survey_id, day) VALUES {rows} "
        "ON CONFLICT DO NOTHING"
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, [value for day in days for value in (survey_id, day)])


def recompute_day(survey: Survey, day: date) -> None:
    if not enabled():
        return
    recompute_answers(survey, day, day)
    recompute_invitations(survey, day, day)
    recompute_contact_day(respondents_scope(survey.pk), day)


def refresh(*, limit: int = 500, month_limit: int = 12) -> int:
    """Fold new answers, sends and touchpoint events into the rollups; returns days recomputed.

    Dirty survey days (marked when answers are stored), today's and yesterday's invitation
    sends of every published survey, the days of touchpoint events newer than the watermark,
    then the closed months whose days changed.
    """
    if not enabled():
        return 0
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
