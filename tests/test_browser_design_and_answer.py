"""The loop of the foundation in a real browser: design, publish, invite, answer; roles hold."""

import re

import pytest
from django.core import mail

from csat_platform.celery import app as celery_app
from surveys.models import Answer, Response, Survey

from .factories import admin_user, invite, manager_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_tasks():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_admin_designs_publishes_and_a_customer_answers_on_a_phone(
    browser, live_server, eager_tasks, tmp_path
):
    admin_user(username="alex", email="alex@example.com")
    manager_user(username="mia")
    base = live_server.url

    admin = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = admin.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "alex")
    assert page.url.endswith("/design/")
    page.click("button[data-template=csat-purchase]")
    page.wait_for_url(re.compile(r"/design/[\w-]+/$"))
    slug = page.url.rstrip("/").rsplit("/", 1)[1]

    # The live preview is the answer page itself, in a phone frame.
    preview = page.frame_locator("#pv-phone")
    preview.locator("legend").first.wait_for()
    assert (
        "How satisfied are you with your purchase?" in preview.locator("legend").first.inner_text()
    )

    # Editing the question text updates the preview.
    page.locator(".q input[aria-label='Question 1 text']").fill(
        "How happy are you with your order?"
    )
    page.wait_for_function(
        "() => document.getElementById('pv-phone').srcdoc.includes('How happy are you with your order?')"
    )
    page.click("#btn-save")
    page.wait_for_function(
        "() => document.getElementById('save-state').textContent === 'All changes saved'"
    )

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#btn-publish")
    page.wait_for_function("() => document.getElementById('head-status').textContent === 'Active'")
    survey = Survey.objects.get(slug=slug)
    assert survey.status == "active" and survey.questions.filter(frozen=True).count() == 2
    page.screenshot(path=str(tmp_path / "designer.png"))

    page.click("#btn-test")
    link = page.locator("#test-link")
    link.wait_for()
    url = link.get_attribute("href")
    assert "/s/" in url
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alex@example.com"]
    assert errors == []

    # The customer, on a phone.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    customer = phone.new_page()
    customer.goto(url.replace("http://localhost:8000", base) + "?score=4")
    assert customer.locator("input[name=satisfaction][value='4']").is_checked()
    assert Response.objects.count() == 0  # opening the link records nothing
    customer.locator("label.point", has_text="Very satisfied").click()
    customer.fill("textarea[name=comment]", "Arrived a day early <b>thanks</b>")
    customer.click("button[type=submit]")
    customer.wait_for_url(re.compile(r"/thanks/(\?lang=\w+)?$"))
    assert "Thank you" in customer.inner_text("h1")
    answer = Answer.objects.get(question__key="satisfaction")
    assert answer.score == 5 and answer.satisfied is True
    assert Answer.objects.get(question__key="comment").text == "Arrived a day early <b>thanks</b>"

    # Opening the link again shows the friendly "already answered" page.
    customer.goto(url.replace("http://localhost:8000", base))
    assert "already answered" in customer.inner_text("h1")

    # A manager is refused the designer.
    other = browser.new_context()
    manager_page = other.new_page()
    log_in(manager_page, base, "mia")
    result = manager_page.goto(f"{base}/design/{slug}/")
    assert result.status == 403
    for context in (admin, phone, other):
        context.close()


def test_answer_page_is_usable_by_keyboard(browser, live_server):

    from .factories import make_survey

    survey = make_survey(slug="keys")
    _, token = invite(survey=survey, email="k@example.com")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{token}/")
    page.keyboard.press("Tab")  # the first radio of the group
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.locator("input[name=satisfaction][value='3']").is_checked()
    page.locator("button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/thanks/(\?lang=\w+)?$"))
    assert Answer.objects.get(question__key="satisfaction").score == 3
    context.close()
