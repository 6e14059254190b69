"""From a provider's webhook to an email that really leaves: a real Celery worker and beat on
Redis, a real SMTP server, one test per family (a shop: Shopify; a helpdesk: Zendesk).

Runs in CI (PostgreSQL + Redis); skipped on SQLite without a broker."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.utils import timezone

from connectors import links, services
from csat_platform.celery import app as celery_app
from surveys.models import Invitation

from . import connector_payloads as p
from .celery_processes import CeleryProcesses, require_real_services, wait_until
from .factories import make_survey

pytestmark = pytest.mark.slow


@pytest.fixture
def celery(transactional_db, tmp_path, smtp_server):
    require_real_services()
    celery_app.control.purge()
    processes = CeleryProcesses(tmp_path, smtp_server.port)
    yield processes
    processes.stop_all()


def deliver_and_wait(celery, smtp_server, connector, body: bytes, headers: dict, email: str):
    response = Client().post(
        f"/hooks/{connector.public_id}/", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200 and response.json()["outcome"] == "accepted"
    # The provider retries: the same delivery again sends nothing twice.
    again = Client().post(
        f"/hooks/{connector.public_id}/", body, content_type="application/json", headers=headers
    )
    assert again.json()["outcome"] == "duplicate"
    celery.beat()
    celery.worker()
    [received] = smtp_server.wait_for(1, timeout=40)
    assert received["to"] == [email]
    wait_until(
        lambda: Invitation.objects.filter(status=Invitation.Status.SENT).count() == 1,
        timeout=20,
        processes=celery,
        what="the invitation marked sent",
    )
    assert Invitation.objects.count() == 1
    return received, Invitation.objects.get()


def test_a_shopify_order_fulfilled_sends_the_survey_email(celery, smtp_server):
    make_survey(slug="shop", touchpoint="purchase")
    connector = services.create_connector(provider="shopify", survey="shop", secret="shpss_e2e")
    body = p.dumps(p.shopify_order())
    received, invitation = deliver_and_wait(
        celery,
        smtp_server,
        connector,
        body,
        p.shopify_headers("shpss_e2e", body),
        "jon@example.com",
    )
    assert invitation.attributes["shop"] == "example.myshopify.com"
    assert invitation.attributes["order"] == "#9999"
    html = received["message"].get_body(preferencelist=("html",)).get_content()
    assert "/s/" in html


def test_a_zendesk_ticket_solved_sends_the_survey_email(celery, smtp_server):
    make_survey(slug="support", touchpoint="support_contact")
    connector = services.create_connector(provider="zendesk", survey="support", secret="zd_e2e")
    body = p.dumps(p.zendesk_ticket())
    _, invitation = deliver_and_wait(
        celery,
        smtp_server,
        connector,
        body,
        p.zendesk_headers("zd_e2e", body),
        "cy@example.com",
    )
    assert invitation.attributes["agent"] == "Olga"
    assert invitation.attributes["group"] == "Billing"


def test_link_mode_invitations_are_never_mailed_nor_reminded(celery, smtp_server):
    """A helpdesk connector whose own email carries the link: the worker mails only the shop's
    survey (the proof it runs), never the helpdesk's invitations, even with a reminder due."""
    make_survey(slug="shop", touchpoint="purchase")
    make_survey(slug="support", touchpoint="support_contact")
    shop = services.create_connector(provider="shopify", survey="shop", secret="shpss_e2e")
    desk = services.create_connector(
        provider="zendesk", survey="support", secret="zd_e2e", channel="helpdesk"
    )
    body = p.dumps(p.zendesk_ticket())
    solved = Client().post(
        f"/hooks/{desk.public_id}/",
        body,
        content_type="application/json",
        headers=p.zendesk_headers("zd_e2e", body),
    )
    assert solved.json()["outcome"] == "accepted"
    signed = links.signed_link(desk, "777", "gus@example.com").split("/rate/")[1]
    assert Client().get(f"/rate/{signed}").status_code == 303
    helpdesk = Invitation.objects.filter(channel=Invitation.Channel.HELPDESK)
    assert helpdesk.count() == 2
    helpdesk.update(reminder_due_at=timezone.now())  # were one ever due, it is passed by
    order = p.dumps(p.shopify_order())
    Client().post(
        f"/hooks/{shop.public_id}/",
        order,
        content_type="application/json",
        headers=p.shopify_headers("shpss_e2e", order),
    )
    celery.beat()
    celery.worker()
    [received] = smtp_server.wait_for(1, timeout=40)
    assert received["to"] == ["jon@example.com"]
    wait_until(
        lambda: Invitation.objects.filter(channel="email", status="sent").count() == 1,
        timeout=20,
        processes=celery,
        what="the shop's invitation marked sent",
    )
    time.sleep(3)  # a few more beats: still nothing for the helpdesk's customers
    assert len(smtp_server.messages) == 1
    assert not helpdesk.exclude(message_id="").exists()
    assert not helpdesk.filter(reminder_sent_at__isnull=False).exists()
