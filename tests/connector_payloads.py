"""Provider deliveries as their documentation describes them: payloads and signatures computed
here, independently of connectors/providers (no provider SDK)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime


def _recent() -> str:
    """A moment just past, as ISO-8601 (an old one would be skipped as stale)."""
    return datetime.fromtimestamp(time.time() - 600, tz=UTC).isoformat()


def b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def dumps(payload) -> bytes:
    return json.dumps(payload).encode()


# --- Shopify: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(secret, raw body)) ----------------------


def shopify_order(order_id=820982911946154508, email="jon@example.com", **extra) -> dict:
    return {
        "id": order_id,
        "email": email,
        "name": "#9999",
        "total_price": "403.00",
        "currency": "EUR",
        "customer_locale": "de",
        "source_name": "web",
        "updated_at": _recent(),
        "customer": {"id": 115310627314723954, "first_name": "Jon", "last_name": "Snow"},
        "line_items": [{"title": "IPod Nano - 8GB"}, {"title": "Case"}],
        **extra,
    }


def shopify_headers(secret, body, *, topic="orders/fulfilled", webhook_id=None) -> dict:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": b64(secret, body),
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


# --- WooCommerce: X-WC-Webhook-Signature = base64(HMAC-SHA256(secret, raw body)) -----------------


def woo_order(order_id=727, status="completed", email="ana@example.com") -> dict:
    return {
        "id": order_id,
        "number": str(order_id),
        "status": status,
        "currency": "USD",
        "total": "21.00",
        "created_via": "checkout",
        "date_completed_gmt": _recent(),
        "billing": {"first_name": "Ana", "last_name": "Lima", "email": email},
        "line_items": [{"name": "Woo Single #1"}],
    }


def woo_headers(secret, body, *, delivery_id=None) -> dict:
    return {
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-Signature": b64(secret, body),
        "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
    }


# --- Stripe: Stripe-Signature: t=<ts>,v1=hex(HMAC-SHA256(secret, "<ts>.<body>")) ------------------


def stripe_event(type_="checkout.session.completed", event_id=None, **obj) -> dict:
    thing = {
        "id": "cs_test_a1",
        "object": "checkout.session",
        "payment_intent": "pi_3MtwBw",
        "customer_details": {"email": "bo@example.com", "name": "Bo Berg"},
        "amount_total": 2000,
        "currency": "eur",
        "locale": "auto",
    }
    if type_ == "payment_intent.succeeded":
        thing = {
            "id": "pi_3MtwBw",
            "object": "payment_intent",
            "receipt_email": "bo@example.com",
            "amount_received": 2000,
            "currency": "eur",
        }
    thing.update(obj)
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": thing},
    }


def stripe_headers(secret, body, *, at=None) -> dict:
    stamp = str(int(at if at is not None else time.time()))
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={signature},v0=ignored"}


# --- Zendesk: X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp + body)) ---------


def zendesk_ticket(ticket_id="35436", status="Solved", email="cy@example.com") -> dict:
    """The body a trigger sends with the JSON template the connector page shows, filled in."""
    return {
        "ticket": {
            "id": ticket_id,
            "status": status,
            "updated_at": _recent(),
            "requester": {"email": email, "name": "Cy Dahl", "language": "Dansk"},
            "assignee": "Olga",
            "group": "Billing",
            "channel": "Email",
            "brand": "Acme",
        }
    }


def zendesk_headers(secret, body, *, at=None, invocation=None) -> dict:
    moment = datetime.fromtimestamp(at if at is not None else time.time(), tz=UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "X-Zendesk-Webhook-Invocation-Id": invocation or str(uuid.uuid4().int)[:19],
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Signature": b64(secret, stamp.encode() + body),
    }


# --- Zammad: X-Hub-Signature: sha1=hex(HMAC-SHA1(token, raw body)) -------------------------------


def zammad_ticket(ticket_id=12, state="closed", email="dee@example.com") -> dict:
    return {
        "ticket": {
            "id": ticket_id,
            "number": "31001",
            "title": "Order not delivered",
            "state": state,
            "group": "Users",
            "owner": {"firstname": "Olga", "lastname": "Agent"},
            "customer": {
                "email": email,
                "firstname": "Dee",
                "lastname": "Vries",
                "preferences": {"locale": "nl-nl"},
            },
            "create_article_type": "email",
            "updated_at": _recent(),
        },
        "article": {"id": 44, "type": "email"},
    }


def zammad_headers(secret, body, *, delivery=None) -> dict:
    return {
        "X-Zammad-Trigger": "CSAT",
        "X-Zammad-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
    }


# --- Freshdesk: no signature, the automation's custom header --------------------------------------


def freshdesk_ticket(ticket_id="88", status="Resolved", email="eve@example.com") -> dict:
    return {
        "freshdesk_webhook": {
            "ticket_id": ticket_id,
            "ticket_status": status,
            "ticket_contact_email": email,
            "ticket_contact_name": "Eve Nowak",
            "ticket_agent_name": "Olga",
            "ticket_group_name": "Billing",
            "ticket_source": "Portal",
            "ticket_product_name": "Kettle",
        }
    }


def freshdesk_headers(secret, body) -> dict:
    return {"X-CSAT-Token": secret}


# --- Standard Webhooks: v1,base64(HMAC-SHA256(base64decode(whsec_…), "id.ts.body")) --------------


def generic_event(external_id="order-77", email="fay@example.com") -> dict:
    return {
        "type": "purchase",
        "external_id": external_id,
        "occurred_at": _recent(),
        "customer": {"email": email, "name": "Fay"},
        "attributes": {"channel": "pos", "product": "kettle"},
    }


def generic_headers(secret, body, *, at=None, msg_id=None) -> dict:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    stamp = str(int(at if at is not None else time.time()))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
