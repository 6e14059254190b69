"""Who a customer is. Every way a customer reaches the platform asks here: touchpoint events and
their CSV import, the invitation API and the designer, the response import, unsubscribes, and
the shop and helpdesk connectors to come.

The rule, decided once:

1. A known external id names the customer. When an email comes with it and differs from theirs,
   it becomes their address (the source's latest word); a customer who has that address under
   another external id stays as they are.
2. Else an email names the customer who has that address, in any case (the oldest, if several
   share it), unless that customer has another external id: then the two are different people
   sharing an address, and a new customer is made. A customer found by email without an
   external id adopts the one given.
3. Else a new customer is made.

An unsubscribe belongs to the address: it stops every customer who has that address, and a
customer who comes to have an unsubscribed address is unsubscribed too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from . import advisory_locks
from .models import Contact, Invitation

DETAILS = ("name", "locale", "time_zone")  # replaced only by a value, never by a blank
UPDATED = (*DETAILS, "email", "external_id", "unsubscribed_at", "undeliverable_at")


@dataclass
class CustomerIn:
    """What a source says about a customer: an email and/or an external id, and details."""

    email: str = ""
    external_id: str | None = None
    name: str = ""
    locale: str = ""
    time_zone: str = ""

    def __post_init__(self) -> None:
        self.email = (self.email or "").strip().lower()
        self.external_id = (self.external_id or "").strip() or None

    @property
    def named(self) -> bool:
        return bool(self.email or self.external_id)


def resolve_customers(
    customers: Sequence[CustomerIn], *, now: datetime | None = None, update: bool = True
) -> tuple[list[Contact | None], int]:
    """The contact of each customer, in order (None where neither email nor external id is
    given), found or created by the rule above in a constant number of queries, and how many
    were created.

    With `update`, the names, locales, time zones and emails given replace the stored ones
    (the batch's last word wins); without (history), only an external id is adopted.
    """
    now = now or timezone.now()
    advisory_locks.lock(
        [f"m:{c.email}" for c in customers if c.email]
        + [f"x:{c.external_id}" for c in customers if c.external_id]
    )
    external_ids = {c.external_id for c in customers if c.external_id}
    emails = {c.email for c in customers if c.email}
    by_external_id = {
        c.external_id: c for c in Contact.objects.filter(external_id__in=external_ids)
    }
    by_email: dict[str, Contact] = {}
    unsubscribed: dict[str, datetime] = {}
    if emails:
        for contact in (
            Contact.objects.annotate(email_key=Lower("email"))
            .filter(email_key__in=emails)
            .order_by("id")
        ):
            email = contact.email.lower()
            by_email.setdefault(email, contact)
            if contact.unsubscribed_at and contact.unsubscribed_at < unsubscribed.get(email, now):
                unsubscribed[email] = contact.unsubscribed_at
    changed: dict[int, Contact] = {}
    created: list[Contact] = []
    out: list[Contact | None] = []
    for customer in customers:
        if not customer.named:
            out.append(None)
            continue
        contact = by_external_id.get(customer.external_id) if customer.external_id else None
        if contact is None and customer.email:
            candidate = by_email.get(customer.email)
            if candidate is not None and (
                not customer.external_id or candidate.external_id is None
            ):
                contact = candidate
                if customer.external_id:
                    contact.external_id = customer.external_id
                    by_external_id[customer.external_id] = contact
                    _mark(contact, changed)
        if contact is None:
            contact = Contact(
                email=customer.email,
                name=customer.name,
                external_id=customer.external_id,
                locale=customer.locale,
                time_zone=customer.time_zone,
                unsubscribed_at=unsubscribed.get(customer.email),
                created_at=now,
            )
            created.append(contact)
            if customer.external_id:
                by_external_id[customer.external_id] = contact
            if customer.email:
                by_email.setdefault(customer.email, contact)
        elif update and _update(contact, customer, unsubscribed):
            _mark(contact, changed)
        out.append(contact)
    if created:
        Contact.objects.bulk_create(created, batch_size=1000)
    if changed:
        fields = [*UPDATED, "undeliverable_reason"]
        Contact.objects.bulk_update(list(changed.values()), fields, batch_size=1000)
    return out, len(created)


def _update(contact: Contact, customer: CustomerIn, unsubscribed: dict[str, datetime]) -> bool:
    """Give the stored contact what the source says; whether anything changed."""
    updates = {field: getattr(customer, field) for field in DETAILS if getattr(customer, field)}
    if customer.email and customer.email != contact.email.lower():
        # A new address is not known to bounce, and may have been unsubscribed by someone else.
        updates.update(email=customer.email, undeliverable_at=None, undeliverable_reason="")
        if contact.unsubscribed_at is None and customer.email in unsubscribed:
            updates["unsubscribed_at"] = unsubscribed[customer.email]
    changed = {f: v for f, v in updates.items() if getattr(contact, f) != v}
    for field, value in changed.items():
        setattr(contact, field, value)
    return bool(changed)


def _mark(contact: Contact, changed: dict[int, Contact]) -> None:
    if contact.pk is not None:
        changed[contact.pk] = contact


def resolve_customer(customer: CustomerIn, *, now: datetime | None = None) -> Contact | None:
    return resolve_customers([customer], now=now)[0][0]


def contacts_at_address(email: str) -> QuerySet[Contact]:
    """Every contact with this address, in any case (along the contact_email_lower index)."""
    return Contact.objects.annotate(email_key=Lower("email")).filter(
        email_key=email.strip().lower()
    )


@transaction.atomic
def unsubscribe(*, contact: Contact) -> bool:
    """Stop every survey to the customer's address (and to the customer, should they have none),
    at once; their scheduled invitations are suppressed now and the sender checks again at send
    time. Safe to repeat; True if this call unsubscribed anyone."""
    now = timezone.now()
    at_address = (
        contacts_at_address(contact.email).values("id")
        if contact.email
        else Contact.objects.filter(pk=contact.pk).values("id")
    )
    ids = {contact.pk, *at_address.values_list("id", flat=True)}
    changed = Contact.objects.filter(pk__in=ids, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now
    )
    Invitation.objects.filter(contact_id__in=ids, status=Invitation.Status.SCHEDULED).update(
        status=Invitation.Status.SUPPRESSED, status_reason="the customer unsubscribed"
    )
    return changed > 0
