"""The sweep: a follow-up whose task was lost with the broker is opened a few minutes later."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from kombu.exceptions import OperationalError

from followups import services as followup_services
from followups import sweep, tasks, triggers
from followups.models import FollowUp, FollowUpSettings
from surveys.models import Answer, Response

from .dashboard_data import respond
from .factories import invite, make_survey, manager_user, rating_question
from .followups_support import eager_celery  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    """The edge of the world: queueing `open_follow_up` fails as with Redis unreachable."""
    queued: list[int] = []

    def unreachable(response_id):
        queued.append(response_id)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.open_follow_up, "delay", unreachable)
    return queued


def test_a_follow_up_lost_with_the_broker_is_opened_by_the_sweep(
    survey,
    broker_down,
    eager_celery,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    owner = manager_user(username="olga", email="olga@example.com")
    FollowUpSettings.objects.create(survey=survey, default_owner=owner)
    _, token = invite(survey=survey, email="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        reply = Client().post(f"/s/{token}/", {"satisfaction": "1", "comment": "Broken."})
    assert reply.status_code == 302  # the customer's answer is stored all the same
    response = Response.objects.get()
    assert broker_down == [response.pk]
    assert FollowUp.objects.count() == 0

    with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.sweep_follow_ups.apply().get() == 1
        follow_up = FollowUp.objects.get()
        assert follow_up.response == response and follow_up.assignee == owner
        assert follow_up.comment == "Broken."
        assert [m.to for m in mail.outbox] == [["olga@example.com"]]
        # Running again opens nothing more.
        assert tasks.sweep_follow_ups.apply().get() == 0
    assert FollowUp.objects.count() == 1


def test_beat_runs_the_sweep_every_five_minutes():
    entry = django_settings.CELERY_BEAT_SCHEDULE["followups-sweep"]
    assert entry["task"] == "followups.tasks.sweep_follow_ups"
    assert entry["schedule"] == 300


def test_the_sweep_leaves_happy_test_imported_old_and_just_given_answers_alone(survey):
    now = timezone.now()
    respond(survey, 5, at=now - timedelta(hours=1))  # happy
    respond(survey, 1, at=now - timedelta(hours=1), is_test=True)  # a designer's test
    imported = respond(survey, 1, at=now - timedelta(hours=1))
    Response.objects.filter(pk=imported.pk).update(source=Response.Source.IMPORT)
    respond(survey, 1, at=now - timedelta(hours=49))  # before the window
    fresh = respond(survey, 1, at=now - timedelta(seconds=30))  # its task may still be running
    quiet = make_survey(slug="quiet")
    FollowUpSettings.objects.create(survey=quiet, enabled=False)
    FollowUpSettings.objects.filter(survey=quiet).update(updated_at=now - timedelta(days=1))
    respond(quiet, 1, at=now - timedelta(hours=1))

    assert sweep.open_missed(now=now) == 0
    assert sweep.open_missed(now=now + timedelta(minutes=3)) == 1
    assert FollowUp.objects.get().response == fresh


def test_each_run_is_bounded_and_takes_the_oldest_first(survey, settings):
    settings.FOLLOWUPS_SWEEP_LIMIT = 2
    now = timezone.now()
    lost = [respond(survey, 2, at=now - timedelta(hours=5 - i)) for i in range(5)]
    assert [sweep.open_missed(now=now) for _ in range(4)] == [2, 2, 1, 0]
    opened = FollowUp.objects.order_by("id").values_list("response_id", flat=True)
    assert list(opened) == [r.pk for r in lost]


def test_settings_changed_later_do_not_reach_back(survey):
    now = timezone.now()
    config = FollowUpSettings.objects.create(survey=survey, enabled=False)
    respond(survey, 1, at=now - timedelta(hours=2))  # follow-ups were off: rightly none
    config.enabled = True
    config.save()
    assert sweep.open_missed(now=now + timedelta(minutes=3)) == 0
    later = respond(survey, 1, at=timezone.now())
    assert sweep.open_missed(now=timezone.now() + timedelta(minutes=3)) == 1
    assert FollowUp.objects.get().response == later


def test_the_sweep_follows_the_score_and_keyword_rules(db):
    grades = make_survey(
        slug="grades",
        questions=[
            rating_question(key="grade", reversed=True, primary=True),
            {"key": "comment", "kind": "comment", "text": "Anything else?"},
        ],
    )
    now = timezone.now()
    config = FollowUpSettings.objects.create(
        survey=grades, on_not_satisfied=False, score_at_most=4, keywords=["refund"]
    )
    FollowUpSettings.objects.filter(pk=config.pk).update(updated_at=now - timedelta(days=1))
    at = now - timedelta(hours=1)
    worse = respond(grades, 4, at=at)  # 4 on a school-grade scale is "4 or worse"
    respond(grades, 3, at=at)
    asks = respond(grades, 1, "When do I get my REFUND?", at=at)
    respond(grades, 2, "all good", at=at)
    assert sweep.open_missed(now=now) == 2
    assert set(FollowUp.objects.values_list("response_id", flat=True)) == {worse.pk, asks.pk}


def test_answers_that_skipped_the_primary_question_cannot_starve_the_sweep(db, settings):
    """A skipped primary question calls for no follow-up (no keyword either): the sweep must not
    pick such answers again and again while a real unhappy answer waits behind them."""
    two = make_survey(
        slug="two",
        questions=[
            rating_question(primary=True),
            rating_question(key="delivery"),
            {"key": "comment", "kind": "comment", "text": "Anything else?"},
        ],
    )
    _, delivery, _ = two.questions.order_by("position")
    now = timezone.now()
    skipped = Response.objects.bulk_create(
        Response(survey=two, submitted_at=now - timedelta(hours=3), touchpoint_type="purchase")
        for _ in range(250)
    )
    Answer.objects.bulk_create(
        Answer(response=r, question=delivery, score=5, score_norm=1.0, satisfied=True)
        for r in skipped
    )
    unhappy = respond(two, 1, at=now - timedelta(hours=1))
    assert sweep.open_missed(now=now) == 1
    assert FollowUp.objects.get().response == unhappy
    assert sweep.open_missed(now=now) == 0
    assert sweep.candidates(since=now - timedelta(hours=48), until=now, limit=200) == []


def test_the_answer_page_the_task_and_the_sweep_decide_alike(db):
    """One definition: what the answer page queues, the task opens and the sweep picks."""
    survey = make_survey(
        slug="three",
        questions=[
            rating_question(primary=True),
            rating_question(key="delivery"),
            {"key": "comment", "kind": "comment", "text": "Anything else?"},
        ],
    )
    config = FollowUpSettings.objects.create(survey=survey, score_at_most=2, keywords=["refund"])
    now = timezone.now()
    FollowUpSettings.objects.filter(pk=config.pk).update(updated_at=now - timedelta(days=1))
    overall, delivery, comment = survey.questions.order_by("position")
    cases = {
        (1, None, ""): True,  # not satisfied
        (3, None, ""): True,  # not satisfied either (4 and 5 are)
        (4, 1, ""): False,  # another question's answer is not the primary answer
        (None, 1, ""): False,  # nor does it stand in for a skipped primary question
        (None, 5, "I want a REFUND"): True,  # a keyword, in any case
        (5, None, "refunded already, thanks"): True,  # the keyword is a part of the text
        (5, None, "all good"): False,
    }
    expected = {}
    for (score, other, text), opens in cases.items():
        response = Response.objects.create(
            survey=survey, submitted_at=now - timedelta(hours=1), touchpoint_type="purchase"
        )
        for question, value in ((overall, score), (delivery, other)):
            if value is not None:
                Answer.objects.create(
                    response=response,
                    question=question,
                    score=value,
                    satisfied=question.is_satisfied(value),
                )
        if text:
            Answer.objects.create(response=response, question=comment, text=text)
        expected[response.pk] = opens
        assert triggers.needs_follow_up(response) is opens, (score, other, text)
    picked = set(sweep.candidates(since=now - timedelta(days=1), until=now, limit=200))
    assert picked == {pk for pk, opens in expected.items() if opens}
    for pk, opens in expected.items():
        assert (followup_services.open_follow_up(response_id=pk) is not None) is opens
