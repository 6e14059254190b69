"""Statements that run on every answer or every email: on PostgreSQL, planned once per connection.

Django sends each statement as text to be parsed and planned again; the few statements on the
hot paths (the answer page's lookups, a sending worker's per-message UPDATEs) go through a
server-side prepared statement instead.
"""

import contextlib
from collections.abc import Iterator

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper


class _PreparingCursor(psycopg.Cursor):
    def execute(self, query, params=None, **options):
        return super().execute(query, params, prepare=True, **options)


@contextlib.contextmanager
def prepared_cursor(db: BaseDatabaseWrapper | None = None) -> Iterator:
    """A cursor whose execute(sql, params) PostgreSQL parses and plans once per connection;
    Django's own cursor on other databases. Same %s placeholders, same transaction. `db`: the
    default database's wrapper, which a caller running many statements may look up once."""
    db = db or connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    db.ensure_connection()
    with db.wrap_database_errors, _PreparingCursor(db.connection) as cursor:
        yield cursor
