"""The privacy contract of follow-ups: erase the customer's words and identity, keep the figures."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from followups import metrics, privacy, services
from followups.models import FollowUp, Webhook, WebhookDelivery
from surveys.models import Contact, Response

from .factories import invite, manager_user

pytestmark = pytest.mark.django_db


def unhappy(survey, email, name, comment):
    _, token = invite(survey=survey, email=email, name=name)
    Client().post(f"/s/{token}/", {"satisfaction": "1", "comment": comment})
    response = Response.objects.get(contact__email=email)
    return services.open_follow_up(response_id=response.pk)


def test_erasure_blanks_copies_and_quotes_but_keeps_scores_and_loop_times(survey):
    Webhook.objects.create(name="hd", url="http://127.0.0.1:9/", events=["followup.opened"])
    user = manager_user()
    ana = unhappy(survey, "ana@example.com", "Ana Lima", "My order 17 never came")
    other = unhappy(survey, "bo@example.com", "Bo", "Rude driver")
    services.add_note(
        follow_up=ana, text="Ana Lima said: “My order 17 never came”. Mail ana@example.com", by=user
    )
    services.record_contact(follow_up=ana, outcome="reached", text="Spoke to Ana Lima", by=user)
    services.resolve_follow_up(follow_up=ana, by=user)
    day = ana.opened_at.date()
    before = metrics.loop_times(survey, day, day)

    result = privacy.erase_for_contact(Contact.objects.get(email="ana@example.com"))

    assert result["follow_ups"] == 1
    ana.refresh_from_db()
    assert ana.comment == "" and ana.erased_at is not None
    assert ana.scores[0]["score"] == 1 and ana.status == "resolved"
    texts = " ".join(note.display_text for note in ana.notes.all())
    for personal in ("Ana Lima", "ana@example.com", "My order 17 never came"):
        assert personal not in texts
    assert "[erased]" in texts and "Reached the customer" in texts  # the notes stay
    assert WebhookDelivery.objects.get(follow_up=ana).body == "{}"
    # Someone else's follow-up is untouched; the figures are identical.
    other.refresh_from_db()
    assert other.comment == "Rude driver"
    assert "Rude driver" in WebhookDelivery.objects.get(follow_up=other).body
    assert metrics.loop_times(survey, day, day) == before


def test_export_holds_every_follow_up_of_the_customer_as_json(survey):
    ana = unhappy(survey, "ana@example.com", "Ana", "Too slow")
    services.add_note(follow_up=ana, text="Called back", by=manager_user())
    exported = privacy.export_for_contact(Contact.objects.get(email="ana@example.com"))
    json.dumps(exported)
    [row] = exported["follow_ups"]
    assert row["comment"] == "Too slow" and row["scores"][0]["score"] == 1
    assert [n["text"] for n in row["notes"]][-1] == "Called back"
    nobody = Contact.objects.create(email="nobody@example.com")
    assert privacy.export_for_contact(nobody) == {"follow_ups": []}
    assert privacy.erase_for_contact(nobody) == {"follow_ups": 0}


def test_demo_seed_creates_follow_ups_in_every_state(db):
    from django.core.management import call_command

    call_command("seed_demo", days=8, per_day=10, stdout=open("/dev/null", "w"))  # noqa: SIM115
    statuses = set(FollowUp.objects.values_list("status", flat=True))
    assert statuses == {"open", "in_progress", "resolved"}
    assert FollowUp.objects.filter(notified_at__isnull=True).count() == 0  # the demo mails no one
    from followups import demo

    assert demo.seed() == 0  # idempotent


def test_demo_answers_follow_touchpoints_so_coverage_is_a_share(db):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from reports.service import csat_report
    from surveys.models import Survey

    call_command("seed_demo", days=8, per_day=10, stdout=open("/dev/null", "w"))  # noqa: SIM115
    today = timezone.localdate()
    for survey in Survey.objects.filter(status="active"):
        report = csat_report(survey, start=today - timedelta(days=9), end=today)
        assert report["n"] > 0
        assert 0 < report["respondents"] <= report["customers"], survey.slug
        assert 0 < report["coverage"] <= 100


def test_erasing_a_customer_also_erases_their_follow_ups_and_exports_them(survey):
    from privacy import selectors as privacy_selectors
    from privacy import services as privacy_services

    ana = unhappy(survey, "ana@example.com", "Ana Lima", "My order 17 never came")
    services.add_note(follow_up=ana, text="Called Ana Lima back", by=manager_user())
    exported = privacy_selectors.customer_export(email="ana@example.com")
    assert exported["contacts"][0]["follow_ups"][0]["comment"] == "My order 17 never came"

    privacy_services.erase_customer(email="ana@example.com", via="command")

    ana.refresh_from_db()
    assert ana.comment == "" and ana.erased_at is not None
    texts = " ".join(ana.notes.values_list("text", flat=True))
    assert "Ana Lima" not in texts and "Called [erased] back" in texts
