"""Accessibility in a real browser: axe-core (WCAG 2.1 A and AA rules) on every page each role can
reach from its home, at a phone's width and a desktop's, and on the customer's pages.

Pages are found by following links, so a new page is checked as soon as something links to it.
Django's own admin, the API docs (Swagger UI) and the development mailbox are not ours to fix
and are left out."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from access.models import ApiKey
from access.roles import MANAGER, SURVEY_ADMIN
from branding import services as brand_services
from branding.logos import clean_logo
from branding.models import Brand
from branding.selectors import forget_brand

from .test_branding import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (390, 1280)
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
NOT_OURS = re.compile(r"^/(admin|api|mailbox|static|accounts/logout)(/|$)")
DOWNLOADS = re.compile(r"\.(csv|xlsx|json)$|/export/")
MOST_PAGES = 60  # per role: the crawl's bound; a page per path, whatever its query
PER_SHAPE = 2  # pages per path shape (/followups/<n>/ is one template whatever n)

RUN = """async (rules) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: rules}});
  return result.violations.map(v => ({
    id: v.id,
    help: v.help,
    count: v.nodes.length,
    where: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def violations(page) -> list[str]:
    """axe's WCAG 2.1 A/AA violations on the page as it is now, one line per rule."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN, RULES)
    return [f"{v['id']} ({v['count']}×, e.g. {v['where']}): {v['help']}" for v in found]


def links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    found = []
    for href in hrefs:
        url, _ = urldefrag(href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        if NOT_OURS.match(parts.path) or DOWNLOADS.search(parts.path):
            continue
        found.append(url)
    return found


def shape(path: str) -> str:
    return re.sub(r"/\d+(?=/)", "/<n>", path)


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def audit_role(browser, base: str, username: str, password: str) -> tuple[list[str], list[str]]:
    """Crawl from the role's home at each width; returns (paths seen, violations)."""
    problems: list[str] = []
    seen_paths: list[str] = []
    for width in WIDTHS:
        # axe is injected as a script of its own: the test's, not the page's, so the page's
        # Content-Security-Policy (checked by tests/test_csp_browser.py) is bypassed here.
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        log_in(page, base, username, password)
        queue = deque([page.url])
        paths: set[str] = set()
        shapes: dict[str, int] = {}
        while queue and len(paths) < MOST_PAGES:
            url = queue.popleft()
            path = urlsplit(url).path
            if path in paths or shapes.get(shape(path), 0) >= PER_SHAPE:
                continue
            paths.add(path)
            shapes[shape(path)] = shapes.get(shape(path), 0) + 1
            answer = page.goto(url)
            if answer is None or answer.status != 200:
                continue
            page.wait_for_load_state("networkidle")
            problems += [f"{width}px {path}: {v}" for v in violations(page)]
            queue.extend(links(page, base))
        context.close()
        seen_paths = sorted(paths)
    return seen_paths, problems


@pytest.fixture
def demo(live_server):
    # A transactional test before this one may have flushed the groups the migration made.
    for role in (MANAGER, SURVEY_ADMIN):
        Group.objects.get_or_create(name=role)
    call_command("seed_demo", days=8, per_day=10, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return live_server.url


def test_every_page_of_every_role_passes_wcag_2_1_aa(browser, demo):
    problems: list[str] = []
    admin_paths, found = audit_role(browser, demo, "admin", "demo-admin")
    problems += found
    manager_paths, found = audit_role(browser, demo, "manager", "demo-manager")
    problems += found
    # The crawl reached each role's pages (a broken login would audit the login page alone).
    assert {"/design/", "/dashboard/", "/followups/", "/settings/brand/"} <= set(admin_paths)
    assert any(p.startswith("/design/") and p.endswith("/invitations/") for p in admin_paths)
    assert any(p.startswith("/dashboard/") and p.count("/") >= 3 for p in manager_paths)
    assert any(re.match(r"^/followups/\d+/$", p) for p in manager_paths)
    assert any(re.match(r"^/dashboard/[\w-]+/responses/$", p) for p in manager_paths)
    assert any(re.match(r"^/responses/\d+/$", p) for p in manager_paths)
    assert problems == []


def test_the_customers_pages_pass_wcag_2_1_aa(browser, demo):
    _, key = ApiKey.generate(name="a11y")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    links = [
        client.post(
            "/api/v1/surveys/purchase/invitations/",
            {"email": f"ana{n}@example.com", "locale": "en"},
            format="json",
        ).json()["link"]
        for n in range(4)
    ]
    origin = "http://localhost:8000"
    problems: list[str] = []
    Brand.objects.all().delete()  # the demo's own brand: first the pages without one
    forget_brand()
    # Without a brand, then with one: a logo, a name and the lightest accent colour accepted.
    for index, width in enumerate(WIDTHS * 2):
        if index == len(WIDTHS):
            brand_services.save_brand(
                company_name="Acme Tools",
                sender_name="",
                accent_color="#767676",
                logo=clean_logo(image_bytes(), max_bytes=10**6),
            )
        page = browser.new_context(
            viewport={"width": width, "height": 844}, bypass_csp=True
        ).new_page()
        link = links[index].replace(origin, demo)
        page.goto(link)
        assert page.locator(".brand-name").count() == (index >= len(WIDTHS))
        problems += [f"{width}px answer: {v}" for v in violations(page)]
        page.locator("fieldset input[type=radio]").first.check(force=True)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        problems += [f"{width}px thanks: {v}" for v in violations(page)]
        page.goto(link)
        problems += [f"{width}px already answered: {v}" for v in violations(page)]
        unsubscribe = page.locator("a[href*='unsubscribe']")
        if unsubscribe.count():
            page.goto(unsubscribe.first.get_attribute("href"))
            problems += [f"{width}px unsubscribe: {v}" for v in violations(page)]
    assert problems == []
