"""Touchpoint events in: validation of outside input and the bulk ingest service.

`record_touchpoints` is the one code path of the API and the CSV import. Per batch it runs a
constant number of queries, whatever its size: customers found or made in bulk
(surveys.customers), events and the invitations or skip reasons they lead to
(surveys.invitations) written in bulk, in one transaction.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from . import advisory_locks, attributes, sending_rules
from .customers import CustomerIn, resolve_customers
from .invitations import InvitationBatch, Skip
from .models import Invitation, Survey, TouchpointEvent, TouchpointSkip

MAX_BATCH = 1000
FUTURE_TOLERANCE = timedelta(days=1)
TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


@dataclass
class EventIn:
    """One validated event, as the ingest service needs it."""

    index: int
    type: str
    external_id: str
    occurred_at: datetime
    customer: CustomerIn
    attributes: dict


@dataclass
class ItemResult:
    index: int
    status: str  # created | duplicate | rejected
    id: int | None = None
    type: str = ""
    external_id: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    surveys: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        if self.status == "rejected":
            return {"index": self.index, "status": self.status, "errors": self.errors}
        return {
            "index": self.index,
            "status": self.status,
            "id": self.id,
            "type": self.type,
            "external_id": self.external_id,
            "surveys": self.surveys,
        }


@dataclass
class BatchResult:
    items: list[ItemResult]

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def rejected(self) -> int:
        return self.count("rejected")


# --- validation ----------------------------------------------------------------------------------


def _text(raw: dict, key: str, path: str, errors: dict, *, max_length: int, required=False):
    value = raw.get(key)
    if value is None or value == "":
        if required:
            errors[path] = ["This field is required."]
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors[path] = ["Give a string."]
        return ""
    value = str(value).strip()
    if required and not value:
        errors[path] = ["This field is required."]
    elif len(value) > max_length:
        errors[path] = [f"At most {max_length} characters."]
    return value


def parse_time(value: Any, *, default_tz) -> datetime:
    """An ISO-8601 time; without an offset it is read in `default_tz`. Raises ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Give an ISO-8601 date and time, e.g. 2026-03-01T14:30:00Z.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value[:40]!r} is not an ISO-8601 date and time (e.g. 2026-03-01T14:30:00Z)."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def parse_event(raw: Any, *, index: int, now: datetime, default_tz) -> EventIn | dict:
    """A validated EventIn, or the errors as {"field.path": ["message"]}."""
    if not isinstance(raw, dict):
        return {"non_field_errors": ["Each event is a JSON object."]}
    errors: dict[str, list[str]] = {}
    type_ = _text(raw, "type", "type", errors, max_length=40, required=True)
    if type_ and "type" not in errors and not TYPE_RE.match(type_):
        errors["type"] = [
            "Use lowercase letters, digits, '_', '-' or '.' (e.g. purchase, support_contact)."
        ]
    external_id = _text(raw, "external_id", "external_id", errors, max_length=200, required=True)
    occurred_at = None
    if raw.get("occurred_at") in (None, ""):
        errors["occurred_at"] = ["This field is required."]
    else:
        try:
            occurred_at = parse_time(raw["occurred_at"], default_tz=default_tz)
            if occurred_at > now + FUTURE_TOLERANCE:
                errors["occurred_at"] = ["This lies in the future."]
        except ValueError as error:
            errors["occurred_at"] = [str(error)]

    customer = raw.get("customer")
    email = name = locale = time_zone = ""
    customer_id = None
    if not isinstance(customer, dict):
        errors["customer"] = [
            "Give the customer as an object with an email and/or an external_id."
            if customer is not None
            else "This field is required."
        ]
    else:
        email = _text(customer, "email", "customer.email", errors, max_length=254)
        if email and "customer.email" not in errors:
            try:
                validate_email(email)
            except ValidationError:
                errors["customer.email"] = [f"{email[:60]!r} is not an email address."]
        name = _text(customer, "name", "customer.name", errors, max_length=200)
        customer_id = (
            _text(customer, "external_id", "customer.external_id", errors, max_length=200) or None
        )
        locale = _text(customer, "locale", "customer.locale", errors, max_length=16)
        if locale and "customer.locale" not in errors and not LOCALE_RE.match(locale):
            errors["customer.locale"] = [f"{locale!r} is not a language tag (e.g. de or de-AT)."]
        time_zone = _text(customer, "time_zone", "customer.time_zone", errors, max_length=64)
        if time_zone and "customer.time_zone" not in errors and not sending_rules.zone(time_zone):
            errors["customer.time_zone"] = [
                f"{time_zone!r} is not a time zone (e.g. Europe/Berlin)."
            ]
        if (
            not email
            and not customer_id
            and not any(k in errors for k in ("customer.email", "customer.external_id"))
        ):
            errors["customer"] = ["Give the customer's email or external_id (or both)."]

    attributes_in = raw.get("attributes")
    if attributes_in is None:
        attributes_in = {}
    errors.update(attributes.errors(attributes_in))

    if errors:
        return errors
    return EventIn(
        index=index,
        type=type_,
        external_id=external_id,
        occurred_at=occurred_at,
        customer=CustomerIn(email, customer_id, name, locale, time_zone),
        attributes=attributes_in,
    )


