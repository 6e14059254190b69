"""The survey admin's pages run from the browser, in a real browser: an API key made on the page
works against the API at once and stops working when revoked there; a customer invited and a
file of touchpoints uploaded, previewed and imported on a survey; an empty survey refused with
one message, and the draft deleted."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from access.models import ApiKey
from access.roles import MANAGER, SURVEY_ADMIN
from surveys.models import Invitation, Survey, TouchpointEvent

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
    page.click("[data-menu-toggle]")  # on a phone the navigation is behind the menu button
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


@pytest.fixture
def background(transactional_db, tmp_path, settings, smtp_server):
    """A real Celery worker where the services allow (PostgreSQL + Redis); else eager tasks, run
    in the web process when queued."""
    from csat_platform.celery import app as celery_app

    from .celery_processes import CeleryProcesses, on_real_services

    settings.MEDIA_ROOT = tmp_path / "media"
    if on_real_services():
        celery_app.control.purge()
        processes = CeleryProcesses(tmp_path, smtp_server.port)
        processes.worker(concurrency=1, MEDIA_ROOT=str(settings.MEDIA_ROOT))
        yield processes
        processes.stop_all()
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield None
    celery_app.conf.task_always_eager = previous


def test_a_file_uploaded_in_the_browser_is_previewed_and_imported(
    browser, live_server, roles, background, tmp_path
):
    admin_user(username="alex")
    make_survey(slug="shop", languages=("en", "de"))
    at = (timezone.now() - timedelta(minutes=5)).isoformat(timespec="seconds")
    path = tmp_path / "orders.csv"
    lines = ["external_id;occurred_at;customer_email;customer_name;customer_locale"]
    lines += [f"o-{n};{at};c{n}@example.com;Customer {n};de" for n in range(1, 1201)]
    lines += ["o-x;tomorrow;x@example.com;X;de"]
    path.write_text("\n".join(lines) + "\n")
    base = live_server.url
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, base, "alex")
    page.goto(f"{base}/design/")
    page.click("a[href='/design/shop/send/']")

    # One customer now.
    invite = page.locator("form[action$='/send/invite/']")
    invite.locator("input[name=email]").fill("ana@example.com")
    invite.locator("select[name=language]").select_option("de")
    invite.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("ana@example.com is invited")
    assert Invitation.objects.get().locale == "de"

    # The file: previewed as read, with its rejected line, before anything is stored.
    page.set_input_files("input[name=file]", str(path))
    page.click("button:text('Upload and check')")
    expect(page.locator("h2#check-title")).to_be_visible(timeout=60000)
    assert page.locator("table.preview tbody tr").count() == 10
    assert "Customer 1" in page.locator("table.preview").inner_text()
    rejected = page.locator("table.rejected").inner_text()
    assert "1202" in rejected and "occurred_at" in rejected
    assert not TouchpointEvent.objects.exists()

    page.click("button:text('Import 1200 touchpoints')")
    expect(page.locator("h2#result-title")).to_be_visible(timeout=120000)
    assert page.locator("[data-count=created] .n").inner_text() == "1200"
    assert page.locator("[data-count=invited] .n").inner_text() == "1200"
    assert TouchpointEvent.objects.count() == 1200
    assert Invitation.objects.filter(touchpoint__isnull=False).count() == 1200
    page.context.close()


def test_publishing_an_empty_survey_shows_one_message_and_the_draft_is_deleted(
    browser, live_server, roles
):
    admin_user(username="alex")
    base = live_server.url
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(page, base, "alex")
    page.click("button[data-template=blank]")
    page.wait_for_url(f"{base}/design/*/")
    slug = page.url.rstrip("/").rsplit("/", 1)[1]
    page.on("dialog", lambda dialog: dialog.accept())
    page.wait_for_load_state("networkidle")  # the live preview's first render is done
    page.click("#btn-publish")
    page.locator("#errors li").first.wait_for()
    items = page.locator("#errors li").all_inner_texts()
    assert len(items) == 1 and "add at least one rating" in items[0]

    page.goto(f"{base}/design/")
    page.click(f"a[href='/design/{slug}/delete/']")
    page.click("button:text('Delete draft')")
    page.wait_for_url(f"{base}/design/")
    assert "is deleted" in page.locator(".messages").inner_text()
    assert not Survey.objects.filter(slug=slug).exists()
    page.context.close()


def test_an_invited_colleague_sets_a_password_and_lands_on_their_home(
    browser, live_server, roles, smtp_server
):
    from csat_platform.celery import app as celery_app

    admin_user(username="alex", first_name="Alex")
    base = live_server.url
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the mail task runs in the web process
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, base, "alex")
        page.click("nav >> text=Colleagues")
        page.fill("input[name=email]", "mia@example.com")
        page.fill("input[name=name]", "Mia Berg")
        page.check("input[name=role][value=Manager]")
        page.click("button:text('Invite')")
        expect(page.locator(".messages")).to_contain_text("mia@example.com is invited")
        [received] = smtp_server.wait_for(1)
    finally:
        celery_app.conf.task_always_eager = previous
    assert received["to"] == ["mia@example.com"]
    html = received["message"].get_body(("html",)).get_content()
    link = re.search(r'href="(http[^"]+/accounts/set-password/[^"]+)"', html).group(1)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    # Mia, in her own browser, on a phone: a too short password is refused on the page.
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(base + path)
    phone.fill("input[name=new_password1]", "short")
    phone.fill("input[name=new_password2]", "short")
    phone.click("button[type=submit]")
    expect(phone.locator(".field-error").first).to_contain_text("too short")
    phone.fill("input[name=new_password1]", "Lantern-Quiet-93")
    phone.fill("input[name=new_password2]", "Lantern-Quiet-93")
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{base}/dashboard/")
    assert "mia@example.com" in phone.locator(".topbar .user").text_content()
    # The link worked once.
    phone.goto(base + path)
    expect(phone.locator(".form-error")).to_contain_text("used already or has expired")

    # The admin cannot demote themselves, the last survey admin: told on the page.
    page.goto(f"{base}/settings/colleagues/")
    row = page.locator("tr[data-user=alex]")
    row.locator("select[name=role]").select_option("Manager")
    row.locator("button:text('Change')").click()
    expect(page.locator(".notice-error")).to_contain_text("last survey admin")
    page.context.close()
    phone.context.close()


def test_the_desktop_preview_is_readable(browser, live_server, roles):
    admin_user(username="alex")
    make_survey(slug="shop")
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    log_in(page, live_server.url, "alex")
    page.goto(f"{live_server.url}/design/shop/")
    page.wait_for_load_state("networkidle")
    page.click("[data-device=desktop]")
    scale = page.evaluate(
        "() => new DOMMatrix(getComputedStyle(document.getElementById('pv-desktop')).transform).a"
    )
    assert scale >= 0.55  # it was 0.36: 11 px text for 15 px
    page.context.close()
