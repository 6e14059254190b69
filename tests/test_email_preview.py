"""The designer's email preview: the saved survey's invitation per language, built by the same
function as the mails that leave, for survey admins only."""

from __future__ import annotations

import pytest
from django.test import Client

from surveys.emails.invitation import build_invitation_email

from .factories import UserFactory, admin_user, invite, make_survey, manager_user

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_preview_is_the_mail_as_sent_in_each_language():
    survey = make_survey(slug="shop", languages=("en", "de"))
    invitation, token = invite(
        survey=survey,
        email="ana@example.com",
        name="Ana Example",
        locale="de",
        attributes={"order_id": "A-1042"},
    )
    sent = build_invitation_email(invitation, token)
    client = logged_in(admin_user())
    page = client.get("/design/shop/email/?lang=de")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"data-subject>{sent.subject}</p>" in html
    assert "Guten Tag Ana Example" in html and "?lang=de&amp;part=html" in html
    part = client.get("/design/shop/email/?lang=de&part=html")
    assert part["Content-Security-Policy"] == "script-src 'none'; frame-ancestors 'self'"
    expected = sent.alternatives[0][0].replace(token, "preview")
    assert part.content.decode() == expected
    english = client.get("/design/shop/email/?lang=xx").content.decode()  # not a survey language
    assert "Hello Ana Example" in english or "Ana Example" in english
    reminder = client.get("/design/shop/email/?lang=en&reminder=1")
    assert reminder.status_code == 200


def test_only_survey_admins_see_the_preview():
    make_survey(slug="shop")
    assert Client().get("/design/shop/email/").status_code == 302
    for user in (manager_user(), UserFactory()):
        assert logged_in(user).get("/design/shop/email/").status_code == 403
    assert logged_in(admin_user()).get("/design/nope/email/").status_code == 404
