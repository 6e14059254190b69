"""The Content-Security-Policy in a real browser: every page of every role, the designer's live
preview, the dashboard's charts, the mailbox and the API docs work without one blocked script,
style, image or frame."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core.mail import EmailMultiAlternatives, get_connection
from rest_framework.test import APIClient

from access.models import ApiKey
from access.roles import MANAGER, SURVEY_ADMIN
from access.tasks import set_password_link
from branding import services as brand_services
from branding.logos import clean_logo
from connectors import services
from surveys.models import TouchpointUpload

from .dashboard_data import respond
from .factories import admin_user, make_survey, manager_user
from .test_branding import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def site(settings, tmp_path):
    for role in (MANAGER, SURVEY_ADMIN):
        Group.objects.get_or_create(name=role)
    admin_user(username="alex", email="alex@example.com", is_staff=True, is_superuser=True)
    manager_user(username="mia")
    survey = make_survey(slug="shop", csat_target=70)
    for n, score in enumerate((5, 4, 2, 1, 3, 5)):
        respond(survey, score, "Slow delivery" if score < 3 else "", at=f"2026-03-{n + 1:02}T12:00")
    settings.MAILBOX_DIR = tmp_path / "mailbox"
    message = EmailMultiAlternatives(
        "A mail",
        "Hello",
        "shop@example.com",
        ["ana@example.com"],
        connection=get_connection("csat_platform.mailbox.MailboxBackend"),
    )
    message.attach_alternative("<p style='color:#333'>Hello</p>", "text/html")
    message.send()
    _, key = ApiKey.generate(name="browser")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    link = client.post(
        "/api/v1/surveys/shop/invitations/", {"email": "ana@example.com"}, format="json"
    ).json()
    connector = services.create_connector(
        provider="zendesk", survey="shop", secret="z", channel="helpdesk"
    )
    checked = TouchpointUpload.objects.create(
        survey=survey,
        file_name="orders.csv",
        stored_as="uploads/none.csv",
        status="checked",
        rows_new=1,
        preview=[{"line": 2, "type": "purchase", "external_id": "o-1", "attributes": {"a": "b"}}],
        rejected=[[3, "occurred_at: not a time"]],
        rejected_count=1,
    )
    running = TouchpointUpload.objects.create(
        survey=survey, file_name="more.csv", stored_as="uploads/none.csv", status="running"
    )
    uploads = [f"/design/shop/uploads/{u.pk}/" for u in (checked, running)]
    # A brand: the customer's pages load its logo and colours, the emails its logo.
    brand_services.save_brand(
        company_name="Acme Tools",
        sender_name="",
        accent_color="#0b5d3b",
        logo=clean_logo(image_bytes(), max_bytes=10**6),
    )
    invited = manager_user(username="newbie")
    set_password = "/" + set_password_link(invited).split("://", 1)[1].split("/", 1)[1]
    return {
        "survey": survey,
        "link": link["link"],
        "uploads": uploads,
        "set_password": set_password,
        "connector": connector,
    }


def visit(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


def test_no_page_breaks_the_content_security_policy(browser, live_server, site):
    base = live_server.url
    blocked: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.on(
        "console",
        lambda m: blocked.append(f"{page.url}: {m.text}") if "Content Security" in m.text else None,
    )

    log_in(page, base, "alex")
    for path in (
        "/design/",
        "/design/shop/",
        "/design/shop/invitations/",
        "/settings/api-keys/",
        "/settings/colleagues/",
        "/settings/brand/",
        "/design/shop/send/",
        "/design/shop/email/",
        *site["uploads"],
        site["set_password"],
        "/mailbox/",
        "/admin/",
        "/admin/surveys/survey/",
        "/connectors/",
        f"/connectors/{site['connector'].pk}/",
    ):
        visit(page, base + path)
        blocked += [f"{path}: {v}" for v in page.evaluate("window.__csp")]
    # The designer's live preview renders the answer page, styled, inside the designer's policy.
    visit(page, base + "/design/shop/")
    preview = page.frame_locator("#pv-phone")
    preview.locator("legend").first.wait_for()
    assert preview.locator("button[type=submit]").evaluate(
        "b => getComputedStyle(b).borderRadius"
    ) not in ("", "0px")
    # Next to it, the email of the survey: its HTML part in a frame with the email's own policy.
    page.click("button[data-view=email]")
    page.frame_locator("#pv-email-html").locator("text=Acme Tools").first.wait_for()
    blocked += [f"/design/shop/ email: {v}" for v in page.evaluate("window.__csp")]
    # The mailbox shows the email's HTML in its frame.
    visit(page, base + "/mailbox/")
    page.locator("table a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.frame_locator("iframe").locator("p").inner_text() == "Hello"
    # The API docs: Swagger UI from our static files lists the operations.
    visit(page, base + "/api/docs/")
    page.locator(".opblock").first.wait_for(timeout=20000)
    assert page.locator(".opblock").count() > 10
    blocked += [f"/api/docs/: {v}" for v in page.evaluate("window.__csp")]

    manager = browser.new_context(viewport={"width": 1280, "height": 900})
    manager.add_init_script(WATCH)
    mpage = manager.new_page()
    mpage.on(
        "console",
        lambda m: (
            blocked.append(f"{mpage.url}: {m.text}") if "Content Security" in m.text else None
        ),
    )
    log_in(mpage, base, "mia")
    for path in (
        "/dashboard/",
        "/dashboard/shop/?range=custom&start=2026-03-01&end=2026-03-31",
        "/dashboard/shop/comments/?range=custom&start=2026-03-01&end=2026-03-31",
        "/dashboard/shop/responses/?range=custom&start=2026-03-01&end=2026-03-31",
        f"/responses/{site['survey'].responses.order_by('pk').first().pk}/",
        "/followups/",
    ):
        visit(mpage, base + path)
        blocked += [f"{path}: {v}" for v in mpage.evaluate("window.__csp")]
    # Chart.js drew the trend.
    visit(mpage, base + "/dashboard/shop/?range=custom&start=2026-03-01&end=2026-03-31")
    assert mpage.locator("canvas").count() >= 1
    assert mpage.evaluate("!!window.Chart")

    # The customer: the answer page, styled and scripted from static files, then the thanks page.
    customer = browser.new_context(viewport={"width": 390, "height": 844})
    customer.add_init_script(WATCH)
    cpage = customer.new_page()
    cpage.on(
        "console",
        lambda m: (
            blocked.append(f"{cpage.url}: {m.text}") if "Content Security" in m.text else None
        ),
    )
    visit(cpage, site["link"].replace("http://localhost:8000", base) + "?score=4")
    assert cpage.locator("button[type=submit]").evaluate("b => getComputedStyle(b).cursor") == (
        "pointer"
    )
    assert (
        cpage.locator("button[type=submit]").evaluate("b => getComputedStyle(b).backgroundColor")
        == "rgb(11, 93, 59)"
    )  # the brand's theme stylesheet
    assert cpage.locator(".brand img").evaluate("i => i.naturalWidth") > 0
    blocked += [f"answer: {v}" for v in cpage.evaluate("window.__csp")]
    cpage.click("button[type=submit]")
    cpage.wait_for_load_state("networkidle")
    assert re.search(r"[Tt]hank", cpage.content())
    blocked += [f"thanks: {v}" for v in cpage.evaluate("window.__csp")]

    assert blocked == []
