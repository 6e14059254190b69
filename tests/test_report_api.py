"""GET /api/v1/reports/csat/ and /overview/: every parameter, every refusal, every role."""

from datetime import date

import pytest
import time_machine
from rest_framework.test import APIClient

from reports import rollups
from tests.conftest import on_postgres
from tests.factories import UserFactory, make_survey, rating_question
from tests.report_data import add_response, nps_survey

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/csat/"


@pytest.fixture
def shop(db):
    survey = nps_survey()
    # March: 8 of 10 satisfied; February: 5 of 10
    for i in range(10):
        channel = "web" if i % 2 else "phone"
        add_response(
            survey,
            {"satisfaction": 5 if i < 8 else 1, "recommend": 10 if i < 6 else 3},
            at=f"2026-03-{i + 1:02d}T10:00",
            attributes={"channel": channel, "agent": "ann" if i < 5 else "bob"},
            locale="de" if i < 3 else "en",
        )
        add_response(survey, {"satisfaction": 4 if i < 5 else 2}, at=f"2026-02-{i + 1:02d}T10:00")
    rollups.rebuild()
    return survey


def get(client, **params):
    return client.get(URL, {"survey": "shop", "start": "2026-03-01", "end": "2026-03-31", **params})


def test_manager_reads_the_report(manager_client, shop):
    response = get(manager_client, interval="week", group_by="channel")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"] == ("rollups" if on_postgres() else "raw")
    assert (body["csat"], body["n"], body["satisfied"]) == (80.0, 10, 8)
    assert body["question"]["key"] == "satisfaction"
    assert body["mean"] == pytest.approx(4.2)
    assert [d["count"] for d in body["distribution"]] == [2, 0, 0, 0, 8]
    assert body["series"][0]["period"] == "2026-02-23"  # the ISO week containing 1 March
    assert sum(s["n"] for s in body["series"]) == 10
    assert {b["value"]: (b["n"], b["csat"]) for b in body["breakdown"]} == {
        "web": (5, 80.0),
        "phone": (5, 80.0),
    }
    assert body["previous"]["start"] == "2026-01-29" and body["previous"]["csat"] == 50.0
    assert body["previous"]["change"] == 30.0 and body["previous"]["significant"] is False
    assert (body["target"], body["above_target"]) == (75.0, True)
    assert body["nps"] == {
        "question": "recommend",
        "score": 20.0,
        "n": 10,
        "promoters": 6,
        "passives": 0,
        "detractors": 4,
    }
    assert body["ces"] is None


def test_admin_and_api_key_read_the_report(admin_client, key_client, shop):
    assert get(admin_client).status_code == 200
    assert get(key_client).json()["n"] == 10


def test_anonymous_and_roleless_users_are_refused(shop):
    assert get(APIClient()).status_code in (401, 403)
    client = APIClient()
    client.force_login(UserFactory())
    assert get(client).status_code == 403


