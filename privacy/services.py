"""Erasing a customer's personal data while every figure stays what it was.

What is personal: the contact's name, email and external id; comment and free-text answers;
touchpoint, invitation and response attributes that name the customer (keys such as `email` or
`customer_name`, or a value equal to the customer's name or containing their email); the
invitation link. What stays: every row, every score and satisfied flag, dates, locales and the
non-personal attributes (channel, agent, product, region...), so CSAT, n, distributions, the
"commented" counts and response rates are identical before and after.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from surveys import tokens
from surveys.customers import contacts_at_address
from surveys.errors import DomainError
from surveys.models import Answer, Contact, Invitation, Response, TouchpointEvent

from . import signals
from .models import ErasedIdentifier, ErasureLog

# Kept instead of an erased comment: the row and its "has a comment" meaning stay.
ERASED_TEXT = "[erased]"
ERASED_EMAIL_DOMAIN = "erased.invalid"
PERSONAL_ATTRIBUTE_KEYS = frozenset(
    {
        "name",
        "email",
        "customer",
        "customer_name",
        "customer_email",
        "contact",
        "contact_name",
        "contact_email",
        "first_name",
        "last_name",
        "full_name",
        "phone",
        "phone_number",
        "mobile",
        "address",
        "street",
        "postcode",
        "postal_code",
        "zip",
        "ip",
        "ip_address",
    }
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


@dataclass
class ErasureResult:
    counts: dict[str, int] = field(default_factory=dict)
    already_erased: bool = False


def _identifier(email: str | None, external_id: str | None) -> tuple[str, str]:
    email = (email or "").strip()
    external_id = (external_id or "").strip()
    if bool(email) == bool(external_id):
        raise DomainError("give either an email or an external_id", field="email")
    return ("email", email.lower()) if email else ("external_id", external_id)


def subject_hash(kind: str, value: str) -> str:
    """A keyed hash of the identifier: recognises a repeated request, reveals nobody."""
    return salted_hmac("privacy.erasure-subject", f"{kind}:{value}", algorithm="sha256").hexdigest()


def contacts_for(*, email: str | None = None, external_id: str | None = None):
    """The contacts one identifier names: every contact with that email, or the external id's."""
    kind, value = _identifier(email, external_id)
    if kind == "email":
        return contacts_at_address(value)
    return Contact.objects.filter(external_id=value)


def scrub_attributes(attributes, personal_values: set[str]):
    """`attributes` without what names the customer, and whether anything changed."""
    if isinstance(attributes, dict):
        out, changed = {}, False
        for key, value in attributes.items():
            if str(key).strip().lower().replace("-", "_") in PERSONAL_ATTRIBUTE_KEYS:
                changed = True
                continue
            out[key], sub_changed = scrub_attributes(value, personal_values)
            changed |= sub_changed
        return out, changed
    if isinstance(attributes, list):
        pairs = [scrub_attributes(v, personal_values) for v in attributes]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    if isinstance(attributes, str) and _names_customer(attributes, personal_values):
        return ERASED_TEXT, True
    return attributes, False


def _names_customer(text: str, personal_values: set[str]) -> bool:
    folded = text.casefold().strip()
    for value in personal_values:
        value = value.casefold().strip()
        if not value:
            continue
        if folded == value or ("@" in value and value in folded):
            return True
    return False


def _without_emails(text: str, personal_values: set[str]) -> str:
    for value in personal_values:
        if "@" in value:
            text = re.sub(re.escape(value), ERASED_TEXT, text, flags=re.IGNORECASE)
    return text


def _scrub_rows(queryset, personal_values_of, *, extra=None, changed_pks=None) -> int:
    """Scrub the `attributes` of every row; returns how many rows changed."""
    changed = 0
    for row in queryset:
        attributes, dirty = scrub_attributes(row.attributes, personal_values_of(row))
        if extra is not None:
            dirty |= extra(row)
        if dirty:
            row.attributes = attributes
            row.save(update_fields=["attributes", *getattr(row, "_privacy_fields", [])])
            changed += 1
            if changed_pks is not None:
                changed_pks.add(row.pk)
    return changed


def _personal_values(contact: Contact | None) -> set[str]:
    if contact is None:
        return set()
    return {v for v in (contact.email, contact.name, contact.external_id) if v}


def _erase_answers(responses) -> int:
    return (
        Answer.objects.filter(response__in=responses)
        .exclude(text="")
        .exclude(text=ERASED_TEXT)
        .update(text=ERASED_TEXT)
    )


