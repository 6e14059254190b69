"""A survey's title for customers, apart from its internal name: the answer page, the thank-you
and unsubscribe pages and the email show the title in the customer's language, else the name."""

from __future__ import annotations

import pytest
from django.test import Client

from surveys.emails.invitation import build_invitation_email

from .factories import invite, make_survey

pytestmark = pytest.mark.django_db


def test_customers_see_the_title_and_never_the_internal_name(admin_client):
    survey = make_survey(slug="shop", name="Q3 shop test (internal)", languages=("en", "de"))
    reply = admin_client.patch(
        "/api/v1/surveys/shop/",
        {"title": {"en": "Your order at Example Shop", "de": "Ihre Bestellung bei Example Shop"}},
        format="json",
    )
    assert reply.status_code == 200 and reply.json()["title"]["de"].startswith("Ihre")
    survey.refresh_from_db()
    invitation, token = invite(survey=survey, email="ana@example.com", locale="de")
    page = Client().get(f"/s/{token}/").content.decode()
    assert "<h1>Ihre Bestellung bei Example Shop</h1>" in page and "internal" not in page
    message = build_invitation_email(invitation, token)
    assert message.subject.startswith("Ihre Bestellung bei Example Shop")
    assert "internal" not in message.subject + message.body + message.alternatives[0][0]
    unsubscribe = Client().get(f"/u/{token}/").content.decode()
    assert "Ihre Bestellung bei Example Shop" in unsubscribe and "internal" not in unsubscribe
    # The designer and the admin's lists keep the internal name.
    assert "Q3 shop test (internal)" in admin_client.get("/design/").content.decode()


def test_without_a_title_customers_see_the_name(db):
    survey = make_survey(slug="shop", name="Example Shop")
    invitation, token = invite(survey=survey, email="ana@example.com")
    assert "<h1>Example Shop</h1>" in Client().get(f"/s/{token}/").content.decode()
    assert build_invitation_email(invitation, token).subject.startswith("Example Shop")
