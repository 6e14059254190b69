"""Everything that writes connectors and their deliveries.

`receive` is the one path of a provider's webhook: verify, read, then hand the event to the
touchpoint service (surveys.touchpoints.record_touchpoints), which decides customers and
invitations exactly as for the API. A connector never makes customers or invitations itself.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys import attributes as attribute_rules
from surveys.errors import DomainError
from surveys.models import Survey
from surveys.touchpoints import record_touchpoints

from .links import LINK_PROVIDERS
from .models import Connector, Delivery, new_link_key
from .providers import PROVIDERS, Malformed, Refused

MAX_SECRET = 200


class ConnectorError(DomainError):
    pass


# --- connectors ----------------------------------------------------------------------------------


def _survey(slug: Any) -> Survey:
    survey = Survey.objects.filter(slug=slug).first() if isinstance(slug, str) else None
    if survey is None:
        raise ConnectorError(
            _("There is no survey %(slug)s.") % {"slug": repr(str(slug)[:60])}, field="survey"
        )
    return survey


def _events(provider: str, events: Any) -> list[str]:
    known = PROVIDERS[provider].events
    if events is None:
        return list(PROVIDERS[provider].default_events)
    if not isinstance(events, list) or any(e not in known for e in events):
        choices = ", ".join(known) or "none"
        raise ConnectorError(
            _("Choose events among: %(choices)s.") % {"choices": choices}, field="events"
        )
    if known and not events:
        raise ConnectorError(_("Choose at least one event."), field="events")
    return list(dict.fromkeys(events))


def _mapping(mapping: Any) -> dict:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or len(mapping) > attribute_rules.MAX_ATTRIBUTES:
        raise ConnectorError(
            _('Give the mapping as {"attribute": "path.in.payload"}.'), field="mapping"
        )
    for name, path in mapping.items():
        problem = attribute_rules.name_error(name)
        if problem or not isinstance(path, str) or not 0 < len(path) <= 200:
            raise ConnectorError(
                problem or _("Give the payload path of %(name)s as text.") % {"name": repr(name)},
                field="mapping",
            )
    return mapping


def _secret(provider: str, secret: Any) -> str:
    spec = PROVIDERS[provider]
    if secret in (None, ""):
        if spec.given_secret:
            raise ConnectorError(
                _("Paste the signing secret %(provider)s shows for the webhook.")
                % {"provider": spec.label},
                field="secret",
            )
        return spec.new_secret()
    if not isinstance(secret, str) or not secret.strip() or len(secret) > MAX_SECRET:
        raise ConnectorError(
            _("Give the secret as text of at most %(n)d characters.") % {"n": MAX_SECRET},
            field="secret",
        )
    secret = secret.strip()
    if provider == "generic":
        from standardwebhooks.webhooks import Webhook

        try:
            Webhook(secret)
        except Exception:
            raise ConnectorError(
                _("Give a whsec_ secret (base64 after the prefix)."), field="secret"
            ) from None
    return secret


def _channel(provider: str, channel: Any) -> str:
    if channel is None:
        return Connector.Channel.EMAIL
    if channel not in Connector.Channel.values:
        raise ConnectorError(
            _("Choose the channel among: %(names)s.")
            % {"names": ", ".join(Connector.Channel.values)},
            field="channel",
        )
    if channel == Connector.Channel.HELPDESK and provider not in LINK_PROVIDERS:
        raise ConnectorError(
            _("Only a helpdesk's own email can carry the survey link."), field="channel"
        )
    return channel


@transaction.atomic
def create_connector(
    *,
    provider: str,
    survey: str,
    secret: str | None = None,
    name: str = "",
    events: list[str] | None = None,
    mapping: dict | None = None,
    active: bool = True,
    channel: str | None = None,
) -> Connector:
    """A new connector; its secret is the one given (required where the provider makes it)
    or a new random one."""
    if provider not in PROVIDERS:
        raise ConnectorError(
            _("Choose a provider among: %(names)s.") % {"names": ", ".join(PROVIDERS)},
            field="provider",
        )
    return Connector.objects.create(
        provider=provider,
        survey=_survey(survey),
        secret=_secret(provider, secret),
        name=name,
        events=_events(provider, events),
        mapping=_mapping(mapping),
        active=active,
        channel=_channel(provider, channel),
    )


@transaction.atomic
def update_connector(*, connector: Connector, data: dict) -> Connector:
    """Change the survey, name, events, mapping, channel or active flag (the secret and the link
    key only by rotation)."""
    if "survey" in data:
        connector.survey = _survey(data["survey"])
    if "name" in data:
        connector.name = data["name"]
    if "events" in data:
        connector.events = _events(connector.provider, data["events"])
    if "mapping" in data:
        connector.mapping = _mapping(data["mapping"])
    if "active" in data:
        connector.active = bool(data["active"])
    if "channel" in data:
        connector.channel = _channel(connector.provider, data["channel"])
    connector.save()
    return connector


@transaction.atomic
def rotate_secret(*, connector: Connector, secret: str | None = None) -> Connector:
    """A new secret: the one given (the provider's new one) or a new random one."""
    connector.secret = _secret(connector.provider, secret)
    connector.secret_set_at = timezone.now()
    connector.save(update_fields=["secret", "secret_set_at", "updated_at"])
    return connector


@transaction.atomic
def rotate_link_key(*, connector: Connector) -> Connector:
    """A new link key: every signed link and placeholder link made with the old one is a 404."""
    connector.link_key = new_link_key()
    connector.link_key_set_at = timezone.now()
    connector.save(update_fields=["link_key", "link_key_set_at", "updated_at"])
    return connector


def delete_connector(*, connector: Connector) -> None:
    connector.delete()


# --- deliveries ----------------------------------------------------------------------------------


@dataclass
class Answer:
    """What the webhook answers the provider: a status and a small JSON body."""

    status: int
    body: dict


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)} fields}}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    return json.dumps(value, ensure_ascii=False)[:120]


