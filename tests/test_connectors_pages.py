"""The connector pages: survey admins create, edit, rotate and delete connectors and read the
delivery log; the secret is shown once; managers get a 403."""

from __future__ import annotations

import pytest
from django.test import Client

from connectors import services
from connectors.models import Connector

from . import connector_payloads as p
from .factories import admin_user, make_survey, manager_user


@pytest.fixture
def browser_admin(db):
    client = Client()
    client.force_login(admin_user())
    return client


@pytest.fixture
def support(db):
    return make_survey(slug="support", touchpoint="support_contact", name="Support survey")


def test_create_shows_the_url_and_the_secret_once(browser_admin, support, settings):
    response = browser_admin.post(
        "/connectors/", {"provider": "zammad", "survey": "support", "name": "Helpdesk"}
    )
    connector = Connector.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/connectors/{connector.pk}/"
    page = browser_admin.get(response["Location"]).content.decode()
    assert connector.secret in page
    assert f"{settings.SITE_URL}/hooks/{connector.public_id}/" in page
    again = browser_admin.get(f"/connectors/{connector.pk}/").content.decode()
    assert connector.secret not in again
    assert connector.public_id in again
    assert "Helpdesk" in browser_admin.get("/connectors/").content.decode()


def test_a_providers_secret_is_required_on_the_page(browser_admin, support):
    response = browser_admin.post("/connectors/", {"provider": "zendesk", "survey": "support"})
    assert response.status_code == 400
    assert not Connector.objects.exists()


def test_zendesk_setup_shows_the_json_body_to_paste(browser_admin, support):
    connector = services.create_connector(provider="zendesk", survey="support", secret="z")
    page = browser_admin.get(f"/connectors/{connector.pk}/").content.decode()
    assert "{{ticket.requester.email}}" in page
    assert "{{ticket.assignee.name}}" in page


def test_the_delivery_log_shows_outcomes_and_the_last_payloads_fields(browser_admin, support):
    connector = services.create_connector(provider="zammad", survey="support")
    for state in ("open", "closed"):
        body = p.dumps(p.zammad_ticket(state=state))
        Client().post(
            f"/hooks/{connector.public_id}/",
            body,
            content_type="application/json",
            headers=p.zammad_headers(connector.secret, body),
        )
    page = browser_admin.get(f"/connectors/{connector.pk}/").content.decode()
    assert "Touchpoint made" in page and "Ignored" in page
    assert "is not one this connector acts on" in page
    assert "<dt>ticket.state</dt>" in page and "<dt>article.type</dt>" in page


def test_edit_rotate_and_delete(browser_admin, support):
    connector = services.create_connector(provider="freshdesk", survey="support")
    response = browser_admin.post(
        f"/connectors/{connector.pk}/",
        {"survey": "support", "name": "FD", "events": ["resolved", "closed"], "active": "on"},
    )
    assert response.status_code == 302
    connector.refresh_from_db()
    assert (connector.name, connector.events) == ("FD", ["resolved", "closed"])
    old = connector.secret
    browser_admin.post(f"/connectors/{connector.pk}/rotate/")
    connector.refresh_from_db()
    assert connector.secret != old
    assert connector.secret in browser_admin.get(f"/connectors/{connector.pk}/").content.decode()
    assert browser_admin.post(f"/connectors/{connector.pk}/delete/").status_code == 302
    assert not Connector.objects.exists()


def test_no_events_is_refused(browser_admin, support):
    connector = services.create_connector(provider="freshdesk", survey="support")
    response = browser_admin.post(f"/connectors/{connector.pk}/", {"survey": "support"})
    assert response.status_code == 400
    connector.refresh_from_db()
    assert connector.events == ["resolved"]


def test_managers_get_403_everywhere(support):
    connector = services.create_connector(provider="zammad", survey="support")
    client = Client()
    client.force_login(manager_user())
    for method, path in [
        ("get", "/connectors/"),
        ("post", "/connectors/"),
        ("get", f"/connectors/{connector.pk}/"),
        ("post", f"/connectors/{connector.pk}/"),
        ("post", f"/connectors/{connector.pk}/rotate/"),
        ("post", f"/connectors/{connector.pk}/delete/"),
    ]:
        assert getattr(client, method)(path).status_code == 403, path
    assert Connector.objects.filter(secret=connector.secret).exists()
    assert "/connectors/" not in client.get("/dashboard/").content.decode()


def test_strangers_are_sent_to_log_in(support):
    response = Client().get("/connectors/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_operators_admin_never_shows_the_secret(support):
    connector = services.create_connector(provider="zammad", survey="support")
    client = Client()
    client.force_login(admin_user(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/connectors/connector/{connector.pk}/change/")
    assert page.status_code == 200
    assert connector.secret not in page.content.decode()
    assert connector.link_key not in page.content.decode()
    assert client.get("/admin/connectors/delivery/").status_code == 200
    assert client.get("/admin/connectors/connector/add/").status_code == 403


def test_the_mapping_is_edited_as_lines(browser_admin, support):
    connector = services.create_connector(provider="zammad", survey="support")
    form = {"survey": "support", "events": ["closed"], "active": "on"}
    response = browser_admin.post(
        f"/connectors/{connector.pk}/",
        {**form, "mapping": "title = ticket.title\n\npriority=ticket.priority\n"},
    )
    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.mapping == {"title": "ticket.title", "priority": "ticket.priority"}
    page = browser_admin.get(f"/connectors/{connector.pk}/").content.decode()
    assert "title = ticket.title" in page
    for bad in ("no equals sign", "bad name! = x"):
        response = browser_admin.post(f"/connectors/{connector.pk}/", {**form, "mapping": bad})
        assert response.status_code == 400
    connector.refresh_from_db()
    assert connector.mapping == {"title": "ticket.title", "priority": "ticket.priority"}


def test_the_list_says_which_connectors_the_helpdesks_email_carries(browser_admin, support):
    services.create_connector(provider="zendesk", survey="support", secret="a", name="Ours")
    theirs = services.create_connector(
        provider="zendesk", survey="support", secret="b", name="Theirs"
    )
    Connector.objects.filter(pk=theirs.pk).update(channel=Connector.Channel.HELPDESK)
    rows = browser_admin.get("/connectors/").content.decode().split("<tr>")[2:]
    carried = "The helpdesk&#x27;s own email carries the link"
    assert [("Theirs" in row, carried in row) for row in rows] == [(False, False), (True, True)]
