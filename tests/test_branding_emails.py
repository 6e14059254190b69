"""The brand in the survey emails: From carries the sender name, the HTML the logo (by absolute
URL) and the accent colour, the text the company name; the fast batch path sends the same bytes.
The designer previews the unsaved survey's email, built by the same function."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from branding import services
from branding.logos import clean_logo
from branding.models import Brand
from surveys.emails import InvitationWire, build_invitation_email
from surveys.models import Contact

from .factories import UserFactory, admin_user, make_invitation, make_survey, manager_user
from .test_branding import image_bytes
from .test_emails_wire import parsed
from .test_sending import due_invitation, send_due

pytestmark = pytest.mark.django_db


def set_brand(*, company="Acme Tools", sender="", accent="#0b5d3b", logo=True) -> Brand:
    return services.save_brand(
        company_name=company,
        sender_name=sender,
        accent_color=accent,
        logo=clean_logo(image_bytes(), max_bytes=10**6) if logo else None,
    )


def test_a_sent_invitation_carries_the_brand(smtp_server, settings):
    settings.SITE_URL = "https://csat.example.com"
    settings.DEFAULT_FROM_EMAIL = "CSAT <surveys@example.com>"
    brand = set_brand(sender='Acme Kundenservice, "Team Ü"')
    survey = make_survey()
    due_invitation(survey, name="Ana")
    assert send_due() == {"sent": 1}
    [received] = smtp_server.wait_for(1)
    message = received["message"]
    sender = message["From"].addresses[0]
    assert sender.display_name == 'Acme Kundenservice, "Team Ü"'
    assert sender.addr_spec == "surveys@example.com" == received["from"]
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    logo = f"https://csat.example.com/brand/logo-{brand.logo_hash}.png"
    assert f'<img src="{logo}" width="96" height="48"' in html
    assert "Acme Tools" in html and "background:#0b5d3b" in html and "color:#0b5d3b" in html
    assert "#3b3fb6" not in html  # the product's own colour is gone
    assert "Thank you!\nAcme Tools\n" in text.replace("\r\n", "\n")
    # The logo the email points at is there for the mail client, cached for good.
    reply = Client().get(logo.removeprefix("https://csat.example.com"))
    assert reply.status_code == 200 and reply["Content-Type"] == "image/png"


def test_without_a_sender_name_the_company_name_is_the_sender_and_without_either_the_setting(
    smtp_server, settings
):
    settings.DEFAULT_FROM_EMAIL = "CSAT <surveys@example.com>"
    survey = make_survey()
    due_invitation(survey, email="one@example.com")
    send_due()
    assert str(smtp_server.wait_for(1)[0]["message"]["From"]) == "CSAT <surveys@example.com>"
    set_brand(logo=False)
    due_invitation(survey, email="two@example.com")
    send_due()
    assert str(smtp_server.wait_for(2)[1]["message"]["From"]) == "Acme Tools <surveys@example.com>"


@pytest.mark.parametrize("reminder", [False, True])
def test_the_fast_path_sends_the_same_branded_message(settings, reminder):
    settings.SITE_URL = "https://csat.example.com"
    set_brand(sender="Jörg & Söhne <GmbH>")
    survey = make_survey(languages=("en", "de"))
    wire = InvitationWire()
    for index, name in enumerate(["Ana", "Jörg Ü", ""]):
        contact = Contact.objects.create(email=f"c{index}@example.com", name=name, locale="de")
        invitation, token = make_invitation(survey, contact, locale="de")
        plain = build_invitation_email(invitation, token, reminder=reminder)
        fast = wire.build(invitation, token, reminder=reminder)
        assert parsed(fast.data) == parsed(plain.message().as_bytes(linesep="\r\n"))
        assert b"/brand/logo-" in fast.data
    assert any(shape is not None for shape in wire.shapes.values())


# --- the designer's email preview of the unsaved survey -----------------------------------------


def draft_url(slug="shop", **query) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/design/{slug}/email/draft/?{params}"


def test_the_email_preview_follows_unsaved_edits_in_each_language(settings):
    settings.SITE_URL = "https://csat.example.com"
    set_brand()
    survey = make_survey(slug="shop", languages=("en", "de"))
    client = Client()
    client.force_login(admin_user())
    definition = client.get("/api/v1/surveys/shop/").json()
    definition["email_subject"] = {"en": "Unsaved {reference}", "de": "Ungespeichert {reference}"}
    definition["title"] = {"en": "Our shop", "de": "Unser Laden"}
    reply = client.post(draft_url(lang="de"), json.dumps(definition), "application/json")
    assert reply.status_code == 200, reply.content
    data = reply.json()
    assert data["subject"] == "Ungespeichert A-1042"
    assert data["from"] == '"Acme Tools" <surveys@localhost>'
    assert "Guten Tag Ana Example" in data["text"] and "Acme Tools" in data["text"]
    survey.refresh_from_db()
    assert survey.email_subject == {}  # nothing was saved

    # The HTML part, posted by the page's form into the sandboxed frame.
    html = client.post(draft_url(lang="de", part="html"), {"definition": json.dumps(definition)})
    assert html.status_code == 200 and html["Content-Type"] == "text/html; charset=utf-8"
    assert html["Content-Security-Policy"] == "script-src 'none'; frame-ancestors 'self'"
    page = html.content.decode()
    assert "https://csat.example.com/brand/logo-" in page and "Acme Tools" in page
    assert "Unser Laden" in page or "Ungespeichert" not in page  # the HTML has no subject line

    # Unsaved questions count: a new primary question's text is what the email asks.
    definition["questions"][0]["text"] = {"en": "Happy with the parcel?", "de": "Paket gut?"}
    again = client.post(draft_url(lang="en"), json.dumps(definition), "application/json")
    assert "Happy with the parcel?" in again.json()["text"]


def test_the_email_preview_is_the_mail_as_sent_for_the_saved_survey():
    survey = make_survey(slug="shop")
    client = Client()
    client.force_login(admin_user())
    definition = client.get("/api/v1/surveys/shop/").json()
    reply = client.post(draft_url(lang="en"), json.dumps(definition), "application/json").json()
    saved = client.get("/design/shop/email/?lang=en")
    assert f"data-subject>{reply['subject']}</p>" in saved.content.decode()
    assert survey.email_subject == {}


def test_the_email_draft_refuses_others_and_bad_drafts():
    make_survey(slug="shop")
    assert Client().post(draft_url(), "{}", "application/json").status_code == 302
    for user in (manager_user(), UserFactory()):
        client = Client()
        client.force_login(user)
        assert client.post(draft_url(), "{}", "application/json").status_code == 403
    client = Client()
    client.force_login(admin_user())
    assert client.get(draft_url()).status_code == 405
    assert client.post(draft_url(), "not json", "application/json").status_code == 400
    assert client.post(draft_url(), "[1]", "application/json").status_code == 400
    bad = client.post(draft_url(), json.dumps({"languages": ["xx"]}), "application/json")
    assert bad.status_code == 400 and "languages" in bad.json()
    assert client.post(draft_url("nope"), "{}", "application/json").status_code == 404
