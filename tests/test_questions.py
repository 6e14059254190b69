"""Every question on the dashboard: the question picker, the table of all questions (figures =
the report API's), the overview naming its question, the comments page naming it by its text."""

import json
import re
from datetime import date

import pytest
from django.utils import translation

from reports import rollups
from reports.service import csat_report, question_table
from tests.dashboard_data import answer_all
from tests.factories import make_survey, rating_question

pytestmark = pytest.mark.django_db

VIEW = "range=custom&start=2026-03-01&end=2026-03-31&interval=week"
QUESTIONS = [
    rating_question(
        "speed", primary=True, required=True, text={"en": "How fast?", "de": "Wie schnell?"}
    ),
    rating_question("friendly", text={"en": "How friendly was the agent?"}),
    {"key": "recommend", "kind": "nps", "scale": "0-10", "text": "Would you recommend us?"},
    {"key": "effort", "kind": "ces", "scale": "1-7", "text": "How easy was it?"},
    {"key": "comment", "kind": "comment", "text": "Anything else?", "max_length": 200},
]


@pytest.fixture
def support(db):
    survey = make_survey(
        slug="support", name="Support", questions=QUESTIONS, languages=("en", "de")
    )
    for i in range(36):
        day = 1 + i % 28
        month = "02" if i < 6 else "03"  # a few answers in the previous period
        answer_all(
            survey,
            {"speed": 5 if i % 4 else 2, "friendly": 1 + i % 5, "recommend": i % 11, "effort": 7},
            f"friendly {i % 5}, fast {5 if i % 4 else 2}" if i % 3 == 0 else "",
            at=f"2026-{month}-{day:02d}T10:00",
        )
    rollups.rebuild()
    return survey


