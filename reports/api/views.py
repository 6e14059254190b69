"""GET /api/v1/reports/csat/ and /api/v1/reports/overview/: thin views over reports.service."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from access.permissions import CanViewReports
from reports import periods, service
from reports.filters import PRESETS, FilterError, preset_range
from reports.service import ReportError
from surveys.models import Survey

from .serializers import CsatReportSerializer, OverviewSerializer

MAX_RANGE_DAYS = 3660  # ten years
KNOWN = {
    "survey",
    "range",
    "start",
    "end",
    "interval",
    "group_by",
    "question",
    "touchpoint",
    "language",
}
ALWAYS_ALLOWED = {"format"}
MAX_TEXT = 200


def _date(params, name: str, default: date) -> date:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ReportError(
            _("%(name)s must be a date as YYYY-MM-DD, not %(value)r.")
            % {"name": name, "value": raw},
            field=name,
        ) from None


def _text(params, name: str) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    if len(raw) > MAX_TEXT:
        raise ReportError(_("%(name)s is too long.") % {"name": name}, field=name)
    return raw


def parse_range(params) -> tuple[date, date]:
    """start and end (default: the 30 days up to today, in the site's time zone); a `range`
    preset of the dashboard (7d, 30d, 90d, quarter, last_quarter) gives them instead, so the
    query of a dashboard URL reads the same report here."""
    today = periods.local_day(timezone.now())
    preset = (params.get("range") or "").strip()
    if preset and preset != "custom":
        try:
            return preset_range(preset, today)
        except FilterError as error:
            raise ReportError(
                _("range must be one of %(presets)s.") % {"presets": ", ".join(PRESETS)},
                field="range",
            ) from error
    end = _date(params, "end", today)
    start = _date(params, "start", end - timedelta(days=29))
    if start > end:
        raise ReportError(_("start must not be after end."), field="start")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ReportError(_("The range may span ten years at most."), field="end")
    return start, end


def report_arguments(params) -> dict:
    """The keyword arguments of service.csat_report from query parameters; ReportError if bad."""
    attrs: dict[str, str] = {}
    for name in params:
        if name.startswith("attr."):
            key = name.removeprefix("attr.")
            if not key:
                raise ReportError(_("Name the attribute: attr.<name>=<value>."), field=name)
            value = _text(params, name) or ""
            if value:  # empty is "any", as the dashboard's form sends it
                attrs[key] = value
        elif name not in KNOWN and name not in ALWAYS_ALLOWED:
            raise ReportError(_("Unknown parameter %(name)s.") % {"name": name}, field=name)
    start, end = parse_range(params)
    interval = params.get("interval") or "day"
    if interval not in periods.INTERVALS:
        raise ReportError(_("interval must be one of day, week, month."), field="interval")
    group_by = _text(params, "group_by") or None
    if group_by in ("attr.", ""):
        raise ReportError(_("Name the attribute to group by."), field="group_by")
    return {
        "start": start,
        "end": end,
        "interval": interval,
        "question_key": _text(params, "question") or None,
        "group_by": group_by,
        "touchpoint": _text(params, "touchpoint") or None,
        "language": _text(params, "language") or None,
        "attrs": attrs,
    }


REPORT_PARAMETERS = [
    OpenApiParameter("survey", str, required=True, description="The survey's slug."),
    OpenApiParameter(
        "range",
        str,
        enum=list(PRESETS),
        description="A dashboard period instead of start and end (custom: use start and end).",
    ),
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description="First day (site time zone); default 30 days ago."
    ),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive; default today."),
    OpenApiParameter("interval", str, enum=list(periods.INTERVALS), description="Trend buckets."),
    OpenApiParameter(
        "group_by",
        str,
        description="Breakdown: touchpoint, language, or an attribute name (e.g. channel, agent).",
    ),
    OpenApiParameter("question", str, description="Question key; the primary question if unset."),
    OpenApiParameter("touchpoint", str, description="Only responses of this touchpoint type."),
    OpenApiParameter("language", str, description="Only responses in this language."),
    OpenApiParameter(
        "attr.<name>",
        str,
        description="Only responses whose attribute <name> has this value, e.g. attr.channel=web.",
    ),
]


class CsatReportView(APIView):
    permission_classes = [CanViewReports]
    error_statuses = (404,)  # an unknown survey

    @extend_schema(
        operation_id="reports_csat",
        parameters=REPORT_PARAMETERS,
        responses={200: CsatReportSerializer},
        description="CSAT %, n, Wilson interval, mean, distribution, response rate, coverage, "
        "NPS/CES, trend series, breakdown and the previous period of one survey. Bad "
        "parameters are a 400 naming the parameter; an unknown survey is a 404.",
    )
    def get(self, request):
        params = request.query_params
        slug = params.get("survey")
        if not slug:
            raise ReportError(_("Name the survey: survey=<slug>."), field="survey")
        arguments = report_arguments(params)
        survey = Survey.objects.filter(slug=slug).prefetch_related("questions").first()
        if survey is None:
            raise ReportError(
                _("There is no survey %(slug)s.") % {"slug": slug}, field="survey", status=404
            )
        return Response(service.csat_report(survey, **arguments))


class OverviewView(APIView):
    permission_classes = [CanViewReports]

    @extend_schema(
        operation_id="reports_overview",
        parameters=REPORT_PARAMETERS[1:4],
        responses={200: OverviewSerializer},
        description="Every active survey with its CSAT, n, target and a sparkline series.",
    )
    def get(self, request):
        params = request.query_params
        for name in params:
            if name not in ("range", "start", "end") and name not in ALWAYS_ALLOWED:
                raise ReportError(_("Unknown parameter %(name)s.") % {"name": name}, field=name)
        start, end = parse_range(params)
        return Response(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "surveys": service.overview(start, end),
            }
        )
