"""The comments page: comments next to their score, filtered, searched, paginated, escaped."""

import re

import pytest
import time_machine

from reports import rollups, views
from tests.dashboard_data import respond
from tests.factories import make_survey

pytestmark = pytest.mark.django_db

URL = "/dashboard/shop/comments/"
MARCH = "range=custom&start=2026-03-01&end=2026-03-31"


@pytest.fixture
def manager_client(manager_client):
    """A manager's client; before each page, beat's refresh folds the new answers into the
    rollups (within 30 seconds in production)."""
    get = manager_client.get

    def get_after_refresh(*args, **kwargs):
        rollups.refresh()
        return get(*args, **kwargs)

    manager_client.get = get_after_refresh
    return manager_client


@pytest.fixture
def shop(db):
    return make_survey(slug="shop")


def texts(response) -> list[str]:
    html = response.content.decode()
    return [
        re.sub(r"<br>", "\n", t).strip()
        for t in re.findall(r'<p class="comment-text">(.*?)</p>', html, re.S)
    ]


def test_comments_are_listed_unhappy_first_with_their_score(manager_client, shop):
    respond(shop, 5, "Lovely", at="2026-03-20T10:00")
    respond(shop, 1, "Awful", at="2026-03-02T10:00")
    respond(shop, 3, "So-so", at="2026-03-10T10:00")
    respond(shop, 2, "", at="2026-03-11T10:00")  # no comment: not listed
    response = manager_client.get(f"{URL}?{MARCH}")
    assert response.status_code == 200
    assert texts(response) == ["Awful", "So-so", "Lovely"]
    html = response.content.decode()
    assert "Very dissatisfied" in html and "3 comments" in html


def test_newest_first_on_request(manager_client, shop):
    respond(shop, 5, "Lovely", at="2026-03-20T10:00")
    respond(shop, 1, "Awful", at="2026-03-02T10:00")
    assert texts(manager_client.get(f"{URL}?{MARCH}&sort=newest")) == ["Lovely", "Awful"]


@pytest.mark.parametrize(
    ("band", "expected"),
    [("unhappy", ["one", "two"]), ("neutral", ["three"]), ("happy", ["four", "five"])],
)
def test_score_bands(manager_client, shop, band, expected):
    for score, word in [(1, "one"), (2, "two"), (3, "three"), (4, "four"), (5, "five")]:
        respond(shop, score, word, at=f"2026-03-1{score}T10:00")
    assert sorted(texts(manager_client.get(f"{URL}?{MARCH}&band={band}"))) == sorted(expected)


def test_bands_follow_a_reversed_scale(manager_client):
    survey = make_survey(
        slug="grades",
        questions=[
            {
                "key": "grade",
                "kind": "rating",
                "scale": "1-5",
                "reversed": True,
                "primary": True,
                "text": "Grade?",
            },
            {"key": "comment", "kind": "comment", "text": "Why?"},
        ],
    )
    respond(survey, 1, "sehr gut")
    respond(survey, 5, "mangelhaft")
    base = f"/dashboard/grades/comments/?{MARCH}"
    assert texts(manager_client.get(f"{base}&band=happy")) == ["sehr gut"]
    assert texts(manager_client.get(f"{base}&band=unhappy")) == ["mangelhaft"]


def test_text_search_attribute_touchpoint_and_date_filters(manager_client, shop):
    respond(shop, 2, "Parcel was LATE", attributes={"channel": "web"}, at="2026-03-05T09:00")
    respond(shop, 2, "late again", attributes={"channel": "phone"}, at="2026-03-06T09:00")
    respond(shop, 2, "late in April", attributes={"channel": "web"}, at="2026-04-02T09:00")
    respond(shop, 4, "fine", attributes={"channel": "web"}, touchpoint_type="support_contact")
    assert sorted(texts(manager_client.get(f"{URL}?{MARCH}&q=late"))) == [
        "Parcel was LATE",
        "late again",
    ]
    assert texts(manager_client.get(f"{URL}?{MARCH}&q=late&attr.channel=web")) == [
        "Parcel was LATE"
    ]
    assert texts(manager_client.get(f"{URL}?{MARCH}&touchpoint=support_contact")) == ["fine"]
    april = "range=custom&start=2026-04-01&end=2026-04-30"
    assert texts(manager_client.get(f"{URL}?{april}")) == ["late in April"]