def test_the_question_table_gives_csat_reports_figures_for_every_question(support):
    table = question_table(support, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert [row["key"] for row in table] == ["speed", "friendly", "recommend", "effort"]
    for row in table:
        report = csat_report(
            support, start=date(2026, 3, 1), end=date(2026, 3, 31), question_key=row["key"]
        )
        for name in ("csat", "n", "satisfied", "ci_low", "ci_high", "mean"):
            assert row[name] == report[name], (row["key"], name)
        assert row["previous"] == {
            k: v for k, v in report["previous"].items() if k not in ("start", "end")
        }
    assert table[2]["nps"]["n"] == 30 and table[2]["ces"] is None
    assert table[3]["ces"]["mean"] == 7 and table[3]["nps"] is None
    # by hand: friendly is 1..5 in turn over the 30 March answers, 4 or 5 is satisfied
    assert table[1]["satisfied"] == 12 and table[1]["csat"] == 40.0


def test_the_page_shows_every_question_with_the_apis_figures(manager_client, support):
    html = manager_client.get(f"/dashboard/support/?{VIEW}").content.decode()
    rows = re.findall(
        r'<tr data-question="([\w-]+)".*?<a href="[^"]*">([^<]+)</a>.*?<strong data-headline>'
        r"([^<]+)</strong>.*?data-mean>([^<]+)<.*?data-n>([\d,]+)",
        html,
        re.S,
    )
    assert [(key, text) for key, text, *_ in rows] == [
        ("speed", "How fast?"),
        ("friendly", "How friendly was the agent?"),
        ("recommend", "Would you recommend us?"),
        ("effort", "How easy was it?"),
    ]
    for key, _text, headline, mean, n in rows:
        api = manager_client.get(
            "/api/v1/reports/csat/", {"survey": "support", "question": key, **dict_of(VIEW)}
        ).json()
        assert int(n) == api["n"]
        assert mean == f"{api['mean']:.2f}"
        if key == "recommend":
            assert headline == f"{api['nps']['score']:+.0f}"
        elif key == "effort":
            assert headline == f"{api['ces']['mean']:.2f}"
        else:
            assert headline == f"{api['csat']:.1f} %"


def dict_of(query: str) -> dict:
    return dict(pair.split("=") for pair in query.split("&"))


def embedded(html: str) -> dict:
    raw = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(raw.group(1))["report"]


def test_the_picker_drives_the_cards_charts_and_comments(manager_client, support):
    html = manager_client.get(f"/dashboard/support/?{VIEW}&question=friendly").content.decode()
    api = manager_client.get(
        "/api/v1/reports/csat/", {"survey": "support", "question": "friendly", **dict_of(VIEW)}
    ).json()
    assert embedded(html) == api
    assert '<option value="friendly" selected>' in html
    assert "data-question-text>How friendly was the agent?<" in html
    assert f"{api['csat']:.1f} %" in html
    # the latest comments are read against the friendly score: the worst (1) first
    panel = html[html.index('data-panel="comments"') :]
    scores = re.findall(r'<div class="comment-score"[^>]*><strong>(\d+)</strong>', panel)
    assert scores[0] == "1" and scores == sorted(scores)
    # the other views carry the question
    assert (
        "question=friendly" in re.search(r'href="/dashboard/support/comments/\?([^"]+)"', html)[1]
    )
    assert "question=friendly" in re.search(r'export/responses.csv\?([^"]+)"', html)[1]
    # without a question, the primary is picked
    html = manager_client.get(f"/dashboard/support/?{VIEW}").content.decode()
    assert '<option value="speed" selected>' in html
    assert embedded(html)["question"]["key"] == "speed"


def test_a_question_without_a_score_or_unknown_is_a_400(manager_client, support):
    for url in ("/dashboard/support/", "/dashboard/support/comments/"):
        for key in ("comment", "nope"):
            response = manager_client.get(f"{url}?{VIEW}&question={key}")
            assert response.status_code == 400
            assert "<code>question</code>" in response.content.decode()


def test_the_comments_page_names_and_bands_by_the_picked_question(manager_client, support):
    html = manager_client.get(f"/dashboard/support/comments/?{VIEW}").content.decode()
    assert "score of “How fast?”" in html
    html = manager_client.get(
        f"/dashboard/support/comments/?{VIEW}&question=friendly&band=unhappy"
    ).content.decode()
    assert "score of “How friendly was the agent?”" in html
    texts = re.findall(r'<p class="comment-text">(.*?)</p>', html)
    assert texts and all(t.startswith(("friendly 0", "friendly 1", "friendly 2")) for t in texts)
    # friendly scores 1 and 2 are unhappy: the text says which it was
    assert all(t.startswith(("friendly 0", "friendly 1")) for t in texts)


def test_the_question_is_named_in_the_readers_language(manager_client, support):
    html = manager_client.get(f"/dashboard/support/?{VIEW}", HTTP_ACCEPT_LANGUAGE="de")
    assert "data-question-text>Wie schnell?<" in html.content.decode()


def test_the_overview_says_which_question_each_figure_is(manager_client, support):
    html = manager_client.get("/dashboard/?range=custom&start=2026-03-01&end=2026-03-31")
    assert re.search(
        r'data-survey="support".*?<p class="muted question-text" data-question>How fast\?</p>',
        html.content.decode(),
        re.S,
    )
    api = manager_client.get(
        "/api/v1/reports/overview/", {"range": "custom", "start": "2026-03-01"}
    ).json()
    assert api["surveys"][0]["question"] == "speed"


@pytest.mark.parametrize("language", ["de", "pl"])
def test_svg_numbers_are_never_localized(manager_client, language):
    """A decimal comma in an SVG attribute is refused by the browser (y1="14,8")."""
    survey = make_survey(slug="targeted", csat_target=73)
    for i in range(20):
        answer_all(survey, {"satisfaction": 5 if i % 3 else 1}, at=f"2026-03-{1 + i:02d}T10:00")
    rollups.rebuild()
    with translation.override(language):
        html = manager_client.get(
            "/dashboard/?range=custom&start=2026-03-01&end=2026-03-31",
            HTTP_ACCEPT_LANGUAGE=language,
        ).content.decode()
    svg = re.search(r'<svg class="spark".*?</svg>', html, re.S)[0]
    assert re.search(r'y1="(\d+\.\d)" y2="\1"', svg), svg
