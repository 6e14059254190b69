"""A stalled import's page in a real browser, on a phone and a desktop: it says the import has
stalled, offers the Resume button, passes axe's WCAG 2.1 AA rules, fits the width, and the
button resumes the import (the page then shows it waiting for a worker)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from surveys.models import TouchpointUpload

from .factories import admin_user, make_survey
from .test_accessibility_browser import log_in, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("CSAT_SCREENSHOTS")  # a directory: keep the pages' screenshots there


def stalled_upload() -> TouchpointUpload:
    survey = make_survey(slug="shop")
    now = timezone.now()
    return TouchpointUpload.objects.create(
        survey=survey,
        file_name="orders-march.csv",
        stored_as="uploads/orders.csv",
        size=412_000,
        status="running",
        lines_total=8_001,
        lines_done=3_001,
        created=3_000,
        invited=2_950,
        started_at=now - timedelta(minutes=40),
        heartbeat_at=now - timedelta(minutes=31),
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_a_stalled_import_s_page_offers_resume_on_a_phone_and_a_desktop(
    browser, live_server, width, monkeypatch
):
    from surveys import send_page

    monkeypatch.setattr(send_page.run_touchpoint_upload, "delay", lambda pk: None)
    upload = stalled_upload()
    admin_user(username="alex", password="a-long-test-password")
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    log_in(page, live_server.url, "alex", "a-long-test-password")
    page.goto(f"{live_server.url}/design/shop/uploads/{upload.pk}/")
    assert page.locator("h2", has_text="The import has stalled").is_visible()
    button = page.get_by_role("button", name="Resume the import")
    assert button.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert violations(page) == []
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/upload-stalled-{width}.png", full_page=True)
    button.click()
    page.wait_for_load_state()
    assert page.locator("h2", has_text="Waiting for a worker").is_visible()
    upload.refresh_from_db()
    assert (upload.status, upload.attempt) == ("queued", 1)
    context.close()
