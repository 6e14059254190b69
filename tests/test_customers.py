"""Who a customer is, decided once (surveys.customers) for touchpoints, invitations, imports and
unsubscribes: by external id, else by email in any case, else a new customer."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from surveys.customers import CustomerIn, resolve_customers, unsubscribe
from surveys.models import Contact, Invitation

from .factories import invite, make_survey

pytestmark = pytest.mark.django_db


def test_a_known_external_id_wins_and_takes_the_new_address():
    ana = Contact.objects.create(email="ana@old.example", external_id="c-1", name="Ana")
    other = Contact.objects.create(email="ana@new.example", name="Someone else")
    [found], created = resolve_customers(
        [CustomerIn(email="ANA@new.example", external_id="c-1", locale="de")]
    )
    assert (found, created) == (ana, 0)
    ana.refresh_from_db()
    assert (ana.email, ana.locale, ana.name) == ("ana@new.example", "de", "Ana")
    other.refresh_from_db()
    assert (other.email, other.external_id) == ("ana@new.example", None)


def test_an_email_finds_the_customer_in_any_case_even_one_known_by_external_id():
    ana = Contact.objects.create(email="Ana@Example.com", external_id="c-1")
    bo = Contact.objects.create(email="bo@example.com")
    found, created = resolve_customers(
        [
            CustomerIn(email="ana@example.com"),
            CustomerIn(email="BO@example.com", external_id="c-2"),  # bo adopts the id
            CustomerIn(external_id="c-2", name="Bo"),
        ]
    )
    assert (found, created) == ([ana, bo, bo], 0)
    bo.refresh_from_db()
    assert (bo.external_id, bo.name) == ("c-2", "Bo")


def test_another_external_id_at_a_known_address_is_another_customer_who_shares_its_unsubscribe():
    ana = Contact.objects.create(
        email="family@example.com", external_id="c-1", unsubscribed_at=timezone.now()
    )
    [partner], created = resolve_customers(
        [CustomerIn(email="family@example.com", external_id="c-2")]
    )
    assert created == 1 and partner != ana
    assert partner.unsubscribed_at == ana.unsubscribed_at


def test_one_customer_is_found_the_same_way_by_every_path(key_client, tmp_path):
    """A purchase knows them by id and email, the API by email in another case, the historical
    import by id: one contact, whichever came first."""
    make_survey(slug="shop", min_days_between_surveys=0)  # the same customer, invited twice
    event = {
        "type": "purchase",
        "external_id": "order-1",
        "occurred_at": timezone.now().isoformat(),
        "customer": {"email": "ana@example.com", "external_id": "c-17"},
    }
    reply = key_client.post(
        "/api/v1/touchpoints/", json.dumps(event), content_type="application/json"
    )
    assert reply.status_code == 201
    invitation, _ = invite(
        survey=make_survey(slug="other", min_days_between_surveys=0), email="ANA@example.com"
    )
    csv = tmp_path / "history.csv"
    csv.write_text("submitted_at,score,customer_id\n2024-03-01,4,c-17\n")
    call_command("import_responses", str(csv), survey="shop", stdout=io.StringIO())
    assert Contact.objects.count() == 1
    ana = Contact.objects.get()
    assert invitation.contact == ana and ana.responses.count() == 1


def test_an_unsubscribe_stops_every_customer_at_the_address():
    """Two rows for one address (two external ids, or rows made before one rule existed): the
    one-click unsubscribe of either stops both, and their scheduled invitations."""
    survey = make_survey(slug="shop")
    first = Contact.objects.create(email="ana@example.com", external_id="c-1")
    second = Contact.objects.create(email="ANA@example.com")
    invitation, token = invite(survey=survey, email="ana@example.com")
    assert invitation.contact == first
    scheduled = Invitation.objects.create(
        survey=survey, contact=second, salt="s", token_hash="h" * 64
    )
    assert Client().post(f"/u/{token}/").status_code == 200
    assert Contact.objects.filter(unsubscribed_at__isnull=True).count() == 0
    scheduled.refresh_from_db()
    assert scheduled.status == Invitation.Status.SUPPRESSED
    assert unsubscribe(contact=second) is False  # already: safe to repeat
