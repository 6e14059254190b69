"""Touchpoint events in: validation of outside input and the bulk ingest service.

`record_touchpoints` is the one code path of the API and the CSV import. Per batch it runs a
constant number of queries, whatever its size: contacts upserted in bulk, events and the
invitations or skip reasons they lead to written in bulk, in one transaction.
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
from django.db.models import Max
from django.db.models.functions import Lower
from django.utils import timezone

from . import sending_rules, tokens
from .models import Contact, Invitation, Survey, TouchpointEvent, TouchpointSkip
from .services import pick_language

MAX_BATCH = 1000
MAX_ATTRIBUTES = 50
FUTURE_TOLERANCE = timedelta(days=1)
TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
ATTRIBUTE_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,49}$")
# Invitations that never reached the customer do not count for the fatigue rule.
NOT_SURVEYED = (Invitation.Status.FAILED, Invitation.Status.SUPPRESSED)


@dataclass
class EventIn:
    """One validated event, as the ingest service needs it."""

    index: int
    type: str
    external_id: str
    occurred_at: datetime
    email: str
    name: str
    customer_id: str | None
    locale: str
    time_zone: str
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
            email = email.lower()
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

    attributes = raw.get("attributes")
    if attributes is None:
        attributes = {}
    elif not isinstance(attributes, dict):
        errors["attributes"] = ['Give an object like {"channel": "web"}.']
        attributes = {}
    elif len(attributes) > MAX_ATTRIBUTES:
        errors["attributes"] = [f"At most {MAX_ATTRIBUTES} attributes."]
    else:
        for key, value in attributes.items():
            if not ATTRIBUTE_NAME_RE.match(key):
                errors[f"attributes.{key[:50]}"] = [
                    "An attribute name has letters, digits, '_', '-' or '.' (at most 50)."
                ]
            elif isinstance(value, str):
                if len(value) > 200:
                    errors[f"attributes.{key}"] = ["At most 200 characters."]
            elif value is not None and not isinstance(value, bool | int | float):
                errors[f"attributes.{key}"] = ["Give a string, a number, true/false or null."]

    if errors:
        return errors
    return EventIn(
        index=index,
        type=type_,
        external_id=external_id,
        occurred_at=occurred_at,
        email=email,
        name=name,
        customer_id=customer_id,
        locale=locale,
        time_zone=time_zone,
        attributes=attributes,
    )


# --- ingest --------------------------------------------------------------------------------------


def record_touchpoints(*, items: list, now: datetime | None = None) -> BatchResult:
    """Validate and store a batch of raw event objects (at most MAX_BATCH).

    Each valid event is stored once per (type, external_id): a repeat, also inside the batch, is
    a "duplicate" pointing at the stored record. Each new event gets, per active survey listening
    to its type, an invitation or a TouchpointSkip with the reason. Invalid items are "rejected"
    with their errors and the valid ones are still stored. All of it in one transaction.
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
        with transaction.atomic(), _server_side_binding():
            stored = _store(list(first.values()), now=now)
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


def _lock(keys: list[str]) -> None:
    """Serialize concurrent batches on the same events and customers (PostgreSQL advisory locks
    held to the end of the transaction, taken in one sorted order so they cannot deadlock)."""
    if connection.vendor != "postgresql" or not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT DISTINCT hashtextextended(x, 7297) AS k FROM unnest(%s::text[]) AS x "
            "ORDER BY 1) AS keys",
            [keys],
        )


