"""The answer page's hot path: decide cheaply whether a response needs a follow-up, then enqueue."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from surveys.signals import response_recorded

from . import tasks
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
