"""What an email provider tells us about a sent invitation: bounces, complaints, unsubscribes and
deliveries, normalised by django-anymail's tracking webhooks (surveys.webhooks).

Every event is applied in its own transaction and is safe to receive twice: providers retry,
and some send the same bounce more than once.
"""

from __future__ import annotations

import logging
import re

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from . import customers, signals
from .models import Contact, Invitation

log = logging.getLogger(__name__)
Status = Invitation.Status

# Our own Message-ID (surveys.emails.message_id_for), reported back by providers that relay SMTP.
OWN_MESSAGE_ID = re.compile(r"^<?csat\.(\d+)\.(?:invitation|reminder)\.([0-9a-f]{12})@")
# Only a message that went out can bounce; answered or clicked ones evidently arrived.
BOUNCEABLE = (Status.SENT, Status.EXPIRED)
# Refusals for the customer's own wish rather than for their address.
WISHES = (RejectReason.UNSUBSCRIBED, RejectReason.SPAM)


def find_invitation(event: AnymailTrackingEvent) -> Invitation | None:
    """The invitation an event speaks of: by the provider's message id, else by the metadata we
    put on each message, else by our own Message-ID. None when it is not one of ours."""
    message_id = (event.message_id or "").strip()
    if message_id:
        ids = {message_id, message_id.strip("<>"), f"<{message_id.strip('<>')}>"}
        found = (
            Invitation.objects.filter(message_id__in=ids)
            .exclude(message_id="")  # the condition of the index that serves this lookup
            .select_related("contact")
            .first()
        )
        if found:
            return found
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    pk = str(metadata.get("invitation", "")).strip()
    if pk.isdigit():
        found = Invitation.objects.filter(pk=int(pk)).select_related("contact").first()
        if found:
            return found
    own = OWN_MESSAGE_ID.match(message_id)
    if own:
        found = Invitation.objects.filter(pk=int(own[1])).select_related("contact").first()
        if found and found.token_hash.startswith(own[2]):
            return found
    return None


def _reason(event: AnymailTrackingEvent, esp_name: str) -> str:
    said = (event.description or event.mta_response or event.reject_reason or "").strip()
    return " ".join(f"{said} ({esp_name})".split())[:200] if said else esp_name


def _is_soft(event: AnymailTrackingEvent) -> bool:
    """A temporary bounce the provider reported as a bounce (Postmark's SoftBounce)."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    return raw.get("Type") in ("SoftBounce", "Transient")


def _when(event: AnymailTrackingEvent, invitation: Invitation):
    """The provider's time of the event, kept between the sending and now (clocks differ)."""
    now = timezone.now()
    when = min(event.timestamp or now, now)
    return max(when, invitation.sent_at) if invitation.sent_at else when


def _addressed_to_contact(event: AnymailTrackingEvent, contact: Contact) -> bool:
    """Whether the event concerns the contact's current address (not one they have replaced)."""
    recipient = (event.recipient or "").strip().lower()
    return not recipient or recipient == contact.email.lower()


@transaction.atomic
def record_tracking_event(*, event: AnymailTrackingEvent, esp_name: str) -> str:
    """Apply one provider event; returns what was done (for the log and tests)."""
    invitation = find_invitation(event)
    if invitation is None:
        if event.event_type in HANDLED:
            log.info(
                "%s %s event for unknown message %r ignored",
                esp_name,
                event.event_type,
                event.message_id,
            )
        return "unknown message"
    handler = HANDLED.get(event.event_type)
    if handler is None:
        return "ignored"
    # Lock the row: the same event may arrive twice at once.
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("contact")
        .get(pk=invitation.pk)
    )
    outcome = handler(invitation, event, esp_name)
    log.info("%s %s for invitation %s: %s", esp_name, event.event_type, invitation.pk, outcome)
    return outcome


def _bounced(invitation: Invitation, event: AnymailTrackingEvent, esp_name: str) -> str:
    if event.reject_reason in WISHES:
        return _unsubscribed(invitation, event, esp_name)
    now = timezone.now()
    reason = _reason(event, esp_name)
    outcome = "nothing to change"
    if (
        invitation.status in BOUNCEABLE
        and invitation.clicked_at is None
        and invitation.answered_at is None
    ):
        Invitation.objects.filter(pk=invitation.pk).update(
            status=Status.BOUNCED,
            bounced_at=_when(event, invitation),
            status_reason=f"bounced: {reason}"[:500],
            reminder_due_at=None,
        )
        # the funnel of the day it was sent changes (reports recompute that day)
        signals.invitation_changed.send(sender=Invitation, invitation=invitation)
        outcome = "invitation bounced"
    if _is_soft(event):
        return outcome  # the address may work tomorrow
    contact = invitation.contact
    if _addressed_to_contact(event, contact) and contact.undeliverable_at is None:
        Contact.objects.filter(pk=contact.pk, undeliverable_at__isnull=True).update(
            undeliverable_at=now, undeliverable_reason=reason
        )
        outcome += ", address undeliverable"
    return outcome


def _unsubscribed(invitation: Invitation, event: AnymailTrackingEvent, esp_name: str) -> str:
    complaint = event.event_type == EventType.COMPLAINED or event.reject_reason == RejectReason.SPAM
    note = (
        f"the customer reported the email as spam ({esp_name})"
        if complaint
        else f"the customer unsubscribed ({esp_name})"
    )
    if invitation.status in (Status.SENT, Status.EXPIRED) and invitation.status_reason != note:
        Invitation.objects.filter(pk=invitation.pk).update(status_reason=note, reminder_due_at=None)
    if not _addressed_to_contact(event, invitation.contact):
        return "noted on the invitation (the customer's address has changed since)"
    changed = customers.unsubscribe(contact=invitation.contact)
    return "customer unsubscribed" if changed else "customer already unsubscribed"


def _failed(invitation: Invitation, event: AnymailTrackingEvent, esp_name: str) -> str:
    """The provider accepted the message but could not send it: the address is not to blame."""
    if invitation.status != Status.SENT or invitation.clicked_at or invitation.answered_at:
        return "nothing to change"
    Invitation.objects.filter(pk=invitation.pk).update(
        status=Status.FAILED,
        status_reason=f"the email provider could not send it: {_reason(event, esp_name)}"[:500],
        reminder_due_at=None,
    )
    return "invitation failed"


def _delivered(invitation: Invitation, event: AnymailTrackingEvent, esp_name: str) -> str:
    updated = Invitation.objects.filter(pk=invitation.pk, delivered_at__isnull=True).update(
        delivered_at=_when(event, invitation)
    )
    return "delivered" if updated else "already delivered"


HANDLED = {
    EventType.BOUNCED: _bounced,
    EventType.REJECTED: _bounced,
    EventType.COMPLAINED: _unsubscribed,
    EventType.UNSUBSCRIBED: _unsubscribed,
    EventType.FAILED: _failed,
    EventType.DELIVERED: _delivered,
}


@receiver(tracking, dispatch_uid="surveys.tracking")
def on_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    record_tracking_event(event=event, esp_name=esp_name)
