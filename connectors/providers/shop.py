"""Shops: Shopify and WooCommerce order webhooks, Stripe payment events."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from .base import (
    Malformed,
    Provider,
    Received,
    Refused,
    b64_hmac_sha256,
    full_name,
    iso_time,
    obj,
    require_recent,
    required_id,
    same,
    text,
    touchpoint,
)


def _titles(items, key: str) -> str:
    if not isinstance(items, list):
        return ""
    return ", ".join(t for t in (text(i.get(key)) for i in items if isinstance(i, dict)) if t)


class Shopify(Provider):
    """Order webhooks signed with X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body."""

    def __init__(self):
        super().__init__(
            name="shopify",
            label="Shopify",
            family="shop",
            given_secret=True,
            events=("orders/fulfilled", "orders/paid"),
            default_events=("orders/fulfilled",),
            signature_header="X-Shopify-Hmac-Sha256",
        )

    def verify(self, *, secret, headers, body, now):
        given = headers.get("X-Shopify-Hmac-Sha256")
        if not given:
            raise Refused("X-Shopify-Hmac-Sha256 is missing.")
        if not same(b64_hmac_sha256(secret, body), given):
            raise Refused("X-Shopify-Hmac-Sha256 does not match the body.")

    def read(self, *, connector, headers, payload):
        topic = text(headers.get("X-Shopify-Topic"), 100)
        delivery = text(headers.get("X-Shopify-Webhook-Id") or headers.get("X-Shopify-Event-Id"))
        received = Received(delivery_id=delivery, topic=topic)
        if topic not in connector.events:
            received.ignored = f"This connector does not act on the topic {topic!r}."
            return received
        order_id = required_id(payload.get("id"), "order id")
        customer = obj(payload, "customer")
        billing = obj(payload, "billing_address")
        when = payload.get("updated_at") if topic == "orders/fulfilled" else None
        received.event = touchpoint(
            connector,
            payload,
            external_id=order_id,
            occurred_at=iso_time(
                when or payload.get("processed_at") or payload.get("created_at"),
                default=datetime.now(UTC),
            ),
            email=payload.get("email") or payload.get("contact_email") or customer.get("email"),
            name=full_name(customer.get("first_name"), customer.get("last_name"))
            or text(billing.get("name")),
            locale=payload.get("customer_locale"),
            attributes={
                "order": payload.get("name") or payload.get("order_number"),
                "order_total": payload.get("total_price"),
                "currency": payload.get("currency"),
                "product": _titles(payload.get("line_items"), "title"),
                "shop": headers.get("X-Shopify-Shop-Domain"),
                "channel": payload.get("source_name"),
            },
        )
        return received


class WooCommerce(Provider):
    """Order webhooks signed with X-WC-Webhook-Signature: base64 HMAC-SHA256 of the raw body."""

    def __init__(self):
        super().__init__(
            name="woocommerce",
            label="WooCommerce",
            family="shop",
            events=("completed", "processing"),
            default_events=("completed",),
            signature_header="X-WC-Webhook-Signature",
        )

    @staticmethod
    def is_ping(headers, body: bytes) -> bool:
        """WooCommerce's test of a new webhook: "webhook_id=<n>" as a form, without signature."""
        return (
            not headers.get("X-WC-Webhook-Signature")
            and re.fullmatch(rb"webhook_id=\d{1,20}", body) is not None
        )

    def verify(self, *, secret, headers, body, now):
        given = headers.get("X-WC-Webhook-Signature")
        if not given:
            raise Refused("X-WC-Webhook-Signature is missing.")
        if not same(b64_hmac_sha256(secret, body), given):
            raise Refused("X-WC-Webhook-Signature does not match the body.")

    def read(self, *, connector, headers, payload):
        delivery = text(headers.get("X-WC-Webhook-Delivery-ID"))
        received = Received(
            delivery_id=delivery, topic=text(headers.get("X-WC-Webhook-Topic"), 100)
        )
        order_id = required_id(payload.get("id"), "order id")
        status = text(payload.get("status"), 40)
        if status not in connector.events:
            received.ignored = f"The order's status {status!r} is not one this connector acts on."
            return received
        billing = obj(payload, "billing")
        source = text(headers.get("X-WC-Webhook-Source"))
        received.event = touchpoint(
            connector,
            payload,
            external_id=order_id,
            occurred_at=iso_time(
                payload.get("date_completed_gmt") or payload.get("date_modified_gmt"),
                default=datetime.now(UTC),
            ),
            email=billing.get("email"),
            name=full_name(billing.get("first_name"), billing.get("last_name")),
            attributes={
                "order": payload.get("number") or order_id,
                "order_total": payload.get("total"),
                "currency": payload.get("currency"),
                "product": _titles(payload.get("line_items"), "name"),
                "shop": urlsplit(source).hostname if source else "",
                "channel": payload.get("created_via"),
            },
        )
        return received


