"""Connectors: a shop's or helpdesk's signed webhook turned into touchpoint events.

A connector is a provider, the survey it feeds (its touchpoint type), the signing secret and an
optional field mapping. Every delivery that passes the signature check is a row, with what came
of it; a delivery that fails it is only counted on the connector.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.models import Survey, TouchpointEvent


def new_public_id() -> str:
    return secrets.token_urlsafe(18)


def new_link_key() -> str:
    return secrets.token_urlsafe(32)


class Connector(models.Model):
    class Provider(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"
        STRIPE = "stripe", "Stripe"
        ZENDESK = "zendesk", "Zendesk"
        ZAMMAD = "zammad", "Zammad"
        FRESHDESK = "freshdesk", "Freshdesk"
        GENERIC = "generic", _("Any system (Standard Webhooks)")

    public_id = models.CharField(max_length=40, unique=True, default=new_public_id, editable=False)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="connectors")
    name = models.CharField(max_length=100, blank=True)
    # Kept as given: verifying an HMAC needs the secret itself. Never shown after it is set.
    secret = models.CharField(max_length=200)
    events = models.JSONField(default=list, blank=True, help_text="Topics or statuses acted on.")
    mapping = models.JSONField(
        default=dict, blank=True, help_text='Extra attributes: {"name": "payload.path"}.'
    )
    active = models.BooleanField(default=True)

    class Channel(models.TextChoices):
        EMAIL = "email", _("Our survey email")
        HELPDESK = "helpdesk", _("The helpdesk's own email carries the link")

    # How a helpdesk connector's customers get the survey (connectors.links): our email, or a
    # link the helpdesk puts into its own reply, signed with the link key (a secret apart from
    # the webhook's, shown once) or carrying the token derived from it.
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    link_key = models.CharField(max_length=64, default=new_link_key)
    link_key_set_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    secret_set_at = models.DateTimeField(default=timezone.now)
    refused = models.PositiveIntegerField(
        default=0, help_text="Deliveries refused for a missing, wrong or stale signature."
    )
    last_refused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or f"{self.get_provider_display()} → {self.survey_id}"


class Delivery(models.Model):
    """One signed delivery and what it led to."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Touchpoint made")
        DUPLICATE = "duplicate", _("Already received")
        IGNORED = "ignored", _("Ignored")
        REJECTED = "rejected", _("Rejected")
        MALFORMED = "malformed", _("Malformed")

    # No index of its own: both indexes below lead with it. With a third one, PostgreSQL chose
    # the plain one for the replay check and filtered every delivery the connector keeps.
    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    received_at = models.DateTimeField(default=timezone.now)
    delivery_id = models.CharField(max_length=200, blank=True)
    topic = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error = models.TextField(blank=True)
    touchpoint = models.ForeignKey(
        TouchpointEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fields = models.JSONField(default=dict, blank=True, help_text="The payload's top-level fields.")

    class Meta:
        ordering = ["-id"]
        indexes = [
            # serves the replay check: has this connector seen the provider's delivery id?
            models.Index(fields=["connector", "delivery_id"], name="connector_delivery_id"),
            # serves the delivery log (a connector's newest first) and the retention cap's trim
            models.Index(fields=["connector", "-id"], name="connector_delivery_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.connector_id}: {self.outcome} {self.delivery_id}"