def _store(events: list[EventIn], *, now: datetime) -> dict[tuple[str, str], dict]:
    """Write the new events of a batch (already deduplicated) and decide their surveys."""
    _lock(
        [f"e:{e.type}:{e.external_id}" for e in events]
        + [f"m:{e.email}" for e in events if e.email]
        + [f"x:{e.customer_id}" for e in events if e.customer_id]
    )
    out: dict[tuple[str, str], dict] = {}
    existing = _existing_events(events)
    if existing:
        decisions = _decisions_of(list(existing.values()))
        for key, event_id in existing.items():
            out[key] = {"id": event_id, "created": False, "surveys": decisions.get(event_id, [])}
    new = [e for e in events if (e.type, e.external_id) not in existing]
    if not new:
        return out

    contacts = _upsert_contacts(new, now=now)
    _lock([f"c:{contact.pk}" for contact in set(contacts.values())])
    surveys = list(
        Survey.objects.filter(
            status=Survey.Status.ACTIVE, touchpoint__in={e.type for e in new}
        ).order_by("id")
    )
    last_surveyed = _last_surveyed(surveys, contacts.values(), now=now)

    rows = [
        TouchpointEvent(
            type=e.type,
            external_id=e.external_id,
            occurred_at=e.occurred_at,
            contact=contacts[e.index],
            attributes=e.attributes,
            received_at=now,
        )
        for e in new
    ]
    TouchpointEvent.objects.bulk_create(rows)

    invitations: list[tuple[Invitation, dict]] = []
    skips: list[TouchpointSkip] = []
    listening = defaultdict(list)
    for survey in surveys:
        listening[survey.touchpoint].append(survey)
    pending_tokens = sum(len(listening[e.type]) for e in new)
    token_pairs = iter(tokens.new_salts_and_hashes(pending_tokens)) if pending_tokens else None
    for event, row in zip(new, rows, strict=True):
        contact = contacts[event.index]
        decided: list[dict] = []
        out[(event.type, event.external_id)] = {"id": row.pk, "created": True, "surveys": decided}
        for survey in listening[event.type]:
            reason, detail = _skip_reason(survey, event, contact, last_surveyed, now=now)
            if reason:
                skips.append(
                    TouchpointSkip(
                        touchpoint=row, survey=survey, reason=reason, detail=detail, created_at=now
                    )
                )
                decided.append({"survey": survey.slug, "decision": "skipped", "reason": reason})
                continue
            tz = sending_rules.zone(contact.time_zone) or sending_rules.site_zone()
            plan = sending_rules.schedule(survey, occurred_at=event.occurred_at, now=now, tz=tz)
            salt, token_hash = next(token_pairs)
            invitation = Invitation(
                survey=survey,
                contact=contact,
                touchpoint=row,
                salt=salt,
                token_hash=token_hash,
                locale=pick_language(survey, event.locale, contact.locale),
                attributes=dict(event.attributes),
                due_at=plan.due_at,
                expires_at=plan.expires_at,
                reminder_due_at=plan.reminder_due_at,
                created_at=now,
            )
            entry = {"survey": survey.slug, "decision": "invited", "due_at": plan.due_at}
            invitations.append((invitation, entry))
            decided.append(entry)
            last_surveyed[contact.pk] = now
    if invitations:
        Invitation.objects.bulk_create([inv for inv, _ in invitations])
        for invitation, entry in invitations:
            entry["invitation"] = invitation.pk
    if skips:
        TouchpointSkip.objects.bulk_create(skips)
    return out


def _existing_events(events: list[EventIn]) -> dict[tuple[str, str], int]:
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


