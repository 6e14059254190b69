"""Any other system: the body of POST /api/v1/touchpoints/ (one event), signed the Standard
Webhooks way (webhook-id, webhook-timestamp, webhook-signature; a whsec_ secret)."""

from __future__ import annotations

import base64
import secrets

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .base import Malformed, Provider, Received, Refused, dig, text


class Generic(Provider):
    def __init__(self):
        super().__init__(
            name="generic",
            label="Standard Webhooks",
            family="any",
            signature_header="webhook-signature",
        )

    def new_secret(self) -> str:
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()

    def verify(self, *, secret, headers, body, now):
        wanted = ("webhook-id", "webhook-timestamp", "webhook-signature")
        try:
            # The library checks the timestamp against its own 5-minute window and the clock.
            Webhook(secret).verify(
                body, {k: headers.get(k) or "" for k in wanted}, json_parse=False
            )
        except WebhookVerificationError as error:
            raise Refused(f"Standard Webhooks signature: {error}.") from None

    def read(self, *, connector, headers, payload):
        received = Received(delivery_id=text(headers.get("webhook-id")))
        if "external_id" not in payload and "customer" not in payload:
            raise Malformed("Send one touchpoint event, as for POST /api/v1/touchpoints/.")
        event = dict(payload)
        event.setdefault("type", connector.survey.touchpoint)
        extra = {}
        for name, path in (connector.mapping or {}).items():
            if text(dig(payload, str(path))):
                extra[name] = text(dig(payload, str(path)))
        if extra:
            given = event.get("attributes")
            event["attributes"] = {**(given if isinstance(given, dict) else {}), **extra}
        received.topic = text(event.get("type"), 40)
        received.event = event
        return received
