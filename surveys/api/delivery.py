"""GET /api/v1/surveys/<slug>/delivery/: the delivery page's figures as JSON."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys import selectors
from surveys.models import Survey, TouchpointSkip


def _counts(name: str, keys, help_text: str) -> serializers.Serializer:
    fields = {key: serializers.IntegerField() for key in keys}
    return type(name, (serializers.Serializer,), fields)(help_text=help_text)


class DeliverySchema(serializers.Serializer):
    """Documentation only: the view returns selectors.delivery_summary as JSON."""

    survey = serializers.SlugField()
    total = serializers.IntegerField(help_text="Invitations, test invitations not counted.")
    states = _counts(
        "DeliveryStates",
        selectors.STATES,
        "Invitations per state; each invitation is in exactly one. clicked and answered are "
        "sent invitations the customer opened or answered.",
    )
    funnel = _counts(
        "DeliveryFunnel",
        ("sent", "delivered", "confirmed", "bounced", "clicked", "answered", "commented"),
        "Among sent invitations: delivered = sent without a bounce; confirmed = delivered and "
        "reported delivered by the email provider's webhook.",
    )
    skipped = serializers.IntegerField(help_text="Touchpoints the survey did not invite for.")
    skips = _counts("SkipReasons", TouchpointSkip.Reason.values, "Skipped touchpoints per reason.")
    counted_at = serializers.DateTimeField(
        allow_null=True,
        help_text="null: counted now. Surveys with 50,000 invitations or more are counted at "
        "most every 30 seconds; this is when.",
    )


class SurveyDeliveryView(APIView):
    @extend_schema(
        operation_id="surveys_delivery",
        responses={200: DeliverySchema},
        description="Invitation states, the delivery funnel and skipped touchpoints per reason "
        "of one survey (survey admins with their session, API keys).",
    )
    def get(self, request, slug):
        survey = get_object_or_404(Survey, slug=slug)
        summary, counted_at = selectors.recent_delivery_summary(survey)
        return Response(
            {
                "survey": survey.slug,
                "total": summary.total,
                "states": summary.states,
                "funnel": summary.funnel,
                "skipped": sum(summary.skips.values()),
                "skips": summary.skips,
                "counted_at": counted_at,
            }
        )
