"""The responses pages: a survey's responses (the dashboard's filters, a search, keyset pages)
and one response (answers, customer, touchpoint, invitation timeline, follow-up, the customer's
other responses); linked from comments, latest comments, the delivery list and follow-ups."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followups import services as followups
from privacy.services import erase_customer
from reports import rollups
from surveys.models import Contact, TouchpointEvent
from tests.dashboard_data import answer_all
from tests.factories import ContactFactory, UserFactory, make_invitation, make_survey
from tests.test_questions import QUESTIONS

pytestmark = pytest.mark.django_db

VIEW = "range=custom&start=2026-03-01&end=2026-03-31"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def invited_response(survey, contact, *, at: datetime, order: str, scores: dict, comment=""):
    """A response through an invitation for a touchpoint: sent, delivered, clicked, reminded,
    answered (in that order, an hour apart)."""
    touchpoint = TouchpointEvent.objects.create(
        type=survey.touchpoint,
        external_id=f"T-{order}",
        occurred_at=at - timedelta(hours=6),
        contact=contact,
        attributes={"order_id": order, "channel": "web"},
    )
    invitation, _ = make_invitation(
        survey,
        contact,
        now=at - timedelta(hours=5),
        touchpoint=touchpoint,
        attributes={"order_id": order, "channel": "web"},
        status="sent",
        sent_at=at - timedelta(hours=4),
        delivered_at=at - timedelta(hours=3),
        clicked_at=at - timedelta(hours=1),
        reminder_sent_at=at - timedelta(hours=2),
        answered_at=at,
    )
    return answer_all(
        survey,
        scores,
        comment,
        at=at.isoformat(),
        invitation=invitation,
        attributes={"order_id": order, "channel": "web"},
    )


@pytest.fixture
def support(db):
    # min_days_between_surveys=0: one customer answers several times here on purpose
    return make_survey(
        slug="support",
        name="Support",
        questions=QUESTIONS,
        languages=("en", "de"),
        min_days_between_surveys=0,
    )


@pytest.fixture
def ana(db):
    return ContactFactory(email="ana@example.com", name="Ana Lima", external_id="CRM-7")


def test_the_response_page_shows_everything_about_a_response(manager_client, support, ana):
    earlier = invited_response(
        support, ana, at=T0, order="A-1", scores={"speed": 4}, comment="fine"
    )
    response = invited_response(
        support,
        ana,
        at=T0 + timedelta(days=3),
        order="A-2",
        scores={"speed": 1, "friendly": 2, "recommend": 3, "effort": 6},
        comment="Too slow, call me",
    )
    follow_up = followups.open_follow_up(response_id=response.pk)
    html = manager_client.get(f"/responses/{response.pk}/").content.decode()
    answers = dict(re.findall(r'<dd data-answer="([\w-]+)">(.*?)</dd>', html, re.S))
    assert set(answers) == {"speed", "friendly", "recommend", "effort", "comment"}
    assert ">1</span> Very dissatisfied" in answers["speed"]
    assert "Too slow, call me" in answers["comment"]
    assert "How friendly was the agent?" in html  # questions by their text
    assert "Ana Lima" in html and "ana@example.com" in html and "CRM-7" in html
    assert "T-A-2" in html and "order_id" in html and "A-2" in html
    steps = re.findall(r'<li data-step="(\w+)">', html)
    assert steps == [
        "created_at",
        "sent_at",
        "delivered_at",
        "reminder_sent_at",
        "clicked_at",
        "answered_at",
    ]
    assert f'href="/followups/{follow_up.pk}/"' in html
    assert f'href="/responses/{earlier.pk}/"' in html  # the customer's other response
    # the follow-up's link leads here, and the old address still does
    detail = manager_client.get(f"/followups/{follow_up.pk}/").content.decode()
    assert f'href="/responses/{response.pk}/"' in detail
    old = manager_client.get(f"/followups/responses/{response.pk}/")
    assert old.status_code == 301 and old["Location"] == f"/responses/{response.pk}/"


def test_an_erased_customer_shows_as_erased(manager_client, support, ana):
    response = invited_response(support, ana, at=T0, order="A-1", scores={"speed": 2})
    erase_customer(email="ana@example.com", via="test")
    html = manager_client.get(f"/responses/{response.pk}/").content.decode()
    assert "data-erased" in html and "ana@example.com" not in html
    listing = manager_client.get(f"/dashboard/support/responses/?{VIEW}").content.decode()
    assert ">erased<" in listing and "ana@example.com" not in listing


@pytest.mark.parametrize(
    "url", ["/responses/{pk}/", "/dashboard/support/responses/", "/followups/responses/{pk}/"]
)
def test_managers_and_survey_admins_read_responses_others_get_403(
    client, manager_client, admin_client, support, ana, url
):
    response = invited_response(support, ana, at=T0, order="A-1", scores={"speed": 2})
    url = url.format(pk=response.pk)
    followed = {"follow": True}
    assert manager_client.get(url, **followed).status_code == 200
    assert admin_client.get(url, **followed).status_code == 200
    anonymous = client.get(url, **followed)
    assert anonymous.redirect_chain[-1][0].startswith("/accounts/login/")
    client.force_login(UserFactory())
    assert client.get(url, **followed).status_code == 403


def test_an_unknown_response_is_a_404(manager_client):
    assert manager_client.get("/responses/999999/").status_code == 404


def listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-response="(\d+)">', html)]


def test_responses_come_in_keyset_pages_newest_first(manager_client, support):
    # 120 responses, some sharing a second (the id decides between them)
    made = [
        answer_all(
            support,
            {"speed": 1 + i % 5},
            at=(T0 + timedelta(minutes=10 * (i // 3))).isoformat(),
        )
        for i in range(120)
    ]
    expected = [r.pk for r in sorted(made, key=lambda r: (r.submitted_at, r.pk), reverse=True)]
    seen, pages, url = [], [], f"/dashboard/support/responses/?{VIEW}"
    while url:
        with CaptureQueriesContext(connection) as queries:
            html = manager_client.get(url).content.decode()
        assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
        pages.append(url)
        seen += listed(html)
        older = re.search(r'<a class="btn small" rel="next" href="([^"]+)"', html)
        url = older and older[1].replace("&amp;", "&")
        if url:
            url = "/dashboard/support/responses/" + url
    assert seen == expected and len(pages) == 3
    # and back: the last page's "newer" link gives the page before it
    html = manager_client.get(pages[-1]).content.decode()
    newer = re.search(r'rel="prev" href="([^"]+)"', html)[1].replace("&amp;", "&")
    html = manager_client.get("/dashboard/support/responses/" + newer).content.decode()
    assert listed(html) == expected[50:100]


def test_the_dashboards_filters_and_a_search_narrow_the_list(manager_client, support, ana):
    bob = ContactFactory(email="bob@shop.example", name="Bob Berg", external_id="CRM-8")
    a1 = invited_response(support, ana, at=T0, order="A-1", scores={"speed": 5})
    a2 = invited_response(support, ana, at=T0 + timedelta(days=1), order="A-2", scores={})
    b1 = invited_response(support, bob, at=T0 + timedelta(days=2), order="B-1", scores={})
    phone = answer_all(
        support, {"speed": 3}, at="2026-03-05T10:00", attributes={"channel": "phone"}
    )
    base = f"/dashboard/support/responses/?{VIEW}"

    def search(term: str) -> list[int]:
        return listed(manager_client.get(f"{base}&q={quote(term)}").content.decode())

    assert search("ana@example.com") == [a2.pk, a1.pk]
    assert search("ANA@") == [a2.pk, a1.pk]  # an email's start
    assert search("berg") == [b1.pk]  # a name
    assert search("CRM-7") == [a2.pk, a1.pk]  # the customer's external id
    assert search("A-1") == [a1.pk]  # the order reference
    assert search("T-B-1") == [b1.pk]  # the touchpoint's id
    assert search("nobody") == []
    web = listed(manager_client.get(base + "&attr.channel=web").content.decode())
    assert phone.pk not in web and set(web) == {a1.pk, a2.pk, b1.pk}
    march = listed(manager_client.get(base).content.decode())
    assert phone.pk in march
    outside = "/dashboard/support/responses/?range=custom&start=2026-04-01&end=2026-04-30"
    assert listed(manager_client.get(outside).content.decode()) == []


@pytest.mark.parametrize(
    "query", ["before=x", "after=-1", "q=" + "x" * 201, "question=nope", "page=2", "tests=yes"]
)
def test_bad_list_parameters_are_a_400(manager_client, support, query):
    response = manager_client.get(f"/dashboard/support/responses/?{query}")
    assert response.status_code == 400


def test_comments_latest_comments_and_the_delivery_list_link_to_the_response(
    manager_client, admin_client, support, ana
):
    response = invited_response(
        support, ana, at=T0, order="A-1", scores={"speed": 1}, comment="Never again"
    )
    rollups.rebuild()
    link = f'href="/responses/{response.pk}/"'
    assert link in manager_client.get(f"/dashboard/support/?{VIEW}").content.decode()
    assert link in manager_client.get(f"/dashboard/support/comments/?{VIEW}").content.decode()
    assert link in admin_client.get("/design/support/invitations/").content.decode()
    assert Contact.objects.count() == 1


def test_test_answers_are_left_out_said_so_and_can_be_looked_at(manager_client, support):
    """Test answers count in no figure; a dashboard with only test answers says so and links to
    them, and the responses page lists them on request, each marked as a test."""
    test = answer_all(support, {"speed": 5}, at="2026-03-04T10:00", is_test=True)
    dashboard = manager_client.get(f"/dashboard/support/?{VIEW}").content.decode()
    notice = re.search(
        r"<div class=\"warning\" role=\"note\" data-test-answers>(.*?)</div>", dashboard
    )
    assert notice and "Only test answers so far" in notice[1]
    assert "1 test answer in this period is left out of the figures." in notice[1]
    link = re.search(r'href="([^"]+)"', notice[1])[1].replace("&amp;", "&")
    assert link.startswith("/dashboard/support/responses/?") and "tests=1" in link
    listed_tests = manager_client.get(link).content.decode()
    assert listed(listed_tests) == [test.pk] and "data-tests-notice" in listed_tests
    assert '<span class="badge">test</span>' in listed_tests
    # the customers' answers: the test one is not among them, and the page says where it is
    real = manager_client.get(f"/dashboard/support/responses/?{VIEW}").content.decode()
    assert listed(real) == [] and "data-tests-link" in real
    # once a customer answered, the dashboard still says what it leaves out
    answer_all(support, {"speed": 4}, at="2026-03-05T10:00")
    rollups.refresh()  # on PostgreSQL the dashboard reads the rollups
    dashboard = manager_client.get(f"/dashboard/support/?{VIEW}").content.decode()
    assert "Only test answers so far" not in dashboard and "data-test-answers" in dashboard
