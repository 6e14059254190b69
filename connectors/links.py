"""Survey links the helpdesk's own email carries (a connector whose channel is "helpdesk").

Two forms of /rate/<connector's public id>/, both ending in a 303 to the invitation's answer
page (/s/<token>/, `score` kept), which then gives every other link's rules: scanner-safe GET,
one response, expiry.

- Signed: `?ticket=…&email=…&sig=…` with sig = base64url(HMAC-SHA256(link key, ticket + "\\n" +
  email lowercased)) cut to 18 bytes (144 bits). It stands alone: its first visit records the
  ticket's touchpoint and invitation (idempotent on the ticket: the touchpoint the connector's
  webhook would make for it).
- Placeholder: `?t=…&ticket=…&email=…` for helpdesks that fill placeholders but compute no HMAC.
  `t` is derived from the link key (it is in every customer's email, so it must not be the key
  that signs). An altered ticket id cannot be detected, so the link only opens a ticket the
  connector's webhook recorded already, and only for that ticket's requester's email.

Anything else is a 404 (LinkRefused), with nothing written. A helpdesk-delivered invitation is
never mailed by us; who gets the link is the helpdesk's decision, so the survey's sampling,
filters, fatigue, quiet hours and unsubscribes do not apply (surveys.invitations).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from branding.selectors import current_brand
from surveys import advisory_locks, tokens
from surveys.answer_page import question_views
from surveys.invitations import InvitationBatch
from surveys.models import Invitation, Survey, TouchpointEvent
from surveys.touchpoints import record_touchpoints

from .models import Connector

SIG_BYTES = 18  # 144 bits, 24 url-safe characters without padding
# Each helpdesk's placeholders for the ticket id (the one its webhook sends) and the requester.
PLACEHOLDERS = {
    "zendesk": ("{{ticket.id}}", "{{ticket.requester.email}}"),
    "zammad": ("#{ticket.id}", "#{ticket.customer.email}"),
    "freshdesk": ("{{ticket.id}}", "{{ticket.contact.email}}"),
    "generic": ("{ticket}", "{email}"),
}
LINK_PROVIDERS = frozenset(PLACEHOLDERS)
_TICKET = re.compile(r"^[A-Za-z0-9_.:#-]{1,150}$")


class LinkRefused(Exception):
    """Not a link of this connector (404, the same as any unknown address)."""


def takes_links(connector: Connector) -> bool:
    return connector.provider in LINK_PROVIDERS


def _mac(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()[:SIG_BYTES]
    return base64.urlsafe_b64encode(digest).decode()


def signature(link_key: str, ticket: str, email: str) -> str:
    return _mac(link_key, f"{ticket}\n{email.strip().lower()}")


def placeholder_token(connector: Connector) -> str:
    return _mac(connector.link_key, "csat.placeholder-link")


def base_url(connector: Connector) -> str:
    return f"{settings.SITE_URL}/rate/{connector.public_id}/"


def signed_link(connector: Connector, ticket: str, email: str) -> str:
    ticket, email = _ticket(ticket), _email(email)
    sig = signature(connector.link_key, ticket, email)
    return f"{base_url(connector)}?{urlencode({'ticket': ticket, 'email': email, 'sig': sig})}"


def templates(connector: Connector) -> dict[str, str]:
    """The link with the provider's placeholders, and the signed link's shape."""
    ticket, email = PLACEHOLDERS[connector.provider]
    base = base_url(connector)
    return {
        "placeholder": f"{base}?t={placeholder_token(connector)}&ticket={ticket}&email={email}",
        "signed": f"{base}?ticket={{ticket}}&email={{email}}&sig={{sig}}",
    }


def rating_row(connector: Connector) -> str:
    """The HTML of a row of the survey's primary question's scale points, each a placeholder
    link with its `&score=N`, inline-styled for an email (what the helpdesk's reply pastes)."""
    survey = connector.survey
    primary = survey.primary_question()
    if primary is None:
        return ""
    language = survey.default_language
    view = question_views(survey, [primary], language)[0]
    points = view.points
    html = render_to_string(
        "connectors/rating_row.html",
        {
            "question": view.text,
            "points": points,
            "link": templates(connector)["placeholder"],
            "brand": current_brand(),
            "long_scale": len(points) > 5,
            "half": len(points) // 2,
            "rest": len(points) - len(points) // 2,
        },
    )
    return html.strip()


# --- a visit -------------------------------------------------------------------------------------


def _ticket(value) -> str:
    ticket = value.strip() if isinstance(value, str) else ""
    if not _TICKET.match(ticket):
        raise LinkRefused("no ticket id")
    return ticket


def _email(value) -> str:
    # A "+" a helpdesk left unencoded in the query arrives as a space; no address has one.
    email = value.strip().replace(" ", "+") if isinstance(value, str) else ""
    if not email or len(email) > 254:
        raise LinkRefused("no email")
    try:
        validate_email(email)
    except ValidationError:
        raise LinkRefused("no email") from None
    return email


def external_id(connector: Connector, ticket: str) -> str:
    """The touchpoint id the connector's webhook gives this ticket (connectors.providers)."""
    return ticket if connector.provider == "generic" else f"{connector.provider}:{ticket}"


def _same(expected: str, given) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


def open_link(*, connector: Connector, query, now: datetime | None = None) -> str:
    """The answer page token the visit leads to, its invitation made on the first visit.

    Raises LinkRefused for anything that is not a valid link of this connector in link mode."""
    if not (takes_links(connector) and connector.active):
        raise LinkRefused("not a link connector")
    if connector.channel != Connector.Channel.HELPDESK:
        raise LinkRefused("the connector sends our email")
    ticket, email = _ticket(query.get("ticket")), _email(query.get("email"))
    if query.get("sig") is not None:
        signed = _same(signature(connector.link_key, ticket, email), query.get("sig"))
        if not signed:
            raise LinkRefused("wrong signature")
    elif not _same(placeholder_token(connector), query.get("t")):
        raise LinkRefused("wrong token")
    else:
        signed = False
    now = now or timezone.now()
    with transaction.atomic():
        invitation = _invitation(connector, ticket, email, signed=signed, now=now)
    return tokens.token_for(invitation)


def _invitation(connector: Connector, ticket: str, email: str, *, signed: bool, now) -> Invitation:
    survey = connector.survey
    type_, ident = survey.touchpoint, external_id(connector, ticket)
    advisory_locks.lock([f"e:{type_}:{ident}"])  # two first visits make one invitation
    event = (
        TouchpointEvent.objects.select_related("contact")
        .filter(type=type_, external_id=ident)
        .first()
    )
    if event is None:
        if not signed or survey.status != Survey.Status.ACTIVE:
            raise LinkRefused("an unknown ticket")
        result = record_touchpoints(
            items=[
                {
                    "type": type_,
                    "external_id": ident,
                    "occurred_at": now.isoformat(),
                    "customer": {"email": email},
                    "attributes": {"ticket": ticket},
                }
            ],
            now=now,
            helpdesk_surveys=frozenset({survey.pk}),
        ).items[0]
        if result.status == "rejected":
            raise LinkRefused("the touchpoint was refused")
        event = TouchpointEvent.objects.select_related("contact").get(pk=result.id)
    # The ticket's requester only: an erased customer's address never matches.
    if event.contact.email.lower() != email.lower():
        raise LinkRefused("not the ticket's requester")
    invitation = (
        Invitation.objects.filter(touchpoint=event, survey=survey, is_test=False)
        .order_by("id")
        .first()
    )
    if invitation is not None:
        return invitation
    if survey.status != Survey.Status.ACTIVE:
        raise LinkRefused("the survey takes no invitations")
    # A ticket recorded before link mode, or skipped by our email's rules: the helpdesk mailed
    # the link, so the customer who clicks it is asked.
    batch = InvitationBatch(surveys=[survey], contacts=[event.contact], now=now)
    made = batch.add(
        survey,
        event.contact,
        touchpoint=event,
        locale=event.contact.locale,
        attributes=event.attributes,
        channel=Invitation.Channel.HELPDESK,
    )
    if not isinstance(made, Invitation):
        raise LinkRefused(made.reason)
    batch.save()
    return made
