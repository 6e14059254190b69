from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys import invitations, selectors, services
from surveys.customers import CustomerIn
from surveys.models import Survey
from surveys.survey_templates import TEMPLATES
from surveys.translations import missing_translations

from .serializers import (
    InvitationRequestSerializer,
    InvitationSerializer,
    PublishedSurveySerializer,
    SurveySerializer,
    SurveyTemplateSerializer,
)


def _user(request):
    return request.user if getattr(request.user, "pk", None) else None


class SurveyListView(GenericAPIView):
    serializer_class = SurveySerializer
    error_statuses = {"post": (409,)}

    def get_queryset(self):
        return selectors.surveys_with_questions()

    @extend_schema(operation_id="surveys_list", responses=SurveySerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            SurveySerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(responses={201: SurveySerializer})
    def post(self, request):
        serializer = SurveySerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        survey = services.create_survey(data=serializer.validated_data, created_by=_user(request))
        survey = selectors.surveys_with_questions().get(pk=survey.pk)
        return Response(SurveySerializer(survey, context={"request": request}).data, status=201)


class SurveyDetailView(GenericAPIView):
    serializer_class = SurveySerializer
    error_statuses = {"patch": (409,)}

    def get_object(self):
        return get_object_or_404(selectors.surveys_with_questions(), slug=self.kwargs["slug"])

    def get(self, request, slug):
        return Response(SurveySerializer(self.get_object(), context={"request": request}).data)

    @extend_schema(request=SurveySerializer)
    def patch(self, request, slug):
        survey = self.get_object()
        serializer = SurveySerializer(
            survey, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        services.update_survey(survey=survey, data=serializer.validated_data)
        survey = selectors.surveys_with_questions().get(pk=survey.pk)
        return Response(SurveySerializer(survey, context={"request": request}).data)


class SurveyPublishView(APIView):
    error_statuses = (409,)

    @extend_schema(
        request=None,
        responses=PublishedSurveySerializer,
        description="Publish the survey. The response also lists `warnings`: texts missing "
        "in one of the survey's languages (publishing is not refused for them).",
    )
    def post(self, request, slug):
        survey = get_object_or_404(Survey, slug=slug)
        services.publish_survey(survey=survey)
        survey = selectors.surveys_with_questions().get(pk=survey.pk)
        data = SurveySerializer(survey, context={"request": request}).data
        data["warnings"] = [m.as_dict() for m in missing_translations(survey)]
        return Response(data)


class SurveyInvitationView(APIView):
    error_statuses = (409,)

    @extend_schema(
        request=InvitationRequestSerializer,
        responses={201: InvitationSerializer},
        description="An invitation under the survey's sending rules (send delay, quiet hours, "
        "expiry, fatigue, unsubscribes): 409 with a `reason` (unsubscribed, undeliverable, "
        "fatigued) when they invite nobody now.",
    )
    def post(self, request, slug):
        survey = get_object_or_404(Survey, slug=slug)
        serializer = InvitationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = CustomerIn(**{k: data[k] for k in ("email", "external_id", "name", "locale")})
        invitation, token = invitations.invite(
            survey=survey,
            customer=customer,
            locale=data["locale"],
            attributes=data["attributes"],
            send_at=data["send_at"],
        )
        data = InvitationSerializer(invitation, context={"token": token}).data
        return Response(data, status=status.HTTP_201_CREATED)


class SurveyTemplateListView(APIView):
    @extend_schema(responses=SurveyTemplateSerializer(many=True))
    def get(self, request):
        return Response(
            [
                {
                    "id": key,
                    "title": t["title"],
                    "description": t["description"],
                    "survey": t["survey"],
                }
                for key, t in TEMPLATES.items()
            ]
        )