# Stripe's amounts are in the currency's smallest unit; these have none below the unit.
ZERO_DECIMAL = frozenset(
    ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv")
    + ("xaf", "xof", "xpf")
)


def _amount(minor, currency: str) -> str:
    if isinstance(minor, bool) or not isinstance(minor, int):
        return ""
    if currency.lower() in ZERO_DECIMAL:
        return str(minor)
    return str(Decimal(minor).scaleb(-2))


class Stripe(Provider):
    """Events signed with Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">."""

    def __init__(self):
        super().__init__(
            name="stripe",
            label="Stripe",
            family="shop",
            given_secret=True,
            events=("checkout.session.completed", "payment_intent.succeeded"),
            default_events=("checkout.session.completed",),
            signature_header="Stripe-Signature",
        )

    def verify(self, *, secret, headers, body, now):
        header = headers.get("Stripe-Signature") or ""
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        stamps = [v for k, v in parts if k.strip() == "t"]
        signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
        if not stamps or not signatures or not stamps[0].strip().isdigit():
            raise Refused("Stripe-Signature is missing or has no t= and v1=.")
        stamp = stamps[0].strip()
        expected = hmac.new(
            secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not any(same(expected, s) for s in signatures):
            raise Refused("Stripe-Signature does not match the body.")
        try:
            signed_at = datetime.fromtimestamp(int(stamp), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise Refused("Stripe-Signature's t= is not a time.") from None
        require_recent(signed_at, now)

    def read(self, *, connector, headers, payload):
        event_id = required_id(payload.get("id"), "event id")
        topic = text(payload.get("type"), 100)
        received = Received(delivery_id=event_id, topic=topic)
        thing = obj(obj(payload, "data"), "object")
        if not topic or not thing:
            raise Malformed("The payload is not a Stripe event (type, data.object).")
        if topic not in connector.events:
            received.ignored = f"This connector does not act on the event {topic!r}."
            return received
        currency = text(thing.get("currency"), 3)
        if topic == "checkout.session.completed":
            details = obj(thing, "customer_details")
            # The payment intent's id, when there is one, names the payment whichever event
            # reports it: a session and its intent are one touchpoint.
            payment = text(thing.get("payment_intent")) or required_id(thing.get("id"), "id")
            email = details.get("email") or thing.get("customer_email")
            name = details.get("name")
            locale = thing.get("locale")
            amount = thing.get("amount_total")
        else:
            payment = required_id(thing.get("id"), "payment intent id")
            email, name, locale = thing.get("receipt_email"), "", ""
            amount = thing.get("amount_received")
        received.event = touchpoint(
            connector,
            payload,
            external_id=payment,
            occurred_at=iso_time(payload.get("created"), default=datetime.now(UTC)),
            email=email,
            name=name,
            locale="" if locale == "auto" else locale,
            attributes={
                "order_total": _amount(amount, currency),
                "currency": currency.upper(),
                "product": thing.get("description"),
            },
        )
        return received
