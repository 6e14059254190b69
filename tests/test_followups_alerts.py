"""Alerts on the aggregate: below target or a significant drop; told once, re-armed on recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from followups import alerts
from followups.models import CsatAlert, FollowUpSettings, Webhook, WebhookDelivery
from reports import rollups
from surveys.models import Answer, Response

from .factories import make_survey, manager_user
from .followups_support import eager_celery, webhook_receiver  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def add_answers(survey, *, satisfied: int, total: int, days_ago: float) -> None:
    """`total` answers on the primary question, `satisfied` of them satisfied, at one moment."""
    question = survey.primary_question()
    when = timezone.now() - timedelta(days=days_ago)
    responses = Response.objects.bulk_create(
        Response(survey=survey, submitted_at=when, touchpoint_type="purchase") for _ in range(total)
    )
    Answer.objects.bulk_create(
        Answer(
            response=r,
            question=question,
            score=5 if i < satisfied else 1,
            satisfied=i < satisfied,
        )
        for i, r in enumerate(responses)
    )


@pytest.fixture
def watched(db, eager_celery, django_capture_on_commit_callbacks):  # noqa: F811
    survey = make_survey(slug="watched", csat_target=80)
    owner = manager_user(email="owner@example.com")
    FollowUpSettings.objects.create(survey=survey, default_owner=owner, alert_min_answers=20)

    def check():
        rollups.rebuild()  # the answers below are written straight to the tables
        with django_capture_on_commit_callbacks(execute=True):
            return alerts.check_all()

    return survey, check


def test_below_target_tells_the_owner_once_then_rearms_after_recovery(
    watched,
    webhook_receiver,  # noqa: F811
):
    survey, check = watched
    hook = Webhook.objects.create(name="ops", url=webhook_receiver.url, events=["csat.alert"])
    webhook_receiver.secret = hook.secret
    add_answers(survey, satisfied=60, total=100, days_ago=2)  # 60 % against a target of 80 %

    assert check() == 1
    assert check() == 0  # the next beat says nothing new
    assert check() == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@example.com"]
    assert "60.0 %" in mail.outbox[0].body and "80 %" in mail.outbox[0].body
    [request] = webhook_receiver.wait_for(1)
    assert request["verified"] and request["json"]["event"] == "csat.alert"
    assert request["json"]["data"]["kind"] == "below_target"
    assert request["json"]["data"]["csat"] == 60.0 and request["json"]["data"]["n"] == 100
    alert = CsatAlert.objects.get(survey=survey, kind="below_target")
    assert alert.firing and alert.times_fired == 1

    # It recovers: 60 of 100 plus 300 satisfied answers is 90 %; the alert re-arms, silently.
    add_answers(survey, satisfied=300, total=300, days_ago=1)
    assert check() == 0
    alert.refresh_from_db()
    assert not alert.firing and alert.recovered_at is not None
    assert len(mail.outbox) == 1

    # It falls again: a new episode, told once more.
    add_answers(survey, satisfied=0, total=400, days_ago=0.5)
    assert check() == 1
    alert.refresh_from_db()
    assert alert.firing and alert.times_fired == 2
    assert len(mail.outbox) == 2
    assert WebhookDelivery.objects.filter(event="csat.alert").count() == 2


def test_a_significant_drop_fires_even_above_target(watched):
    survey, check = watched
    survey.csat_target = 50
    survey.save()
    add_answers(survey, satisfied=95, total=100, days_ago=10)  # the window before: 95 %
    add_answers(survey, satisfied=75, total=100, days_ago=3)  # now 75 %: down 20 points
    assert check() == 1
    alert = CsatAlert.objects.get(survey=survey, kind="dropped")
    assert alert.firing and alert.details["previous_csat"] == 95.0
    assert alert.details["p_value"] < 0.05
    assert not CsatAlert.objects.filter(kind="below_target", firing=True).exists()
    assert "down from 95.0 %" in mail.outbox[0].body


def test_a_drop_without_significance_does_not_fire(watched):
    survey, check = watched
    survey.csat_target = 50
    survey.save()
    FollowUpSettings.objects.filter(survey=survey).update(alert_min_answers=5)
    add_answers(survey, satisfied=9, total=10, days_ago=10)  # 90 %
    add_answers(survey, satisfied=7, total=10, days_ago=3)  # 70 %: 20 points, but n = 10
    assert check() == 0
    alert = CsatAlert.objects.get(survey=survey, kind="dropped")
    assert not alert.firing and alert.details == {}
    assert (
        alerts.evaluate(survey, FollowUpSettings.objects.get(), timezone.now()).details["p_value"]
        > 0.05
    )


def test_too_few_answers_keep_the_state_and_say_nothing(watched):
    survey, check = watched
    add_answers(survey, satisfied=1, total=10, days_ago=1)  # 10 %, but fewer than 20 answers
    assert check() == 0
    assert mail.outbox == []
    assert not CsatAlert.objects.filter(firing=True).exists()


def test_surveys_without_a_target_or_inactive_are_not_checked(watched):
    survey, check = watched
    quiet = make_survey(slug="no-target")
    add_answers(quiet, satisfied=0, total=100, days_ago=1)
    paused = make_survey(slug="paused", csat_target=90)
    add_answers(paused, satisfied=0, total=100, days_ago=1)
    paused.status = "paused"
    paused.save()
    assert check() == 0
    assert not CsatAlert.objects.exclude(survey=survey).exists()


def test_the_window_is_a_setting_per_survey(watched):
    survey, check = watched
    FollowUpSettings.objects.filter(survey=survey).update(alert_window_days=3)
    add_answers(survey, satisfied=0, total=100, days_ago=5)  # outside a 3-day window
    add_answers(survey, satisfied=90, total=100, days_ago=1)
    assert check() == 0
    FollowUpSettings.objects.filter(survey=survey).update(alert_window_days=7)
    assert check() == 1


def test_an_alert_quotes_the_figures_of_the_report_api_for_its_range(watched, manager_client):
    """The window is the dashboard's `range=7d`: the last seven local days, today included, not
    the last 7 x 24 hours (which would also count the evening eight days ago)."""
    survey, check = watched
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), tick=False):
        add_answers(survey, satisfied=0, total=30, days_ago=6.5)  # 3 March, 21:00
        add_answers(survey, satisfied=20, total=40, days_ago=1)  # 9 March
        add_answers(survey, satisfied=9, total=10, days_ago=0.1)  # today
        assert check() == 1
        api = manager_client.get(
            "/api/v1/reports/csat/", {"survey": survey.slug, "range": "7d"}
        ).json()
    details = CsatAlert.objects.get(survey=survey, kind="below_target").details
    assert (details["csat"], details["n"]) == (api["csat"], api["n"]) == (58.0, 50)
    assert (details["start"], details["end"]) == (api["start"], api["end"])
    previous = api["previous"]
    assert (details["previous_csat"], details["previous_n"]) == (previous["csat"], previous["n"])
    assert (details["z"], details["p_value"]) == (previous["z"], previous["p_value"])
    assert "CSAT over the last 7 days is 58.0 % (n = 50)" in mail.outbox[0].body


def test_beat_runs_the_alert_check():
    entry = django_settings.CELERY_BEAT_SCHEDULE["followups-csat-alerts"]
    assert entry["task"] == "followups.tasks.check_csat_alerts"
    from csat_platform.celery import app

    assert "followups.tasks.check_csat_alerts" in app.tasks
