"""What every provider shares: the verdict types, HMAC helpers and the touchpoint builder."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from surveys import attributes as attribute_rules
from surveys.touchpoints import LOCALE_RE

TOLERANCE_SECONDS = 300  # Stripe's documented 5 minutes, applied to every signed timestamp
LANGUAGE_NAMES = {  # helpdesks that send a language's name instead of its tag
    "english": "en",
    "german": "de",
    "deutsch": "de",
    "dutch": "nl",
    "nederlands": "nl",
    "polish": "pl",
    "polski": "pl",
    "danish": "da",
    "dansk": "da",
}


class Refused(Exception):
    """The delivery is not the provider's: signature missing, wrong or stale (401)."""


class Malformed(Exception):
    """The body is not this provider's event (400)."""


@dataclass
class Received:
    """A verified delivery read: the touchpoint event to record, or why it is ignored."""

    delivery_id: str = ""
    topic: str = ""
    event: dict | None = None
    ignored: str = ""


@dataclass
class Provider:
    name: str = ""
    label: str = ""
    family: str = ""  # shop | helpdesk | any
    given_secret: bool = False  # the provider makes the secret; else we generate it
    events: tuple[str, ...] = ()  # the topics or statuses a connector may act on
    default_events: tuple[str, ...] = ()
    signature_header: str = ""
    notes: dict = field(default_factory=dict)

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)

    def verify(self, *, secret: str, headers, body: bytes, now: datetime) -> None:
        raise NotImplementedError

    def read(self, *, connector, headers, payload: dict) -> Received:
        raise NotImplementedError

    def body_template(self) -> str:
        """The JSON the user pastes into the provider's webhook, for providers that need one."""
        return ""


# --- signatures ----------------------------------------------------------------------------------


def b64_hmac_sha256(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def same(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a computed signature with the one a request carries."""
    return hmac.compare_digest(expected.encode(), (given or "").encode())


def require_recent(signed_at: datetime, now: datetime) -> None:
    if abs((now - signed_at).total_seconds()) > TOLERANCE_SECONDS:
        raise Refused("The signature's timestamp is more than 5 minutes away from our clock.")


# --- reading payloads ----------------------------------------------------------------------------


def text(value: Any, limit: int = attribute_rules.MAX_VALUE_LENGTH) -> str:
    """A payload's scalar as text (numbers included), stripped and clipped; "" otherwise."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return value.strip()[:limit]


def dig(data: Any, path: str) -> Any:
    """`data["a"]["b"]` for "a.b" (list items by index), None where the path does not lead."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def obj(data: Any, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def full_name(*parts: Any) -> str:
    return " ".join(p for p in (text(x) for x in parts) if p)


def locale_of(value: Any) -> str:
    """A language tag the touchpoint accepts, from a tag or a language's name; "" otherwise."""
    raw = text(value, 16).replace("_", "-")
    if not raw:
        return ""
    if raw.lower() in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[raw.lower()]
    return raw if LOCALE_RE.match(raw) else ""


def iso_time(value: Any, *, default: datetime) -> str:
    """An ISO-8601 time for the touchpoint: a naive one is UTC (as the providers send them)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return default.isoformat()
    raw = text(value, 40)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return default.isoformat()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


_ID = re.compile(r"^[A-Za-z0-9_.:#-]{1,150}$")


def required_id(value: Any, what: str) -> str:
    ident = text(value)
    if not _ID.match(ident):
        raise Malformed(f"The payload has no {what}.")
    return ident


def touchpoint(
    connector,
    payload: dict,
    *,
    external_id: str,
    occurred_at: str,
    email: Any,
    name: Any = "",
    locale: Any = "",
    attributes: dict,
) -> dict:
    """The body of POST /api/v1/touchpoints/ for the connector's survey's touchpoint type.

    Empty attributes are left out; the connector's mapping adds its own from the payload."""
    found = {k: text(v) for k, v in attributes.items() if text(v)}
    for name_, path in (connector.mapping or {}).items():
        value = dig(payload, str(path))
        if text(value):
            found[name_] = text(value)
    return {
        "type": connector.survey.touchpoint,
        "external_id": f"{connector.provider}:{external_id}",
        "occurred_at": occurred_at,
        "customer": {"email": text(email, 254), "name": text(name), "locale": locale_of(locale)},
        "attributes": found,
    }