def top_fields(payload: Any, *, limit: int = 40) -> dict:
    """The payload's top-level fields as the delivery log shows them, an object's own fields
    one level down ("ticket.status"): scalars clipped, deeper objects and lists by size."""
    if not isinstance(payload, dict):
        return {}
    shown: dict[str, str] = {}
    for key, value in payload.items():
        if len(shown) >= limit:
            break
        if isinstance(value, dict) and value:
            for sub, inner in value.items():
                if len(shown) >= limit:
                    break
                shown[f"{key}.{sub}"[:80]] = _shown(inner)
        else:
            shown[str(key)[:80]] = _shown(value)
    return shown


def _record(connector: Connector, **fields) -> Delivery:
    # The log's cap is kept by trim_deliveries (beat), so no delivery pays for a delete.
    return Delivery.objects.create(connector=connector, **fields)


def trim_deliveries(*, keep: int | None = None) -> int:
    """Delete every connector's deliveries beyond its newest `keep` (the setting by default);
    how many were deleted."""
    keep = keep or settings.CONNECTORS_DELIVERY_RETENTION
    deleted = 0
    for connector_id in Connector.objects.values_list("id", flat=True):
        cutoff = (
            Delivery.objects.filter(connector_id=connector_id)
            .order_by("-id")
            .values_list("id", flat=True)[keep : keep + 1]
        )
        if cutoff:
            deleted += Delivery.objects.filter(
                connector_id=connector_id, id__lte=cutoff[0]
            ).delete()[0]
    return deleted


@functools.cache
def _earlier_sql() -> str:
    quote = connection.ops.quote_name
    outcomes = ", ".join(f"'{o}'" for o in (Delivery.Outcome.MALFORMED, Delivery.Outcome.REJECTED))
    return (
        f"SELECT {quote('touchpoint_id')} FROM {quote(Delivery._meta.db_table)} "
        f"WHERE {quote('connector_id')} = %s AND {quote('delivery_id')} = %s "
        f"AND {quote('outcome')} NOT IN ({outcomes}) LIMIT 1"
    )


