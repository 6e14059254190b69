"""Every question and every response in a real browser: a manager picks a question on the survey
dashboard (the cards, charts and table follow, and equal the report API's), then goes from a
comment to its response and through the responses list, on a desktop and on a phone."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import quote, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from access.roles import MANAGER, SURVEY_ADMIN
from reports import rollups

from .dashboard_data import answer_all
from .factories import make_survey, manager_user
from .test_questions import QUESTIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def support():
    for role in (MANAGER, SURVEY_ADMIN):  # an earlier transactional test may have flushed them
        Group.objects.get_or_create(name=role)
    manager_user(username="mia")
    survey = make_survey(
        slug="support", name="Support", questions=QUESTIONS, languages=("en", "de")
    )
    today = timezone.localdate()
    for i in range(70):
        day = today - timedelta(days=1 + i % 25)
        at = datetime.combine(day, time(9 + i % 8), tzinfo=timezone.get_default_timezone())
        answer_all(
            survey,
            {"speed": 5 if i % 4 else 2, "friendly": 1 + i % 5, "recommend": i % 11, "effort": 6},
            f"Comment number {i}" if i % 2 == 0 else "",
            at=at.isoformat(),
        )
    rollups.rebuild()
    return survey


def log_in(page, base: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={quote(next_url, safe='/')}")
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_url.split("?")[0])))


def api_report(page, base: str) -> dict:
    query = urlsplit(page.url).query
    reply = page.request.get(f"{base}/api/v1/reports/csat/?survey=support&{query}")
    assert reply.status == 200, reply.text()
    return reply.json()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_picks_a_question_and_opens_its_responses(browser, live_server, support, width):
    base = live_server.url
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "/dashboard/support/")
    assert page.inner_text("[data-question-text]") == "How fast?"
    if width < 600:  # on a phone the controls fold behind their button
        page.click("[data-toggle-controls]")
        assert page.get_attribute("[data-toggle-controls]", "aria-expanded") == "true"

    # The picker applies at once and the URL keeps it.
    page.select_option("select[name=question]", "friendly")
    page.wait_for_url(re.compile(r"question=friendly"))
    report = api_report(page, base)
    assert report["question"]["key"] == "friendly"
    assert page.inner_text("[data-question-text]") == "How friendly was the agent?"
    assert page.inner_text("[data-card=csat] [data-value]") == f"{report['csat']:.1f} %"
    assert page.inner_text("[data-card=n] [data-value]") == str(report["n"])
    distribution = page.locator("[data-panel=distribution] tbody tr").count()
    assert distribution == 5
    # Every question's row, the picked one marked; its figures are the API's.
    row = page.locator("[data-questions] tr[aria-current]")
    assert row.get_attribute("data-question") == "friendly"
    assert row.locator("[data-headline]").inner_text() == f"{report['csat']:.1f} %"
    assert row.locator("[data-n]").inner_text().split()[0] == str(report["n"])
    # A row of the table picks its question.
    page.locator("[data-questions] tr[data-question=recommend] a").click()
    page.wait_for_url(re.compile(r"question=recommend"))
    assert page.inner_text("[data-question-text]") == "Would you recommend us?"
    assert page.locator("[data-questions] tr[aria-current]").get_attribute("data-question") == (
        "recommend"
    )

    # From a latest comment to its response.
    page.locator("[data-panel=comments] a[data-response-link]").first.click()
    page.wait_for_url(re.compile(r"/responses/\d+/$"))
    assert page.locator("[data-panel=answers] dd").count() >= 4
    assert page.locator("[data-answer=comment]").inner_text().startswith("Comment number")

    # The responses list: newest first, keyset pages, the dashboard's question.
    page.click("p.crumbs a:has-text('Responses')")
    page.wait_for_url(re.compile(r"/dashboard/support/responses/"))
    first = page.locator("[data-responses] tbody tr").count()
    assert first == 50
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"before=\d+"))
    assert page.locator("[data-responses] tbody tr").count() == 20
    page.click("a[rel=prev]")
    page.wait_for_url(re.compile(r"after=\d+"))
    assert page.locator("[data-responses] tbody tr").count() == 50
    # A search that matches no customer says so.
    page.fill("input[name=q]", "nobody@example.com")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=nobody"))
    assert "No responses match" in page.inner_text("[data-responses]")
    # The wide table scrolls inside its region, never the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert errors == []
    context.close()
