"""Helpdesks: a ticket solved or closed, from Zendesk, Zammad or Freshdesk."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from .base import (
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


def _name(value) -> str:
    """A helpdesk's reference that is a name, or an object with one."""
    if isinstance(value, dict):
        return text(value.get("name")) or full_name(value.get("firstname"), value.get("lastname"))
    return text(value)


def _status_ignored(status: str, connector) -> str:
    if status.lower() in connector.events:
        return ""
    return f"The ticket's status {status!r} is not one this connector acts on."


ZENDESK_BODY = {
    "ticket": {
        "id": "{{ticket.id}}",
        "status": "{{ticket.status}}",
        "updated_at": "{{ticket.updated_at_with_timestamp}}",
        "requester": {
            "email": "{{ticket.requester.email}}",
            "name": "{{ticket.requester.name}}",
            "language": "{{ticket.requester.language}}",
        },
        "assignee": "{{ticket.assignee.name}}",
        "group": "{{ticket.group.name}}",
        "channel": "{{ticket.via}}",
        "brand": "{{ticket.brand.name}}",
    }
}


class Zendesk(Provider):
    """A trigger's webhook, signed with X-Zendesk-Webhook-Signature: base64 HMAC-SHA256 of the
    X-Zendesk-Webhook-Signature-Timestamp header's value followed by the raw body."""

    def __init__(self):
        super().__init__(
            name="zendesk",
            label="Zendesk",
            family="helpdesk",
            given_secret=True,
            events=("solved", "closed"),
            default_events=("solved", "closed"),
            signature_header="X-Zendesk-Webhook-Signature",
        )

    def verify(self, *, secret, headers, body, now):
        given = headers.get("X-Zendesk-Webhook-Signature")
        stamp = headers.get("X-Zendesk-Webhook-Signature-Timestamp") or ""
        if not given or not stamp:
            raise Refused("X-Zendesk-Webhook-Signature or its timestamp header is missing.")
        if not same(b64_hmac_sha256(secret, stamp.encode() + body), given):
            raise Refused("X-Zendesk-Webhook-Signature does not match the body.")
        try:
            signed_at = datetime.fromisoformat(stamp.strip())
        except ValueError:
            raise Refused("X-Zendesk-Webhook-Signature-Timestamp is not a time.") from None
        require_recent(signed_at if signed_at.tzinfo else signed_at.replace(tzinfo=UTC), now)

    def body_template(self) -> str:
        return json.dumps(ZENDESK_BODY, indent=2)

    def read(self, *, connector, headers, payload):
        ticket = obj(payload, "ticket")
        received = Received(
            delivery_id=text(headers.get("X-Zendesk-Webhook-Invocation-Id")),
            topic=text(ticket.get("status"), 40),
        )
        ticket_id = required_id(ticket.get("id"), "ticket.id")
        received.ignored = _status_ignored(received.topic, connector)
        if received.ignored:
            return received
        requester = obj(ticket, "requester")
        received.event = touchpoint(
            connector,
            payload,
            external_id=ticket_id,
            occurred_at=iso_time(ticket.get("updated_at"), default=datetime.now(UTC)),
            email=requester.get("email"),
            name=requester.get("name"),
            locale=requester.get("locale") or requester.get("language"),
            attributes={
                "ticket": ticket_id,
                "agent": _name(ticket.get("assignee")),
                "group": _name(ticket.get("group")),
                "channel": ticket.get("channel"),
                "brand": _name(ticket.get("brand")),
            },
        )
        return received


