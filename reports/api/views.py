"""GET /api/v1/reports/csat/ and /api/v1/reports/overview/: thin views over reports.service."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from access.permissions import CanViewReports
from reports import service
from reports.query import INTERVALS, OVERVIEW_PARAMETERS, PRESETS, ReportError, parse_query
from surveys.models import Survey

from .serializers import CsatReportSerializer, OverviewSerializer

# DRF's own: ?format=json
API_PARAMETERS = ("format",)


REPORT_PARAMETERS = [
    OpenApiParameter("survey", str, required=True, description="The survey's slug."),
    OpenApiParameter(
        "range",
        str,
        enum=list(PRESETS),
        description="A dashboard period (site time zone; default 30d); custom: start and end.",
    ),
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description="First day; default 30 days before end."
    ),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive; default today."),
    OpenApiParameter(
        "interval",
        str,
        enum=list(INTERVALS),
        description="Trend buckets; default day up to 31 days, week up to 183, month beyond.",
    ),
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
        query = parse_query(params, own=("survey", *API_PARAMETERS))
        survey = Survey.objects.filter(slug=slug).prefetch_related("questions").first()
        if survey is None:
            raise ReportError(
                _("There is no survey %(slug)s.") % {"slug": slug}, field="survey", status=404
            )
        return Response(service.csat_report(survey, **query.report_arguments()))


class OverviewView(APIView):
    permission_classes = [CanViewReports]

    @extend_schema(
        operation_id="reports_overview",
        parameters=REPORT_PARAMETERS[1:4],
        responses={200: OverviewSerializer},
        description="Every active survey with its CSAT, n, target and a sparkline series.",
    )
    def get(self, request):
        query = parse_query(request.query_params, only=OVERVIEW_PARAMETERS, own=API_PARAMETERS)
        return Response(
            {
                "start": query.start.isoformat(),
                "end": query.end.isoformat(),
                "surveys": service.overview(query.start, query.end),
            }
        )
