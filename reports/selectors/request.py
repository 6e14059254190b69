"""What a report asks its source for: equality filters, and spans of local days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from ..vocabulary import LANGUAGE, TOUCHPOINT, Counts, attr_dimension


@dataclass(frozen=True)
class Filters:
    """Equality filters of a report: touchpoint type, response language, attribute values."""

    touchpoint: str | None = None
    language: str | None = None
    attrs: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def dimensions(self) -> list[tuple[str, str]]:
        dims = []
        if self.touchpoint is not None:
            dims.append((TOUCHPOINT, self.touchpoint))
        if self.language is not None:
            dims.append((LANGUAGE, self.language))
        dims.extend((attr_dimension(name), value) for name, value in self.attrs)
        return sorted(dims)


@dataclass(frozen=True)
class Span:
    """Local days first..last; `months`: whole closed months may be read as month rows (the
    caller does not need them split into days)."""

    first: date
    last: date
    months: bool = True


# (question_id, period start, Counts): one row per question and day (or month)
PeriodRow = tuple[int, date, Counts]
# (dimension value, Counts)
ValueRow = tuple[str, Counts]
