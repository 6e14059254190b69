"""Rollups give exactly the figures computed from the raw responses, and follow new answers."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Q

from reports import rollups, selectors, service
from reports.models import (
    AnswerCube,
    AnswerPairCube,
    ContactDay,
    CoverageGrid,
    CoverageRollup,
    DirtyDay,
    DirtyMonth,
    InvitationCube,
    RollupOverflow,
)
from reports.tasks import refresh_rollups
from reports.vocabulary import respondents_scope
from surveys.models import Contact, Invitation, TouchpointEvent
from tests.factories import make_invitation, make_survey, rating_question
from tests.report_data import add_response

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rollups_engine")]

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


def cube_rows(model) -> list[str]:
    """Every row of a rollup table without its id, sorted."""
    fields = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    return sorted(map(str, model.objects.values_list(*fields)))


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
        return [
            cube_rows(model)
            for model in (AnswerCube, AnswerPairCube, InvitationCube, RollupOverflow)
        ]

    before = snapshot()
    for day in (date(2026, 1, 2), date(2026, 1, 3)):
        rollups.recompute_day(survey, day)
        rollups.recompute_day(survey, day)
    rollups.rebuild()
    assert snapshot() == before
    assert AnswerCube.objects.filter(dimension="attr:tags").count() == 0


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
        return [cube_rows(model) for model in (ContactDay, CoverageRollup, CoverageGrid)]

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
    assert ContactDay.objects.get(scope=respondents_scope(survey.pk)).previous_day is None


@pytest.mark.django_db(transaction=True)
def test_answer_page_marks_the_day_dirty_in_one_round_trip(monkeypatch):
    """The mark runs on every answer, after its commit: one statement, no transaction around it
    (a BEGIN and a COMMIT would be two more round trips)."""
    import psycopg

    from reports.receivers import mark_response_days
    from surveys import responses

    survey = make_survey(slug="hot", questions=[rating_question(primary=True, required=True)])
    contact = Contact.objects.create(email="hot@example.com")
    invitation, _token = make_invitation(
        survey, contact, sent_at=datetime(2026, 1, 3, 8, tzinfo=UTC)
    )
    response = responses.record_response(
        invitation=invitation, answers={"satisfaction": "4"}, locale="en"
    )
    DirtyDay.objects.all().delete()
    statements, commits = [], []
    execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit

    def counted_execute(cursor, query, params=None, **options):
        statements.append(str(query))
        return execute(cursor, query, params, **options)

    def counted_commit(conn):
        commits.append(conn)
        return commit(conn)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Connection, "commit", counted_commit)
    mark_response_days(sender=None, response=response)
    monkeypatch.undo()
    assert len(statements) == 1 and "ON CONFLICT DO NOTHING" in statements[0]
    assert commits == [] and connection.get_autocommit()
    # the response's day and the day its invitation was sent
    assert DirtyDay.objects.filter(survey_id=survey.pk).count() == 2


def test_rebuild_rollups_command_rebuilds_one_survey_or_all(capsys):
    from django.core.management import CommandError, call_command

    survey = three_question_survey()
    add_response(survey, {"satisfaction": 5}, at="2026-01-05T10:00")
    add_response(survey, {"satisfaction": 4}, at="2026-02-05T10:00")
    call_command("rebuild_rollups", "--survey", "mixed")
    assert "Rollups rebuilt: 32 survey days" in capsys.readouterr().out
    AnswerCube.objects.all().delete()
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


def test_whole_closed_months_are_read_from_month_rows_and_dirty_months_from_days(
    django_assert_max_num_queries,
):
    survey = three_question_survey()
    random_data(survey, random.Random(5), responses=200, days=90)
    rollups.rebuild()
    months = set(AnswerCube.objects.filter(grain="m").values_list("period", flat=True))
    assert months == {date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)}
    assert not DirtyMonth.objects.exists()
    # a month row is the sum of its day rows
    days = AnswerCube.objects.filter(
        grain="d", period__month=2, dimension="", question__key="satisfaction"
    )
    [month] = AnswerCube.objects.filter(
        grain="m", period=date(2026, 2, 1), dimension="", question__key="satisfaction"
    )
    assert month.n5 == sum(d.n5 for d in days) and month.satisfied == sum(d.satisfied for d in days)

    # A late answer in February: its day is recomputed and February reads from days until
    # the refresh sums it again; the figures are exact all along.
    late = add_response(
        survey, {"satisfaction": 1}, at="2026-02-14T10:00", attributes={"channel": "web"}
    )
    from reports.receivers import mark_response_days

    mark_response_days(sender=None, response=late)
    rollups.recompute_day(survey, date(2026, 2, 14))
    assert DirtyMonth.objects.filter(month=date(2026, 2, 1)).exists()
    for request in REQUESTS:
        assert_same(survey, date(2026, 1, 1), date(2026, 3, 31), request)
    rollups.refresh()
    assert not DirtyMonth.objects.filter(month=date(2026, 2, 1)).exists()
    for request in REQUESTS:
        assert_same(survey, date(2026, 1, 1), date(2026, 3, 31), request)
        assert_same(survey, date(2026, 1, 15), date(2026, 4, 2), request)
    with django_assert_max_num_queries(12):
        report = service.csat_report(
            survey, start=date(2026, 1, 1), end=date(2026, 3, 31), interval="month"
        )
    assert report["source"] == "rollups"


def test_a_dimension_with_too_many_values_is_read_from_the_raw_rows(settings):
    settings.REPORTS_MAX_DIMENSION_VALUES = 5
    survey = three_question_survey()
    rng = random.Random(6)
    for i in range(40):
        add_response(
            survey,
            {"satisfaction": rng.randint(1, 5)},
            at=START + timedelta(hours=i * 12 if i < 10 else 240 + i),
            attributes={"order_id": f"A-{i}", "channel": rng.choice(CHANNELS)},
        )
    rollups.rebuild()
    assert RollupOverflow.objects.filter(dimension="attr:order_id", grain="d").exists()
    assert RollupOverflow.objects.filter(dimension="attr:order_id", grain="m").exists()
    # quiet days keep their few order numbers; the busy days and the month have none
    busy = {date(2026, 1, 11), date(2026, 1, 12)}
    for kept in (
        AnswerCube.objects.filter(dimension="attr:order_id"),
        AnswerPairCube.objects.filter(Q(dimension="attr:order_id") | Q(dimension2="attr:order_id")),
    ):
        assert kept.filter(grain="d", period__lt=date(2026, 1, 11)).exists()
        assert not kept.filter(Q(grain="m") | Q(period__in=busy)).exists()
    assert AnswerCube.objects.filter(dimension="attr:channel", grain="m").exists()
    for request in (
        {"group_by": "order_id"},
        {"attrs": {"order_id": "A-3"}},
        {"attrs": {"channel": "web"}, "group_by": "order_id"},
    ):
        assert_same(survey, date(2026, 1, 1), date(2026, 1, 31), request)
        report = service.csat_report(
            survey, start=date(2026, 1, 1), end=date(2026, 1, 31), **request
        )
        assert report["source"] == "raw"
    report = service.csat_report(
        survey, start=date(2026, 1, 1), end=date(2026, 1, 31), group_by="channel"
    )
    assert report["source"] == "rollups" and report["n"] == 40


def test_the_funnel_counts_invitations_sent_in_the_range_from_the_rollups():
    survey = three_question_survey()
    contact = Contact.objects.create(email="f@example.com")
    sent = datetime(2026, 1, 10, 9, tzinfo=UTC)
    for i, (bounced, clicked, answered) in enumerate(
        [(True, False, False), (False, True, False), (False, True, True), (False, True, True)]
    ):
        invitation = Invitation.objects.create(
            survey=survey,
            contact=contact,
            salt=f"s{i}",
            token_hash=f"funnel-{i}",
            status="sent",
            sent_at=sent,
            bounced_at=sent if bounced else None,
            clicked_at=sent if clicked else None,
            answered_at=sent if answered else None,
            attributes={"channel": "web"},
        )
        if answered:
            response = add_response(survey, {"satisfaction": 4}, at=sent)
            response.invitation = invitation
            response.save()
            if i == 3:
                from surveys.models import Answer

                Answer.objects.create(
                    response=response,
                    question=survey.questions.get(key="comment"),
                    text="Quick delivery",
                )
    rollups.rebuild()
    for source in ("rollups", "raw"):
        report = service.csat_report(
            survey, start=date(2026, 1, 1), end=date(2026, 1, 31), source=source
        )
        assert report["funnel"] == {
            "sent": 4,
            "delivered": 3,
            "bounced": 1,
            "clicked": 3,
            "answered": 2,
            "commented": 1,
        }
    assert_same(survey, date(2026, 1, 1), date(2026, 1, 31), {"attrs": {"channel": "web"}})


def test_a_late_click_reaches_the_funnel_of_the_day_the_invitation_was_sent(client):
    survey = make_survey(slug="clicks", questions=[rating_question(primary=True, required=True)])
    contact = Contact.objects.create(email="click@example.com")
    invitation, token = make_invitation(
        survey, contact, status="sent", sent_at=datetime(2026, 1, 3, 8, tzinfo=UTC), expires_at=None
    )
    rollups.rebuild()
    DirtyDay.objects.all().delete()
    assert client.get(f"/s/{token}/?score=4").status_code == 200
    assert list(DirtyDay.objects.values_list("survey_id", "day")) == [(survey.pk, date(2026, 1, 3))]
    rollups.refresh()
    report = service.csat_report(survey, start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert (report["funnel"]["sent"], report["funnel"]["clicked"]) == (1, 1)


def test_dimensions_beyond_the_daily_limit_are_read_from_the_raw_rows(monkeypatch):
    monkeypatch.setattr(
        rollups.common, "MAX_DIMENSIONS", 3
    )  # attr:a, attr:b, attr:c; then the rest
    survey = three_question_survey()
    rng = random.Random(7)
    for i in range(30):
        extra = {"z": "late"} if i % 2 else {}
        add_response(
            survey,
            {"satisfaction": rng.randint(1, 5)},
            at=START + timedelta(hours=i * 7),
            attributes={"a": rng.choice("xy"), "b": rng.choice("uv"), "c": "k", **extra},
        )
    rollups.rebuild()
    dims = set(AnswerCube.objects.values_list("dimension", flat=True))
    assert dims == {"", "attr:a", "attr:b", "attr:c"}
    assert RollupOverflow.objects.filter(dimension="language", grain="d").exists()
    for request in (
        {"group_by": "a", "attrs": {"b": "u"}},
        {"group_by": "language"},
        {"attrs": {"z": "late"}},
        {"touchpoint": "purchase"},
    ):
        assert_same(survey, date(2026, 1, 1), date(2026, 1, 31), request)
    report = service.csat_report(
        survey, start=date(2026, 1, 1), end=date(2026, 1, 31), group_by="c"
    )
    assert report["source"] == "rollups" and report["n"] == 30


def test_distinct_contacts_from_the_grid_equal_the_raw_count_for_any_range():
    survey = three_question_survey()
    rng = random.Random(8)
    random_data(survey, rng, responses=150, days=100, start=datetime(2026, 1, 20, tzinfo=UTC))
    rollups.rebuild()
    raw = selectors.RawSource()
    fast = selectors.RollupSource()
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(0, 140)]
    for _ in range(60):
        first, last = sorted(rng.sample(days, 2))
        expected = raw.coverage_counts(survey, first, last, survey.touchpoint)
        assert fast.coverage_counts(survey, first, last, survey.touchpoint) == expected, (
            first,
            last,
        )
    assert fast.coverage_counts(survey, date(2026, 1, 1), date(2026, 6, 1), "purchase")[0] > 30


def test_a_rebuilt_scope_forgets_grid_rows_of_days_without_rows():
    survey = three_question_survey()
    early, late = (Contact.objects.create(email=f"{n}@example.com") for n in ("early", "late"))
    first = TouchpointEvent.objects.create(
        type="purchase", external_id="a", occurred_at=START, contact=early
    )
    TouchpointEvent.objects.create(
        type="purchase", external_id="b", occurred_at=START + timedelta(days=2), contact=late
    )
    rollups.rebuild()
    first.delete()  # the early day has no rows any more
    rollups.rebuild()
    report = service.csat_report(survey, start=date(2026, 1, 2), end=date(2026, 1, 31))
    assert report["customers"] == 1
