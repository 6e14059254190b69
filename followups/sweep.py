"""The safety net under the answer page's enqueue: open the follow-ups a broker outage lost.

The answer page decides cheaply and queues `open_follow_up`; when the broker is down at that
moment the task is never run. Beat runs this sweep every few minutes: it finds recent answers
that call for a follow-up under their survey's settings and have none, and opens them through
the same service, which decides again from the database and keeps one follow-up per response
(a unique constraint), so a sweep racing the task opens nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from surveys.models import Answer, Response, Survey

from . import services
from .models import FollowUp, FollowUpSettings

log = logging.getLogger(__name__)


def _setting(name: str, default):
    return getattr(settings, name, default)


def candidates(*, since: datetime, until: datetime, limit: int) -> list[int]:
    """Ids of web responses submitted in [since, until) without a follow-up whose answers match
    their survey's trigger (the primary answer not satisfied, at or below the score limit, or a
    comment with a keyword), oldest first, at most `limit`. Settings changed within the window
    count only for answers given after the change."""
    found: list[tuple[datetime, int]] = []
    surveys = Survey.objects.exclude(published_at=None).prefetch_related("questions")
    for survey in surveys:
        config = FollowUpSettings.for_survey(survey)
        primary = survey.primary_question()
        if not config.enabled or primary is None:
            continue
        own = Answer.objects.filter(response=OuterRef("pk"))
        primary_answer = own.filter(question=primary, score__isnull=False)
        trigger = Q(pk__in=[])
        if config.on_not_satisfied:
            trigger |= Q(Exists(primary_answer.filter(satisfied=False)))
        if config.score_at_most is not None:
            limit_rule = (
                {"score__gte": config.score_at_most}
                if primary.reversed
                else {"score__lte": config.score_at_most}
            )
            trigger |= Q(Exists(primary_answer.filter(**limit_rule)))
        words = [w for w in (config.keywords or []) if w.strip()]
        if words:
            mentions = Q(pk__in=[])
            for word in words:
                mentions |= Q(text__icontains=word.strip())
            trigger |= Q(Exists(own.filter(mentions)))
        # Without a primary answer the first scored answer stands in: the service decides.
        trigger |= ~Q(Exists(primary_answer)) & Q(Exists(own.filter(score__isnull=False)))
        start = since
        if config.pk and config.updated_at > start:
            start = config.updated_at
        rows = (
            Response.objects.filter(
                survey=survey,
                submitted_at__gte=start,
                submitted_at__lt=until,
                is_test=False,
                source=Response.Source.WEB,
            )
            .filter(~Q(Exists(FollowUp.objects.filter(response=OuterRef("pk")))))
            .filter(trigger)
            .order_by("submitted_at", "id")
            .values_list("submitted_at", "id")[:limit]
        )
        found.extend(rows)
    return [pk for _, pk in sorted(found)[:limit]]


def open_missed(*, now: datetime | None = None) -> int:
    """Open the follow-ups of recent answers that should have one and have none; returns how
    many were opened. Bounded: at most FOLLOWUPS_SWEEP_LIMIT answers per run."""
    now = now or timezone.now()
    window = timedelta(hours=_setting("FOLLOWUPS_SWEEP_HOURS", 48))
    grace = timedelta(seconds=_setting("FOLLOWUPS_SWEEP_GRACE_SECONDS", 120))
    limit = _setting("FOLLOWUPS_SWEEP_LIMIT", 200)
    opened = 0
    for response_id in candidates(since=now - window, until=now - grace, limit=limit):
        if services.open_follow_up(response_id=response_id) is not None:
            opened += 1
    if opened:
        log.warning("follow-up sweep: opened %s follow-ups whose task had been lost", opened)
    return opened
