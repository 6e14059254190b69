"""The survey dashboard in a real browser: a manager changes the period and the breakdown with
the page's controls, and every figure on the page is the report API's for the page's query."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from access.roles import MANAGER, SURVEY_ADMIN
from reports import rollups

from .dashboard_data import respond
from .factories import make_survey, manager_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHANNELS = ("web", "app", "phone")


def score_of(channel: str, days_ago: int) -> int:
    """Known answers: web unhappy every fourth day, app every third, phone every other."""
    if channel == "web":
        return 2 if days_ago % 4 == 0 else 5
    if channel == "app":
        return 1 if days_ago % 3 == 0 else 4
    return 5 if days_ago % 2 == 0 else 3


@pytest.fixture
def shop():
    for role in (MANAGER, SURVEY_ADMIN):  # an earlier transactional test may have flushed them
        Group.objects.get_or_create(name=role)
    survey = make_survey(slug="shop", csat_target=70)
    today = timezone.localdate()
    for days_ago in range(1, 101):
        at = datetime.combine(
            today - timedelta(days=days_ago), time(12), tzinfo=timezone.get_default_timezone()
        )
        for channel in CHANNELS:
            respond(
                survey,
                score_of(channel, days_ago),
                at=at,
                attributes={"channel": channel, "region": "north" if days_ago % 5 else "south"},
            )
    rollups.rebuild()
    return survey


def log_in(page, base: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={quote(next_url, safe='/')}")
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_url.split("?")[0])))


def shown(page) -> dict:
    """The figures as the page shows them (the breakdown from its table under the chart)."""
    rows = []
    for row in page.locator("table[data-breakdown] tbody tr").all():
        cells = [c.text_content().strip() for c in row.locator("td").all()]
        rows.append((cells[0].replace("small sample", "").strip(), cells[1], cells[2]))
    return {
        "csat": page.inner_text("[data-card=csat] [data-value]"),
        "n": page.inner_text("[data-card=n] [data-value]").replace(",", ""),
        "interval": page.inner_text("[data-card=csat] .sub >> nth=0"),
        "breakdown": rows,
    }


def one_decimal(value: float | None) -> str:
    """A percentage to one decimal, half up (64.35 → 64.4), as a person would round it."""
    if value is None:
        return "–"
    return str(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def expected(report: dict) -> dict:
    """The same figures from the report API's JSON, written the way the page writes them."""
    return {
        "csat": "–" if report["csat"] is None else f"{one_decimal(report['csat'])} %",
        "n": str(report["n"]),
        "interval": "no answers in this period"
        if report["ci_low"] is None
        else f"95 % interval {one_decimal(report['ci_low'])}–{one_decimal(report['ci_high'])} %",
        "breakdown": [
            (b["value"], "–" if b["csat"] is None else f"{one_decimal(b['csat'])} %", str(b["n"]))
            for b in report["breakdown"]
        ],
    }


def api_report(page, base: str) -> dict:
    """GET /api/v1/reports/csat/ with the page's own query, in the manager's session."""
    query = urlsplit(page.url).query
    reply = page.request.get(f"{base}/api/v1/reports/csat/?survey=shop&{query}")
    assert reply.status == 200, reply.text()
    return reply.json()


def test_the_numbers_on_the_dashboard_are_the_apis_for_every_view(
    browser, live_server, shop, tmp_path
):
    manager_user(username="mia")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "/dashboard/shop/")

    # The default view: the last 30 days.
    report = api_report(page, base)
    assert report["n"] == 29 * 3  # days 1-29 ago; today has no answers yet
    assert shown(page) == expected(report)

    # A preset from the period list applies at once.
    page.select_option("select[name=range]", "7d")
    page.wait_for_url(re.compile(r"range=7d"))
    assert "start=" not in page.url and "group_by" not in page.url
    report = api_report(page, base)
    week = [(c, d) for d in range(1, 7) for c in CHANNELS]
    satisfied = sum(1 for c, d in week if score_of(c, d) >= 4)
    assert (report["n"], report["satisfied"]) == (len(week), satisfied) == (18, 12)
    assert shown(page) == expected(report)

    # The breakdown by channel: a row per channel, highest CSAT first.
    page.select_option("select[name=group_by]", "channel")
    page.wait_for_url(re.compile(r"group_by=channel"))
    assert "range=7d" in page.url
    report = api_report(page, base)
    now = shown(page)
    assert now == expected(report)
    assert [value for value, _, _ in now["breakdown"]] == ["web", "app", "phone"]
    assert now["breakdown"][0] == ("web", "83.3 %", "6")  # unhappy only 4 days ago
    page.screenshot(path=str(tmp_path / "dashboard-7d-channel.png"), full_page=True)

    # A custom range: choosing "Custom" shows the dates; Apply reads them.
    page.select_option("select[name=range]", "custom")
    today = timezone.localdate()
    start, end = today - timedelta(days=60), today - timedelta(days=31)
    page.fill("input[name=start]", start.isoformat())
    page.fill("input[name=end]", end.isoformat())
    page.select_option("select[name=interval]", "week")
    page.wait_for_url(re.compile(r"interval=week"))  # choosing from a list applies at once
    assert f"start={start.isoformat()}" in page.url and f"end={end.isoformat()}" in page.url
    report = api_report(page, base)
    assert (report["start"], report["end"], report["n"]) == (
        start.isoformat(),
        end.isoformat(),
        30 * 3,
    )
    assert report["group_by"] == "channel" and report["interval"] == "week"
    assert shown(page) == expected(report)

    # The breakdown by another attribute, through the same control.
    page.select_option("select[name=group_by]", "region")
    page.wait_for_url(re.compile(r"group_by=region"))
    report = api_report(page, base)
    assert {b["value"] for b in report["breakdown"]} == {"north", "south"}
    assert shown(page) == expected(report)
    desktop = shown(page)
    view = page.url
    page.screenshot(path=str(tmp_path / "dashboard-custom-region.png"), full_page=True)
    assert errors == []

    # On a phone the same view shows the same figures, without sideways scrolling.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    small.on("pageerror", lambda e: errors.append(str(e)))
    path = view.removeprefix(base)
    log_in(small, base, path)
    assert small.url == view
    assert shown(small) == desktop == expected(api_report(small, base))
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard scrolls sideways on a phone ({width}px)"
    small.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
    assert errors == []
    for c in (context, phone):
        c.close()
