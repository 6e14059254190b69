"""The brand in a real browser: an admin sets it on its page, the designer's preview shows the
page and the email (subject, From, HTML, text) of the unsaved survey, and no policy blocks a thing."""

from __future__ import annotations

import pytest

from branding.models import Brand

from .factories import admin_user, make_survey
from .test_branding import image_bytes
from .test_csp_browser import WATCH, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_brands_the_site_and_previews_the_email_of_unsaved_edits(
    browser, live_server, tmp_path
):
    admin_user(username="alex")
    make_survey(slug="shop", languages=("en", "de"))
    logo = tmp_path / "logo.png"
    logo.write_bytes(image_bytes(size=(300, 100)))
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    log_in(page, base, "alex")

    page.goto(f"{base}/settings/brand/")
    page.fill("input[name=company_name]", "Acme Tools")
    page.locator("input[name=accent_color]").fill("#0b5d3b")
    page.set_input_files("input[name=logo]", str(logo))
    page.click("button:has-text('Save brand')")
    page.wait_for_load_state("networkidle")
    brand = Brand.objects.get()
    assert brand.company_name == "Acme Tools" and brand.accent_color == "#0b5d3b"
    assert page.locator("img.brand-logo").evaluate("i => i.naturalWidth") == 300
    problems += page.evaluate("window.__csp")

    page.goto(f"{base}/design/shop/")
    # The page preview: the answer page with the logo, the name and the accent colour.
    preview = page.frame_locator("#pv-phone")
    preview.locator(".brand-name").wait_for()
    assert preview.locator(".brand img").evaluate("i => i.naturalWidth") == 300
    assert (
        preview.locator("button[type=submit]").evaluate("b => getComputedStyle(b).backgroundColor")
        == "rgb(11, 93, 59)"
    )

    # The email, switched to next to the page preview, follows an edit that is not saved.
    page.click("button[data-view=email]")
    assert page.locator("#pv-page").is_hidden() and page.locator("#pv-email").is_visible()
    page.fill("#f-subject", "Your order {reference}, unsaved")
    page.wait_for_function(
        "() => document.getElementById('em-subject').textContent === 'Your order A-1042, unsaved'"
    )
    assert page.locator("#em-from").inner_text() == '"Acme Tools" <surveys@localhost>'
    mail = page.frame_locator("#pv-email-html")
    mail.locator("text=Acme Tools").first.wait_for()
    assert "/brand/logo-" in mail.locator("img").first.get_attribute("src")
    # Styled as a mail client shows it: the inline styles of the email are not blocked.
    assert (
        mail.locator("a:has-text('Open the survey')").evaluate(
            "a => getComputedStyle(a).backgroundColor"
        )
        == "rgb(11, 93, 59)"
    )
    # The reminder of the same survey.
    page.check("#em-reminder")
    page.wait_for_function(
        "() => document.getElementById('em-subject').textContent.startsWith('Reminder:')"
    )
    page.uncheck("#em-reminder")
    page.wait_for_function(
        "() => document.getElementById('em-subject').textContent === 'Your order A-1042, unsaved'"
    )
    page.click("summary:has-text('Plain text')")
    assert "Acme Tools" in page.locator("#em-text").inner_text()

    # Another language of the survey: the German email.
    page.locator(".lang-tabs button", has_text="Deutsch").first.click()
    page.wait_for_function(
        "() => document.getElementById('em-text').textContent.includes('Ana Example')"
        " && document.getElementById('em-text').textContent.includes('Guten Tag')"
    )
    page.click("button[data-view=page]")
    assert page.locator("#pv-page").is_visible() and page.locator("#pv-email").is_hidden()
    problems += page.evaluate("window.__csp")
    assert problems == []
