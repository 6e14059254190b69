"""Alerts on the aggregate: CSAT below target, or a significant drop, told once per episode."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from surveys.models import Answer, Survey

from .models import CsatAlert, FollowUpSettings, Webhook

log = logging.getLogger(__name__)
SIGNIFICANCE = 0.05


def two_proportion_z_test(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """z and the two-sided p-value for p1 = s1/n1 against p2 = s2/n2 (pooled standard error).

    Positive z means the first proportion is higher. Degenerate inputs give (0.0, 1.0).
    """
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (s1 / n1 - s2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def csat_counts(survey: Survey, start: datetime, end: datetime) -> tuple[int, int]:
    """(satisfied, answered) on the survey's primary question for responses in [start, end)."""
    primary = survey.primary_question()
    if primary is None:
        return 0, 0
    counts = Answer.objects.filter(
        question=primary,
        satisfied__isnull=False,
        response__is_test=False,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
    ).aggregate(n=Count("id"), s=Count("id", filter=Q(satisfied=True)))
    return counts["s"], counts["n"]


@dataclass(frozen=True)
class Evaluation:
    below_target: bool | None  # None: too few answers to say
    dropped: bool | None
    details: dict


def evaluate(survey: Survey, config: FollowUpSettings, now: datetime) -> Evaluation:
    window = timedelta(days=config.alert_window_days)
    s, n = csat_counts(survey, now - window, now)
    ps, pn = csat_counts(survey, now - 2 * window, now - window)
    minimum = max(1, config.alert_min_answers)
    current = 100 * s / n if n else None
    previous = 100 * ps / pn if pn else None
    target = float(survey.csat_target) if survey.csat_target is not None else None
    below = None
    if n >= minimum and target is not None:
        below = current < target
    dropped = None
    z, p = two_proportion_z_test(s, n, ps, pn)
    if n >= minimum and pn >= minimum:
        drop = previous - current
        dropped = drop > float(config.alert_drop_points) and z < 0 and p < SIGNIFICANCE
    details = {
        "window_days": config.alert_window_days,
        "csat": round(current, 1) if current is not None else None,
        "n": n,
        "previous_csat": round(previous, 1) if previous is not None else None,
        "previous_n": pn,
        "target": target,
        "drop_points": float(config.alert_drop_points),
        "z": round(z, 3),
        "p_value": round(p, 4),
    }
    return Evaluation(below_target=below, dropped=dropped, details=details)


def _message(kind: str, details: dict) -> str:
    if kind == CsatAlert.Kind.BELOW_TARGET:
        return (
            f"CSAT over the last {details['window_days']} days is {details['csat']} % "
            f"(n = {details['n']}), below the target of {details['target']:g} %."
        )
    return (
        f"CSAT over the last {details['window_days']} days is {details['csat']} % "
        f"(n = {details['n']}), down from {details['previous_csat']} % "
        f"(n = {details['previous_n']}); p = {details['p_value']}."
    )


def _update(survey: Survey, kind: str, condition: bool | None, details: dict, now) -> bool:
    """Fire on the first check where `condition` holds; re-arm once it no longer does."""
    CsatAlert.objects.get_or_create(survey=survey, kind=kind)
    rows = CsatAlert.objects.filter(survey=survey, kind=kind)
    if condition is None:  # too few answers: keep the state as it is
        rows.update(checked_at=now)
        return False
    if not condition:
        rows.filter(firing=True).update(firing=False, recovered_at=now, checked_at=now)
        rows.update(checked_at=now)
        return False
    # The conditional update is the claim: two beats at once still tell the owner once.
    fired = rows.filter(firing=False).update(
        firing=True, fired_at=now, details=details, checked_at=now
    )
    if fired != 1:
        rows.update(checked_at=now)
        return False
    rows.update(times_fired=F("times_fired") + 1)
    _notify(survey, kind, details)
    return True


def alert_owner(survey: Survey):
    """Who is told about a survey's alerts: its follow-up default owner, else its creator."""
    return FollowUpSettings.for_survey(survey).default_owner or survey.created_by


def _notify(survey: Survey, kind: str, details: dict) -> None:
    from . import services, tasks

    message = _message(kind, details)
    data = {
        "kind": kind,
        "message": message,
        "survey": {"slug": survey.slug, "name": survey.name},
        "url": django_settings.SITE_URL + reverse("followup-queue") + f"?survey={survey.slug}",
        **details,
    }
    services.queue_webhook_event(event=Webhook.Event.CSAT_ALERT, survey=survey, data=data)
    transaction.on_commit(lambda: tasks.send_alert_mail.delay(survey.pk, data))


def check_survey(survey: Survey, now: datetime | None = None) -> list[str]:
    """Evaluate one survey; the kinds of alert that fired now."""
    now = now or timezone.now()
    config = FollowUpSettings.for_survey(survey)
    result = evaluate(survey, config, now)
    fired = []
    with transaction.atomic():
        if survey.csat_target is not None and _update(
            survey, CsatAlert.Kind.BELOW_TARGET, result.below_target, result.details, now
        ):
            fired.append(CsatAlert.Kind.BELOW_TARGET)
        if _update(survey, CsatAlert.Kind.DROPPED, result.dropped, result.details, now):
            fired.append(CsatAlert.Kind.DROPPED)
    return fired


def check_all(now: datetime | None = None) -> int:
    fired = 0
    for survey in Survey.objects.filter(status=Survey.Status.ACTIVE, csat_target__isnull=False):
        try:
            fired += len(check_survey(survey, now))
        except Exception:  # one broken survey must not stop the others' alerts
            log.exception("alert check failed for survey %s", survey.slug)
    return fired
