"""Rollups give exactly the figures computed from the raw responses, and follow new answers."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from reports import rollups, service
from reports.models import AnswerPairRollup, AnswerRollup, ContactDay, CoverageRollup, DirtyDay
from reports.tasks import refresh_rollups
from surveys.models import Contact, Invitation, TouchpointEvent
from tests.factories import make_survey, rating_question
from tests.report_data import add_response

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=UTC)
CHANNELS = ["web", "phone", "shop"]
AGENTS = ["ann", "bob", "cem", "dee"]


def three_question_survey(slug="mixed"):
    return make_survey(
        slug=slug,
        csat_target=70,
        questions=[
            rating_question(key="satisfaction", primary=True),
            {"key": "recommend", "kind": "nps", "scale": "0-10", "text": "Recommend us?"},
            {"key": "effort", "kind": "ces", "scale": "1-7", "text": "How easy was it?"},
            {"key": "comment", "kind": "comment", "text": "Anything else?"},
        ],
    )


def random_data(survey, rng: random.Random, *, responses=300, days=70, start=START):
    contacts = [Contact.objects.create(email=f"c{i}-{survey.slug}@example.com") for i in range(60)]
    for _ in range(responses):
        at = start + timedelta(minutes=rng.randrange(days * 24 * 60))
        attributes = {}
        if rng.random() < 0.9:
            attributes["channel"] = rng.choice(CHANNELS)
        if rng.random() < 0.7:
            attributes["agent"] = rng.choice(AGENTS)
        if rng.random() < 0.2:
            attributes["priority"] = rng.choice([1, 2])
        if rng.random() < 0.1:
            attributes["tags"] = ["a", "b"]  # not a scalar: never a dimension
        scores = {"satisfaction": rng.randint(1, 5)}
        if rng.random() < 0.6:
            scores["recommend"] = rng.randint(0, 10)
        if rng.random() < 0.4:
            scores["effort"] = rng.randint(1, 7)
        add_response(
            survey,
            scores,
            at=at,
            contact=rng.choice(contacts + [None]),
            locale=rng.choice(["en", "de", "nl"]),
            attributes=attributes,
            is_test=rng.random() < 0.05,
        )
    for i in range(responses):
        sent = start + timedelta(minutes=rng.randrange(days * 24 * 60))
        Invitation.objects.create(
            survey=survey,
            contact=rng.choice(contacts),
            salt=f"s{i}",
            token_hash=f"{survey.slug}-{i}",
            locale=rng.choice(["en", "de"]),
            attributes={"channel": rng.choice(CHANNELS)},
            status="sent",
            sent_at=sent,
            clicked_at=sent + timedelta(hours=1) if rng.random() < 0.5 else None,
            answered_at=sent + timedelta(hours=2) if rng.random() < 0.3 else None,
            is_test=rng.random() < 0.05,
        )
    for i in range(responses * 2):
        TouchpointEvent.objects.create(
            type=survey.touchpoint,
            external_id=f"{survey.slug}-{i}",
            occurred_at=start + timedelta(minutes=rng.randrange(days * 24 * 60)),
            contact=rng.choice(contacts),
        )


REQUESTS = [
    {},
    {"interval": "week"},
    {"interval": "month", "group_by": "channel"},
    {"group_by": "language"},
    {"group_by": "touchpoint"},
    {"group_by": "agent", "attrs": {"channel": "web"}},
    {"group_by": "channel", "attrs": {"agent": "ann"}},
    {"group_by": "agent", "language": "de"},
    {"attrs": {"channel": "phone", "agent": "bob"}},
    {"attrs": {"priority": "1"}, "group_by": "priority"},
    {"attrs": {"channel": "web", "agent": "cem"}, "group_by": "language"},  # raw fallback
    {"question_key": "recommend", "group_by": "channel"},
    {"question_key": "effort", "touchpoint": "purchase"},
    {"touchpoint": "support_contact"},
]


def assert_same(survey, start, end, request):
    raw = service.csat_report(survey, start=start, end=end, source="raw", **request)
    fast = service.csat_report(survey, start=start, end=end, source="rollups", **request)
    raw.pop("source"), fast.pop("source")
    assert fast == raw, request


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_give_the_same_figures_as_the_raw_responses(settings, seed):
    settings.TIME_ZONE = "Europe/Berlin"  # local days differ from UTC days
    rng = random.Random(seed)
    survey = three_question_survey()
    random_data(survey, rng)
    rollups.rebuild()
    ranges = [(date(2026, 1, 1), date(2026, 3, 15)), (date(2026, 1, 20), date(2026, 2, 10))]
    for _ in range(3):
        a = date(2026, 1, 1) + timedelta(days=rng.randrange(70))
        ranges.append((a, a + timedelta(days=rng.randrange(40))))
    for start, end in ranges:
        for request in REQUESTS:
            assert_same(survey, start, end, request)
    report = service.csat_report(survey, start=ranges[0][0], end=ranges[0][1])
    assert report["n"] > 200 and report["nps"]["n"] > 0 and report["ces"]["n"] > 0
    assert 0 < report["respondents"] <= 60 and report["customers"] > 0
    assert report["sent"] > 0 and report["response_rate"] is not None


def test_recomputing_a_day_gives_the_same_rows():
    survey = three_question_survey()
    random_data(survey, random.Random(3), responses=80, days=5)
    rollups.rebuild()

    def snapshot():
        return sorted(
            AnswerRollup.objects.values_list(
                "question_id", "day", "dimension", "value", "score", "answers", "satisfied"
            )
        ), sorted(
            AnswerPairRollup.objects.values_list(
                "day", "dimension", "value", "dimension2", "value2", "score", "answers"
            )
        )

    before = snapshot()
    for day in (date(2026, 1, 2), date(2026, 1, 3)):
        rollups.recompute_day(survey, day)
        rollups.recompute_day(survey, day)
    rollups.rebuild()
    assert snapshot() == before
    assert AnswerRollup.objects.filter(dimension="attr:tags").count() == 0


def test_new_answers_reach_the_rollups_through_the_beat_task(settings):
    survey = three_question_survey()
    rng = random.Random(4)
    random_data(survey, rng, responses=100, days=30)
    rollups.rebuild()
    contact = Contact.objects.create(email="late@example.com")
    # answers arrive later, on old days (a contact seen before and after) and a new day
    for at in ("2026-01-05T10:00", "2026-01-20T10:00", "2026-02-10T09:00"):
        response = add_response(
            survey, {"satisfaction": 1}, at=at, contact=contact, attributes={"channel": "web"}
        )
        from reports.receivers import mark_response_days

        mark_response_days(sender=None, response=response)
    TouchpointEvent.objects.create(
        type="purchase", external_id="late", occurred_at=START, contact=contact
    )
    assert DirtyDay.objects.count() == 3
    assert refresh_rollups.apply().get() >= 4
    assert DirtyDay.objects.count() == 0
    for request in REQUESTS[:6]:
        assert_same(survey, date(2026, 1, 1), date(2026, 2, 28), request)
        assert_same(survey, date(2026, 1, 10), date(2026, 1, 31), request)

    # coverage rows are exactly those of a rebuild from scratch
    def rows():
        return sorted(
            map(str, ContactDay.objects.values_list("scope", "contact_id", "day", "previous_day"))
        ), sorted(
            map(str, CoverageRollup.objects.values_list("scope", "day", "previous_day", "contacts"))
        )

    incremental = rows()
    rollups.rebuild()
    assert incremental == rows()


def test_deleted_responses_leave_the_rollups_on_refresh():
    survey = three_question_survey()
    contact = Contact.objects.create(email="gone@example.com")
    response = add_response(survey, {"satisfaction": 5}, at="2026-01-05T10:00", contact=contact)
    add_response(survey, {"satisfaction": 2}, at="2026-01-09T10:00", contact=contact)
    rollups.rebuild()
    response.delete()
    rollups.mark_dirty(survey.pk, [date(2026, 1, 5)])
    rollups.refresh()
    report = service.csat_report(survey, start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert (report["n"], report["csat"], report["respondents"]) == (1, 0.0, 1)
    assert ContactDay.objects.get(scope=rollups.respondents_scope(survey.pk)).previous_day is None


def test_answer_page_marks_the_day_dirty_in_one_statement(client, django_assert_num_queries):
    from surveys import services

    survey = make_survey(slug="hot", questions=[rating_question(primary=True, required=True)])
    contact = Contact.objects.create(email="hot@example.com")
    invitation, _token = services.new_invitation(survey=survey, contact=contact)
    invitation.sent_at = datetime(2026, 1, 3, 8, tzinfo=UTC)
    invitation.save()
    from reports.receivers import mark_response_days

    response = services.record_response(
        invitation=invitation, answers={"satisfaction": "4"}, locale="en"
    )
    DirtyDay.objects.all().delete()
    with django_assert_num_queries(1):
        mark_response_days(sender=None, response=response)
    assert DirtyDay.objects.filter(survey_id=survey.pk).count() == 2
    assert connection.vendor in ("postgresql", "sqlite")


def test_rebuild_rollups_command_rebuilds_one_survey_or_all(capsys):
    from django.core.management import CommandError, call_command

    survey = three_question_survey()
    add_response(survey, {"satisfaction": 5}, at="2026-01-05T10:00")
    add_response(survey, {"satisfaction": 4}, at="2026-02-05T10:00")
    call_command("rebuild_rollups", "--survey", "mixed")
    assert "Rollups rebuilt: 32 survey days" in capsys.readouterr().out
    AnswerRollup.objects.all().delete()
    call_command("rebuild_rollups", "--since", "2026-02-01")
    report = service.csat_report(survey, start=date(2026, 1, 1), end=date(2026, 2, 28))
    assert report["n"] == 1  # January was left alone
    call_command("rebuild_rollups")
    report = service.csat_report(survey, start=date(2026, 1, 1), end=date(2026, 2, 28))
    assert (report["n"], report["csat"]) == (2, 100.0)
    with pytest.raises(CommandError, match="no survey"):
        call_command("rebuild_rollups", "--survey", "nope")
    with pytest.raises(CommandError, match="--since"):
        call_command("rebuild_rollups", "--since", "yesterday")