def test_writes_are_refused(manager_client, shop):
    assert manager_client.post(URL, {"survey": "shop"}).status_code in (403, 405)


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"survey": ""}, 400, "survey"),
        ({"survey": "nope"}, 404, "survey"),
        ({"start": "2026-13-01"}, 400, "start"),
        ({"end": "yesterday"}, 400, "end"),
        ({"start": "2026-04-01"}, 400, "end"),  # after end
        ({"start": "2010-01-01"}, 400, "start"),  # more than ten years
        ({"interval": "hour"}, 400, "interval"),
        ({"start": "2020-01-01", "interval": "day"}, 400, "interval"),  # too many days
        ({"question": "nope"}, 400, "question"),
        ({"question": "comment"}, 400, "question"),
        ({"group_by": "attr."}, 400, "group_by"),
        ({"attr.": "x"}, 400, "attr."),
        ({"groupby": "channel"}, 400, "groupby"),
        ({"touchpoint": "x" * 300}, 400, "touchpoint"),
        ({"range": "forever"}, 400, "range"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(
    manager_client, shop, params, status, field
):
    response = get(manager_client, **params)
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body and body["detail"]


def test_every_filter_and_breakdown(manager_client, shop):
    by_question = get(manager_client, question="recommend").json()
    assert (by_question["question"]["kind"], by_question["csat"]) == ("nps", 60.0)
    assert get(manager_client, **{"attr.agent": "ann"}).json()["n"] == 5
    assert get(manager_client, **{"attr.agent": "bob"}).json()["csat"] == 60.0
    both = get(manager_client, **{"attr.agent": "bob", "attr.channel": "web"}).json()
    assert (both["n"], both["source"]) == (3, "rollups" if on_postgres() else "raw")
    three = get(manager_client, **{"attr.agent": "bob", "attr.channel": "web", "language": "en"})
    assert (three.json()["n"], three.json()["source"]) == (3, "raw")
    assert get(manager_client, language="de").json()["n"] == 3
    assert get(manager_client, touchpoint="purchase").json()["n"] == 10
    assert get(manager_client, touchpoint="support_contact").json()["n"] == 0
    filtered = get(manager_client, group_by="agent", **{"attr.channel": "web"}).json()
    assert {b["value"]: b["n"] for b in filtered["breakdown"]} == {"ann": 2, "bob": 3}
    by_language = get(manager_client, group_by="language").json()["breakdown"]
    assert [(b["value"], b["n"], b["small_sample"]) for b in by_language] == [
        ("de", 3, True),
        ("en", 7, True),
    ]
    monthly = get(manager_client, interval="month", start="2026-02-01").json()
    assert [(s["period"], s["n"], s["csat"]) for s in monthly["series"]] == [
        ("2026-02-01", 10, 50.0),
        ("2026-03-01", 10, 80.0),
    ]


def test_default_range_is_the_last_thirty_days(manager_client, shop):
    with time_machine.travel("2026-03-15 12:00Z"):
        body = manager_client.get(URL, {"survey": "shop"}).json()
    assert (body["start"], body["end"], len(body["series"])) == ("2026-02-14", "2026-03-15", 30)
    assert body["n"] == 10  # February's answers (1-10 Feb) are before the range


def test_a_dashboard_query_reads_the_same_report(manager_client, shop):
    """The dashboard's period presets work here, and its empty "any" values filter nothing."""
    with time_machine.travel("2026-03-15 12:00Z"):
        week = manager_client.get(URL, {"survey": "shop", "range": "7d", "interval": "day"})
        quarter = manager_client.get(
            URL, {"survey": "shop", "range": "quarter", "start": "2020-01-01"}
        ).json()
        custom = manager_client.get(
            URL, {"survey": "shop", "range": "custom", "start": "2026-03-01", "end": "2026-03-05"}
        ).json()
        overview = manager_client.get("/api/v1/reports/overview/", {"range": "last_quarter"})
    assert (week.json()["start"], week.json()["end"], week.json()["n"]) == (
        "2026-03-09",
        "2026-03-15",
        2,
    )
    assert (quarter["start"], quarter["end"], quarter["n"]) == ("2026-01-01", "2026-03-15", 20)
    assert (custom["start"], custom["end"], custom["n"]) == ("2026-03-01", "2026-03-05", 5)
    assert overview.json()["start"] == "2025-10-01" and overview.json()["end"] == "2025-12-31"
    anything = get(manager_client, touchpoint="", group_by="", language="", **{"attr.agent": ""})
    assert anything.json()["n"] == get(manager_client).json()["n"] == 10


def test_overview_lists_active_surveys_with_a_sparkline(manager_client, shop):
    make_survey(slug="draft", publish=False)
    response = manager_client.get(
        "/api/v1/reports/overview/", {"start": "2026-01-01", "end": "2026-03-31"}
    )
    assert response.status_code == 200, response.content
    surveys = response.json()["surveys"]
    assert [s["slug"] for s in surveys] == ["shop"]
    assert (surveys[0]["csat"], surveys[0]["n"], surveys[0]["interval"]) == (65.0, 20, "week")
    series = surveys[0]["series"]
    assert (len(series), series[0]["period"], sum(p["n"] for p in series)) == (14, "2025-12-29", 20)
    assert manager_client.get("/api/v1/reports/overview/", {"start": "x"}).status_code == 400
    assert manager_client.get("/api/v1/reports/overview/", {"survey": "x"}).status_code == 400
    assert APIClient().get("/api/v1/reports/overview/").status_code in (401, 403)


def test_the_schema_documents_the_report(admin_client):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/reports/csat/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "survey",
        "start",
        "end",
        "interval",
        "group_by",
        "question",
        "attr.<name>",
    }
    assert "/api/v1/reports/overview/" in schema["paths"]


def test_reversed_scale_report_over_the_api(manager_client):
    make_survey(
        slug="grades", questions=[rating_question(key="grade", reversed=True, primary=True)]
    )
    from surveys.models import Survey

    survey = Survey.objects.get(slug="grades")
    for score in (1, 2, 5):
        add_response(survey, {"grade": score}, at="2026-03-02T10:00")
    rollups.rebuild()
    body = manager_client.get(
        URL, {"survey": "grades", "start": "2026-03-01", "end": date(2026, 3, 5).isoformat()}
    ).json()
    assert (body["csat"], body["mean"], body["question"]["reversed"]) == (66.67, 2.67, True)
    assert body["distribution"][0]["label"] == "Very satisfied"
