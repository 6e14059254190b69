"""The helpdesk link in a real browser: the connector page's link section on a phone and a
desktop (no overflow, the copy buttons work), and a signed link leading to the answer page with
its score chosen. (The accessibility crawl's demo has no connector: axe runs here.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from access.roles import MANAGER, SURVEY_ADMIN
from connectors import links, services

from .factories import admin_user, make_survey
from .test_accessibility_browser import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("CSAT_VAR_DIR", "/tmp")) / "screenshots"


@pytest.fixture
def connector():
    for role in (MANAGER, SURVEY_ADMIN):
        Group.objects.get_or_create(name=role)
    admin_user(username="alex")
    make_survey(slug="support", touchpoint="support_contact", name="Support survey")
    return services.create_connector(
        provider="zendesk", survey="support", secret="zd_secret", channel="helpdesk"
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_the_link_section_fits_and_copies(browser, live_server, connector, width):
    # axe is injected inline: CSP is bypassed here; test_csp_browser checks this page with it.
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alex")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/connectors/{connector.pk}/")
    section = page.locator("[data-links]")
    assert section.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    template = page.locator("#link-placeholder").input_value()
    assert template == links.templates(connector)["placeholder"]
    assert "&amp;score=1" in page.locator("#link-rating").input_value()
    copy = section.locator("button[data-copy=link-placeholder]")
    assert copy.is_visible()
    copy.click()
    expect(copy).to_have_text("Copied")  # set once the (async) clipboard write returns
    SHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SHOTS / f"connector-links-{width}.png"))
    page.screenshot(path=str(SHOTS / f"connector-page-{width}.png"), full_page=True)
    assert errors == []
    assert violations(page) == []  # the crawl's axe rules (WCAG 2.1 A/AA) on this page too
    context.close()


def test_a_signed_link_opens_the_answer_page_with_its_score(browser, live_server, connector):
    url = links.signed_link(connector, "4711", "cy@example.com").split("/rate/")[1]
    page = browser.new_page()
    page.goto(f"{live_server.url}/rate/{url}&score=4")
    assert "/s/" in page.url
    assert page.locator("input[type=radio][value='4']").first.is_checked()
    page.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_delivery_page_says_delivered_by_the_helpdesk(browser, live_server, connector, width):
    url = links.signed_link(connector, "4711", "cy@example.com").split("/rate/")[1]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/rate/{url}")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alex")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/design/support/invitations/?state=clicked")
    note = page.locator("[data-channel=helpdesk]")
    expect(note).to_have_text("Delivered by the helpdesk")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(parents=True, exist_ok=True)
    note.screenshot(path=str(SHOTS / f"delivery-helpdesk-{width}.png"))
    page.screenshot(path=str(SHOTS / f"delivery-page-{width}.png"), full_page=True)
    context.close()
