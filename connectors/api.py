"""/api/v1/connectors/: create, list, read, change, rotate and delete connectors; read their
deliveries; make a helpdesk connector's signed survey link. Secrets (the webhook's and the link
key) are in the answer to a create or a rotation, and never again."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from . import links, selectors, services
from .models import Connector, Delivery
from .providers import PROVIDERS


class ConnectorSerializer(serializers.ModelSerializer):
    provider = serializers.ChoiceField(choices=list(PROVIDERS))
    survey = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField(help_text="The address the provider posts to.")
    events = serializers.ListField(child=serializers.CharField())
    mapping = serializers.DictField(child=serializers.CharField())
    delivery_count = serializers.IntegerField(read_only=True)
    last_delivery_at = serializers.DateTimeField(read_only=True, allow_null=True)
    link_template = serializers.SerializerMethodField(
        help_text="Helpdesks: the survey link with the helpdesk's placeholders for its own email "
        "(channel helpdesk); null for shops."
    )
    signed_link_template = serializers.SerializerMethodField(
        help_text="Helpdesks: the signed link's shape; sig = base64url(HMAC-SHA256(link key, "
        'ticket + "\\n" + email lowercased)) cut to 18 bytes. Null for shops.'
    )

    class Meta:
        model = Connector
        fields = [
            "id",
            "provider",
            "survey",
            "name",
            "url",
            "events",
            "mapping",
            "active",
            "channel",
            "link_template",
            "signed_link_template",
            "created_at",
            "secret_set_at",
            "link_key_set_at",
            "refused",
            "last_refused_at",
            "delivery_count",
            "last_delivery_at",
        ]
        read_only_fields = fields

    def get_url(self, connector: Connector) -> str:
        return selectors.hook_url(connector)

    def get_link_template(self, connector: Connector) -> str | None:
        return links.templates(connector)["placeholder"] if links.takes_links(connector) else None

    def get_signed_link_template(self, connector: Connector) -> str | None:
        return links.templates(connector)["signed"] if links.takes_links(connector) else None


class ConnectorWithSecretSerializer(ConnectorSerializer):
    secret = serializers.CharField(help_text="Shown in this answer only.")
    link_key = serializers.CharField(
        help_text="Signs survey links (helpdesks); shown in this answer only."
    )

    class Meta(ConnectorSerializer.Meta):
        fields = [*ConnectorSerializer.Meta.fields, "secret", "link_key"]
        read_only_fields = fields


class ConnectorWithLinkKeySerializer(ConnectorSerializer):
    link_key = serializers.CharField(help_text="Shown in this answer only.")

    class Meta(ConnectorSerializer.Meta):
        fields = [*ConnectorSerializer.Meta.fields, "link_key"]
        read_only_fields = fields


class LinkRequestSerializer(serializers.Serializer):
    ticket = serializers.CharField(max_length=150, help_text="The helpdesk's ticket id.")
    email = serializers.EmailField(max_length=254, help_text="The ticket's requester.")


class LinkSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="Add &score=N to preselect a score.")


class ConnectorCreateSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=list(PROVIDERS))
    survey = serializers.CharField(max_length=80, help_text="The survey's slug.")
    secret = serializers.CharField(
        max_length=services.MAX_SECRET,
        required=False,
        help_text="Required for shopify, stripe and zendesk (their signing secret); "
        "generated for the others when left out.",
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=10,
        help_text="Topics or statuses acted on; the provider's default when left out.",
    )
    mapping = serializers.DictField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text='Extra attributes from the payload: {"attribute": "path.in.payload"}.',
    )
    active = serializers.BooleanField(required=False, default=True)
    channel = serializers.ChoiceField(
        choices=Connector.Channel.choices,
        required=False,
        help_text="Helpdesks: email (we send the survey) or helpdesk (its own email carries "
        "the link; we send nothing).",
    )


class ConnectorUpdateSerializer(serializers.Serializer):
    survey = serializers.CharField(max_length=80, required=False)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=10
    )
    mapping = serializers.DictField(child=serializers.CharField(max_length=200), required=False)
    active = serializers.BooleanField(required=False)
    channel = serializers.ChoiceField(choices=Connector.Channel.choices, required=False)


class RotateSerializer(serializers.Serializer):
    secret = serializers.CharField(
        max_length=services.MAX_SECRET,
        required=False,
        help_text="The provider's new signing secret (shopify, stripe, zendesk); "
        "generated for the others.",
    )


class DeliverySerializer(serializers.ModelSerializer):
    fields = serializers.DictField(child=serializers.CharField())

    class Meta:
        model = Delivery
        fields = [
            "id",
            "received_at",
            "delivery_id",
            "topic",
            "outcome",
            "error",
            "touchpoint",
            "fields",
        ]
        read_only_fields = fields


def _one(pk: int) -> Connector:
    return get_object_or_404(selectors.connectors(), pk=pk)


class ConnectorListView(GenericAPIView):
    serializer_class = ConnectorSerializer

    def get_queryset(self):
        return selectors.connectors()

    @extend_schema(operation_id="connectors_list", responses=ConnectorSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ConnectorSerializer(page, many=True).data)

    @extend_schema(
        operation_id="connectors_create",
        request=ConnectorCreateSerializer,
        responses={201: ConnectorWithSecretSerializer},
        description="A connector for a provider's webhook: `url` is where the provider posts, "
        "`secret` is shown in this answer only.",
        examples=[
            OpenApiExample(
                "shopify",
                value={"provider": "shopify", "survey": "shop", "secret": "shpss_..."},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        serializer = ConnectorCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        connector = services.create_connector(**serializer.validated_data)
        return Response(ConnectorWithSecretSerializer(_one(connector.pk)).data, status=201)


class ConnectorDetailView(GenericAPIView):
    serializer_class = ConnectorSerializer

    @extend_schema(operation_id="connectors_retrieve")
    def get(self, request, pk: int):
        return Response(ConnectorSerializer(_one(pk)).data)

    @extend_schema(operation_id="connectors_partial_update", request=ConnectorUpdateSerializer)
    def patch(self, request, pk: int):
        connector = _one(pk)
        serializer = ConnectorUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.update_connector(connector=connector, data=serializer.validated_data)
        return Response(ConnectorSerializer(_one(pk)).data)

    @extend_schema(operation_id="connectors_destroy", responses={204: None})
    def delete(self, request, pk: int):
        services.delete_connector(connector=_one(pk))
        return Response(status=204)


class ConnectorRotateView(GenericAPIView):
    serializer_class = ConnectorWithSecretSerializer

    @extend_schema(
        operation_id="connectors_rotate",
        request=RotateSerializer,
        responses=ConnectorWithSecretSerializer,
        description="A new secret; the old one stops working at once.",
    )
    def post(self, request, pk: int):
        connector = _one(pk)
        serializer = RotateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.rotate_secret(connector=connector, secret=serializer.validated_data.get("secret"))
        return Response(ConnectorWithSecretSerializer(_one(pk)).data)


class ConnectorRotateLinkKeyView(GenericAPIView):
    serializer_class = ConnectorWithLinkKeySerializer

    @extend_schema(
        operation_id="connectors_rotate_link_key",
        request=None,
        responses=ConnectorWithLinkKeySerializer,
        description="A new link key: every survey link made with the old one is a 404 at once.",
    )
    def post(self, request, pk: int):
        connector = services.rotate_link_key(connector=_one(pk))
        return Response(ConnectorWithLinkKeySerializer(connector).data)


class ConnectorLinkView(GenericAPIView):
    serializer_class = LinkSerializer

    @extend_schema(
        operation_id="connectors_link",
        request=LinkRequestSerializer,
        responses=LinkSerializer,
        description="The signed survey link of a ticket for its requester, for the helpdesk's "
        "own email. 409 for a connector that is not a helpdesk's.",
    )
    def post(self, request, pk: int):
        connector = _one(pk)
        serializer = LinkRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not links.takes_links(connector):
            raise services.ConnectorError(
                "Only a helpdesk connector makes survey links.", field="provider", status=409
            )
        try:
            url = links.signed_link(connector, **serializer.validated_data)
        except links.LinkRefused:
            raise serializers.ValidationError(
                {"ticket": ["Letters, digits and _ . : # - only, at most 150."]}
            ) from None
        return Response({"url": url})


class DeliveryListView(GenericAPIView):
    serializer_class = DeliverySerializer

    def get_queryset(self):
        return Delivery.objects.filter(connector=_one(self.kwargs["pk"])).order_by("-id")

    @extend_schema(operation_id="connectors_deliveries", responses=DeliverySerializer(many=True))
    def get(self, request, pk: int):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
