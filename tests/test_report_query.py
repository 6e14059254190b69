"""One report query for the dashboard pages, the exports and the report API (reports.query).

The same query string reads the same report on the page and in the API, or is refused by both
naming the same parameter."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from reports.query import ReportError, default_interval, parse_query
from tests.dashboard_data import respond
from tests.report_data import nps_survey

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 31)


@pytest.fixture
def shop(db):
    survey = nps_survey()
    for i in range(60):
        respond(
            survey,
            5 if i % 3 else 2,
            "slow" if i % 5 == 0 else "",
            at=f"2026-{1 + i % 3:02d}-{1 + i % 28:02d}T10:00",
            attributes={"channel": "web" if i % 2 else "phone", "a.b": "x" if i % 4 else "y"},
            touchpoint_type="purchase" if i % 7 else "support_contact",
        )
    return survey


def page_report(response) -> dict:
    html = response.content.decode()
    raw = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(raw.group(1))["report"]


def page_error(response) -> str:
    return re.search(r"<code>(.*?)</code>", response.content.decode()).group(1)


QUERIES = [
    "",
    "range=7d",
    "range=30d",
    "range=90d",  # weekly on both (the page's rule; the API's default was daily)
    "range=quarter",
    "range=last_quarter",
    "range=custom&start=2026-02-01&end=2026-02-28",
    "start=2026-02-01&end=2026-03-15",
    "start=2026-01-10",  # to today
    "end=2026-02-15",  # the 30 days up to the end
    "range=7d&start=2020-01-01&end=2020-02-01",  # a preset ignores start and end
    "range=custom&start=2020-01-01&end=2026-03-31&interval=month",  # 6 years: up to ten
    "range=custom&start=2025-01-01&end=2026-03-31",  # monthly by default
    "range=90d&interval=day",
    "range=90d&interval=month",
    "range=90d&interval=",
    "range=90d&group_by=channel",
    "range=90d&group_by=attr.channel",
    "range=90d&group_by=language",
    "range=90d&group_by=touchpoint",
    "range=90d&attr.channel=web",
    "range=90d&attr.channel=&touchpoint=&group_by=&language=&question=",  # "any"
    "range=90d&attr.a.b=x",  # an attribute name with a dot, as ingest accepts it
    "range=90d&attr.a.b=x&group_by=a.b",
    "range=90d&attr.channel=web&attr.a.b=y&group_by=touchpoint",
    "range=90d&touchpoint=purchase&group_by=channel",
    "range=90d&touchpoint=%20purchase%20",  # values are trimmed
    "range=90d&language=en",
    "range=90d&language=de",
    "range=90d&question=recommend&group_by=channel",
    # refused, naming the parameter
    "range=forever",
    "range=custom&start=2026-13-01&end=2026-03-02",
    "range=custom&start=2026-03-01&end=yesterday",
    "range=custom&start=2026-03-05&end=2026-03-01",
    "range=custom&start=2010-01-01&end=2026-03-31&interval=month",  # over ten years
    "range=custom&start=2020-01-01&end=2026-03-31&interval=day",  # too many days to chart
    "interval=hour",
    "attr.=x",
    "attr.bad%20name=x",
    "group_by=attr.",
    "group_by=bad%20name",
    "touchpoint=" + "x" * 41,
    "language=" + "x" * 17,
    "attr.channel=" + "x" * 201,
    "question=nope",
    "question=comment",
    "colour=red",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_page_the_export_and_the_api_read_a_query_alike(manager_client, shop, query):
    with time_machine.travel(NOW, tick=False):
        api = manager_client.get(f"/api/v1/reports/csat/?survey=shop&{query}")
        page = manager_client.get(f"/dashboard/shop/?{query}")
        export = manager_client.get(f"/dashboard/shop/export/series.csv?{query}")
    assert page.status_code == export.status_code == api.status_code, query
    if api.status_code == 400:
        [field] = [key for key in api.json() if key != "detail"]
        assert page_error(page) == page_error(export) == field
        return
    assert api.status_code == 200, api.content
    assert page_report(page) == api.json()
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [s["period"] for s in api.json()["series"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, (date(2026, 3, 2), TODAY, "30d", "day")),
        ({"range": "7d"}, (date(2026, 3, 25), TODAY, "7d", "day")),
        ({"range": "90d"}, (date(2026, 1, 1), TODAY, "90d", "week")),
        ({"range": "quarter"}, (date(2026, 1, 1), TODAY, "quarter", "week")),
        (
            {"range": "last_quarter"},
            (date(2025, 10, 1), date(2025, 12, 31), "last_quarter", "week"),
        ),
        ({"start": "2026-03-01"}, (date(2026, 3, 1), TODAY, "custom", "day")),
        ({"end": "2026-03-10"}, (date(2026, 2, 9), date(2026, 3, 10), "custom", "day")),
        (
            {"range": "custom", "start": "2016-04-02", "end": "2026-03-31"},
            (date(2016, 4, 2), TODAY, "custom", "month"),
        ),
    ],
)
def test_a_range_and_its_default_interval(query, expected):
    parsed = parse_query(query, today=TODAY)
    assert (parsed.start, parsed.end, parsed.preset, parsed.interval) == expected


def test_the_default_interval_follows_the_length_of_the_range():
    assert [default_interval(days) for days in (1, 31, 32, 183, 184, 3660)] == [
        "day",
        "day",
        "week",
        "week",
        "month",
        "month",
    ]


def test_a_query_is_written_back_as_the_same_query():
    params = {
        "range": "custom",
        "start": "2026-02-01",
        "end": "2026-02-28",
        "interval": "week",
        "touchpoint": "purchase",
        "language": "de",
        "question": "recommend",
        "attr.a.b": "x",
        "group_by": "channel",
    }
    parsed = parse_query(params, today=TODAY)
    assert dict(parsed.params()) == params
    assert parse_query(dict(parsed.params()), today=TODAY) == parsed


def test_a_page_names_its_own_parameters_and_the_overview_only_the_period():
    assert parse_query({"band": "happy"}, own=("band",), today=TODAY).preset == "30d"
    with pytest.raises(ReportError) as error:
        parse_query({"band": "happy"}, today=TODAY)
    assert error.value.field == "band"
    with pytest.raises(ReportError) as error:
        parse_query({"range": "7d", "attr.channel": "web"}, only=("range",), today=TODAY)
    assert error.value.field == "attr.channel"
