"""One customer, one set of rules: invitations made through the API, touchpoints and the
designer meet the same customer and obey the same sending rules."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from surveys.models import Contact, Invitation

from .factories import make_survey

pytestmark = pytest.mark.django_db

INVITE = "/api/v1/surveys/shop/invitations/"


def purchase(client, order: str, customer: dict, **extra) -> dict:
    body = {
        "type": "purchase",
        "external_id": order,
        "occurred_at": timezone.now().isoformat(),
        "customer": customer,
        **extra,
    }
    reply = client.post("/api/v1/touchpoints/", json.dumps(body), content_type="application/json")
    assert reply.status_code in (200, 201), reply.content
    return reply.json()


def test_a_customer_who_unsubscribes_from_an_api_invitation_is_not_surveyed_after_the_next_purchase(
    key_client,
):
    make_survey(slug="shop", min_days_between_surveys=0)  # a purchase, then an API invitation
    # The shop knows Ana by its customer id (a purchase event).
    first = purchase(key_client, "order-1", {"email": "ana@example.com", "external_id": "c-17"})
    assert first["surveys"][0]["decision"] == "invited"
    # Someone invites her through the API by email, in another case.
    reply = key_client.post(INVITE, {"email": "Ana@Example.com"}, format="json")
    assert reply.status_code == 201, reply.content
    token = reply.json()["link"].rstrip("/").rsplit("/", 1)[1]
    # She presses the one-click unsubscribe of that email (RFC 8058: a POST without a session).
    assert Client().post(f"/u/{token}/").status_code == 200

    second = purchase(key_client, "order-2", {"email": "ana@example.com", "external_id": "c-17"})
    assert second["surveys"] == [
        {"survey": "shop", "decision": "skipped", "reason": "unsubscribed"}
    ]
    assert Contact.objects.count() == 1
    assert Contact.objects.get().unsubscribed_at is not None


def test_api_invitations_keep_quiet_hours_the_send_delay_and_no_reminder_after_expiry(
    key_client, settings
):
    settings.TIME_ZONE = "Europe/Berlin"
    make_survey(
        slug="shop",
        send_delay_minutes=60,
        quiet_hours_start="21:00",
        quiet_hours_end="08:00",
        expires_after_days=2,
        reminder_after_days=3,
    )
    # 20:30 in Berlin: an hour later is inside the quiet hours, so the survey waits for 08:00.
    with time_machine.travel(datetime(2026, 3, 2, 19, 30, tzinfo=UTC), tick=False):
        reply = key_client.post(INVITE, {"email": "ana@example.com"}, format="json")
    assert reply.status_code == 201, reply.content
    invitation = Invitation.objects.get()
    assert invitation.due_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    assert invitation.expires_at == invitation.due_at + timedelta(days=2)
    # The reminder would come after the link died: there is none.
    assert invitation.reminder_due_at is None
    assert reply.json()["due_at"] == "2026-03-03T08:00:00+01:00"


def test_an_explicit_send_time_replaces_the_delay_but_not_the_quiet_hours(key_client):
    make_survey(
        slug="shop",
        send_delay_minutes=600,
        quiet_hours_start="21:00",
        quiet_hours_end="08:00",
    )
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        soon = key_client.post(
            INVITE,
            {"email": "ana@example.com", "send_at": "2026-03-02T13:00:00Z"},
            format="json",
        )
        late = key_client.post(
            INVITE,
            {"email": "bo@example.com", "send_at": "2026-03-02T23:00:00Z"},
            format="json",
        )
        past = key_client.post(
            INVITE,
            {"email": "cy@example.com", "send_at": "2026-03-01T09:00:00Z"},
            format="json",
        )
    assert [r.status_code for r in (soon, late, past)] == [201, 201, 201]
    due = {i.contact.email: i.due_at for i in Invitation.objects.select_related("contact")}
    assert due == {
        "ana@example.com": datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
        "bo@example.com": datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
        "cy@example.com": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),  # not before now
    }


def test_api_invitations_respect_fatigue_and_unsubscribes(key_client):
    make_survey(slug="shop", min_days_between_surveys=30)
    assert key_client.post(INVITE, {"email": "ana@example.com"}, format="json").status_code == 201
    again = key_client.post(INVITE, {"email": "ana@example.com"}, format="json")
    assert again.status_code == 409
    assert again.json()["reason"] == "fatigued"
    Contact.objects.create(email="gone@example.com", unsubscribed_at=timezone.now())
    gone = key_client.post(INVITE, {"email": "GONE@example.com"}, format="json")
    assert gone.status_code == 409
    assert gone.json()["reason"] == "unsubscribed"
    assert Invitation.objects.count() == 1
    assert Contact.objects.count() == 2


def test_an_api_invitation_by_external_id_finds_the_customer_of_the_purchase(key_client):
    make_survey(slug="shop", min_days_between_surveys=0)  # a purchase, then an API invitation
    purchase(key_client, "order-1", {"email": "ana@example.com", "external_id": "c-17"})
    reply = key_client.post(INVITE, {"external_id": "c-17", "name": "Ana"}, format="json")
    assert reply.status_code == 201, reply.content
    assert reply.json()["email"] == "ana@example.com"
    assert Contact.objects.count() == 1
    assert Contact.objects.get().name == "Ana"
    nobody = key_client.post(INVITE, {"external_id": "c-99"}, format="json")
    assert nobody.status_code == 409
    assert nobody.json()["reason"] == "undeliverable"
    nameless = key_client.post(INVITE, {"name": "Ana"}, format="json")
    assert nameless.status_code == 400
    assert "email" in nameless.json()
