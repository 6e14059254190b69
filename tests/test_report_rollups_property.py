"""Property: for any small set of answers, the rollups (PostgreSQL) give exactly the figures of
the raw rows: cubes, months, coverage and comments."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import rollups, service
from reports.models import AnswerCube, CommentRollup, CoverageGrid
from reports.query import ReportQuery
from reports.responses import BANDS, CommentQuery, band_counts, comment_rollups, comments
from surveys.models import Contact, Invitation, Response, Survey, TouchpointEvent
from tests.factories import make_survey, rating_question
from tests.report_data import add_response

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rollups_engine")]

START = datetime(2026, 1, 25, tzinfo=UTC)  # the data spans the end of January and February

answers = st.lists(
    st.fixed_dictionaries(
        {
            "minute": st.integers(0, 40 * 24 * 60),
            "score": st.none() | st.integers(1, 5),
            "comment": st.sampled_from(["", "", "fine", "slow"]),
            "recommend": st.none() | st.integers(0, 10),
            "locale": st.sampled_from(["en", "de"]),
            "channel": st.none() | st.sampled_from(["web", "phone", "7"]),
            "agent": st.none() | st.sampled_from(["ann", "bob"]),
            "contact": st.none() | st.integers(0, 5),
        }
    ),
    max_size=40,
)
requests = st.fixed_dictionaries(
    {
        "first": st.integers(0, 45),
        "length": st.integers(0, 45),
        "interval": st.sampled_from(["day", "week", "month"]),
        "group_by": st.none() | st.sampled_from(["channel", "agent", "language"]),
        "attrs": st.sampled_from([{}, {"channel": "web"}, {"agent": "bob"}, {"channel": "7"}]),
        "language": st.none() | st.just("de"),
        "question_key": st.sampled_from([None, "recommend"]),
        "sort": st.sampled_from(["unhappy", "newest"]),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=answers, request=requests)
def test_rollups_equal_the_raw_rows_for_any_answers(data, request):
    for model in (Response, Invitation, TouchpointEvent, Contact, Survey):
        model.objects.all().delete()
    survey = make_survey(
        slug="prop",
        questions=[
            rating_question(key="satisfaction", primary=True),
            {"key": "recommend", "kind": "nps", "scale": "0-10", "text": "Recommend us?"},
            {"key": "comment", "kind": "comment", "text": "Anything else?"},
        ],
    )
    contacts = [Contact.objects.create(email=f"p{i}@example.com") for i in range(6)]
    for index, row in enumerate(data):
        attributes = {k: row[k] for k in ("channel", "agent") if row[k] is not None}
        scores = {"satisfaction": row["score"]} if row["score"] is not None else {}
        if row["recommend"] is not None:
            scores["recommend"] = row["recommend"]
        at = START + timedelta(minutes=row["minute"])
        contact = contacts[row["contact"]] if row["contact"] is not None else None
        add_response(
            survey,
            scores,
            at=at,
            contact=contact,
            locale=row["locale"],
            attributes=attributes,
            comment=row["comment"],
        )
        if contact is not None:
            TouchpointEvent.objects.create(
                type=survey.touchpoint,
                external_id=f"t{index}",
                occurred_at=at,
                contact=contact,
            )
    rollups.rebuild()
    start = date(2026, 1, 20) + timedelta(days=request["first"])
    end = start + timedelta(days=request["length"])
    arguments = {
        "interval": request["interval"],
        "group_by": request["group_by"],
        "attrs": request["attrs"],
        "language": request["language"],
        "question_key": request["question_key"],
    }
    raw = service.csat_report(survey, start=start, end=end, source="raw", **arguments)
    fast = service.csat_report(survey, start=start, end=end, source="rollups", **arguments)
    assert fast.pop("source") == "rollups" or len(request["attrs"]) + bool(request["language"]) > 1
    raw.pop("source")
    assert fast == raw

    # the comments page: its rows in page order and its band counts, from the comment rollups
    query = ReportQuery(start=start, end=end, preset="custom", attrs=request["attrs"])
    expected = {"all": 0}
    for band in ["", *BANDS]:
        listing = CommentQuery(band=band, sort=request["sort"])
        rows = [answer.pk for answer in comments(survey, query, listing)]
        assert [row.answer_id for row in comment_rollups(survey, query, listing)] == rows
        expected[band or "all"] = len(rows)
    assert band_counts(survey, query) == expected


def test_the_property_reads_every_rollup():
    """The property's data reaches the month rows, the coverage grid and the comment rows."""
    survey = make_survey(
        slug="prop",
        questions=[
            rating_question(key="satisfaction", primary=True),
            {"key": "comment", "kind": "comment", "text": "Anything else?"},
        ],
    )
    contact = Contact.objects.create(email="p@example.com")
    add_response(survey, {"satisfaction": 2}, at=START, contact=contact, comment="slow")
    rollups.rebuild()
    assert AnswerCube.objects.filter(grain="m", period=date(2026, 1, 1)).exists()
    assert CoverageGrid.objects.exists()
    assert CommentRollup.objects.get().band == "unhappy"
