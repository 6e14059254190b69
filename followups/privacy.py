"""Receivers for the privacy contract: erase and export what follow-ups keep about a customer.

To be connected to `privacy.signals.erase_customer_data` (sent inside the erasure transaction)
and `privacy.signals.export_customer_data` (receivers return a JSON-able dict), both with the
kwarg `contact`. Figures do not change: scores, statuses and loop times stay.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from .models import FollowUp, FollowUpNote, WebhookDelivery

ERASED = "[erased]"


def _needles(contact, follow_ups: list[FollowUp], known=()) -> list[str]:
    """The customer's own words and identifiers, longest first, as they might be quoted."""
    values = {contact.email, contact.name, contact.external_id or "", *known}
    for f in follow_ups:
        values.update(part.strip() for part in f.comment.split("\n\n"))
    return sorted((v for v in values if v and len(v) >= 3), key=len, reverse=True)


def _scrub(text: str, needles: list[str]) -> str:
    for needle in needles:
        text = re.sub(re.escape(needle), ERASED, text, flags=re.IGNORECASE)
    return text


@transaction.atomic
def erase_for_contact(contact, **kwargs) -> dict:
    """Blank the customer's comment copies, quotes in notes and webhook bodies; keep the rest."""
    follow_ups = list(FollowUp.objects.select_for_update().filter(contact=contact))
    if not follow_ups:
        return {"follow_ups": 0}
    needles = _needles(contact, follow_ups, kwargs.get("personal_values", ()))
    now = timezone.now()
    notes = 0
    for note in FollowUpNote.objects.filter(follow_up__in=follow_ups):
        scrubbed = _scrub(note.text, needles)
        if scrubbed != note.text:
            note.text = scrubbed
            note.save(update_fields=["text"])
            notes += 1
    WebhookDelivery.objects.filter(follow_up__in=follow_ups).update(body="{}")
    FollowUp.objects.filter(pk__in=[f.pk for f in follow_ups]).update(comment="", erased_at=now)
    return {"follow_ups": len(follow_ups), "notes_scrubbed": notes}


def export_for_contact(contact, **kwargs) -> dict:
    """Everything follow-ups hold about the customer, as JSON-able data."""
    rows = (
        FollowUp.objects.filter(contact=contact)
        .select_related("survey", "assignee")
        .prefetch_related("notes")
        .order_by("opened_at", "id")
    )
    return {
        "follow_ups": [
            {
                "id": f.pk,
                "survey": f.survey.slug,
                "response_id": f.response_id,
                "status": f.status,
                "reason": f.reason,
                "scores": f.scores,
                "comment": f.comment,
                "touchpoint_type": f.touchpoint_type,
                "attributes": f.attributes,
                "opened_at": f.opened_at.isoformat(),
                "due_at": f.due_at.isoformat(),
                "first_contact_at": f.first_contact_at.isoformat() if f.first_contact_at else None,
                "contact_outcome": f.contact_outcome,
                "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
                "notes": [
                    {"kind": n.kind, "text": n.display_text, "created_at": n.created_at.isoformat()}
                    for n in f.notes.all()
                ],
            }
            for f in rows
        ]
    }


def on_erase_customer_data(contact, **kwargs) -> dict:
    """Receiver of privacy's erase_customer_data: counts only what it erased."""
    erased = erase_for_contact(contact, **kwargs)
    return erased if erased["follow_ups"] else {}


def on_export_customer_data(contact, **kwargs) -> dict:
    """Receiver of privacy's export_customer_data: adds follow-ups only where there are some."""
    exported = export_for_contact(contact)
    return exported if exported["follow_ups"] else {}
