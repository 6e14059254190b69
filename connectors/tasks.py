"""Connectors' periodic work."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def trim_deliveries() -> int:
    """Keep each connector's delivery log to CONNECTORS_DELIVERY_RETENTION rows (beat)."""
    return services.trim_deliveries()
