"""The survey dashboard and the overview: roles, controls kept in the URL, figures = csat_report."""

import json
import re
from datetime import date

import pytest

from reports import rollups
from reports.service import csat_report
from tests.dashboard_data import respond
from tests.factories import make_survey

pytestmark = pytest.mark.django_db

VIEW = "range=custom&start=2026-03-01&end=2026-03-31&interval=week"


@pytest.fixture
def shop(db):
    survey = make_survey(slug="shop", csat_target=75)
    for i in range(40):
        respond(
            survey,
            5 if i % 3 else 2,
            "slow <script>x</script>" if i == 1 else "",
            at=f"2026-03-{1 + i % 28:02d}T10:00",
            attributes={"channel": "web" if i % 2 else "phone"},
        )
    rollups.rebuild()
    return survey


def embedded(response) -> dict:
    html = response.content.decode()
    raw = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(raw.group(1))["report"]


def test_the_page_shows_csat_reports_figures(manager_client, shop):
    response = manager_client.get(f"/dashboard/shop/?{VIEW}&group_by=channel")
    assert response.status_code == 200
    report = csat_report(
        shop, start=date(2026, 3, 1), end=date(2026, 3, 31), interval="week", group_by="channel"
    )
    assert embedded(response) == json.loads(json.dumps(report))
    html = response.content.decode()
    assert f"{report['csat']:.1f} %" in html
    assert f'<div class="value" data-value>{report["n"]}</div>' in html
    assert "Below target" in html or "Above target" in html
    assert [b["value"] for b in report["breakdown"]] == re.findall(
        r"<tr><td>(web|phone)", html.split("data-breakdown")[1]
    )


def test_scale_points_are_named_in_the_managers_language(manager_client):
    """The report names points in the survey's first language (German here); the page, its
    chart and its table, in the manager's."""
    survey = make_survey(slug="de-first", languages=("de", "pl"))
    respond(survey, 5, at="2026-03-02T10:00")
    rollups.rebuild()
    question = survey.primary_question()
    response = manager_client.get(f"/dashboard/de-first/?{VIEW}", HTTP_ACCEPT_LANGUAGE="pl")
    shown = [d["label"] for d in embedded(response)["distribution"]]
    assert shown == question.labels_in("pl") != question.labels_in("de")
    assert f"5 · {question.labels_in('pl')[-1]}" in response.content.decode()


def test_controls_are_reflected_in_the_url_and_the_form(manager_client, shop):
    html = manager_client.get(
        f"/dashboard/shop/?{VIEW}&attr.channel=web&group_by=channel&touchpoint=purchase"
    ).content.decode()
    assert '<option value="week" selected>' in html
    assert '<option value="custom" selected>' in html
    assert 'value="2026-03-01"' in html and 'value="2026-03-31"' in html
    assert '<option value="web" selected>' in html
    assert '<option value="channel" selected>' in html
    assert '<option value="purchase" selected>' in html
    # The comments tab and the exports carry the same view.
    assert "attr.channel=web" in re.search(r'href="/dashboard/shop/comments/\?([^"]+)"', html)[1]
    assert (
        "attr.channel=web"
        in re.search(r'href="/dashboard/shop/export/series.csv\?([^"]+)"', html)[1]
    )


def test_latest_comments_are_escaped(manager_client, shop):
    html = manager_client.get(f"/dashboard/shop/?{VIEW}").content.decode()
    assert "<script>x</script>" not in html
    assert "slow &lt;script&gt;x&lt;/script&gt;" in html


def test_latest_comments_are_the_newest_unhappy_first_under_the_filters(manager_client):
    from reports import responses

    survey = make_survey(slug="latest")
    comments = [  # (score, comment, day, channel)
        (5, "old and happy", 1, "web"),
        (1, "old and angry", 2, "web"),
        (4, "pleased", 10, "web"),
        (2, "slow delivery", 11, "web"),
        (1, "rude on the phone", 12, "phone"),
        (3, "fine", 13, "web"),
        (None, "no score, only words", 14, "web"),
        (2, "broken box", 15, "web"),
    ]
    for score, text, day, channel in comments:
        respond(survey, score, text, at=f"2026-03-{day:02d}T10:00", attributes={"channel": channel})
    rollups.rebuild()
    responses.LATEST_WINDOW, window = 5, responses.LATEST_WINDOW  # the five newest comments
    try:
        html = manager_client.get(f"/dashboard/latest/?{VIEW}&attr.channel=web").content.decode()
    finally:
        responses.LATEST_WINDOW = window
    panel = html[html.index('data-panel="comments"') :]
    shown = re.findall(r'<p class="comment-text">(.*?)</p>', panel, re.S)
    # the five newest web comments (not the phone one, not the two oldest), worst score first,
    # newest first within a score, no score last
    assert shown == ["broken box", "slow delivery", "fine", "pleased", "no score, only words"]