def _earlier_delivery(connector: Connector, delivery_id: str) -> tuple[int | None] | None:
    """The (touchpoint id,) of an earlier delivery of the connector with this id that got past
    reading (a replay of it is a duplicate), None when there is none.

    Any of them will do: a replay's row copies the first one's touchpoint. No ORDER BY, so
    the only index that fits is (connector, delivery id), whatever the table's statistics say
    (ordered by id, PostgreSQL sometimes walked all the connector's deliveries newest first).
    Asked on every delivery, so the SQL is written once instead of compiled per request."""
    with connection.cursor() as cursor:
        cursor.execute(_earlier_sql(), [connector.pk, delivery_id])
        return cursor.fetchone()


def _answer(delivery: Delivery, status: int = 200) -> Answer:
    body = {"outcome": delivery.outcome, "delivery": delivery.pk}
    if delivery.touchpoint_id:
        body["touchpoint"] = delivery.touchpoint_id
    if delivery.error:
        body["detail"] = delivery.error
    return Answer(status, body)


def receive(*, connector: Connector, headers, body: bytes, now: datetime | None = None) -> Answer:
    """One delivery to the connector's URL, start to end.

    401 and nothing stored (the connector's refusal counter aside) for a missing, wrong or stale
    signature; 400 for a body that is not the provider's event; else 200 with the outcome:
    accepted (a touchpoint made), duplicate (a replay, or an order or ticket already recorded),
    ignored (a topic or status the connector does not act on) or rejected (the touchpoint
    service refused the event, e.g. no customer email)."""
    now = now or timezone.now()
    provider = PROVIDERS[connector.provider]
    try:
        provider.verify(secret=connector.secret, headers=headers, body=body, now=now)
    except Refused as error:
        Connector.objects.filter(pk=connector.pk).update(
            refused=F("refused") + 1, last_refused_at=now
        )
        return Answer(401, {"detail": str(error)})

    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        delivery = _record(
            connector,
            received_at=now,
            outcome=Delivery.Outcome.MALFORMED,
            error="The body is not a JSON object.",
        )
        return _answer(delivery, 400)
    fields = top_fields(payload)
    try:
        received = provider.read(connector=connector, headers=headers, payload=payload)
    except Malformed as error:
        delivery = _record(
            connector,
            received_at=now,
            outcome=Delivery.Outcome.MALFORMED,
            error=str(error),
            fields=fields,
        )
        return _answer(delivery, 400)

    common = {
        "received_at": now,
        "delivery_id": received.delivery_id,
        "topic": received.topic,
        "fields": fields,
    }
    # The replay check, the touchpoint and the delivery row in one transaction: one commit
    # (one WAL flush) per delivery, as for the API, and no touchpoint without its delivery.
    with transaction.atomic():
        if received.delivery_id:
            earlier = _earlier_delivery(connector, received.delivery_id)
            if earlier is not None:
                return _answer(
                    _record(
                        connector,
                        outcome=Delivery.Outcome.DUPLICATE,
                        touchpoint_id=earlier[0],
                        error="A replay of a delivery already received.",
                        **common,
                    )
                )
        if not connector.active:
            return _answer(
                _record(
                    connector,
                    outcome=Delivery.Outcome.IGNORED,
                    error="The connector is paused.",
                    **common,
                )
            )
        if received.ignored:
            return _answer(
                _record(
                    connector, outcome=Delivery.Outcome.IGNORED, error=received.ignored, **common
                )
            )
        # In link mode the helpdesk's own reply carries the survey: the invitation is made as
        # delivered by it, so response rates count it and our sender never mails it.
        link_mode = connector.channel == Connector.Channel.HELPDESK
        result = record_touchpoints(
            items=[received.event],
            now=now,
            helpdesk_surveys=frozenset({connector.survey_id}) if link_mode else frozenset(),
            savepoint=False,
        ).items[0]
        if result.status == "rejected":
            error = "; ".join(f"{k}: {' '.join(v)}" for k, v in result.errors.items())
            delivery = _record(connector, outcome=Delivery.Outcome.REJECTED, error=error, **common)
        else:
            created = result.status == "created"
            delivery = _record(
                connector,
                outcome=Delivery.Outcome.ACCEPTED if created else Delivery.Outcome.DUPLICATE,
                touchpoint_id=result.id,
                error="" if created else "This order or ticket was recorded before.",
                **common,
            )
    return _answer(delivery)
