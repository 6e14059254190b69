"""Reads for the connector pages and the API."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Max, QuerySet

from .models import Connector, Delivery


def connectors() -> QuerySet[Connector]:
    """Connectors with their survey and their delivery counts, oldest first."""
    return (
        Connector.objects.select_related("survey")
        .annotate(
            delivery_count=Count("deliveries"), last_delivery_at=Max("deliveries__received_at")
        )
        .order_by("id")
    )


def deliveries(connector: Connector, *, limit: int = 100) -> list[Delivery]:
    """The connector's latest deliveries, newest first."""
    return list(Delivery.objects.filter(connector=connector).order_by("-id")[:limit])


def hook_url(connector: Connector) -> str:
    """The absolute address the provider posts to."""
    return f"{settings.SITE_URL}/hooks/{connector.public_id}/"
