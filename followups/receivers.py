"""Where follow-ups meet Celery: an answer that calls for a follow-up queues the task that opens
it (the answer page's hot path), and what the services announce queues the tasks that tell the
owner and send the webhooks, once the transaction commits."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from surveys.signals import response_recorded

from . import signals, tasks
from .triggers import needs_follow_up

log = logging.getLogger(__name__)


@receiver(response_recorded, dispatch_uid="followups.open_on_unhappy_answer")
def open_on_unhappy_answer(sender, response, **kwargs) -> None:
    if response.is_test:
        return
    try:
        if not needs_follow_up(response):
            return
        tasks.open_follow_up.delay(response.pk)
    except Exception:  # the customer's answer is stored; a broker outage must not fail the page
        log.exception("response %s: could not queue its follow-up", response.pk)


@receiver(signals.follow_up_opened, dispatch_uid="followups.notify_owner")
def notify_owner(sender, follow_up_id: int, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.notify_owner.delay(follow_up_id))


@receiver(signals.webhook_deliveries_queued, dispatch_uid="followups.deliver_webhooks")
def deliver_webhooks(sender, delivery_ids: list[int], **kwargs) -> None:
    transaction.on_commit(lambda: [tasks.deliver_webhook.delay(pk) for pk in delivery_ids])


@receiver(signals.csat_alert_raised, dispatch_uid="followups.mail_alert")
def mail_alert(sender, survey_id: int, data: dict, **kwargs) -> None:
    transaction.on_commit(lambda: tasks.send_alert_mail.delay(survey_id, data))