class Zammad(Provider):
    """A trigger's webhook with Zammad's default payload, signed with X-Hub-Signature:
    "sha1=" and the hex HMAC-SHA1 of the raw body."""

    def __init__(self):
        super().__init__(
            name="zammad",
            label="Zammad",
            family="helpdesk",
            events=("closed",),
            default_events=("closed",),
            signature_header="X-Hub-Signature",
        )

    def verify(self, *, secret, headers, body, now):
        given = headers.get("X-Hub-Signature")
        if not given:
            raise Refused("X-Hub-Signature is missing.")
        expected = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        if not same(expected, given):
            raise Refused("X-Hub-Signature does not match the body.")

    def read(self, *, connector, headers, payload):
        ticket = obj(payload, "ticket")
        state = ticket.get("state")
        received = Received(
            delivery_id=text(headers.get("X-Zammad-Delivery")), topic=_name(state)[:40]
        )
        ticket_id = required_id(ticket.get("id"), "ticket.id")
        received.ignored = _status_ignored(received.topic, connector)
        if received.ignored:
            return received
        customer = obj(ticket, "customer")
        article = obj(payload, "article")
        received.event = touchpoint(
            connector,
            payload,
            external_id=ticket_id,
            occurred_at=iso_time(
                ticket.get("close_at") or ticket.get("updated_at"), default=datetime.now(UTC)
            ),
            email=customer.get("email"),
            name=full_name(customer.get("firstname"), customer.get("lastname")),
            locale=obj(customer, "preferences").get("locale"),
            attributes={
                "ticket": ticket.get("number") or ticket_id,
                "agent": _name(ticket.get("owner")),
                "group": _name(ticket.get("group")),
                "channel": _name(ticket.get("create_article_type")) or _name(article.get("type")),
                "organization": _name(ticket.get("organization")),
            },
        )
        return received


FRESHDESK_BODY = {
    "freshdesk_webhook": {
        "ticket_id": "{{ticket.id}}",
        "ticket_status": "{{ticket.status}}",
        "ticket_contact_email": "{{ticket.contact.email}}",
        "ticket_contact_name": "{{ticket.contact.name}}",
        "ticket_agent_name": "{{ticket.agent.name}}",
        "ticket_group_name": "{{ticket.group.name}}",
        "ticket_source": "{{ticket.source}}",
        "ticket_product_name": "{{ticket.product.name}}",
    }
}
FRESHDESK_HEADER = "X-CSAT-Token"


class Freshdesk(Provider):
    """An automation's webhook. Freshdesk does not sign: the automation sends our secret in
    the X-CSAT-Token header, compared in constant time."""

    def __init__(self):
        super().__init__(
            name="freshdesk",
            label="Freshdesk",
            family="helpdesk",
            events=("resolved", "closed"),
            default_events=("resolved",),
            signature_header=FRESHDESK_HEADER,
        )

    def verify(self, *, secret, headers, body, now):
        given = headers.get(FRESHDESK_HEADER)
        if not given:
            raise Refused(f"{FRESHDESK_HEADER} is missing.")
        if not same(secret, given):
            raise Refused(f"{FRESHDESK_HEADER} is not this connector's secret.")

    def body_template(self) -> str:
        return json.dumps(FRESHDESK_BODY, indent=2)

    def read(self, *, connector, headers, payload):
        ticket = obj(payload, "freshdesk_webhook") or payload
        received = Received(topic=text(ticket.get("ticket_status"), 40))
        ticket_id = required_id(ticket.get("ticket_id"), "ticket_id")
        received.ignored = _status_ignored(received.topic, connector)
        if received.ignored:
            return received
        received.event = touchpoint(
            connector,
            payload,
            external_id=ticket_id,
            occurred_at=iso_time(ticket.get("ticket_updated_at"), default=datetime.now(UTC)),
            email=ticket.get("ticket_contact_email"),
            name=ticket.get("ticket_contact_name"),
            locale=ticket.get("ticket_contact_language"),
            attributes={
                "ticket": ticket_id,
                "agent": ticket.get("ticket_agent_name"),
                "group": ticket.get("ticket_group_name"),
                "channel": ticket.get("ticket_source"),
                "product": ticket.get("ticket_product_name"),
            },
        )
        return received
