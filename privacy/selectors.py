"""Everything stored about one customer, for a data subject access request."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from surveys.errors import DomainError
from surveys.models import Answer, Contact, Invitation, Response, localized

from . import signals
from .services import contacts_for

CONTACT_FIELDS = (
    "id",
    "email",
    "name",
    "external_id",
    "locale",
    "time_zone",
    "created_at",
    "unsubscribed_at",
    "undeliverable_at",
    "undeliverable_reason",
)
TOUCHPOINT_FIELDS = ("type", "external_id", "occurred_at", "received_at", "attributes")
# No salt, no token hash: the export must not carry a way into the answer page.
INVITATION_FIELDS = (
    "id",
    "status",
    "status_reason",
    "locale",
    "attributes",
    "is_test",
    "created_at",
    "due_at",
    "sent_at",
    "delivered_at",
    "bounced_at",
    "clicked_at",
    "answered_at",
    "reminder_sent_at",
    "expires_at",
)
RESPONSE_FIELDS = (
    "id",
    "submitted_at",
    "locale",
    "touchpoint_type",
    "attributes",
    "source",
    "is_test",
)


def _pick(row, fields) -> dict:
    return {f: getattr(row, f) for f in fields}


def customer_export(*, email: str | None = None, external_id: str | None = None) -> dict:
    """Every contact the identifier names, with touchpoints, invitations and responses.

    Raises DomainError (404) when nothing is stored under the identifier. Values are plain
    JSON types except datetimes (DRF's and Django's JSON encoders write them as ISO 8601).
    """
    answers = Answer.objects.select_related("question").order_by("question__position", "pk")
    contacts = list(
        contacts_for(email=email, external_id=external_id)
        .order_by("pk")
        .prefetch_related(
            "touchpoints",
            Prefetch(
                "invitations",
                queryset=Invitation.objects.select_related("survey").order_by("created_at"),
            ),
            Prefetch(
                "responses",
                queryset=Response.objects.select_related("survey")
                .prefetch_related(Prefetch("answers", queryset=answers))
                .order_by("submitted_at"),
            ),
        )
    )
    if not contacts:
        field = "email" if email else "external_id"
        raise DomainError("no customer is stored under this identifier", field=field, status=404)
    return {"exported_at": timezone.now(), "contacts": [_contact(c) for c in contacts]}


def _contact(contact: Contact) -> dict:
    data = _pick(contact, CONTACT_FIELDS)
    # In the order they happened, so that two exports of the same data read the same.
    data["touchpoints"] = [
        _pick(t, TOUCHPOINT_FIELDS) for t in contact.touchpoints.order_by("occurred_at", "id")
    ]
    data["invitations"] = [
        {**_pick(i, INVITATION_FIELDS), "survey": i.survey.slug, "survey_name": i.survey.name}
        for i in contact.invitations.select_related("survey").order_by("created_at", "id")
    ]
    data["responses"] = [
        _response(r)
        for r in contact.responses.select_related("survey").order_by("submitted_at", "id")
    ]
    for _receiver, extra in signals.export_customer_data.send(sender=Contact, contact=contact):
        if isinstance(extra, dict):
            data.update(extra)
    return data


def _response(response: Response) -> dict:
    language = response.locale or response.survey.default_language
    return {
        **_pick(response, RESPONSE_FIELDS),
        "survey": response.survey.slug,
        "survey_name": response.survey.name,
        "answers": [
            {
                "question": a.question.key,
                "question_text": localized(
                    a.question.text, language, response.survey.default_language
                ),
                "kind": a.question.kind,
                "score": a.score,
                "satisfied": a.satisfied,
                "text": a.text,
            }
            for a in response.answers.all()
        ],
    }
