"""Counts for the reports, read either from the rollups or straight from the raw tables.

Both sources answer the same questions in the same shape, so the figures built on them
(reports.service) are the same whichever source is used; the rollup-vs-raw tests prove it.
PostgreSQL is the rollup engine; elsewhere (the SQLite demo) every report reads the raw rows.
Answer counts come as `Counts` (reports.vocabulary).
"""

from ..rollups import enabled as rollups_enabled
from .raw import RawSource
from .request import Filters, PeriodRow, Span, ValueRow
from .rollups import RollupSource


def source(name: str = "rollups") -> RawSource | RollupSource:
    """The counts of a report: "raw", or "rollups" where the database keeps them."""
    if name == "raw" or not rollups_enabled():
        return RawSource()
    return RollupSource()


__all__ = ["Filters", "PeriodRow", "RawSource", "RollupSource", "Span", "ValueRow", "source"]
