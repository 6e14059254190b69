"""Celery tasks take ids, claim the row with a conditional update, and call a service. The
services do not queue them: they announce what happened (followups.signals), and
followups.receivers queues the task once the transaction commits."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from surveys.models import Survey

from . import emails, services, sweep, webhooks
from .alerts import alert_owner, check_all
from .models import FollowUp

log = logging.getLogger(__name__)


def _setting(name: str, default):
    return getattr(settings, name, default)


def backoff_seconds(attempt: int) -> int:
    """Exponential backoff after the `attempt`-th failure: base, 2×base, 4×base… capped."""
    base = _setting("FOLLOWUPS_WEBHOOK_RETRY_BASE_SECONDS", 30)
    cap = _setting("FOLLOWUPS_WEBHOOK_RETRY_MAX_SECONDS", 3600)
    return int(min(cap, base * 2 ** (attempt - 1)))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def open_follow_up(response_id: int) -> int | None:
    follow_up = services.open_follow_up(response_id=response_id)
    return follow_up.pk if follow_up else None


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def notify_owner(self, follow_up_id: int) -> None:
    """Mail the owner once; the claim on notified_at keeps a retried task from mailing twice."""
    now = timezone.now()
    if (
        FollowUp.objects.filter(pk=follow_up_id, notified_at__isnull=True).update(notified_at=now)
        != 1
    ):
        return
    follow_up = FollowUp.objects.select_related("survey", "contact", "assignee").get(
        pk=follow_up_id
    )
    message = emails.follow_up_email(follow_up)
    if message is None:
        return
    try:
        message.send()
    except Exception as error:  # noqa: BLE001 - release the claim, then retry later
        FollowUp.objects.filter(pk=follow_up_id).update(notified_at=None)
        log.warning("follow-up %s: mail to the owner failed: %s", follow_up_id, error)
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries + 1)) from error


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    """One attempt of a delivery; a failure is logged and retried with exponential backoff."""
    outcome, attempt = webhooks.attempt(delivery_id)
    if outcome == webhooks.FAILED:
        log.warning("webhook delivery %s failed for good after %s attempts", delivery_id, attempt)
    if outcome == webhooks.RETRY:
        raise self.retry(countdown=backoff_seconds(attempt))
    return outcome


@shared_task(acks_late=True)
def sweep_follow_ups() -> int:
    """Beat: open the follow-ups whose task a broker outage lost; returns how many."""
    return sweep.open_missed()


@shared_task(acks_late=True)
def check_csat_alerts() -> int:
    """Beat: evaluate every active survey with a target; returns how many alerts fired."""
    return check_all()


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_alert_mail(self, survey_id: int, data: dict) -> None:
    survey = Survey.objects.filter(pk=survey_id).select_related("created_by").first()
    if survey is None:
        return
    message = emails.alert_email(survey=survey, owner=alert_owner(survey), details=data)
    if message is None:
        log.warning("CSAT alert for %s: nobody with an email address to tell", survey.slug)
        return
    try:
        message.send()
    except Exception as error:  # noqa: BLE001
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries + 1)) from error
