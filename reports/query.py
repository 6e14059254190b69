"""A report query: the one parser of the dashboard pages, the exports and the report API.

`parse_query(params)` turns a query string (a QueryDict or a dict) into a validated
`ReportQuery`, or raises ReportError naming the first bad parameter; pages show it as a 400 page
in the reader's language, the API as a JSON 400. One set of rules and limits, so the same query
reads the same report everywhere:

- `range`: 7d | 30d | 90d (the last N local days, today included) | quarter (to today) |
  last_quarter | custom; without it, custom when `start` or `end` is given, else 30d. A custom
  range without `end` ends today; without `start` it is the 30 days up to `end`. `start` and
  `end` are ignored by the other presets. At most MAX_DAYS days.
- `interval`: day | week | month; by default it follows the range (default_interval).
- `touchpoint`, `language`, `question`: one value each; `attr.<name>=<value>`: attribute
  filters. An empty value filters nothing (a form's "any").
- `group_by`: touchpoint | language | an attribute name (`attr.<name>` names it too).
- Attribute names are those ingest accepts (letters, digits, `_`, `-`, `.`; at most 50).
- Any other parameter is refused, except those a page or view names as its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from surveys.attributes import NAME as ATTRIBUTE_NAME_RE
from surveys.errors import DomainError

from . import periods

PRESETS = {
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
    "90d": _("Last 90 days"),
    "quarter": _("This quarter"),
    "last_quarter": _("Last quarter"),
    "custom": _("Custom"),
}
DEFAULT_PRESET = "30d"
DEFAULT_DAYS = 30  # a custom range without a start
INTERVALS = {"day": _("Day"), "week": _("Week"), "month": _("Month")}
MAX_DAYS = 3660  # ten years
MAX_PERIODS = 1100  # three years of days: beyond that a daily chart is unreadable anyway
# The longest value each filter can match: the columns they compare with (surveys.models).
LENGTHS = {"touchpoint": 40, "language": 16, "question": 50, "group_by": 55}
MAX_VALUE_LENGTH = 200  # an attribute value
ATTR_PARAM = "attr."
PARAMETERS = ("range", "start", "end", "interval", "touchpoint", "language", "question", "group_by")
OVERVIEW_PARAMETERS = ("range", "start", "end")  # every survey over one period


class ReportError(DomainError):
    """A report request the product refuses; `field` (`param`) names the parameter."""

    @property
    def param(self) -> str:
        return self.field or ""

    @property
    def message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class ReportQuery:
    start: date
    end: date  # inclusive
    preset: str = DEFAULT_PRESET
    interval: str = "day"
    touchpoint: str = ""
    language: str = ""
    question: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    group_by: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes in the site's time zone."""
        return periods.day_bounds(self.start, self.end)

    def report_arguments(self) -> dict:
        """The keyword arguments of reports.service.csat_report."""
        return {
            "start": self.start,
            "end": self.end,
            "interval": self.interval,
            "question_key": self.question or None,
            "group_by": self.group_by or None,
            "touchpoint": self.touchpoint or None,
            "language": self.language or None,
            "attrs": dict(self.attrs),
        }

    def params(self, **overrides: str) -> list[tuple[str, str]]:
        """The query parameters that reproduce this query (presets stay presets)."""
        pairs: list[tuple[str, str]] = [("range", self.preset)]
        if self.preset == "custom":
            pairs += [("start", self.start.isoformat()), ("end", self.end.isoformat())]
        pairs.append(("interval", self.interval))
        for name in ("touchpoint", "language", "question"):
            if getattr(self, name):
                pairs.append((name, getattr(self, name)))
        pairs += [(ATTR_PARAM + name, value) for name, value in sorted(self.attrs.items())]
        if self.group_by:
            pairs.append(("group_by", self.group_by))
        pairs = [(k, v) for k, v in pairs if k not in overrides]
        pairs += [(k, v) for k, v in overrides.items() if v]
        return pairs

    def query(self, **overrides: str) -> str:
        return urlencode(self.params(**overrides))

    def without_attr(self, name: str) -> ReportQuery:
        return replace(self, attrs={k: v for k, v in self.attrs.items() if k != name})


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    if preset in ("7d", "30d", "90d"):
        return today - timedelta(days=int(preset[:-1]) - 1), today
    if preset == "quarter":
        return quarter_start(today), today
    if preset == "last_quarter":
        end = quarter_start(today) - timedelta(days=1)
        return quarter_start(end), end
    raise ReportError(
        gettext("unknown range %(value)r; choose one of %(choices)s")
        % {"value": preset, "choices": ", ".join(PRESETS)},
        field="range",
    )


