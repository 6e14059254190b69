"""The survey admin's delivery page and GET /api/v1/surveys/<slug>/delivery/."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from rest_framework.test import APIClient

from surveys import selectors
from surveys.models import Contact, Invitation, Response, TouchpointSkip
from surveys.touchpoints import record_touchpoints

from .conftest import on_postgres  # noqa: F401 - used by skipif
from .factories import make_invitation, make_survey

Status = Invitation.Status
PAGE = "/design/shop/invitations/"


def invitation(survey, email, *, status=Status.SENT, reason="", **fields):
    contact = Contact.objects.get_or_create(email=email, defaults={"name": email.split("@")[0]})[0]
    row, _token = make_invitation(survey, contact)
    row.status, row.status_reason = status, reason
    if status in (Status.SENT, Status.BOUNCED, Status.EXPIRED) and "sent_at" not in fields:
        fields["sent_at"] = timezone.now() - timedelta(hours=1)
    for key, value in fields.items():
        setattr(row, key, value)
    row.save()
    return row


@pytest.fixture
def world(db):
    """One invitation or more in every state, and one test invitation."""
    survey = make_survey()
    now = timezone.now()
    invitation(survey, "sched@example.com", status=Status.SCHEDULED, reason="retrying: 421 busy")
    invitation(survey, "sending@example.com", status=Status.SENDING)
    invitation(survey, "sent1@example.com", delivered_at=now)
    invitation(survey, "sent2@example.com")
    invitation(survey, "click@example.com", clicked_at=now, delivered_at=now)
    answered = invitation(survey, "ana@example.com", clicked_at=now, answered_at=now)
    invitation(survey, "Ana.Other@Example.com", clicked_at=now, answered_at=now)
    invitation(survey, "fail@example.com", status=Status.FAILED, reason="550 relaying denied")
    invitation(
        survey,
        "bounce@example.com",
        status=Status.BOUNCED,
        bounced_at=now,
        reason="bounced: 550 5.1.1 user unknown (Postmark)",
    )
    invitation(survey, "old@example.com", status=Status.EXPIRED, clicked_at=now)
    invitation(survey, "unsub@example.com", status=Status.SUPPRESSED, reason="unsubscribed")
    invitation(survey, "tester@example.com", is_test=True)
    comment = survey.questions.get(kind="comment")
    response = Response.objects.create(survey=survey, invitation=answered, contact=answered.contact)
    response.answers.create(question=comment, text="Late parcel")
    return survey


def test_every_state_is_counted_once(world):
    summary = selectors.delivery_summary(world)
    assert summary.total == 11  # the test invitation is not counted
    assert summary.states == {
        "scheduled": 1,
        "sending": 1,
        "sent": 2,
        "clicked": 1,
        "answered": 2,
        "failed": 1,
        "bounced": 1,
        "expired": 1,
        "suppressed": 1,
    }
    assert sum(summary.states.values()) == summary.total
    assert summary.funnel == {
        "sent": 7,  # sent1, sent2, click, ana, ana.other, bounce, old
        "delivered": 6,
        "confirmed": 2,
        "bounced": 1,
        "clicked": 4,
        "answered": 2,
        "commented": 1,
    }


def test_the_page_shows_states_funnel_and_percentages(admin_client, world):
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    for state, count in selectors.delivery_summary(world).states.items():
        tile = re.search(rf'data-state="{state}".*?<span class="n">(\d+)</span>', html, re.S)
        assert tile and int(tile[1]) == count, state
        assert f"?state={state}#invitations" in html
    funnel = dict(re.findall(r'data-step="(\w+)".*?<span class="n">(\d+)</span>', html, re.S))
    assert funnel == {
        "sent": "7",
        "delivered": "6",
        "clicked": "4",
        "answered": "2",
        "commented": "1",
    }
    assert "57 %" in html  # clicked: 4 of 7 sent
    assert "50 % of previous" in html  # answered: 2 of 4 clicked
    assert "tester@example.com" not in html  # tests are listed only under "Tests"


@pytest.mark.parametrize(
    "state, emails",
    [
        ("scheduled", ["sched@example.com"]),
        ("sent", ["sent2@example.com", "sent1@example.com"]),
        ("clicked", ["click@example.com"]),
        ("answered", ["ana.other@example.com", "ana@example.com"]),
        ("failed", ["fail@example.com"]),
        ("bounced", ["bounce@example.com"]),
        ("expired", ["old@example.com"]),
        ("suppressed", ["unsub@example.com"]),
    ],
)
def test_each_state_links_to_its_list_with_the_reason(admin_client, world, state, emails):
    html = admin_client.get(PAGE, {"state": state}).content.decode()
    table = html.split('class="list invitations"')[1].split("</table>")[0]
    listed = [e.lower() for e in re.findall(r'<span class="email">([^<]+)</span>', table)]
    assert listed == emails
    reasons = {
        "scheduled": "retrying: 421 busy",
        "failed": "550 relaying denied",
        "bounced": "bounced: 550 5.1.1 user unknown (Postmark)",
        "suppressed": "unsubscribed",
    }
    if state in reasons:
        assert reasons[state] in table


def test_search_finds_a_customer_by_the_start_of_their_email(admin_client, world):
    html = admin_client.get(PAGE, {"q": "ANA"}).content.decode()
    table = html.split('class="list invitations"')[1].split("</table>")[0]
    assert sorted(re.findall(r'<span class="email">([^<]+)</span>', table)) == [
        "Ana.Other@Example.com",
        "ana@example.com",
    ]
    html = admin_client.get(PAGE, {"q": "nobody@"}).content.decode()
    assert "No invitation for a customer with this email." in html


def test_the_test_invitations_have_their_own_list(admin_client, world):
    html = admin_client.get(PAGE, {"test": "1"}).content.decode()
    table = html.split('class="list invitations"')[1].split("</table>")[0]
    assert re.findall(r'<span class="email">([^<]+)</span>', table) == ["tester@example.com"]


def test_the_list_goes_page_by_page_newest_first(admin_client, db):
    survey = make_survey()
    rows = [invitation(survey, f"c{n:03}@example.com") for n in range(120)]
    newest_first = [r.contact.email for r in reversed(rows)]

    def emails(html):
        table = html.split('class="list invitations"')[1].split("</table>")[0]
        return re.findall(r'<span class="email">([^<]+)</span>', table)

    def link(html, rel):
        found = re.search(rf'rel="{rel}" href="([^"]+)"', html)
        return found[1].replace("&amp;", "&").split("#")[0] if found else None

    html = admin_client.get(PAGE).content.decode()
    seen = emails(html)
    assert seen == newest_first[:50] and link(html, "prev") is None
    html = admin_client.get(PAGE + link(html, "next")).content.decode()
    assert emails(html) == newest_first[50:100]
    last = admin_client.get(PAGE + link(html, "next")).content.decode()
    assert emails(last) == newest_first[100:] and link(last, "next") is None
    back = admin_client.get(PAGE + link(last, "prev")).content.decode()
    assert emails(back) == newest_first[50:100]
    # In one state, the same.
    html = admin_client.get(PAGE, {"state": "sent"}).content.decode()
    assert emails(html) == newest_first[:50]
    html = admin_client.get(PAGE + link(html, "next")).content.decode()
    assert emails(html) == newest_first[50:100]


def test_skipped_touchpoints_per_reason_and_the_latest_ones(admin_client, db):
    survey = make_survey(filters={"channel": ["web"]}, sample_rate=1.0)
    Contact.objects.create(email="gone@example.com", unsubscribed_at=timezone.now())
    now = timezone.now().isoformat()
    events = [
        {
            "type": "purchase",
            "external_id": f"o-{n}",
            "occurred_at": now,
            "customer": {"email": email},
            "attributes": {"channel": channel},
        }
        for n, (email, channel) in enumerate(
            [
                ("a@example.com", "phone"),
                ("b@example.com", "phone"),
                ("gone@example.com", "web"),
                ("c@example.com", "web"),
            ]
        )
    ]
    record_touchpoints(items=events)
    summary = selectors.delivery_summary(survey)
    assert summary.skips == {
        "filtered": 2,
        "stale": 0,
        "sampled_out": 0,
        "unsubscribed": 1,
        "undeliverable": 0,
        "fatigued": 0,
    }
    html = admin_client.get(PAGE).content.decode()
    skips = html.split('class="list skips"')[1].split("</table>")[0]
    assert re.findall(r"o-\d", skips) == ["o-2", "o-1", "o-0"]
    assert "channel = phone" in skips and "gone@example.com" in skips
    html = admin_client.get(PAGE, {"skip": "unsubscribed"}).content.decode()
    skips = html.split('class="list skips"')[1].split("</table>")[0]
    assert re.findall(r"o-\d", skips) == ["o-2"]


def test_odd_parameters_are_ignored_not_an_error(admin_client, world):
    response = admin_client.get(
        PAGE,
        {"state": "<b>", "before": "abc", "after": "9" * 40, "skip": "x", "q": "<script>"},
    )
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


def test_only_survey_admins_see_the_page(client, manager_client, world):
    assert manager_client.get(PAGE).status_code == 403
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/design/nope/invitations/").status_code == 302


def test_the_survey_list_and_the_designer_link_to_the_page(admin_client, world):
    assert PAGE in admin_client.get("/design/").content.decode()
    assert PAGE in admin_client.get("/design/shop/").content.decode()


def test_the_api_returns_the_same_figures(admin_client, key_client, world):
    summary = selectors.delivery_summary(world)
    for client in (admin_client, key_client):
        response = client.get("/api/v1/surveys/shop/delivery/")
        assert response.status_code == 200
        assert response.json() == {
            "survey": "shop",
            "total": summary.total,
            "states": summary.states,
            "funnel": summary.funnel,
            "skipped": 0,
            "skips": summary.skips,
            "counted_at": None,
        }
    assert key_client.get("/api/v1/surveys/nope/delivery/").status_code == 404


def test_the_api_refuses_managers_and_strangers(manager_client, world):
    assert manager_client.get("/api/v1/surveys/shop/delivery/").status_code == 403
    assert APIClient().get("/api/v1/surveys/shop/delivery/").status_code in (401, 403)


def test_the_api_is_in_the_schema(client, db):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/surveys/{slug}/delivery/" in schema and "DeliveryFunnel" in schema


def _plan(sql_and_params) -> str:
    """The plan when the table may not be scanned whole: it names the index that serves the
    query, and has no Sort when the index gives the order (what keeps a list page fast at a
    million invitations)."""
    sql, params = sql_and_params
    with connection.cursor() as cursor:
        for scan in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif("not on_postgres()")
def test_the_lists_read_a_page_along_the_delivery_indexes(world):
    rows = Invitation.objects.filter(survey=world, is_test=False)
    for state in ("sent", "clicked", "bounced"):
        statuses, extra = selectors.STATES[state]
        page = rows.filter(extra, status=statuses[0], id__lt=10**9).order_by("-id")
        plan = _plan(page.values_list("id", flat=True)[:51].query.sql_with_params())
        assert "invitation_delivery" in plan and "Sort" not in plan, plan
    answered = rows.filter(answered_at__isnull=False, id__lt=10**9).order_by("-id")
    plan = _plan(answered.values_list("id", flat=True)[:51].query.sql_with_params())
    assert "invitation_answered" in plan and "Sort" not in plan, plan
    skips = TouchpointSkip.objects.filter(survey=world, reason="filtered").order_by("-id")
    plan = _plan(skips.values_list("id", flat=True)[:26].query.sql_with_params())
    assert "Index Only Scan" in plan and "touchpoint_skip_reason" in plan, plan
    assert "Sort" not in plan, plan
    counts = TouchpointSkip.objects.filter(survey=world).values("reason").annotate(n=Count("id"))
    assert "touchpoint_skip_reason" in _plan(counts.order_by().query.sql_with_params())


def test_a_big_survey_is_counted_at_most_every_30_seconds(admin_client, world, settings):
    from django.core.cache import cache

    cache.clear()
    selectors.SUMMARY_LIVE_LIMIT, limit = 5, selectors.SUMMARY_LIVE_LIMIT
    try:
        html = admin_client.get(PAGE).content.decode()
        assert "Counted at" in html
        invitation(world, "late@example.com")
        assert selectors.recent_delivery_summary(world)[0].total == 11  # from the cache
        assert selectors.delivery_summary(world).total == 12
        # The list itself is live.
        assert "late@example.com" in admin_client.get(PAGE).content.decode()
        cache.clear()
        assert selectors.recent_delivery_summary(world)[0].total == 12
    finally:
        selectors.SUMMARY_LIVE_LIMIT = limit
        cache.clear()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_fits_a_phone_and_a_desktop_and_filters_by_clicking(browser, live_server):
    from django.contrib.auth.models import Group

    from access.roles import MANAGER, SURVEY_ADMIN

    from .factories import admin_user

    for role in (MANAGER, SURVEY_ADMIN):  # an earlier transactional test may have flushed them
        Group.objects.get_or_create(name=role)
    survey = make_survey()
    for n in range(60):
        invitation(survey, f"customer{n}@a-rather-long-domain-name.example.com")
    invitation(
        survey,
        "bounce@example.com",
        status=Status.BOUNCED,
        bounced_at=timezone.now(),
        reason="bounced: smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    )
    admin_user(username="ada", password="pw")
    for width, height in ((1280, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/?next={PAGE}")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", "pw")
        page.click("button[type=submit]")
        page.wait_for_url(f"**{PAGE}")
        # Nothing sticks out sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.locator(".state").count() == 9
        page.click('.state[data-state="bounced"]')
        page.wait_for_url("**state=bounced**")
        rows = page.locator("table.invitations tbody tr")
        assert rows.count() == 1
        assert "5.1.1" in rows.first.inner_text()
        page.goto(f"{live_server.url}{PAGE}")
        assert page.locator("table.invitations tbody tr").count() == 50
        page.click('a[rel="next"]')
        assert page.locator("table.invitations tbody tr").count() == 11
        context.close()
