"""Transaction-scoped advisory locks (PostgreSQL) that serialize concurrent writers of the same
events and customers: two batches never create one customer twice or survey them past fatigue."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection


def lock(keys: Iterable[str]) -> None:
    """Hold a lock per key to the end of the transaction, taken in one sorted order per call.

    Callers lock in phases, always in the same order (events, then customers' identities, then
    customers), so no two transactions can wait for each other. SQLite serializes writers.
    """
    keys = list(keys)
    if connection.vendor != "postgresql" or not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT DISTINCT hashtextextended(x, 7297) AS k FROM unnest(%s::text[]) AS x "
            "ORDER BY 1) AS keys",
            [keys],
        )
