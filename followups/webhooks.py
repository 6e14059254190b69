"""Webhooks: a delivery row per active webhook listening to an event, and one attempt at sending
it (signed JSON, or Slack text), logged; the task retries with backoff while it is pending."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from surveys.models import Survey

from . import payloads, signals, signing
from .models import FollowUp, Webhook, WebhookAttempt, WebhookDelivery

SUCCEEDED, FAILED, RETRY, SKIPPED = "succeeded", "failed", "retry", "skipped"


def _setting(name: str, default):
    return getattr(settings, name, default)


def queue_webhook_event(
    *, event: str, survey: Survey, follow_up: FollowUp | None = None, data: dict | None = None
) -> list[WebhookDelivery]:
    """A delivery row per active webhook listening to `event`; sent by Celery after commit."""
    hooks = [
        hook
        for hook in Webhook.objects.filter(Q(survey__isnull=True) | Q(survey=survey), active=True)
        if event in (hook.events or [])
    ]
    if not hooks:
        return []
    if data is None:
        data = payloads.follow_up_data(follow_up)
    deliveries = [
        WebhookDelivery.objects.create(
            webhook=hook,
            event=event,
            follow_up=follow_up,
            body=payloads.body(event=event, data=data, payload_format=hook.payload_format),
        )
        for hook in hooks
    ]
    signals.webhook_deliveries_queued.send(
        sender=WebhookDelivery, delivery_ids=[d.pk for d in deliveries]
    )
    return deliveries


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


def attempt(delivery_id: int) -> tuple[str, int]:
    """One attempt at a pending delivery: (succeeded, failed for good, retry or skipped, the
    attempt's number). The attempt is claimed first: a duplicate message for it changes no row."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return SKIPPED, 0
    number = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1)
    if claimed != 1:
        return SKIPPED, 0
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
        attempt=number,
        status_code=status_code,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    if status_code is not None and 200 <= status_code < 300:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=WebhookDelivery.Status.SUCCEEDED,
            last_status_code=status_code,
            last_error="",
            delivered_at=timezone.now(),
        )
        return SUCCEEDED, number
    final = number >= _setting("FOLLOWUPS_WEBHOOK_MAX_ATTEMPTS", 8)
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        last_status_code=status_code,
        last_error=error or f"HTTP {status_code}",
        status=WebhookDelivery.Status.FAILED if final else WebhookDelivery.Status.PENDING,
    )
    return (FAILED if final else RETRY), number