def _upsert_contacts(events: list[EventIn], *, now: datetime) -> dict[int, Contact]:
    """The contact of every event (by event index): found by external id, else by email
    (case-insensitive), else created. Names, emails, locales and time zones the events carry
    update the stored contact (the batch's last word wins)."""
    ext_ids = {e.customer_id for e in events if e.customer_id}
    emails = {e.email for e in events if e.email}
    by_ext = {c.external_id: c for c in Contact.objects.filter(external_id__in=ext_ids)}
    by_email: dict[str, Contact] = {}
    if emails:
        for contact in (
            Contact.objects.annotate(email_key=Lower("email"))
            .filter(email_key__in=emails)
            .order_by("id")
        ):
            by_email.setdefault(contact.email.lower(), contact)
    changed: dict[int, Contact] = {}
    created: list[Contact] = []
    out: dict[int, Contact] = {}
    for e in events:
        contact = by_ext.get(e.customer_id) if e.customer_id else None
        if contact is None and e.email:
            candidate = by_email.get(e.email)
            if candidate is not None and (not e.customer_id or candidate.external_id is None):
                contact = candidate
                if e.customer_id:  # the customer's first event with its id adopts the contact
                    contact.external_id = e.customer_id
                    by_ext[e.customer_id] = contact
                    _mark(contact, changed)
        if contact is None:
            contact = Contact(
                email=e.email,
                name=e.name,
                external_id=e.customer_id,
                locale=e.locale,
                time_zone=e.time_zone,
                created_at=now,
            )
            created.append(contact)
            if e.customer_id:
                by_ext[e.customer_id] = contact
            if e.email:
                by_email.setdefault(e.email, contact)
        else:
            updates = {"name": e.name, "locale": e.locale, "time_zone": e.time_zone}
            if e.email and e.email != contact.email.lower():
                updates["email"] = e.email
                # A new address is not known to bounce.
                updates["undeliverable_at"] = None
                updates["undeliverable_reason"] = ""
            for attr, value in updates.items():
                if (value or attr.startswith("undeliverable")) and getattr(contact, attr) != value:
                    setattr(contact, attr, value)
                    _mark(contact, changed)
        out[e.index] = contact
    if created:
        Contact.objects.bulk_create(created)
    if changed:
        Contact.objects.bulk_update(
            list(changed.values()),
            [
                "email",
                "name",
                "external_id",
                "locale",
                "time_zone",
                "undeliverable_at",
                "undeliverable_reason",
            ],
        )
    return out


def _mark(contact: Contact, changed: dict[int, Contact]) -> None:
    if contact.pk is not None:
        changed[contact.pk] = contact


def _last_surveyed(surveys: list[Survey], contacts, *, now: datetime) -> dict[int, datetime]:
    """Contact id → time of their latest invitation within the longest fatigue window."""
    days = max((s.min_days_between_surveys for s in surveys), default=0)
    ids = {c.pk for c in contacts}
    if not days or not ids:
        return {}
    rows = (
        Invitation.objects.filter(
            contact_id__in=ids, is_test=False, created_at__gt=now - timedelta(days=days)
        )
        .exclude(status__in=NOT_SURVEYED)
        .values("contact_id")
        .annotate(last=Max("created_at"))
        .values_list("contact_id", "last")
    )
    return dict(rows)


def _skip_reason(
    survey: Survey, event: EventIn, contact: Contact, last_surveyed: dict, *, now: datetime
) -> tuple[str, str] | tuple[None, None]:
    """Why `survey` does not invite for this event, or (None, None) when it invites."""
    Reason = TouchpointSkip.Reason
    mismatch = sending_rules.filter_mismatch(survey.filters, event.attributes)
    if mismatch:
        return Reason.FILTERED, mismatch
    if sending_rules.is_stale(survey, occurred_at=event.occurred_at, now=now):
        return Reason.STALE, f"occurred {event.occurred_at:%Y-%m-%d}"
    if not sending_rules.sampled_in(
        survey_id=survey.pk,
        touchpoint_type=event.type,
        external_id=event.external_id,
        rate=survey.sample_rate,
    ):
        return Reason.SAMPLED_OUT, f"sample rate {survey.sample_rate:g}"
    if contact.unsubscribed_at is not None:
        return Reason.UNSUBSCRIBED, ""
    if not contact.email:
        return Reason.UNDELIVERABLE, "no email address"
    if contact.undeliverable_at is not None:
        return Reason.UNDELIVERABLE, contact.undeliverable_reason[:200]
    days = survey.min_days_between_surveys
    last = last_surveyed.get(contact.pk)
    if days and last is not None and last > now - timedelta(days=days):
        return Reason.FATIGUED, f"last survey {last:%Y-%m-%d %H:%M}"
    return None, None
