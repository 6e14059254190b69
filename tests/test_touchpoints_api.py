"""POST /api/v1/touchpoints/: one event or a batch, idempotent, per-item errors, all or nothing."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from surveys import tokens
from surveys.models import Contact, Invitation, TouchpointEvent, TouchpointSkip
from surveys.touchpoints import record_touchpoints

from .conftest import on_postgres
from .factories import make_survey

pytestmark = pytest.mark.django_db

URL = "/api/v1/touchpoints/"


def event(n=1, **overrides):
    data = {
        "type": "purchase",
        "external_id": f"order-{n}",
        "occurred_at": timezone.now().isoformat(),
        "customer": {"email": f"customer{n}@example.com", "name": f"Customer {n}"},
        "attributes": {"channel": "web"},
    }
    customer = overrides.pop("customer", None)
    if customer is not None:
        data["customer"] = {**data["customer"], **customer}
    data.update(overrides)
    return data


def post(client, body):
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_one_event_creates_the_touchpoint_contact_and_invitation(key_client, survey):
    response = post(key_client, event(1, customer={"locale": "en-GB", "external_id": "c-1"}))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "created"
    assert body["surveys"][0]["survey"] == "shop"
    assert body["surveys"][0]["decision"] == "invited"
    stored = TouchpointEvent.objects.get()
    assert body["id"] == stored.pk
    assert stored.contact.external_id == "c-1"
    invitation = Invitation.objects.get()
    assert body["surveys"][0]["invitation"] == invitation.pk
    assert invitation.touchpoint == stored
    assert invitation.status == Invitation.Status.SCHEDULED
    assert invitation.locale == "en"
    assert invitation.attributes == {"channel": "web"}
    # The stored hash belongs to the token the sending pipeline will rebuild from the salt.
    assert tokens.hash_token(tokens.token_for(invitation)) == invitation.token_hash


def test_posting_the_same_event_again_creates_nothing_and_answers_with_the_record(
    key_client, survey
):
    first = post(key_client, event(1)).json()
    again = post(key_client, event(1, attributes={"channel": "phone"}))
    assert again.status_code == 200
    body = again.json()
    assert body["status"] == "duplicate"
    assert body["id"] == first["id"]
    assert body["surveys"][0]["invitation"] == first["surveys"][0]["invitation"]
    assert TouchpointEvent.objects.count() == 1
    assert Invitation.objects.count() == 1
    assert TouchpointEvent.objects.get().attributes == {"channel": "web"}


def test_the_same_event_twice_in_one_batch_is_stored_once(key_client, survey):
    response = post(key_client, [event(1), event(2), event(1)])
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "created", "duplicate"]
    assert results[2]["id"] == results[0]["id"]
    assert response.json()["created"] == 2 and response.json()["duplicates"] == 1
    assert TouchpointEvent.objects.count() == 2
    assert Invitation.objects.count() == 2


def test_same_external_id_with_another_type_is_another_event(key_client, survey):
    post(key_client, [event(1), event(1, type="support_contact")])
    assert TouchpointEvent.objects.count() == 2


def test_a_batch_reports_errors_per_item_and_keeps_the_valid_ones(key_client, survey):
    response = post(
        key_client,
        [
            event(1),
            event(2, occurred_at="yesterday"),
            event(3, customer={"email": "not-an-address"}),
            "a string",
            event(5, type=""),
            event(6),
        ],
    )
    assert response.status_code == 207
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 0, 4)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4, 5]
    assert [r["status"] for r in results] == [
        "created",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "created",
    ]
    assert "occurred_at" in results[1]["errors"]
    assert "customer.email" in results[2]["errors"]
    assert "non_field_errors" in results[3]["errors"]
    assert results[4]["errors"] == {"type": ["This field is required."]}
    assert set(TouchpointEvent.objects.values_list("external_id", flat=True)) == {
        "order-1",
        "order-6",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"external_id": None}, "external_id"),
        ({"occurred_at": "2026-13-45T99:00"}, "occurred_at"),
        ({"type": "Purchase Order"}, "type"),
        ({"customer": {"email": "", "external_id": ""}}, "customer"),
        ({"customer": {"locale": "not a locale"}}, "customer.locale"),
        ({"customer": {"time_zone": "Mars/Olympus"}}, "customer.time_zone"),
        ({"attributes": ["web"]}, "attributes"),
        ({"attributes": {"channel": {"nested": True}}}, "attributes.channel"),
        ({"attributes": {"agent": "x" * 201}}, "attributes.agent"),
    ],
)
def test_an_invalid_event_is_a_400_naming_the_field(key_client, survey, change, field):
    response = post(key_client, event(1, **change))
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert TouchpointEvent.objects.count() == 0


def test_an_event_far_in_the_future_is_refused(key_client, survey):
    later = (timezone.now() + timedelta(days=3)).isoformat()
    response = post(key_client, event(1, occurred_at=later))
    assert response.status_code == 400
    assert response.json()["errors"]["occurred_at"] == ["This lies in the future."]


def test_an_all_invalid_batch_is_a_400_with_every_error(key_client, survey):
    response = post(key_client, [event(1, type=""), event(2, external_id="")])
    assert response.status_code == 400
    assert [r["status"] for r in response.json()["results"]] == ["rejected", "rejected"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"type": "purchase",', "not valid JSON"),
        ("[]", "empty"),
        ('"purchase"', "one event object or a list"),
    ],
)
def test_a_malformed_body_is_a_400_with_a_clear_message(key_client, raw, message):
    response = key_client.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_form_post_is_refused_as_the_wrong_media_type(key_client):
    response = key_client.post(URL, {"type": "purchase"})
    assert response.status_code == 415


def test_more_than_1000_events_are_refused_whole(key_client, survey):
    response = post(key_client, [event(n) for n in range(1001)])
    assert response.status_code == 400
    assert "At most 1000 events" in response.json()["detail"]
    assert TouchpointEvent.objects.count() == 0


def test_a_batch_of_1000_is_stored_with_a_constant_number_of_queries(key_client, survey):
    make_survey(slug="second", min_days_between_surveys=30, sample_rate=0.5)
    with CaptureQueriesContext(connection) as small:
        assert post(key_client, [event(n) for n in range(10)]).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert post(key_client, [event(n) for n in range(10, 1010)]).status_code == 200
    assert TouchpointEvent.objects.count() == 1010
    assert Invitation.objects.filter(survey=survey).count() == 1010
    if on_postgres():
        # (the first request also stamps the API key as used)
        assert len(large.captured_queries) <= len(small.captured_queries) <= 20
    else:  # SQLite splits bulk inserts at 999 parameters
        assert len(large.captured_queries) < 100


def test_missing_or_invalid_key_is_a_401(db, survey):
    anonymous = APIClient()
    assert post(anonymous, event(1)).status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer csat_not-a-key")
    assert post(wrong, event(1)).status_code == 401
    assert TouchpointEvent.objects.count() == 0


def test_manager_session_is_refused_and_admin_session_is_accepted(
    manager_client, admin_client, survey
):
    assert post(manager_client, event(1)).status_code == 403
    assert post(admin_client, event(2)).status_code == 201
    assert list(TouchpointEvent.objects.values_list("external_id", flat=True)) == ["order-2"]


def test_contacts_are_upserted_by_external_id_else_email(key_client, survey):
    post(key_client, event(1, customer={"email": "Ana@Example.com", "name": "Ana"}))
    post(key_client, event(2, customer={"email": "ana@example.com", "external_id": "c-9"}))
    post(key_client, event(3, customer={"email": "ana.new@example.com", "external_id": "c-9"}))
    post(key_client, event(4, customer={"email": "", "external_id": "c-9", "name": "Ana B"}))
    contact = Contact.objects.get()
    assert contact.external_id == "c-9"
    assert contact.email == "ana.new@example.com"
    assert contact.name == "Ana B"
    assert TouchpointEvent.objects.filter(contact=contact).count() == 4


def test_contacts_of_one_batch_are_merged_too(key_client, survey):
    response = post(
        key_client,
        [
            event(1, customer={"email": "bo@example.com"}),
            event(2, customer={"email": "BO@example.com"}),
            event(3, customer={"external_id": "x-1", "email": "cy@example.com"}),
            event(4, customer={"external_id": "x-1", "email": ""}),
        ],
    )
    assert response.status_code == 200
    assert Contact.objects.count() == 2


def test_an_error_in_the_middle_of_a_batch_leaves_nothing_half_written(survey, monkeypatch):
    calls = {"n": 0}
    original = tokens.salts_and_hashes

    def failing():
        calls["n"] += 1
        raise RuntimeError("disk full")

    monkeypatch.setattr(tokens, "salts_and_hashes", failing)
    with pytest.raises(RuntimeError):
        record_touchpoints(items=[event(n) for n in range(50)])
    assert calls["n"] == 1
    assert TouchpointEvent.objects.count() == 0
    assert Contact.objects.count() == 0
    assert Invitation.objects.count() == 0
    monkeypatch.setattr(tokens, "salts_and_hashes", original)
    assert record_touchpoints(items=[event(n) for n in range(50)]).created == 50


def test_an_error_writing_the_skips_rolls_back_events_and_invitations(survey, monkeypatch):
    make_survey(slug="sampled", sample_rate=0.0)

    def failing(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(TouchpointSkip.objects, "bulk_create", failing)
    with pytest.raises(RuntimeError):
        record_touchpoints(items=[event(n) for n in range(20)])
    assert TouchpointEvent.objects.count() == 0
    assert Invitation.objects.count() == 0
    assert Contact.objects.count() == 0