def test_test_responses_are_not_listed(manager_client, shop):
    respond(shop, 1, "from the designer", is_test=True)
    assert texts(manager_client.get(f"{URL}?{MARCH}")) == []


def test_default_range_is_the_last_30_days(manager_client, shop):
    respond(shop, 1, "recent", at="2026-03-28T10:00")
    respond(shop, 1, "old", at="2026-02-01T10:00")
    with time_machine.travel("2026-03-30T12:00Z"):
        response = manager_client.get(URL)
    assert texts(response) == ["recent"]
    assert 'value="2026-03-01"' in response.content.decode()


def test_pages_of_comments(manager_client, shop, monkeypatch):
    monkeypatch.setattr(views, "COMMENTS_PER_PAGE", 3)
    for day in range(1, 8):
        respond(shop, 1, f"day {day}", at=f"2026-03-0{day}T10:00")
    first = manager_client.get(f"{URL}?{MARCH}&sort=newest")
    assert texts(first) == ["day 7", "day 6", "day 5"]
    assert "Page 1 of 3" in first.content.decode()
    assert 'rel="next"' in first.content.decode()
    third = manager_client.get(f"{URL}?{MARCH}&sort=newest&page=3")
    assert texts(third) == ["day 1"]
    assert manager_client.get(f"{URL}?{MARCH}&page=4").status_code == 404


def test_the_next_page_link_keeps_the_filters(manager_client, shop, monkeypatch):
    monkeypatch.setattr(views, "COMMENTS_PER_PAGE", 1)
    respond(shop, 1, "late a", attributes={"channel": "web"})
    respond(shop, 1, "late b", attributes={"channel": "web"})
    html = manager_client.get(f"{URL}?{MARCH}&q=late&attr.channel=web&band=unhappy").content
    link = re.search(r'rel="next" href="\?([^"]+)"', html.decode()).group(1).replace("&amp;", "&")
    assert set(link.split("&")) >= {
        "range=custom",
        "start=2026-03-01",
        "end=2026-03-31",
        "attr.channel=web",
        "band=unhappy",
        "q=late",
        "page=2",
    }


def test_a_script_in_a_comment_stays_text(manager_client, shop):
    respond(shop, 1, '<script>alert("x")</script><img src=x onerror=alert(1)>')
    respond(shop, 2, "ok", attributes={"channel": "<b>web</b>"})
    html = manager_client.get(f"{URL}?{MARCH}").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<b>web</b>" not in html and "&lt;b&gt;web&lt;/b&gt;" in html