# --- ingest --------------------------------------------------------------------------------------


def record_touchpoints(
    *,
    items: list,
    now: datetime | None = None,
    helpdesk_surveys: frozenset[int] = frozenset(),
    savepoint: bool = True,
) -> BatchResult:
    """Validate and store a batch of raw event objects (at most MAX_BATCH).

    The invitations of `helpdesk_surveys` (ids) are delivered by the helpdesk's own email (a
    connector in link mode): made "sent" at once, never mailed by us (surveys.invitations).

    Each valid event is stored once per (type, external_id): a repeat, also inside the batch, is
    a "duplicate" pointing at the stored record. Each new event gets, per active survey listening
    to its type, an invitation or a TouchpointSkip with the reason. Invalid items are "rejected"
    with their errors and the valid ones are still stored. All of it in one transaction.

    Inside a caller's transaction, `savepoint=False` joins it without a savepoint (two round
    trips fewer): for a caller that lets an error here roll back all it wrote.
    """
    if len(items) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} events per batch")
    now = now or timezone.now()
    default_tz = sending_rules.site_zone()
    results: list[ItemResult] = []
    first: dict[tuple[str, str], EventIn] = {}
    repeats: list[tuple[ItemResult, tuple[str, str]]] = []
    for index, raw in enumerate(items):
        parsed = parse_event(raw, index=index, now=now, default_tz=default_tz)
        if isinstance(parsed, dict):
            results.append(ItemResult(index=index, status="rejected", errors=parsed))
            continue
        key = (parsed.type, parsed.external_id)
        result = ItemResult(
            index=index, status="created", type=parsed.type, external_id=parsed.external_id
        )
        results.append(result)
        if key in first:
            result.status = "duplicate"
            repeats.append((result, key))
        else:
            first[key] = parsed
    if first:
        by_index = {r.index: r for r in results}
        with transaction.atomic(savepoint=savepoint), _server_side_binding():
            stored = _store(list(first.values()), now=now, helpdesk_surveys=helpdesk_surveys)
        for key, event in first.items():
            outcome = stored[key]
            result = by_index[event.index]
            result.id, result.surveys = outcome["id"], outcome["surveys"]
            if not outcome["created"]:
                result.status = "duplicate"
        for result, key in repeats:
            result.id, result.surveys = stored[key]["id"], stored[key]["surveys"]
    return BatchResult(items=results)


@contextlib.contextmanager
def _server_side_binding():
    """On PostgreSQL, send a batch's statements with their values apart from the SQL text.

    A batch's INSERT ... UNNEST arrays and long IN lists are then encoded by psycopg's C
    dumpers instead of being quoted into the text in Python, which was the most part of the
    time a batch took (Django's `server_side_binding` option, for these statements only).
    """
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    before, raw.cursor_factory = raw.cursor_factory, ServerBindingCursor
    try:
        yield
    finally:
        raw.cursor_factory = before


