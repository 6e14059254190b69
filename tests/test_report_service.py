"""The report service: figures from counts, the JSON shape the API and dashboard rely on."""

from datetime import date

import pytest

from reports import service
from tests.factories import make_survey, rating_question
from tests.report_data import add_response

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("source", ["raw", "rollups"])
def test_seventy_of_a_hundred_satisfied_is_seventy_percent(survey, source):
    for i in range(100):
        add_response(survey, {"satisfaction": 5 if i < 70 else 2}, at="2026-03-10T12:00")
    rebuild_if_rollups(source)
    report = service.csat_report(
        survey, start=date(2026, 3, 1), end=date(2026, 3, 31), interval="week", source=source
    )
    assert (report["csat"], report["n"], report["satisfied"]) == (70.0, 100, 70)
    assert report["mean"] == pytest.approx(4.1)
    assert [d["count"] for d in report["distribution"]] == [0, 30, 0, 0, 70]
    assert report["distribution"][4]["label"] == "Very satisfied"
    assert (report["ci_low"], report["ci_high"]) == (60.42, 78.11)
    week = next(s for s in report["series"] if s["period"] == "2026-03-09")
    assert (week["csat"], week["n"]) == (70.0, 100)
    assert report["previous"]["n"] == 0
    assert report["previous"]["change"] is None


def test_reversed_scale_and_test_responses(db):
    survey = make_survey(
        slug="grades",
        questions=[rating_question(key="grade", reversed=True, primary=True)],
        csat_target=60,
    )
    for score in (1, 2, 2, 3, 5):
        add_response(survey, {"grade": score}, at="2026-03-10T12:00")
    add_response(survey, {"grade": 5}, at="2026-03-10T12:00", is_test=True)
    report = service.csat_report(
        survey, start=date(2026, 3, 10), end=date(2026, 3, 10), source="raw"
    )
    assert (report["csat"], report["n"], report["mean"]) == (60.0, 5, 2.6)
    assert report["question"] == {
        "key": "grade",
        "kind": "rating",
        "scale": "1-5",
        "reversed": True,
    }
    assert (report["target"], report["above_target"], report["small_sample"]) == (60.0, True, True)


def rebuild_if_rollups(source: str) -> None:
    if source == "rollups":
        try:
            from reports import rollups
        except ImportError:
            return
        rollups.rebuild()


@pytest.mark.parametrize("source", ["raw", "rollups"])
def test_coverage_is_a_share_of_the_customers_with_a_touchpoint_or_nothing(survey, source):
    from datetime import UTC, datetime

    from surveys.models import Contact, TouchpointEvent

    contacts = [Contact.objects.create(email=f"c{i}@example.com") for i in range(4)]
    for contact in contacts[:3]:
        add_response(survey, {"satisfaction": 5}, at="2026-03-10T12:00", contact=contact)
    for i, contact in enumerate(contacts):
        TouchpointEvent.objects.create(
            type=survey.touchpoint,
            external_id=f"o-{i}",
            occurred_at=datetime(2026, 3, 9, 12, tzinfo=UTC),
            contact=contact,
        )
    rebuild_if_rollups(source)
    report = service.csat_report(
        survey, start=date(2026, 3, 1), end=date(2026, 3, 31), source=source
    )
    assert (report["respondents"], report["customers"], report["coverage"]) == (3, 4, 75.0)

    # Answers whose touchpoints were never recorded (an imported history): no share above 100 %.
    TouchpointEvent.objects.filter(external_id__in=["o-0", "o-1"]).delete()
    rebuild_if_rollups(source)
    report = service.csat_report(
        survey, start=date(2026, 3, 1), end=date(2026, 3, 31), source=source
    )
    assert (report["respondents"], report["customers"], report["coverage"]) == (3, 2, None)


def test_without_rollups_reports_read_the_raw_rows_and_their_upkeep_does_nothing(survey, client):
    """The SQLite demo: no rollup is written or marked; every report reads the raw rows."""
    from django.core.management import call_command

    from reports import rollups
    from reports.models import AnswerCube, DirtyDay
    from tests.conftest import on_postgres

    if on_postgres():
        pytest.skip("PostgreSQL keeps rollups (tests/test_report_rollups.py)")
    add_response(survey, {"satisfaction": 5}, at="2026-03-10T12:00")
    rollups.mark_dirty(survey.pk, [date(2026, 3, 10)])
    assert (rollups.refresh(), rollups.rebuild()) == (0, 0)
    call_command("rebuild_rollups")
    assert not DirtyDay.objects.exists() and not AnswerCube.objects.exists()
    report = service.csat_report(survey, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert (report["source"], report["n"], report["csat"]) == ("raw", 1, 100.0)
