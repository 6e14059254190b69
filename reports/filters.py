"""The dashboard's controls as one value: date range (with presets), interval, touchpoint,
attribute filters and the breakdown attribute, read from and written back to the URL query.

Plain code: no database. Pages, exports and tests share it, so a bookmarked URL means the same
thing everywhere.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

PRESETS = {
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
    "90d": _("Last 90 days"),
    "quarter": _("This quarter"),
    "last_quarter": _("Last quarter"),
    "custom": _("Custom"),
}
DEFAULT_PRESET = "30d"
INTERVALS = {"day": _("Day"), "week": _("Week"), "month": _("Month")}
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_VALUE_LENGTH = 200
MAX_DAYS = 3 * 366
ATTR_PREFIX = "attr."


class FilterError(ValueError):
    """A bad control value; `param` names the query parameter for the 400 message."""

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    preset: str = DEFAULT_PRESET
    interval: str = "day"
    touchpoint: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    group_by: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes in the site's time zone."""
        zone = timezone.get_default_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def params(self, **overrides: str) -> list[tuple[str, str]]:
        """The query parameters that reproduce these filters (presets stay presets)."""
        pairs: list[tuple[str, str]] = [("range", self.preset)]
        if self.preset == "custom":
            pairs += [("start", self.start.isoformat()), ("end", self.end.isoformat())]
        pairs.append(("interval", self.interval))
        if self.touchpoint:
            pairs.append(("touchpoint", self.touchpoint))
        pairs += [(ATTR_PREFIX + name, value) for name, value in sorted(self.attrs.items())]
        if self.group_by:
            pairs.append(("group_by", self.group_by))
        replaced = {k for k in overrides}
        pairs = [(k, v) for k, v in pairs if k not in replaced]
        pairs += [(k, v) for k, v in overrides.items() if v]
        return pairs

    def query(self, **overrides: str) -> str:
        return urlencode(self.params(**overrides))

    def without_attr(self, name: str) -> "ReportFilters":
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
    raise FilterError(
        "range",
        gettext("unknown range %(value)r; choose one of %(choices)s")
        % {"value": preset, "choices": ", ".join(PRESETS)},
    )


def default_interval(days: int) -> str:
    return "day" if days <= 45 else "week" if days <= 200 else "month"


def _date(params, name: str) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(
            name, gettext("%(value)r is not a date (YYYY-MM-DD)") % {"value": raw}
        ) from None


def check_attribute_name(param: str, name: str) -> str:
    if not ATTRIBUTE_NAME.match(name) or "__" in name:
        raise FilterError(
            param,
            gettext("%(value)r is not an attribute name (letters, digits, _ and -)")
            % {"value": name},
        )
    return name


def parse_filters(params, *, today: date | None = None) -> ReportFilters:
    """ReportFilters from a QueryDict (or dict); FilterError names the first bad parameter."""
    today = today or timezone.localdate()
    preset = (params.get("range") or "").strip()
    start, end = _date(params, "start"), _date(params, "end")
    if not preset:
        preset = "custom" if (start or end) else DEFAULT_PRESET
    if preset == "custom":
        if not start or not end:
            raise FilterError(
                "start" if not start else "end", gettext("a custom range needs start and end")
            )
    else:
        start, end = preset_range(preset, today)
    if end < start:
        raise FilterError("end", gettext("the end date is before the start date"))
    if (end - start).days + 1 > MAX_DAYS:
        raise FilterError(
            "start", gettext("a range spans at most %(days)s days") % {"days": MAX_DAYS}
        )

    interval = (params.get("interval") or "").strip() or default_interval((end - start).days + 1)
    if interval not in INTERVALS:
        raise FilterError(
            "interval",
            gettext("%(value)r is not one of %(choices)s")
            % {"value": interval, "choices": ", ".join(INTERVALS)},
        )

    touchpoint = (params.get("touchpoint") or "").strip()
    if len(touchpoint) > 40:
        raise FilterError("touchpoint", gettext("at most %(n)s characters") % {"n": 40})

    attrs: dict[str, str] = {}
    for key in sorted(params.keys()):
        if not key.startswith(ATTR_PREFIX):
            continue
        name = check_attribute_name(key, key[len(ATTR_PREFIX) :])
        value = (params.get(key) or "").strip()
        if len(value) > MAX_VALUE_LENGTH:
            raise FilterError(key, gettext("at most %(n)s characters") % {"n": MAX_VALUE_LENGTH})
        if value:  # an empty value is the form's "any"
            attrs[name] = value

    group_by = (params.get("group_by") or "").strip()
    if group_by:
        check_attribute_name("group_by", group_by)
    return ReportFilters(
        start=start,
        end=end,
        preset=preset,
        interval=interval,
        touchpoint=touchpoint,
        attrs=attrs,
        group_by=group_by,
    )