def _store(
    events: list[EventIn], *, now: datetime, helpdesk_surveys: frozenset[int] = frozenset()
) -> dict[tuple[str, str], dict]:
    """Write the new events of a batch (already deduplicated) and decide their surveys."""
    advisory_locks.lock(f"e:{e.type}:{e.external_id}" for e in events)
    out: dict[tuple[str, str], dict] = {}
    existing = stored_events(events)
    if existing:
        decisions = _decisions_of(list(existing.values()))
        for key, event_id in existing.items():
            out[key] = {"id": event_id, "created": False, "surveys": decisions.get(event_id, [])}
    new = [e for e in events if (e.type, e.external_id) not in existing]
    if not new:
        return out

    contacts, _ = resolve_customers([e.customer for e in new], now=now)
    surveys = list(
        Survey.objects.filter(
            status=Survey.Status.ACTIVE, touchpoint__in={e.type for e in new}
        ).order_by("id")
    )
    batch = InvitationBatch(surveys=surveys, contacts=contacts, now=now)
    rows = [
        TouchpointEvent(
            type=e.type,
            external_id=e.external_id,
            occurred_at=e.occurred_at,
            contact=contact,
            attributes=e.attributes,
            received_at=now,
        )
        for e, contact in zip(new, contacts, strict=True)
    ]
    TouchpointEvent.objects.bulk_create(rows)

    listening = defaultdict(list)
    for survey in surveys:
        listening[survey.touchpoint].append(survey)
    invited: list[tuple[Invitation, dict]] = []
    for event, row in zip(new, rows, strict=True):
        decided: list[dict] = []
        out[(event.type, event.external_id)] = {"id": row.pk, "created": True, "surveys": decided}
        for survey in listening[event.type]:
            outcome = batch.add(
                survey,
                row.contact,
                touchpoint=row,
                locale=event.customer.locale,
                attributes=event.attributes,
                channel=Invitation.Channel.HELPDESK
                if survey.pk in helpdesk_surveys
                else Invitation.Channel.EMAIL,
            )
            if isinstance(outcome, Skip):
                decided.append(
                    {"survey": survey.slug, "decision": "skipped", "reason": outcome.reason}
                )
                continue
            entry = {"survey": survey.slug, "decision": "invited", "due_at": outcome.due_at}
            invited.append((outcome, entry))
            decided.append(entry)
    batch.save()
    for invitation, entry in invited:
        entry["invitation"] = invitation.pk
    return out


def stored_events(events: list[EventIn]) -> dict[tuple[str, str], int]:
    """(type, external_id) → id of the events of the batch that are stored already."""
    by_type = defaultdict(list)
    for e in events:
        by_type[e.type].append(e.external_id)
    found = {}
    for type_, ids in by_type.items():
        for external_id, pk in TouchpointEvent.objects.filter(
            type=type_, external_id__in=ids
        ).values_list("external_id", "id"):
            found[(type_, external_id)] = pk
    return found


def _decisions_of(event_ids: list[int]) -> dict[int, list[dict]]:
    """What was decided for stored events: their invitations and skips, per survey."""
    out: dict[int, list[dict]] = defaultdict(list)
    for event_id, slug, pk, due_at in Invitation.objects.filter(
        touchpoint_id__in=event_ids
    ).values_list("touchpoint_id", "survey__slug", "id", "due_at"):
        out[event_id].append(
            {"survey": slug, "decision": "invited", "due_at": due_at, "invitation": pk}
        )
    for event_id, slug, reason in TouchpointSkip.objects.filter(
        touchpoint_id__in=event_ids
    ).values_list("touchpoint_id", "survey__slug", "reason"):
        out[event_id].append({"survey": slug, "decision": "skipped", "reason": reason})
    return out