def test_contact_details_are_masked_unless_switched_off(manager_client, shop, settings):
    respond(shop, 1, "Call me on +49 170 1234567 or mail jo@example.com")
    assert texts(manager_client.get(f"{URL}?{MARCH}")) == [
        "Call me on [phone hidden] or mail [email hidden]"
    ]
    settings.HIDE_CONTACT_DETAILS_IN_COMMENTS = False
    assert texts(manager_client.get(f"{URL}?{MARCH}")) == [
        "Call me on +49 170 1234567 or mail jo@example.com"
    ]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("band=furious", "band"),
        ("sort=random", "sort"),
        ("page=zero", "page"),
        ("range=forever", "range"),
        ("range=custom&start=2000-03-01&end=2026-03-01", "start"),  # over ten years
        ("range=custom&start=2026-13-01&end=2026-03-02", "start"),
        ("range=custom&start=2026-03-05&end=2026-03-01", "end"),
        ("attr.bad%20name=x", "attr.bad name"),
        ("attr.=x", "attr."),
        ("interval=hour", "interval"),
        ("colour=red", "colour"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(manager_client, shop, query, param):
    response = manager_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert f"<code>{param}</code>" in response.content.decode()


def test_roles_on_the_comments_page(client, manager_client, admin_client, shop, django_user_model):
    assert admin_client.get(URL).status_code == 200
    assert manager_client.get(URL).status_code == 200
    anonymous = client.get(URL)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    nobody = django_user_model.objects.create_user("nobody", password="pw")
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_unknown_and_draft_surveys_are_404(manager_client):
    make_survey(slug="draft", publish=False)
    assert manager_client.get("/dashboard/draft/comments/").status_code == 404
    assert manager_client.get("/dashboard/nope/comments/").status_code == 404


FILTERS = [
    {},
    {"attrs": {"channel": "web"}},
    {"attrs": {"agent": "7"}},  # a number in the event, compared as text
    {"attrs": {"vip": "true"}},  # a boolean likewise
    {"touchpoint": "support_contact"},
    {"touchpoint": "purchase", "attrs": {"channel": "phone"}},  # the pair counts serve these
    {"attrs": {"vip": "false", "channel": "email"}},
    {"attrs": {"channel": "web", "agent": "3"}},
    {"attrs": {"order": "A-17"}},  # more values a day than the rollups keep: counted from rows
    {"attrs": {"channel": "fax"}},  # no such value
]


@pytest.mark.parametrize("sort", ["unhappy", "newest"])
def test_the_rollup_pages_list_the_same_comments_as_the_rows(shop, sort, settings, rollups_engine):
    import random
    from datetime import date

    from reports.query import ReportQuery
    from reports.responses import (
        BANDS,
        CommentQuery,
        band_counts,
        comment_rollups,
        comments,
        comments_by_id,
    )
    from reports.selectors import RollupSource

    # Agents and orders take more values a day than the rollups keep (their filters count the
    # comment rows); channels, vip and touchpoints do not (the day and month counts serve them).
    settings.REPORTS_MAX_DIMENSION_VALUES = 3
    rng = random.Random(11)
    for i in range(160):
        attributes = {
            "channel": rng.choice(["web", "phone", "email"]),
            "agent": rng.randint(1, 8),
            "order": f"A-{i}",
        }
        if rng.random() < 0.3:
            attributes["vip"] = rng.random() < 0.5
        respond(
            shop,
            rng.choice([None, 1, 2, 3, 4, 5]),
            rng.choice(["", f"comment {i}"]),
            at=f"2026-0{rng.choice([1, 2, 2, 3, 3, 4])}-{rng.randint(1, 14):02d}"
            f"T{rng.randint(0, 23):02d}:00",
            attributes=attributes,
            touchpoint_type=rng.choice(["purchase", "support_contact"]),
        )
    rollups.rebuild()
    source = RollupSource()
    assert (
        source.comment_counts(shop, date(2026, 2, 1), date(2026, 4, 10), {"attr:agent": "7"})
        is None
    )
    assert source.comment_counts(shop, date(2026, 2, 1), date(2026, 4, 10), {"attr:channel": "web"})
    two = {"touchpoint": "purchase", "attr:vip": "true"}
    assert source.comment_counts(shop, date(2026, 2, 1), date(2026, 4, 10), two)
    for extra in FILTERS:
        filters = ReportQuery(
            start=date(2026, 2, 1), end=date(2026, 4, 10), preset="custom", **extra
        )
        counts = band_counts(shop, filters)
        for band in ["", *BANDS]:
            query = CommentQuery(band=band, sort=sort)
            expected = [a.pk for a in comments(shop, filters, query)]
            fast = [row.answer_id for row in comment_rollups(shop, filters, query)]
            assert fast == expected, (extra, band)
            assert counts[band or "all"] == len(expected), (extra, band)
            assert [a.pk for a in comments_by_id(shop, fast[:7], filters)] == expected[:7]
        if extra == {"attrs": {"channel": "web"}}:
            assert counts["all"] > 10  # the filters select something
