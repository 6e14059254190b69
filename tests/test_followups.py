"""Closing the loop: unhappy answers open routed follow-ups; owners hear of them; managers act."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from followups import metrics, services, signing, tasks
from followups.models import (
    FollowUp,
    FollowUpSettings,
    RoutingRule,
    Webhook,
    WebhookDelivery,
)

from .factories import UserFactory, invite, make_survey, manager_user
from .followups_support import eager_celery, webhook_receiver  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def answer(client, survey, *, score, comment="", email="ana@example.com", name="Ana", **attrs):
    """A customer answers on the real answer page."""
    _, token = invite(survey=survey, email=email, name=name, attributes=attrs or None)
    reply = client.post(f"/s/{token}/", {"satisfaction": str(score), "comment": comment})
    assert reply.status_code == 302, reply.content[:500]
    return email


@pytest.fixture
def customer(django_capture_on_commit_callbacks, eager_celery):  # noqa: F811
    """Answers like a customer, running on-commit work (signal, tasks) as a real commit would."""
    client = Client()

    def submit(survey, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            email = answer(client, survey, **kwargs)
        return FollowUp.objects.filter(contact__email=email).order_by("-id").first()

    return submit


# --- Opening and routing -----------------------------------------------------------------------


def test_unhappy_answer_opens_one_follow_up_with_what_the_customer_said(survey, customer):
    follow_up = customer(survey, score=2, comment="The parcel arrived late.", order="A-17")
    assert follow_up is not None
    assert follow_up.status == FollowUp.Status.OPEN
    assert follow_up.contact.email == "ana@example.com"
    assert follow_up.comment == "The parcel arrived late."
    assert follow_up.attributes == {"order": "A-17"}
    assert follow_up.touchpoint_type == "purchase"
    assert follow_up.primary_score["score"] == 2
    assert follow_up.primary_score["label"] == "Dissatisfied"
    assert "not satisfied" in follow_up.reason
    # Due after the default SLA of 48 hours.
    assert follow_up.due_at - follow_up.opened_at == timedelta(hours=48)
    assert follow_up.notes.get().kind == "opened"


def test_satisfied_answer_opens_nothing(survey, customer):
    assert customer(survey, score=4) is None
    assert FollowUp.objects.count() == 0


def test_opening_twice_keeps_one_follow_up(survey, customer):
    follow_up = customer(survey, score=1)
    again = services.open_follow_up(response_id=follow_up.response_id)
    assert again.pk == follow_up.pk
    assert FollowUp.objects.count() == 1


def test_test_responses_open_nothing(survey, eager_celery, django_capture_on_commit_callbacks):  # noqa: F811
    _, token = invite(survey=survey, email="t@example.com", is_test=True)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(f"/s/{token}/", {"satisfaction": "1"})
    assert FollowUp.objects.count() == 0


def test_score_rule_and_keywords_open_follow_ups_for_satisfied_answers(survey, customer):
    FollowUpSettings.objects.create(
        survey=survey, on_not_satisfied=False, score_at_most=2, keywords=["refund", "cancel"]
    )
    assert customer(survey, score=3, email="a@example.com") is None  # "not satisfied" is off
    assert customer(survey, score=2, email="b@example.com").reason.startswith("score 2")
    follow_up = customer(
        survey, score=5, email="c@example.com", comment="Great, but I want a REFUND"
    )
    assert follow_up.reason == "comment mentions “refund”"
    assert customer(survey, score=5, email="d@example.com", comment="All good") is None


def test_score_rule_on_a_reversed_scale_means_that_score_or_worse(customer):
    survey = make_survey(
        slug="grades",
        questions=[
            {
                "key": "satisfaction",
                "kind": "rating",
                "scale": "1-5",
                "reversed": True,
                "primary": True,
                "text": "Note?",
            }
        ],
    )
    FollowUpSettings.objects.create(survey=survey, on_not_satisfied=False, score_at_most=4)
    assert customer(survey, score=3, email="a@example.com") is None
    assert customer(survey, score=4, email="b@example.com") is not None
    assert customer(survey, score=5, email="c@example.com") is not None


def test_disabled_survey_opens_nothing(survey, customer):
    FollowUpSettings.objects.create(survey=survey, enabled=False)
    assert customer(survey, score=1) is None


def test_routing_takes_the_first_matching_rule_then_the_default_owner(survey, customer):
    billing, support, fallback, touch = (UserFactory() for _ in range(4))
    config = FollowUpSettings.objects.create(survey=survey, default_owner=fallback, sla_hours=4)
    RoutingRule.objects.create(
        settings=config, position=0, attribute="team", value="billing", owner=billing
    )
    RoutingRule.objects.create(
        settings=config, position=1, attribute="team", value="support", owner=support
    )
    RoutingRule.objects.create(
        settings=config, position=2, field="touchpoint_type", value="purchase", owner=touch
    )
    # Attribute values match exactly, as the dashboard's breakdown shows them.
    assert customer(survey, score=1, email="a@example.com", team="billing").assignee == billing
    assert customer(survey, score=1, email="b@example.com", team="support").assignee == support
    # No matching team: the touchpoint rule matches (every answer here is to a purchase survey).
    assert customer(survey, score=1, email="e@example.com", team=" Billing").assignee == touch
    follow_up = customer(survey, score=1, email="c@example.com", team="sales")
    assert follow_up.assignee == touch
    assert follow_up.due_at - follow_up.opened_at == timedelta(hours=4)
    RoutingRule.objects.filter(owner=touch).delete()
    assert customer(survey, score=1, email="d@example.com").assignee == fallback


# --- Notifications -----------------------------------------------------------------------------


def test_owner_receives_the_follow_up_by_email_through_smtp(survey, customer, smtp_server):
    owner = manager_user(email="owner@example.com")
    FollowUpSettings.objects.create(survey=survey, default_owner=owner)
    follow_up = customer(survey, score=1, comment="Never again <b>ever</b>", order="A-99")
    [received] = smtp_server.wait_for(1)
    assert received["to"] == ["owner@example.com"]
    message = received["message"]
    assert "Shop survey" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "ana@example.com" in text and "Never again <b>ever</b>" in text
    assert f"/followups/{follow_up.pk}/" in text
    assert "Never again &lt;b&gt;ever&lt;/b&gt;" in html  # escaped in HTML
    assert "A-99" in html
    follow_up.refresh_from_db()
    assert follow_up.notified_at is not None
    # A repeated task mails nobody again.
    tasks.notify_owner.delay(follow_up.pk)
    assert len(smtp_server.messages) == 1


def test_unowned_follow_up_mails_nobody(survey, customer):
    customer(survey, score=1)
    assert mail.outbox == []


def _hook(receiver, events=("followup.opened",), **extra) -> Webhook:
    hook = Webhook.objects.create(name="helpdesk", url=receiver.url, events=list(events), **extra)
    receiver.secret = hook.secret
    return hook


def test_webhook_is_signed_and_a_receiver_verifies_it(survey, customer, webhook_receiver):  # noqa: F811
    _hook(webhook_receiver)
    follow_up = customer(survey, score=2, comment="Too slow", agent="emma")
    [request] = webhook_receiver.wait_for(1)
    assert request["verified"] is True
    assert request["headers"]["X-CSAT-Event"] == "followup.opened"
    assert request["headers"]["X-CSAT-Signature"].startswith("sha256=")
    body = request["json"]
    assert body["event"] == "followup.opened"
    data = body["data"]
    assert data["id"] == follow_up.pk and data["score"] == 2 and data["comment"] == "Too slow"
    assert data["customer"]["email"] == "ana@example.com"
    assert data["attributes"] == {"agent": "emma"}
    assert data["url"].endswith(f"/followups/{follow_up.pk}/")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert list(delivery.log.values_list("attempt", "status_code")) == [(1, 200)]


def test_a_wrong_secret_or_an_old_timestamp_fails_verification():
    body = b'{"event":"followup.opened"}'
    headers = signing.headers("whsec_right", body.decode())
    ts, sig = headers["X-CSAT-Timestamp"], headers["X-CSAT-Signature"]
    assert signing.verify("whsec_right", ts, body, sig)
    assert not signing.verify("whsec_wrong", ts, body, sig)
    assert not signing.verify("whsec_right", ts, body + b" ", sig)
    old = str(int(ts) - 600)
    assert not signing.verify("whsec_right", old, body, signing.signature("whsec_right", old, body))


def test_webhook_retries_on_500_then_succeeds_and_the_log_shows_both(
    survey,
    customer,
    webhook_receiver,  # noqa: F811
):
    _hook(webhook_receiver)
    webhook_receiver.replies = [500]
    customer(survey, score=1)
    requests = webhook_receiver.wait_for(2)
    assert [r["status"] for r in requests] == [500, 200]
    assert all(r["verified"] for r in requests)
    # The same body both times, a fresh signature each time.
    assert requests[0]["body"] == requests[1]["body"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert list(delivery.log.values_list("attempt", "status_code", "error")) == [
        (1, 500, ""),
        (2, 200, ""),
    ]


def test_webhook_gives_up_after_the_last_attempt(survey, customer, webhook_receiver, settings):  # noqa: F811
    settings.FOLLOWUPS_WEBHOOK_MAX_ATTEMPTS = 3
    _hook(webhook_receiver)
    webhook_receiver.replies = [503, 503, 503, 503]
    customer(survey, score=1)
    webhook_receiver.wait_for(3)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 3
    assert delivery.last_status_code == 503 and delivery.last_error == "HTTP 503"
    assert delivery.log.count() == 3


def test_unreachable_webhook_logs_the_error(survey, customer, settings):
    settings.FOLLOWUPS_WEBHOOK_MAX_ATTEMPTS = 2
    Webhook.objects.create(name="gone", url="http://127.0.0.1:9/hook", events=["followup.opened"])
    customer(survey, score=1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert [a.status_code for a in delivery.log.all()] == [None, None]
    assert "Connection refused" in delivery.log.first().error


def test_backoff_is_exponential_and_capped(settings):
    settings.FOLLOWUPS_WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.FOLLOWUPS_WEBHOOK_RETRY_MAX_SECONDS = 600
    assert [tasks.backoff_seconds(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]


def test_slack_payload_is_a_text_message(survey, customer, webhook_receiver):  # noqa: F811
    _hook(webhook_receiver, payload_format="slack")
    customer(survey, score=1, comment="Broken zipper", name="Ana Lima")
    [request] = webhook_receiver.wait_for(1)
    assert set(request["json"]) == {"text"}
    assert "Ana Lima" in request["json"]["text"] and "Broken zipper" in request["json"]["text"]
    assert request["verified"]


def test_inactive_webhooks_and_other_events_get_nothing(survey, customer, webhook_receiver):  # noqa: F811
    _hook(webhook_receiver, active=False)
    Webhook.objects.create(name="alerts", url=webhook_receiver.url, events=["csat.alert"])
    other = make_survey(slug="other")
    Webhook.objects.create(
        name="other survey", url=webhook_receiver.url, events=["followup.opened"], survey=other
    )
    customer(survey, score=1)
    assert WebhookDelivery.objects.count() == 0 and webhook_receiver.requests == []


def test_resolving_sends_the_resolved_event(
    survey,
    customer,
    webhook_receiver,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    _hook(webhook_receiver, events=["followup.resolved"])
    follow_up = customer(survey, score=1)
    client = Client()
    client.force_login(manager_user())
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(f"/followups/{follow_up.pk}/status/", {"status": "resolved"})
    assert reply.status_code == 302
    [request] = webhook_receiver.wait_for(1)
    assert request["json"]["event"] == "followup.resolved" and request["verified"]
    assert request["json"]["data"]["status"] == "resolved"


# --- Loop times --------------------------------------------------------------------------------


def test_loop_times_are_median_and_mean_over_the_range(survey, customer):
    user = manager_user()
    opened = timezone.now().replace(microsecond=0)
    durations = [(1, 10), (3, 20), (8, None)]  # hours to first contact, hours to resolve
    for i, (contact_h, resolve_h) in enumerate(durations):
        with time_machine.travel(opened, tick=False):
            follow_up = customer(survey, score=1, email=f"c{i}@example.com")
        with time_machine.travel(opened + timedelta(hours=contact_h), tick=False):
            services.record_contact(follow_up=follow_up, outcome="reached", by=user)
        if resolve_h:
            with time_machine.travel(opened + timedelta(hours=resolve_h), tick=False):
                services.resolve_follow_up(follow_up=follow_up, by=user)
    day = timezone.localdate(opened)
    times = metrics.loop_times(survey, day, day)
    assert times["opened"] == 3 and times["contacted"] == 3 and times["resolved"] == 2
    assert times["time_to_first_contact"] == {
        "n": 3,
        "median_seconds": 3 * 3600,
        "mean_seconds": 4 * 3600,
        "p90_seconds": 7 * 3600,  # 3 h + 0.8 × (8 h − 3 h), between the closest ranks
    }
    assert times["time_to_resolve"] == {
        "n": 2,
        "median_seconds": 15 * 3600,
        "mean_seconds": 15 * 3600,
        "p90_seconds": 19 * 3600,
    }
    # Outside the range nothing counts; None means every survey.
    assert (
        metrics.loop_times(survey, day + timedelta(days=1), day + timedelta(days=2))["opened"] == 0
    )
    assert metrics.loop_times(None, day, day)["resolved"] == 2
    json.dumps(times)  # JSON-able for the dashboard


def test_first_contact_is_kept_when_contacted_again(survey, customer):
    user = manager_user()
    follow_up = customer(survey, score=1)
    first = services.record_contact(follow_up=follow_up, outcome="no_answer", by=user)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        again = services.record_contact(follow_up=follow_up, outcome="reached", by=user)
    assert again.first_contact_at == first.first_contact_at
    assert again.contact_outcome == "reached" and again.status == "in_progress"


def test_percentiles_interpolate_between_the_closest_ranks():
    assert metrics.percentile([], 0.9) is None
    assert metrics.percentile([5.0], 0.9) == 5.0
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert metrics.percentile([10.0, 0.0, 20.0, 30.0, 40.0], 0.9) == pytest.approx(36.0)


def test_the_report_carries_loop_times_narrowed_like_the_report(survey, customer, manager_client):
    from reports.service import csat_report

    today = timezone.localdate()
    assert csat_report(survey, start=today, end=today)["loop"] is None  # never had one
    user = manager_user()
    opened = timezone.now().replace(microsecond=0)
    with time_machine.travel(opened, tick=False):
        north = customer(survey, score=1, email="n@example.com", region="north")
        south = customer(survey, score=2, email="s@example.com", region="south")
        customer(survey, score=1, email="late@example.com", region="north")
    with time_machine.travel(opened + timedelta(hours=2), tick=False):
        services.record_contact(follow_up=north, outcome="reached", by=user)
        services.resolve_follow_up(follow_up=north, by=user)
    with time_machine.travel(opened + timedelta(hours=50), tick=False):
        services.resolve_follow_up(follow_up=south, by=user)
        day = timezone.localdate(opened)
        loop = csat_report(survey, start=day, end=day)["loop"]
        assert (loop["opened"], loop["contacted"], loop["resolved"]) == (3, 1, 2)
        assert loop["time_to_resolve"] == {
            "n": 2,
            "median_seconds": 26 * 3600,
            "mean_seconds": 26 * 3600,
            "p90_seconds": 2 * 3600 + round(0.9 * 48 * 3600),
        }
        assert loop["time_to_first_contact"]["median_seconds"] == 2 * 3600
        # One is waiting, and past its 48-hour deadline.
        assert (loop["unresolved"], loop["overdue"]) == (1, 1)
        narrowed = csat_report(survey, start=day, end=day, attrs={"region": "north"})["loop"]
        assert (narrowed["opened"], narrowed["resolved"]) == (2, 1)
        assert narrowed["time_to_resolve"]["median_seconds"] == 2 * 3600
        body = manager_client.get(
            f"/api/v1/reports/csat/?survey={survey.slug}&start={day}&end={day}"
        ).json()
        assert body["loop"] == json.loads(json.dumps(loop))
