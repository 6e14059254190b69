"""On a phone (390 px) in a real browser: every item of the main navigation is reachable through
the menu button (keyboard too), and a wide table shows that it scrolls, inside a region a
keyboard can reach, while the page itself never scrolls sideways."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from access.roles import MANAGER, SURVEY_ADMIN

from .factories import admin_user, make_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site():
    for role in (MANAGER, SURVEY_ADMIN):
        Group.objects.get_or_create(name=role)
    admin_user(username="alex")
    for i in range(3):
        make_survey(slug=f"survey-{i}", name=f"A survey with a rather long name {i}")


def test_the_navigation_and_wide_tables_on_a_phone(browser, live_server, site):
    base = live_server.url
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "alex")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{base}/design/")

    button = page.locator("[data-menu-toggle]")
    links = page.locator("#main-nav a")
    names = [
        "Surveys",
        "Dashboard",
        "Follow-ups",
        "Connectors",
        "Mailbox",
        "Colleagues",
        "Brand",
        "API keys",
    ]
    assert [link.inner_text() for link in links.all()] == names
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not links.first.is_visible()

    # By keyboard: the button is the first stop after the logo; Enter opens the menu.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.hasAttribute('data-menu-toggle')")
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    for link in links.all():
        box = link.bounding_box()
        assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.keyboard.press("Tab")  # the menu's links follow the button
    assert page.evaluate("document.activeElement.textContent") == "Surveys"
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false" and not links.first.is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-menu-toggle')")
    # A tap opens it; a link leads on.
    button.click()
    page.locator("#main-nav a", has_text="Follow-ups").click()
    page.wait_for_url(f"{base}/followups/")

    # The surveys table is wider than the phone: it scrolls inside its own region.
    page.goto(f"{base}/design/")
    region = page.locator(".table-scroll").first
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")
    assert "radial-gradient" in region.evaluate("e => getComputedStyle(e).backgroundImage")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    region.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert region.evaluate("e => e.scrollLeft") > 0

    # On a desktop the links stand in the bar and the button is gone.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not button.is_visible() and links.first.is_visible()
    assert errors == []
    context.close()