def test_bad_controls_are_a_400(manager_client, shop):
    response = manager_client.get("/dashboard/shop/?interval=hour")
    assert response.status_code == 400 and "<code>interval</code>" in response.content.decode()
    assert manager_client.get("/dashboard/?range=forever").status_code == 400


def test_overview_lists_active_surveys_with_their_csat(manager_client, shop):
    html = manager_client.get("/dashboard/?range=custom&start=2026-03-01&end=2026-03-31")
    html = html.content.decode()
    report = csat_report(shop, start=date(2026, 3, 1), end=date(2026, 3, 31), interval="week")
    assert 'data-survey="shop"' in html
    assert f"{report['csat']:.1f} %" in html


@pytest.mark.parametrize("url", ["/dashboard/shop/", "/dashboard/"])
def test_roles_on_the_dashboard(client, manager_client, admin_client, shop, url, django_user_model):
    assert manager_client.get(url).status_code == 200
    assert admin_client.get(url).status_code == 200
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(django_user_model.objects.create_user("nobody", password="pw"))
    assert client.get(url).status_code == 403


def test_design_pages_stay_closed_to_managers(manager_client, shop):
    assert manager_client.get("/design/shop/").status_code == 403


def test_loop_times_show_next_to_csat_only_when_the_survey_has_follow_ups(manager_client, shop):
    from datetime import UTC, datetime, timedelta

    from followups.models import FollowUp

    html = manager_client.get(f"/dashboard/shop/?{VIEW}").content.decode()
    assert 'data-panel="loop"' not in html
    unhappy = shop.responses.filter(answers__satisfied=False).order_by("id")[:3]
    opened = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    for i, response in enumerate(unhappy):
        FollowUp.objects.create(
            response=response,
            survey=shop,
            reason="not satisfied",
            opened_at=opened,
            due_at=opened + timedelta(hours=48),
            first_contact_at=opened + timedelta(hours=1 + i),
            resolved_at=opened + timedelta(hours=2 * (i + 1)) if i < 2 else None,
            status="resolved" if i < 2 else "in_progress",
        )
    html = manager_client.get(f"/dashboard/shop/?{VIEW}").content.decode()
    panel = html.split('data-panel="loop"')[1].split("</section>")[0]
    first_contact = panel.split('data-loop="time_to_first_contact"')[1]
    resolve = panel.split('data-loop="time_to_resolve"')[1]
    assert '<div class="value" data-value>2 h</div>' in first_contact  # median of 1, 2, 3 h
    assert '<div class="value" data-value>3 h</div>' in resolve  # median of 2 and 4 h
    assert "n = 2" in resolve and "p90 3 h 48 min" in resolve
    assert "3 follow-ups opened in this period" in panel and "3 contacted, 2 resolved" in panel
    waiting = panel.split('data-loop="unresolved"')[1]
    assert waiting.startswith(' href="/followups/?survey=shop"')  # the queue of this survey
    assert '<div class="value" data-value>1</div>' in waiting
    assert 'href="/followups/?survey=shop&amp;overdue=1"' in panel


@pytest.mark.parametrize(
    ("respondents", "customers", "coverage", "shown", "detail", "low"),
    [
        (30, 100, 30.0, "30.0 %", "30 of 100 customers with a touchpoint", True),
        (90, 100, 90.0, "90.0 %", "90 of 100 customers with a touchpoint", False),
        (0, 0, None, "–", "no touchpoint events recorded in this period", False),
        # an imported history answered by customers whose touchpoints were never recorded
        (597, 60, 995.0, "–", "597 respondents but only 60 customers with a touchpoint", False),
    ],
)
def test_the_coverage_card_is_a_share_or_says_why_not(
    respondents, customers, coverage, shown, detail, low
):
    from django.utils import translation

    from reports.dashboard import cards

    report = {
        "csat": 80.0,
        "ci_low": 70.0,
        "ci_high": 88.0,
        "n": 50,
        "satisfied": 40,
        "respondents": respondents,
        "customers": customers,
        "coverage": coverage,
    }
    with translation.override("en"):
        card = cards(report)
    assert card["coverage"] == shown
    assert card["coverage_detail"].startswith(detail)
    assert card["coverage_low"] is low
