"""The survey admin's settings pages in a real browser: an API key made on the page works
against the API at once, and stops working when revoked there."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from access.models import ApiKey
from access.roles import MANAGER, SURVEY_ADMIN

from .factories import admin_user, make_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, username: str, password: str = "pw") -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def api_get(base: str, path: str, key: str) -> int:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            json.load(reply)
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


def api_post(base: str, path: str, key: str, body: dict) -> int:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def roles(db):
    for role in (MANAGER, SURVEY_ADMIN):  # an earlier transactional test may have flushed them
        Group.objects.get_or_create(name=role)


def test_a_key_made_in_the_browser_works_against_the_api(browser, live_server, roles):
    admin_user(username="alex")
    make_survey(slug="shop")
    base = live_server.url
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, base, "alex")
    page.click("nav >> text=API keys")
    page.fill("input[name=name]", "bi-tool")
    page.check("input[name=scope][value=reports]")
    page.click("button:text('Create key')")
    secret = page.input_value("[data-secret]")
    assert secret.startswith("csat_")
    page.click("button[data-copy]")
    expect(page.locator("button[data-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret

    assert api_get(base, "/api/v1/surveys/", secret) == 200
    assert api_get(base, "/api/v1/reports/csat/?survey=shop", secret) == 200
    assert api_post(base, "/api/v1/surveys/shop/publish/", secret, {}) == 403
    key = ApiKey.objects.get(name="bi-tool")
    assert key.scope == "reports" and key.last_used_at is not None

    # The list shows it with its prefix and creator, never the secret again.
    page.goto(f"{base}/settings/api-keys/")
    row = page.locator("tr[data-key=bi-tool]")
    assert key.prefix in row.inner_text() and "alex" in row.inner_text()
    assert secret not in page.content()
    row.locator("button:text('Revoke')").click()
    page.wait_for_load_state()
    assert "revoked" in page.locator("tr[data-key=bi-tool]").inner_text().lower()
    assert api_get(base, "/api/v1/surveys/", secret) == 401
    context.close()
