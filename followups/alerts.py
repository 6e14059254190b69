"""Alerts on the aggregate: CSAT below target, or a significant drop, told once per episode."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from reports import periods, service
from reports.query import default_interval
from surveys.models import Survey

from . import signals
from .models import CsatAlert, FollowUpSettings, Webhook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    below_target: bool | None  # None: too few answers to say
    dropped: bool | None
    details: dict


def window(config: FollowUpSettings, now: datetime) -> tuple[date, date]:
    """The last `alert_window_days` local days, today included: the dashboard's range of as
    many days (`range=7d` for 7)."""
    today = periods.local_day(now)
    return today - timedelta(days=config.alert_window_days - 1), today


def evaluate(survey: Survey, config: FollowUpSettings, now: datetime) -> Evaluation:
    """Below target and a significant drop, read off the survey's report (reports.service) of
    the window and the window before it, so an alert quotes what the dashboard shows."""
    if survey.primary_question() is None:
        return Evaluation(below_target=None, dropped=None, details={})
    start, end = window(config, now)
    report = service.csat_report(
        survey, start=start, end=end, interval=default_interval((end - start).days + 1)
    )
    previous = report["previous"]
    current, n = report["csat"], report["n"]
    minimum = max(1, config.alert_min_answers)
    target = report["target"]
    below = None
    if n >= minimum and target is not None:
        below = current < target
    dropped = None
    if n >= minimum and previous["n"] >= minimum:
        dropped = (
            previous["significant"]
            and previous["change"] < 0
            and -previous["change"] > float(config.alert_drop_points)
        )
    details = {
        "window_days": config.alert_window_days,
        "start": report["start"],
        "end": report["end"],
        "csat": current,
        "n": n,
        "previous_csat": previous["csat"],
        "previous_n": previous["n"],
        "target": target,
        "drop_points": float(config.alert_drop_points),
        "z": previous["z"],
        "p_value": previous["p_value"],
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
    from . import services

    message = _message(kind, details)
    data = {
        "kind": kind,
        "message": message,
        "survey": {"slug": survey.slug, "name": survey.name},
        "url": django_settings.SITE_URL + reverse("followup-queue") + f"?survey={survey.slug}",
        **details,
    }
    services.queue_webhook_event(event=Webhook.Event.CSAT_ALERT, survey=survey, data=data)
    signals.csat_alert_raised.send(sender=Survey, survey_id=survey.pk, data=data)


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
