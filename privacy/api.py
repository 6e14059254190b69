"""Admin API for data subject requests: erase and export one customer's personal data."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from access.authentication import ApiKeyUser
from access.permissions import IsSurveyAdmin

from . import selectors, services


class CanHandlePersonalData(IsSurveyAdmin):
    """Survey admins and full-access API keys; a reports key may not export personal data."""

    message = (
        "Erasing and exporting customer data needs the Survey admin role or a full-access API key."
    )

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        key = getattr(request.user, "api_key", None)
        return key is None or not key.read_only


class CustomerIdentifierSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=False, max_length=254)
    external_id = serializers.CharField(required=False, allow_blank=False, max_length=200)

    def validate(self, attrs):
        if bool(attrs.get("email")) == bool(attrs.get("external_id")):
            raise serializers.ValidationError(
                {"detail": "Give either an email or an external_id, not both."}
            )
        return attrs


class ErasureResultSerializer(serializers.Serializer):
    already_erased = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField())


def _via(request) -> str:
    if isinstance(request.user, ApiKeyUser):
        return f"api-key:{request.user.api_key.name}"
    return "api"


class CustomerEraseView(APIView):
    permission_classes = [CanHandlePersonalData]
    error_statuses = (404,)  # nothing stored under the identifier

    @extend_schema(
        operation_id="customers_erase",
        request=CustomerIdentifierSerializer,
        responses={200: ErasureResultSerializer},
        description="Erase a customer's personal data (name, email, comments, personal "
        "attributes); scores and every figure stay. 404 when nothing is stored.",
    )
    def post(self, request):
        identifier = CustomerIdentifierSerializer(data=request.data)
        identifier.is_valid(raise_exception=True)
        result = services.erase_customer(
            **identifier.validated_data, user=request.user, via=_via(request)
        )
        return Response({"already_erased": result.already_erased, "counts": result.counts})


class CustomerExportView(APIView):
    permission_classes = [CanHandlePersonalData]
    error_statuses = (404,)  # nothing stored under the identifier

    @extend_schema(
        operation_id="customers_export",
        parameters=[
            OpenApiParameter("email", str, description="the customer's email"),
            OpenApiParameter("external_id", str, description="or their external id"),
        ],
        responses={200: dict},
        description="Everything stored about one customer (data subject access), as JSON.",
    )
    def get(self, request):
        identifier = CustomerIdentifierSerializer(data=request.query_params)
        identifier.is_valid(raise_exception=True)
        return Response(selectors.customer_export(**identifier.validated_data))
