"""Celery tasks take ids, claim the row with a conditional update, and call a service."""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request

from celery import shared_task
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from . import emails, signing
from .models import FollowUp, WebhookAttempt, WebhookDelivery

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
    from . import services

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


def post(url: str, body: str, headers: dict[str, str], timeout: float) -> int:
    """POST the body; the HTTP status code (a 4xx/5xx is a status, not an exception)."""
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "CSAT-webhooks/1", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - admin-set URL
            reply.read(1024)
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    """One attempt of a delivery; a failure is logged and retried with exponential backoff."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return "skipped"
    attempt = delivery.attempts + 1
    # Claim this attempt: a duplicate message for the same attempt changes no row and stops here.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1)
    if claimed != 1:
        return "skipped"
    hook = delivery.webhook
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = post(
            hook.url,
            delivery.body,
            {
                **signing.headers(hook.secret, delivery.body),
                "X-CSAT-Event": delivery.event,
                "X-CSAT-Delivery": str(delivery.pk),
            },
            timeout=_setting("FOLLOWUPS_WEBHOOK_TIMEOUT_SECONDS", 10),
        )
    except Exception as exc:  # noqa: BLE001 - any network failure is logged and retried
        error = f"{type(exc).__name__}: {exc}"[:500]
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempt=attempt,
        status_code=status_code,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    ok = status_code is not None and 200 <= status_code < 300
    if ok:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=WebhookDelivery.Status.SUCCEEDED,
            last_status_code=status_code,
            last_error="",
            delivered_at=timezone.now(),
        )
        return "succeeded"
    reason = error or f"HTTP {status_code}"
    max_attempts = _setting("FOLLOWUPS_WEBHOOK_MAX_ATTEMPTS", 8)
    final = attempt >= max_attempts
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        last_status_code=status_code,
        last_error=reason,
        status=WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING,
    )
    if final:
        log.warning("webhook delivery %s failed for good after %s attempts", delivery_id, attempt)
        return "failed"
    raise self.retry(countdown=backoff_seconds(attempt))


@shared_task(acks_late=True)
def sweep_follow_ups() -> int:
    """Beat: open the follow-ups whose task a broker outage lost; returns how many."""
    from . import sweep

    return sweep.open_missed()


@shared_task(acks_late=True)
def check_csat_alerts() -> int:
    """Beat: evaluate every active survey with a target; returns how many alerts fired."""
    from . import alerts

    return alerts.check_all()


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_alert_mail(self, survey_id: int, data: dict) -> None:
    from surveys.models import Survey

    from .alerts import alert_owner

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
