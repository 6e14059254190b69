"""Reads for the connector pages and the API."""

from __future__ import annotations

import functools

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, QuerySet

from surveys.models import Survey

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


# What a delivery reads of the connector's survey: the rest loads on first use.
HOOK_SURVEY_FIELDS = ("id", "slug", "touchpoint")


@functools.cache
def _hook_sql() -> str:
    quote = connection.ops.quote_name
    columns = [f"c.{quote(f.column)}" for f in Connector._meta.concrete_fields]
    columns += [f"s.{quote(name)} AS {quote('survey__' + name)}" for name in HOOK_SURVEY_FIELDS]
    return (
        f"SELECT {', '.join(columns)} FROM {quote(Connector._meta.db_table)} c "
        f"JOIN {quote(Survey._meta.db_table)} s ON s.{quote('id')} = c.{quote('survey_id')} "
        f"WHERE c.{quote('public_id')} = %s"
    )


def connector_for_hook(public_id: str) -> Connector | None:
    """The connector a webhook address names, with the survey fields a delivery reads, in one
    query; None for an unknown address.

    Every delivery starts here, so the SQL is written once instead of compiled by the ORM per
    request (a select_related get cost about three times as much); the connector's own columns
    are all read, so a field added to the model is there too."""
    found = next(iter(Connector.objects.raw(_hook_sql(), [public_id])), None)
    if found is not None:
        values = [getattr(found, f"survey__{name}") for name in HOOK_SURVEY_FIELDS]
        found.survey = Survey.from_db(connection.alias, HOOK_SURVEY_FIELDS, values)
    return found
