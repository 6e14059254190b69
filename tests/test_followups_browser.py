"""Closing the loop in a real browser: an unhappy answer reaches its owner; a manager resolves it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group

from access.roles import MANAGER, SURVEY_ADMIN
from followups.models import FollowUp, FollowUpSettings, RoutingRule, Webhook
from reports.tasks import refresh_rollups

from .factories import invite, make_survey, manager_user
from .followups_support import eager_celery, webhook_receiver  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_unhappy_customer_is_followed_up_and_resolved(
    browser,
    live_server,
    smtp_server,
    webhook_receiver,  # noqa: F811
    eager_celery,  # noqa: F811
    tmp_path,
):
    for role in (MANAGER, SURVEY_ADMIN):  # an earlier transactional test may have flushed them
        Group.objects.get_or_create(name=role)
    survey = make_survey(slug="shop")
    owner = manager_user(username="olga", email="olga@example.com", first_name="Olga")
    other = manager_user(username="fallback", email="fallback@example.com")
    config = FollowUpSettings.objects.create(survey=survey, default_owner=other, sla_hours=24)
    RoutingRule.objects.create(settings=config, attribute="team", value="billing", owner=owner)
    hook = Webhook.objects.create(
        name="helpdesk", url=webhook_receiver.url, events=["followup.opened"]
    )
    webhook_receiver.secret = hook.secret
    _, token = invite(
        survey=survey,
        email="ana@example.com",
        name="Ana Lima",
        attributes={"team": "billing", "order": "A-1042", "agent": "emma"},
    )
    base = live_server.url

    # The customer, on a phone, picks the worst point from the email's link and complains.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    customer = phone.new_page()
    customer.goto(f"{base}/s/{token}/?score=1")
    customer.fill("textarea[name=comment]", "I was charged twice for order A-1042.")
    customer.click("button[type=submit]")
    customer.wait_for_url(re.compile(r"/thanks/"))

    # The owner the routing picked is mailed through a real SMTP server, and the webhook arrives signed.
    [mail] = smtp_server.wait_for(1)
    assert mail["to"] == ["olga@example.com"]
    text = mail["message"].get_body(("plain",)).get_content()
    assert "I was charged twice" in text and "A-1042" in text
    link = re.search(r"https?://\S+/followups/(\d+)/", text)
    assert link
    [request] = webhook_receiver.wait_for(1)
    assert request["verified"]
    assert request["json"]["data"]["customer"]["email"] == "ana@example.com"
    follow_up = FollowUp.objects.get()
    assert follow_up.assignee == owner and int(link.group(1)) == follow_up.pk

    # The manager logs in, finds it in the queue and resolves it.
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/accounts/login/?next=/followups/")
    page.fill("input[name=username]", "olga")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/followups/$"))
    row = page.locator(f"tr[data-id='{follow_up.pk}']")
    assert "Ana Lima" in row.inner_text() and "charged twice" in row.inner_text()
    page.screenshot(path=str(tmp_path / "queue-1280.png"), full_page=True)
    row.locator("a.row-link").click()
    page.wait_for_url(re.compile(rf"/followups/{follow_up.pk}/$"))
    assert "A-1042" in page.inner_text("main, .page")
    page.select_option("select[name=outcome]", "reached")
    page.fill("form[action$='/contacted/'] textarea[name=text]", "Refunded the second charge.")
    page.click("form[action$='/contacted/'] button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#status-badge") == "IN PROGRESS"
    page.fill("form[action$='/status/'] input[name=text]", "Refund confirmed by the bank.")
    page.click("#resolve")
    page.wait_for_load_state()
    assert page.inner_text("#status-badge") == "RESOLVED"
    assert "Refund confirmed by the bank." in page.inner_text("#timeline")
    page.screenshot(path=str(tmp_path / "detail-1280.png"), full_page=True)
    follow_up.refresh_from_db()
    assert follow_up.status == "resolved" and follow_up.first_contact_at is not None

    # The queue's header shows the time to resolve.
    page.goto(f"{base}/followups/?status=")
    assert re.fullmatch(r"\d+ min", page.inner_text("#ttr-median"))
    assert "n = 1" in page.inner_text("#loop-times")

    # So does the survey's dashboard, next to CSAT (rollups folded in as beat does each minute).
    refresh_rollups.apply()
    page.goto(f"{base}/dashboard/shop/")
    assert page.inner_text("[data-card=csat] [data-value]") == "0.0 %"
    assert page.inner_text("[data-card=n] [data-value]") == "1"
    loop = page.locator("[data-panel=loop]")
    resolve = loop.locator("[data-loop=time_to_resolve]")
    assert re.fullmatch(r"\d+ min", resolve.locator("[data-value]").inner_text())
    assert "n = 1" in resolve.inner_text()
    assert "1 follow-up opened in this period" in loop.inner_text()
    assert loop.locator("[data-loop=unresolved] [data-value]").inner_text() == "0"
    page.screenshot(path=str(tmp_path / "dashboard-1280.png"), full_page=True)
    assert errors == []

    small = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    mobile = small.new_page()
    mobile.goto(f"{base}/accounts/login/?next=/followups/%3Fstatus%3D")
    mobile.fill("input[name=username]", "olga")
    mobile.fill("input[name=password]", "pw")
    mobile.click("button[type=submit]")
    mobile.wait_for_load_state()
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the queue scrolls sideways on a phone ({width}px)"
    mobile.screenshot(path=str(tmp_path / "queue-390.png"), full_page=True)
    for context in (phone, desk, small):
        context.close()
