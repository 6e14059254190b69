"""POST /api/v1/touchpoints/: one event or a list of up to 1,000, idempotent per (type, id)."""

from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from csat_platform.boundary import JSONParser
from surveys.touchpoints import MAX_BATCH, record_touchpoints


class CustomerSchema(serializers.Serializer):
    email = serializers.EmailField(required=False)
    name = serializers.CharField(required=False)
    external_id = serializers.CharField(required=False)
    locale = serializers.CharField(required=False, help_text="e.g. de or de-AT")
    time_zone = serializers.CharField(required=False, help_text="IANA, e.g. Europe/Berlin")


class TouchpointSchema(serializers.Serializer):
    """Documentation only: validation is surveys.touchpoints.parse_event, shared with the import."""

    type = serializers.CharField(help_text="purchase, support_contact, ...")
    external_id = serializers.CharField(help_text="Your id of the order or ticket.")
    occurred_at = serializers.DateTimeField(help_text="ISO-8601; without offset: site time zone")
    customer = CustomerSchema(help_text="An email and/or an external_id.")
    attributes = serializers.DictField(required=False, help_text='{"channel": "web", ...}')


class DecisionSchema(serializers.Serializer):
    survey = serializers.SlugField()
    decision = serializers.ChoiceField(choices=["invited", "skipped"])
    invitation = serializers.IntegerField(required=False, help_text="When invited.")
    due_at = serializers.DateTimeField(required=False, help_text="When invited.")
    reason = serializers.CharField(required=False, help_text="When skipped.")


class ErrorsField(serializers.DictField):
    child = serializers.ListField(child=serializers.CharField())


class EventResultSchema(serializers.Serializer):
    """One event stored (created) or found stored (duplicate), and what each survey decided."""

    status = serializers.ChoiceField(choices=["created", "duplicate"])
    id = serializers.IntegerField()
    type = serializers.CharField()
    external_id = serializers.CharField()
    surveys = DecisionSchema(many=True)


class EventRejectedSchema(serializers.Serializer):
    """One event refused, with the errors per field ("customer.email": [...])."""

    status = serializers.ChoiceField(choices=["rejected"])
    errors = ErrorsField()


class BatchItemSchema(serializers.Serializer):
    """A list's item: its index, and a result as for one event (errors when rejected)."""

    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "rejected"])
    id = serializers.IntegerField(required=False)
    type = serializers.CharField(required=False)
    external_id = serializers.CharField(required=False)
    surveys = DecisionSchema(many=True, required=False)
    errors = ErrorsField(required=False)


class BatchResultSchema(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = BatchItemSchema(many=True)


def _one_of(name: str, *serializers_) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=name, serializers=list(serializers_), resource_type_field_name=None
    )


class TouchpointView(APIView):
    parser_classes = [JSONParser]  # anything else is a 415 naming the media type

    @extend_schema(
        operation_id="touchpoints_create",
        request=TouchpointSchema,
        responses={
            201: EventResultSchema,
            200: _one_of("EventOrBatchResult", EventResultSchema, BatchResultSchema),
            207: BatchResultSchema,
            400: _one_of("EventRejectedOrBatchResult", EventRejectedSchema, BatchResultSchema),
        },
        description=(
            "One event object (201 created, 200 duplicate, 400 invalid) or a list of at most "
            f"{MAX_BATCH} (200 all accepted, 207 some rejected, 400 all rejected), with one "
            "result per item in order: created, duplicate (the stored record's id and "
            "decisions) or rejected (errors per field)."
        ),
        examples=[
            OpenApiExample(
                "purchase",
                value={
                    "type": "purchase",
                    "external_id": "order-1001",
                    "occurred_at": "2026-03-01T14:30:00Z",
                    "customer": {"email": "ana@example.com", "name": "Ana", "locale": "de"},
                    "attributes": {"channel": "web", "product": "kettle"},
                },
            )
        ],
    )
    def post(self, request):
        try:
            body = request.data
        except ParseError as error:
            return Response({"detail": f"The body is not valid JSON: {error.detail}"}, status=400)
        if isinstance(body, dict):
            result = record_touchpoints(items=[body]).items[0]
            data = result.as_dict()
            del data["index"]
            status = {"created": 201, "duplicate": 200, "rejected": 400}[result.status]
            return Response(data, status=status)
        if not isinstance(body, list):
            return Response(
                {"detail": "Send one event object or a list of event objects."}, status=400
            )
        if not body:
            return Response({"detail": "The list of events is empty."}, status=400)
        if len(body) > MAX_BATCH:
            return Response(
                {
                    "detail": f"At most {MAX_BATCH} events per request (got {len(body)}); "
                    "split the list into batches."
                },
                status=400,
            )
        batch = record_touchpoints(items=body)
        accepted = batch.created + batch.duplicates
        status = 200 if not batch.rejected else 207 if accepted else 400
        return Response(
            {
                "created": batch.created,
                "duplicates": batch.duplicates,
                "rejected": batch.rejected,
                "results": [item.as_dict() for item in batch.items],
            },
            status=status,
        )