def _erase_contact(contact: Contact) -> Counter:
    """Anonymise one contact and everything that names them; the rows and figures stay."""
    counts: Counter = Counter()
    personal = _personal_values(contact)

    counts["touchpoints"] = _scrub_rows(
        TouchpointEvent.objects.filter(contact=contact), lambda _: personal
    )

    def invitation_bits(invitation: Invitation) -> bool:
        # The old link dies: a new salt whose token is never shown to anyone.
        invitation.salt = tokens.new_salt()
        invitation.token_hash = tokens.hash_token(tokens.make_token(invitation.salt))
        invitation.status_reason = _without_emails(invitation.status_reason, personal)
        fields = ["salt", "token_hash", "status_reason"]
        if invitation.status == Invitation.Status.SCHEDULED:
            invitation.status = Invitation.Status.SUPPRESSED
            invitation.status_reason = "The customer's personal data was erased."
            fields.append("status")
        if invitation.reminder_due_at and not invitation.reminder_sent_at:
            invitation.reminder_due_at = None
            fields.append("reminder_due_at")
        invitation._privacy_fields = fields
        return True

    counts["invitations"] = _scrub_rows(
        Invitation.objects.filter(contact=contact), lambda _: personal, extra=invitation_bits
    )
    responses = Response.objects.filter(Q(contact=contact) | Q(invitation__contact=contact))
    counts["responses"] = _scrub_rows(responses, lambda _: personal)
    counts["answers"] = _erase_answers(responses)

    contact.email = f"erased-{contact.pk}@{ERASED_EMAIL_DOMAIN}"
    contact.name = ""
    contact.external_id = None
    contact.time_zone = ""
    contact.undeliverable_reason = _without_emails(contact.undeliverable_reason, personal)
    contact.save(
        update_fields=["email", "name", "external_id", "time_zone", "undeliverable_reason"]
    )
    counts["contacts"] = 1

    for _receiver, extra in signals.erase_customer_data.send(
        sender=Contact, contact=contact, personal_values=sorted(personal)
    ):
        if isinstance(extra, dict):
            counts.update({k: v for k, v in extra.items() if isinstance(v, int)})
    return counts


@transaction.atomic
def erase_customer(
    *,
    email: str | None = None,
    external_id: str | None = None,
    user=None,
    via: str,
) -> ErasureResult:
    """Erase the personal data of the customer one identifier names, all or nothing.

    Raises DomainError (404) when nothing is stored under the identifier and it was never
    erased; asking again for an erased customer changes nothing and says so.
    """
    kind, value = _identifier(email, external_id)
    digest = subject_hash(kind, value)
    contacts = list(
        contacts_for(email=email, external_id=external_id).select_for_update().order_by("pk")
    )
    if not contacts:
        if ErasedIdentifier.objects.filter(subject_hash=digest).exists():
            return ErasureResult(counts=_zero(), already_erased=True)
        raise DomainError("no customer is stored under this identifier", field=kind, status=404)
    counts = Counter(_zero())
    hashes = {digest}
    for contact in contacts:
        hashes |= _identifier_hashes(contact)
        counts.update(_erase_contact(contact))
    log = ErasureLog.objects.create(
        kind=ErasureLog.Kind.REQUEST,
        performed_by=user if getattr(user, "pk", None) else None,
        via=via[:120],
        counts=dict(counts),
    )
    ErasedIdentifier.objects.bulk_create(
        ErasedIdentifier(log=log, subject_hash=h) for h in sorted(hashes)
    )
    return ErasureResult(counts=dict(counts))


def _identifier_hashes(contact: Contact) -> set[str]:
    """Hashes of every identifier the contact could be asked for again."""
    hashes = set()
    if contact.email:
        hashes.add(subject_hash("email", contact.email.strip().lower()))
    if contact.external_id:
        hashes.add(subject_hash("external_id", contact.external_id.strip()))
    return hashes


def _zero() -> dict[str, int]:
    return {"contacts": 0, "touchpoints": 0, "invitations": 0, "responses": 0, "answers": 0}


# --- retention -----------------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment `months` calendar months earlier (31 March - 1 = 28/29 Feb)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@transaction.atomic
def erase_expired_personal_data(*, months: int, now: datetime | None = None) -> dict[str, int]:
    """Erase the personal data of responses submitted more than `months` months ago.

    Comments and personal attributes of those responses are erased; a contact whose every
    touchpoint, invitation and response is older than the cutoff is anonymised as a whole.
    Scores, flags and rows stay, so every figure is unchanged. Logged once per run that changed
    anything.
    """
    if months <= 0:
        return {}
    cutoff = months_before(now or timezone.now(), months)
    old = Response.objects.filter(submitted_at__lt=cutoff)
    counts: Counter = Counter()
    changed: set[int] = set(
        Answer.objects.filter(response__in=old)
        .exclude(text="")
        .exclude(text=ERASED_TEXT)
        .values_list("response_id", flat=True)
    )
    counts["answers"] = _erase_answers(old)
    counts["responses"] = _scrub_rows(
        old.select_related("contact").exclude(attributes={}),
        lambda r: _personal_values(r.contact),
        changed_pks=changed,
    )
    counts["invitations"] = _scrub_rows(
        Invitation.objects.filter(response__in=old)
        .select_related("contact")
        .exclude(attributes={}),
        lambda i: _personal_values(i.contact),
    )
    # A customer with nothing newer than the cutoff is anonymised as a whole; one still active
    # keeps name and email, which current invitations and follow-ups need.
    stale = (
        Contact.objects.filter(created_at__lt=cutoff, responses__submitted_at__lt=cutoff)
        .exclude(email__endswith="@" + ERASED_EMAIL_DOMAIN)
        .exclude(touchpoints__occurred_at__gte=cutoff)
        .exclude(invitations__created_at__gte=cutoff)
        .exclude(responses__submitted_at__gte=cutoff)
        .values_list("pk", flat=True)
        .distinct()
    )
    for contact in Contact.objects.filter(pk__in=list(stale)).order_by("pk"):
        counts.update(_erase_contact(contact))
    if changed:
        for _receiver, extra in signals.erase_response_data.send(
            sender=Response, response_ids=sorted(changed)
        ):
            if isinstance(extra, dict):
                counts.update({k: v for k, v in extra.items() if isinstance(v, int)})
    counts = Counter({k: v for k, v in counts.items() if v})
    if counts:
        ErasureLog.objects.create(
            kind=ErasureLog.Kind.RETENTION, via="retention task", counts=dict(counts)
        )
    return dict(counts)
