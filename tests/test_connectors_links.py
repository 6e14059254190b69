"""Survey links a helpdesk's own email carries: /rate/<connector>/ (connectors.links).

Signed links stand alone and make the ticket's invitation on their first visit; placeholder
links open only tickets the webhook recorded, for their requester; everything else is the
usual 404 with nothing written. Such invitations are never mailed nor reminded by us."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from connectors import links, services
from connectors.models import Connector
from surveys.models import Invitation, Response, TouchpointEvent
from surveys.sending import claims

from . import connector_payloads as p
from .factories import make_survey

SECRET = "zd_links_secret"


@pytest.fixture
def support(db):
    return make_survey(slug="support", touchpoint="support_contact", name="Support survey")


def link_connector(provider="zendesk", survey="support", **fields) -> Connector:
    return services.create_connector(
        provider=provider,
        survey=survey,
        secret=SECRET if provider == "zendesk" else None,
        channel="helpdesk",
        **fields,
    )


def visit(url: str, **extra):
    parts = urlsplit(url)
    return Client().get(parts.path + "?" + parts.query, extra)


def signed(connector, ticket="4711", email="Cy@Example.com") -> str:
    return links.signed_link(connector, ticket, email)


def solve_ticket(connector, ticket="35436", email="cy@example.com"):
    body = p.dumps(p.zendesk_ticket(ticket_id=ticket, email=email))
    response = Client().post(
        f"/hooks/{connector.public_id}/",
        body,
        content_type="application/json",
        headers=p.zendesk_headers(SECRET, body),
    )
    assert response.status_code == 200 and response.json()["outcome"] == "accepted"


def answer_token(response) -> str:
    assert response.status_code == 303, response.content
    path = response["Location"]
    assert path.startswith("/s/")
    return path.split("/")[2]


# --- signed links --------------------------------------------------------------------------------


def test_a_signed_links_first_visit_makes_one_helpdesk_invitation_and_redirects(support):
    connector = link_connector()
    response = visit(signed(connector) + "&score=5")
    assert response.status_code == 303
    assert response["Location"].endswith("?score=5")
    assert response["Cache-Control"] == "no-store"
    invitation = Invitation.objects.get()
    assert invitation.channel == Invitation.Channel.HELPDESK
    assert invitation.status == Invitation.Status.SENT and invitation.sent_at is not None
    assert invitation.reminder_due_at is None and invitation.expires_at > timezone.now()
    assert invitation.touchpoint.external_id == "zendesk:4711"
    assert invitation.contact.email.lower() == "cy@example.com"
    # A second visit (and the customer clicking another score) finds the same invitation.
    again = visit(signed(connector) + "&score=1")
    assert answer_token(again) == answer_token(response)
    assert again["Location"].endswith("?score=1")
    assert Invitation.objects.count() == 1 and TouchpointEvent.objects.count() == 1
    # The answer page itself is the usual one: GET preselects, records nothing.
    page = Client().get(response["Location"])
    assert page.status_code == 200 and not Response.objects.exists()


def test_the_signature_ignores_the_emails_case_and_a_plus_left_unencoded(support):
    connector = link_connector()
    sig = links.signature(connector.link_key, "9", "ann+cs@example.com")
    response = Client().get(
        f"/rate/{connector.public_id}/?ticket=9&email=ANN+cs@example.com&sig={sig}"
    )
    assert response.status_code == 303
    assert Invitation.objects.get().contact.email.lower() == "ann+cs@example.com"


@pytest.mark.parametrize(
    "change",
    [
        lambda q: q.replace("ticket=4711", "ticket=4712"),
        lambda q: q.replace("email=Cy%40Example.com", "email=cz%40example.com"),
        lambda q: q[:-2] + ("AA" if not q.endswith("AA") else "BB"),
        lambda q: q.split("&sig=")[0],
        lambda q: q.replace("ticket=4711&", ""),
        lambda q: q.replace("email=Cy%40Example.com&", ""),
        lambda q: q.replace("email=Cy%40Example.com", "email=not-an-address"),
        lambda q: q.replace("ticket=4711", "ticket=%3Cscript%3E"),
    ],
)
def test_an_altered_or_incomplete_signed_link_is_404_and_writes_nothing(support, change):
    connector = link_connector()
    url = signed(connector)
    response = visit(change(url))
    assert response.status_code == 404
    assert not Invitation.objects.exists() and not TouchpointEvent.objects.exists()


def test_another_connectors_key_or_a_rotated_key_is_404(support):
    connector = link_connector()
    other = link_connector(name="other")
    assert visit(signed(other).replace(other.public_id, connector.public_id)).status_code == 404
    old = signed(connector)
    services.rotate_link_key(connector=connector)
    assert visit(old).status_code == 404
    assert visit(signed(connector)).status_code == 303


def test_unknown_paused_email_mode_and_shop_connectors_are_404(support):
    make_survey(slug="shop", touchpoint="purchase")
    connector = link_connector()
    url = signed(connector)
    assert Client().get("/rate/nosuchconnector/?ticket=1").status_code == 404
    services.update_connector(connector=connector, data={"active": False})
    assert visit(url).status_code == 404
    services.update_connector(connector=connector, data={"active": True, "channel": "email"})
    assert visit(url).status_code == 404
    shop = services.create_connector(provider="shopify", survey="shop", secret="shpss_x")
    shop_link = links.signed_link(shop, "1", "a@example.com")
    assert visit(shop_link).status_code == 404
    assert not Invitation.objects.exists()
    with pytest.raises(services.ConnectorError):
        services.update_connector(connector=shop, data={"channel": "helpdesk"})


def test_a_link_is_get_only_and_a_404_is_the_usual_page(support):
    connector = link_connector()
    url = urlsplit(signed(connector))
    assert Client().post(url.path + "?" + url.query).status_code == 405
    response = Client().get(url.path + "?" + url.query.replace("ticket=4711", "ticket=1"))
    assert response.status_code == 404 and b"<html" in response.content.lower()


def test_a_nul_byte_in_a_link_is_400_never_500(support):
    connector = link_connector()
    response = Client().get(f"/rate/{connector.public_id}/?ticket=1%00&email=a@example.com&sig=x")
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_an_unsubscribed_customer_may_still_answer_the_helpdesks_link(support):
    connector = link_connector()
    visit(signed(connector))
    contact = Invitation.objects.get().contact
    contact.unsubscribed_at = timezone.now()
    contact.save()
    # A new ticket of the same customer, while unsubscribed and within the fatigue window.
    response = visit(signed(connector, ticket="4712"))
    assert response.status_code == 303
    assert Invitation.objects.filter(contact=contact).count() == 2


def test_an_expired_helpdesk_link_behaves_as_any_expired_link(support):
    connector = link_connector()
    first = visit(signed(connector))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    claims.expire_invitations()
    again = visit(signed(connector))
    assert again["Location"] == first["Location"]
    assert Client().get(again["Location"]).status_code == 410


def test_an_erased_customers_link_is_404(support):
    from privacy.services import erase_customer

    connector = link_connector()
    visit(signed(connector))
    erase_customer(email="cy@example.com", via="test")
    assert visit(signed(connector)).status_code == 404


def test_a_closed_survey_makes_no_invitation(support):
    connector = link_connector()
    support.status = "paused"
    support.save()
    assert visit(signed(connector)).status_code == 404
    assert not TouchpointEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_visits_make_one_invitation():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    make_survey(slug="support", touchpoint="support_contact")
    connector = link_connector()
    url = signed(connector)
    barrier = threading.Barrier(4)
    locations: list[str] = []

    def one():
        try:
            barrier.wait()
            locations.append(visit(url)["Location"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(locations) == 4 and len(set(locations)) == 1
    assert Invitation.objects.count() == 1 and TouchpointEvent.objects.count() == 1


# --- placeholder links ---------------------------------------------------------------------------


def placeholder(connector, ticket="35436", email="cy@example.com") -> str:
    return (
        f"/rate/{connector.public_id}/?t={links.placeholder_token(connector)}"
        f"&ticket={ticket}&email={email}"
    )


def test_the_webhook_in_link_mode_makes_the_invitation_delivered_by_the_helpdesk(support):
    connector = link_connector()
    solve_ticket(connector)
    invitation = Invitation.objects.get()
    assert invitation.channel == Invitation.Channel.HELPDESK
    assert invitation.status == Invitation.Status.SENT and invitation.reminder_due_at is None
    response = Client().get(placeholder(connector, email="CY@example.com") + "&score=4")
    assert response.status_code == 303 and response["Location"].endswith("?score=4")
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    ("ticket", "email", "token"),
    [
        ("35437", "cy@example.com", None),  # a ticket the webhook never recorded
        ("35436", "someone@example.com", None),  # not the ticket's requester
        ("35436", "cy@example.com", "wrong-token-wrong-token"),
        ("35436", "cy@example.com", ""),
    ],
)
def test_a_placeholder_link_opens_only_a_known_ticket_for_its_requester(
    support, ticket, email, token
):
    connector = link_connector()
    solve_ticket(connector)
    url = placeholder(connector, ticket, email)
    if token is not None:
        url = url.replace(links.placeholder_token(connector), token)
    assert Client().get(url).status_code == 404
    assert Invitation.objects.count() == 1


def test_the_placeholder_token_is_not_the_signing_key(support):
    connector = link_connector()
    token = links.placeholder_token(connector)
    assert (
        token != connector.link_key
        and connector.link_key not in links.templates(connector)["placeholder"]
    )
    # Knowing the token does not sign: a link "signed" with it is a 404.
    forged = links.signature(token, "4711", "cy@example.com")
    url = f"/rate/{connector.public_id}/?ticket=4711&email=cy@example.com&sig={forged}"
    assert Client().get(url).status_code == 404


def test_a_ticket_recorded_in_email_mode_gets_a_helpdesk_invitation_only_if_it_had_none(support):
    connector = services.create_connector(provider="zendesk", survey="support", secret=SECRET)
    solve_ticket(connector)
    emailed = Invitation.objects.get()
    assert emailed.channel == Invitation.Channel.EMAIL
    services.update_connector(connector=connector, data={"channel": "helpdesk"})
    response = Client().get(placeholder(connector))
    assert response.status_code == 303 and Invitation.objects.count() == 1


@pytest.mark.parametrize("provider", ["zammad", "freshdesk", "generic"])
def test_every_helpdesk_provider_takes_links(support, provider):
    connector = link_connector(provider)
    response = visit(signed(connector))
    assert response.status_code == 303
    expected = "4711" if provider == "generic" else f"{provider}:4711"
    assert Invitation.objects.get().touchpoint.external_id == expected
    template = links.templates(connector)["placeholder"]
    assert all(part in template for part in links.PLACEHOLDERS[provider])


# --- never mailed, never reminded ----------------------------------------------------------------


def test_the_sender_and_the_reminders_never_claim_helpdesk_invitations(support):
    connector = link_connector()
    solve_ticket(connector)
    visit(signed(connector))
    assert Invitation.objects.filter(channel="helpdesk").count() == 2
    later = timezone.now() + timedelta(days=30)
    # Even if a row were somehow due, the claims pass it by.
    Invitation.objects.update(
        status=Invitation.Status.SCHEDULED, due_at=timezone.now() - timedelta(minutes=1)
    )
    assert claims.claim_invitations(now=timezone.now()) is None
    Invitation.objects.update(status=Invitation.Status.SENT, reminder_due_at=timezone.now())
    assert claims.claim_reminders(now=later - timedelta(days=29)) is None


# --- the API -------------------------------------------------------------------------------------


def test_the_api_creates_a_link_mode_connector_and_shows_its_key_once(key_client, support):
    response = key_client.post(
        "/api/v1/connectors/",
        {"provider": "zammad", "survey": "support", "channel": "helpdesk"},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    connector = Connector.objects.get()
    assert data["channel"] == "helpdesk" and data["link_key"] == connector.link_key
    assert (
        "#{ticket.id}" in data["link_template"]
        and "#{ticket.customer.email}" in (data["link_template"])
    )
    shown = key_client.get(f"/api/v1/connectors/{connector.pk}/").json()
    assert "link_key" not in shown and "secret" not in shown
    assert shown["link_template"] == data["link_template"]
    rotated = key_client.post(f"/api/v1/connectors/{connector.pk}/rotate-link-key/").json()
    connector.refresh_from_db()
    assert rotated["link_key"] == connector.link_key != data["link_key"]
    assert "secret" not in rotated


def test_the_api_makes_a_ticket_s_signed_link(key_client, support):
    connector = link_connector()
    response = key_client.post(
        f"/api/v1/connectors/{connector.pk}/links/",
        {"ticket": "4711", "email": "cy@example.com"},
        format="json",
    )
    assert response.status_code == 200, response.content
    url = response.json()["url"]
    assert url == links.signed_link(connector, "4711", "cy@example.com")
    assert visit(url).status_code == 303
    bad = key_client.post(
        f"/api/v1/connectors/{connector.pk}/links/",
        {"ticket": "a b", "email": "cy@example.com"},
        format="json",
    )
    assert bad.status_code == 400 and "ticket" in bad.json()
    assert (
        key_client.post(
            f"/api/v1/connectors/{connector.pk}/links/", {"ticket": "1"}, format="json"
        ).status_code
        == 400
    )


def test_the_api_refuses_links_and_link_mode_for_shops(key_client, support):
    make_survey(slug="shop", touchpoint="purchase")
    shop = services.create_connector(provider="shopify", survey="shop", secret="shpss_x")
    response = key_client.post(
        f"/api/v1/connectors/{shop.pk}/links/",
        {"ticket": "1", "email": "a@example.com"},
        format="json",
    )
    assert response.status_code == 409
    changed = key_client.patch(
        f"/api/v1/connectors/{shop.pk}/", {"channel": "helpdesk"}, format="json"
    )
    assert changed.status_code == 400 and "channel" in changed.json()
    assert key_client.get(f"/api/v1/connectors/{shop.pk}/").json()["link_template"] is None


def test_managers_may_not_make_links_nor_rotate_the_link_key(manager_client, support):
    connector = link_connector()
    key = connector.link_key
    for path, body in [
        (f"/api/v1/connectors/{connector.pk}/links/", {"ticket": "1", "email": "a@example.com"}),
        (f"/api/v1/connectors/{connector.pk}/rotate-link-key/", {}),
    ]:
        assert manager_client.post(path, body, format="json").status_code == 403
    connector.refresh_from_db()
    assert connector.link_key == key


# --- the connector page --------------------------------------------------------------------------


@pytest.fixture
def page_admin(db):
    from .factories import admin_user

    client = Client()
    client.force_login(admin_user())
    return client


def settings_form(connector, **changes) -> dict:
    form = {"survey": connector.survey.slug, "name": "", "events": ["solved"], "active": "on"}
    return {**form, **changes}


def test_the_page_switches_to_link_mode_and_shows_the_link_and_the_rating_row(page_admin, support):
    from html import escape, unescape

    connector = services.create_connector(provider="zendesk", survey="support", secret=SECRET)
    before = page_admin.get(f"/connectors/{connector.pk}/").content.decode()
    assert "data-links" in before and "data-link-template" not in before
    response = page_admin.post(
        f"/connectors/{connector.pk}/", settings_form(connector, channel="helpdesk")
    )
    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.channel == "helpdesk"
    html = unescape(page_admin.get(f"/connectors/{connector.pk}/").content.decode())
    template = links.templates(connector)["placeholder"]
    assert template in html and "{{ticket.requester.email}}" in html
    # The rating row: each of the primary question's points links with its score.
    row = links.rating_row(connector)
    for score in range(1, 6):
        assert f'href="{escape(template)}&amp;score={score}"' in row
    assert 'style="' in row and "<script" not in row
    assert row in html
    assert connector.link_key not in html  # never on the page but once


def test_a_new_link_key_is_shown_once(page_admin, support):
    connector = link_connector()
    old = connector.link_key
    response = page_admin.post(f"/connectors/{connector.pk}/link-key/")
    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.link_key != old
    assert connector.link_key in page_admin.get(f"/connectors/{connector.pk}/").content.decode()
    assert connector.link_key not in page_admin.get(f"/connectors/{connector.pk}/").content.decode()


def test_a_new_zammad_connector_shows_its_link_key_once(page_admin, support):
    page_admin.post("/connectors/", {"provider": "zammad", "survey": "support"})
    connector = Connector.objects.get()
    assert connector.link_key in page_admin.get(f"/connectors/{connector.pk}/").content.decode()


def test_a_shop_connector_has_no_link_section(page_admin, support):
    make_survey(slug="shop", touchpoint="purchase")
    shop = services.create_connector(provider="shopify", survey="shop", secret="shpss_x")
    html = page_admin.get(f"/connectors/{shop.pk}/").content.decode()
    assert "data-links" not in html and 'name="channel"' not in html
    page_admin.post(f"/connectors/{shop.pk}/link-key/")
    key = shop.link_key
    shop.refresh_from_db()
    assert shop.link_key == key


def test_managers_get_403_on_the_link_key_page(support):
    from .factories import manager_user

    connector = link_connector()
    client = Client()
    client.force_login(manager_user())
    assert client.post(f"/connectors/{connector.pk}/link-key/").status_code == 403
    key = connector.link_key
    connector.refresh_from_db()
    assert connector.link_key == key


def test_the_delivery_and_response_pages_say_delivered_by_the_helpdesk(page_admin, support):
    from surveys import responses

    connector = link_connector()
    solve_ticket(connector)
    html = page_admin.get("/design/support/invitations/", {"state": "sent"}).content.decode()
    assert 'data-channel="helpdesk"' in html and "cy@example.com" in html
    invitation = Invitation.objects.get()
    response = responses.record_response(
        invitation=invitation, answers={"satisfaction": "5", "comment": ""}, locale="en"
    )
    detail = page_admin.get(f"/responses/{response.pk}/").content.decode()
    assert 'data-channel="helpdesk"' in detail


# --- the docs' snippets --------------------------------------------------------------------------


def _doc_block(language: str) -> str:
    from pathlib import Path

    text = Path(__file__).resolve().parent.parent.joinpath("docs/connectors/README.md").read_text()
    section = text.split("## Survey links in the helpdesk's own email")[1]
    return section.split(f"```{language}\n")[1].split("```")[0]


def test_the_docs_python_snippet_makes_the_links_the_site_accepts(support):
    connector = link_connector()
    scope: dict = {}
    exec(_doc_block("python"), scope)  # noqa: S102 - our own documentation
    url = scope["survey_link"](links.base_url(connector), connector.link_key, "77", "Ann@X.org")
    assert url == links.signed_link(connector, "77", "Ann@X.org")
    assert visit(url).status_code == 303


def test_the_docs_openssl_one_liner_computes_the_same_signature(support):
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl on this machine")
    connector = link_connector()
    env = {"TICKET": "T-77", "EMAIL": "Ann.B@Example.ORG", "LINK_KEY": connector.link_key}
    run = subprocess.run(
        ["sh", "-c", _doc_block("sh")],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == links.signature(connector.link_key, "T-77", "Ann.B@Example.ORG")


def test_a_link_mode_event_without_an_email_invites_nobody(support):
    from surveys.models import TouchpointSkip

    connector = link_connector("generic")
    event = {
        "type": "support_contact",
        "external_id": "T-1",
        "occurred_at": timezone.now().isoformat(),
        "customer": {"external_id": "crm-1"},
    }
    body = p.dumps(event)
    response = Client().post(
        f"/hooks/{connector.public_id}/",
        body,
        content_type="application/json",
        headers=p.generic_headers(connector.secret, body),
    )
    assert response.json()["outcome"] == "accepted"
    assert not Invitation.objects.exists()
    assert TouchpointSkip.objects.get().reason == "undeliverable"


def test_the_rating_row_wears_the_brands_accent(support):
    from branding import services as brand_services

    connector = link_connector()
    brand_services.save_brand(company_name="Acme", sender_name="", accent_color="#0f766e")
    row = links.rating_row(connector)
    assert row.count("color:#0f766e;") == 5
    assert "#3b3fb6" not in row