def default_interval(days: int) -> str:
    """Day up to 31 days, week up to 183 (about six months), month beyond."""
    return "day" if days <= 31 else "week" if days <= 183 else "month"


def check_range(start: date, end: date, interval: str) -> None:
    """ReportError unless start..end is a range a report covers in `interval`s."""
    if end < start:
        raise ReportError(gettext("the end date is before the start date"), field="end")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportError(
            gettext("a range spans at most %(days)s days") % {"days": MAX_DAYS}, field="start"
        )
    if interval not in INTERVALS:
        raise ReportError(
            gettext("%(value)r is not one of %(choices)s")
            % {"value": interval, "choices": ", ".join(INTERVALS)},
            field="interval",
        )
    if periods.count_periods(start, end, interval) > MAX_PERIODS:
        raise ReportError(
            gettext("The range has too many periods for this interval; choose a longer interval."),
            field="interval",
        )


def check_attribute_name(param: str, name: str) -> str:
    if not ATTRIBUTE_NAME_RE.match(name):
        raise ReportError(
            gettext("%(value)r is not an attribute name (letters, digits, _, - and .)")
            % {"value": name},
            field=param,
        )
    return name


def _text(params, name: str, limit: int) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        raise ReportError(gettext("at most %(n)s characters") % {"n": limit}, field=name)
    return value


def _date(params, name: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ReportError(
            gettext("%(value)r is not a date (YYYY-MM-DD)") % {"value": raw}, field=name
        ) from None


def parse_query(
    params, *, today: date | None = None, own: tuple[str, ...] = (), only: tuple[str, ...] = ()
) -> ReportQuery:
    """The ReportQuery of query parameters; ReportError names the first bad parameter.

    `own`: the caller's own parameters (it reads them itself); `only`: the report parameters
    the caller reads, when not all of them (the others are refused like unknown ones)."""
    known = set(only or PARAMETERS) | set(own)
    for name in sorted(params.keys()):
        if name not in known and not (name.startswith(ATTR_PARAM) and not only):
            raise ReportError(gettext("unknown parameter"), field=name)

    today = today or periods.local_day(timezone.now())
    preset = (params.get("range") or "").strip()
    start, end = _date(params, "start"), _date(params, "end")
    if not preset:
        preset = "custom" if (start or end) else DEFAULT_PRESET
    if preset == "custom":
        end = end or today
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    else:
        start, end = preset_range(preset, today)
    interval = (params.get("interval") or "").strip() or default_interval((end - start).days + 1)
    check_range(start, end, interval)

    attrs: dict[str, str] = {}
    for key in sorted(params.keys()):
        if key.startswith(ATTR_PARAM):
            name = check_attribute_name(key, key.removeprefix(ATTR_PARAM))
            value = _text(params, key, MAX_VALUE_LENGTH)
            if value:
                attrs[name] = value
    group_by = _text(params, "group_by", LENGTHS["group_by"])
    if group_by and group_by not in ("touchpoint", "language"):
        check_attribute_name("group_by", group_by.removeprefix(ATTR_PARAM))
    return ReportQuery(
        start=start,
        end=end,
        preset=preset,
        interval=interval,
        touchpoint=_text(params, "touchpoint", LENGTHS["touchpoint"]),
        language=_text(params, "language", LENGTHS["language"]),
        question=_text(params, "question", LENGTHS["question"]),
        attrs=attrs,
        group_by=group_by,
    )
