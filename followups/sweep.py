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
from django.db.models import Exists, OuterRef
from django.utils import timezone

from surveys.models import Response, Survey

from . import services
from .models import FollowUp, FollowUpSettings
from .triggers import FollowUpRules, with_triggers

log = logging.getLogger(__name__)


def _setting(name: str, default):
    return getattr(settings, name, default)


def candidates(*, since: datetime, until: datetime, limit: int) -> list[int]:
    """Ids of web responses submitted in [since, until) without a follow-up that call for one
    under their survey's rules (followups.triggers, the same the task decides by), oldest first,
    at most `limit`. Settings changed within the window count only for answers given after the
    change."""
    found: list[tuple[datetime, int]] = []
    for survey in Survey.objects.exclude(published_at=None):
        config = FollowUpSettings.for_survey(survey)
        start = since
        if config.pk and config.updated_at > start:
            start = config.updated_at
        waiting = Response.objects.filter(
            survey=survey,
            submitted_at__gte=start,
            submitted_at__lt=until,
            is_test=False,
            source=Response.Source.WEB,
        ).filter(~Exists(FollowUp.objects.filter(response=OuterRef("pk"))))
        rows = with_triggers(waiting, FollowUpRules.of(survey, config))
        found.extend(rows.order_by("submitted_at", "id").values_list("submitted_at", "id")[:limit])
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
