"""The rules that decide who gets a survey, and when: filters, sampling, fatigue, unsubscribes,
delay, expiry, reminder, quiet hours, language, frozen attributes."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from surveys import sending_rules, services
from surveys.models import Contact, Invitation, Survey, TouchpointEvent, TouchpointSkip
from surveys.touchpoints import record_touchpoints

from .factories import make_survey

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 13:00 in Berlin


def event(n=1, *, occurred_at=None, customer=None, attributes=None, type="purchase"):
    return {
        "type": type,
        "external_id": f"e-{n}",
        "occurred_at": (occurred_at or timezone.now()).isoformat(),
        "customer": customer or {"email": f"c{n}@example.com"},
        "attributes": {"channel": "web"} if attributes is None else attributes,
    }


def skips(survey, reason=None):
    rows = TouchpointSkip.objects.filter(survey=survey)
    return rows.filter(reason=reason) if reason else rows


def test_only_active_surveys_listening_to_the_type_invite():
    purchase = make_survey(slug="purchase")
    support = make_survey(slug="support", touchpoint="support_contact")
    draft = make_survey(slug="draft", publish=False)
    paused = make_survey(slug="paused")
    services.change_status(survey=paused, status=Survey.Status.PAUSED)
    record_touchpoints(items=[event(1), event(2, type="support_contact"), event(3, type="refund")])
    assert Invitation.objects.filter(survey=purchase).count() == 1
    assert Invitation.objects.filter(survey=support).count() == 1
    assert not Invitation.objects.filter(survey__in=[draft, paused]).exists()
    assert TouchpointEvent.objects.count() == 3  # every event is kept, surveyed or not


def test_attribute_filters_let_through_only_exactly_matching_touchpoints():
    """Values compare exactly, as the dashboard's breakdown shows them: a filter on "Phone" and
    "web" takes neither "phone" nor "WEB"; numbers and true/false as JSON writes them."""
    survey = make_survey(slug="calls", filters={"channel": ["web", "Phone"], "vip": ["true"]})
    record_touchpoints(
        items=[
            event(1, attributes={"channel": "Phone", "vip": True}),
            event(2, attributes={"channel": "web", "vip": "true"}),
            event(3, attributes={"channel": "WEB", "vip": True}),
            event(4, attributes={"channel": "phone", "vip": True}),
            event(5, attributes={"channel": "web", "vip": False}),
            event(6, attributes={"vip": True}),
        ]
    )
    invited = Invitation.objects.filter(survey=survey).values_list("touchpoint__external_id")
    assert sorted(x for (x,) in invited) == ["e-1", "e-2"]
    assert {s.touchpoint.external_id: s.detail for s in skips(survey, "filtered")} == {
        "e-3": "channel = WEB",
        "e-4": "channel = phone",
        "e-5": "vip = False",
        "e-6": "no channel",
    }


def test_sampling_at_30_percent_lands_near_30_percent_and_decides_the_same_again():
    survey = make_survey(slug="sampled", sample_rate=0.3)
    items = [event(n) for n in range(2000)]
    for start in range(0, 2000, 1000):
        record_touchpoints(items=items[start : start + 1000])
    invited = set(
        Invitation.objects.filter(survey=survey).values_list("touchpoint__external_id", flat=True)
    )
    assert 540 <= len(invited) <= 660  # 30 % ± 3 standard deviations of 2,000 draws
    assert skips(survey, "sampled_out").count() == 2000 - len(invited)
    # A retry, a re-import or another worker decides the same for every event.
    again = {
        e["external_id"]
        for e in items
        if sending_rules.sampled_in(
            survey_id=survey.pk,
            touchpoint_type="purchase",
            external_id=e["external_id"],
            rate=0.3,
        )
    }
    assert again == invited


def test_sampling_differs_between_surveys():
    a = make_survey(slug="a", sample_rate=0.5)
    b = make_survey(slug="b", sample_rate=0.5)
    record_touchpoints(items=[event(n) for n in range(200)])
    in_a = set(Invitation.objects.filter(survey=a).values_list("touchpoint_id", flat=True))
    in_b = set(Invitation.objects.filter(survey=b).values_list("touchpoint_id", flat=True))
    assert in_a != in_b


def test_fatigue_counts_invitations_of_every_survey_and_earlier_items_of_the_batch():
    make_survey(slug="support", touchpoint="support_contact")
    rested = make_survey(slug="rested", min_days_between_surveys=30)
    customer = {"email": "tired@example.com"}
    with time_machine.travel(NOW - timedelta(days=10)):
        record_touchpoints(items=[event(1, customer=customer, type="support_contact")])
    with time_machine.travel(NOW):
        record_touchpoints(
            items=[
                event(2, customer=customer),  # surveyed 10 days ago by another survey
                event(3, customer={"email": "fresh@example.com"}),
                event(4, customer={"email": "fresh@example.com"}),  # invited by item 3 just now
            ]
        )
    assert list(
        Invitation.objects.filter(survey=rested).values_list("touchpoint__external_id", flat=True)
    ) == ["e-3"]
    assert set(skips(rested, "fatigued").values_list("touchpoint__external_id", flat=True)) == {
        "e-2",
        "e-4",
    }
    with time_machine.travel(NOW + timedelta(days=21)):
        record_touchpoints(items=[event(5, customer=customer)])
    assert Invitation.objects.filter(survey=rested, touchpoint__external_id="e-5").exists()


def test_unsubscribed_and_undeliverable_customers_are_never_invited():
    survey = make_survey(slug="shop")
    Contact.objects.create(email="gone@example.com", unsubscribed_at=timezone.now())
    Contact.objects.create(
        email="bounced@example.com", undeliverable_at=timezone.now(), undeliverable_reason="550"
    )
    record_touchpoints(
        items=[
            event(1, customer={"email": "gone@example.com"}),
            event(2, customer={"email": "bounced@example.com"}),
            event(3, customer={"external_id": "no-mail"}),
            event(4),
        ]
    )
    assert Invitation.objects.filter(survey=survey).count() == 1
    reasons = dict(skips(survey).values_list("touchpoint__external_id", "reason"))
    assert reasons == {"e-1": "unsubscribed", "e-2": "undeliverable", "e-3": "undeliverable"}


def test_a_new_address_clears_the_undeliverable_mark():
    make_survey(slug="shop")
    Contact.objects.create(
        external_id="c-1", email="old@example.com", undeliverable_at=timezone.now()
    )
    record_touchpoints(items=[event(1, customer={"external_id": "c-1", "email": "new@x.org"})])
    assert Invitation.objects.get().contact.email == "new@x.org"


@time_machine.travel(NOW, tick=False)
def test_delay_expiry_and_reminder_set_the_due_times():
    make_survey(slug="shop", send_delay_minutes=120, expires_after_days=10, reminder_after_days=3)
    record_touchpoints(items=[event(1, occurred_at=NOW - timedelta(minutes=30))])
    invitation = Invitation.objects.get()
    assert invitation.due_at == NOW + timedelta(minutes=90)
    assert invitation.expires_at == NOW + timedelta(minutes=90, days=10)
    assert invitation.reminder_due_at == NOW + timedelta(minutes=90, days=3)
    assert invitation.status == Invitation.Status.SCHEDULED


@time_machine.travel(NOW, tick=False)
def test_a_late_event_is_due_now_and_a_stale_one_is_skipped():
    survey = make_survey(slug="shop", send_delay_minutes=60, expires_after_days=7)
    record_touchpoints(
        items=[
            event(1, occurred_at=NOW - timedelta(days=2)),
            event(2, occurred_at=NOW - timedelta(days=8)),
        ]
    )
    assert Invitation.objects.get().due_at == NOW
    assert skips(survey, "stale").get().touchpoint.external_id == "e-2"


@time_machine.travel(NOW, tick=False)
def test_no_reminder_without_the_setting_or_after_expiry():
    # Two surveys invite the same customer for one purchase: no fatigue rule between them here.
    make_survey(slug="a", expires_after_days=3, reminder_after_days=5, min_days_between_surveys=0)
    make_survey(slug="b", min_days_between_surveys=0)
    record_touchpoints(items=[event(1)])
    assert list(Invitation.objects.values_list("reminder_due_at", flat=True)) == [None, None]


def test_quiet_hours_defer_the_due_time_to_their_end_in_the_customers_time_zone():
    make_survey(slug="shop", quiet_hours_start="21:00", quiet_hours_end="08:00")
    late = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Berlin, 16:30 in New York
    with time_machine.travel(late, tick=False):
        record_touchpoints(
            items=[
                event(1, customer={"email": "b@example.com", "time_zone": "Europe/Berlin"}),
                event(2, customer={"email": "n@example.com", "time_zone": "America/New_York"}),
            ]
        )
    due = dict(Invitation.objects.values_list("contact__email", "due_at"))
    assert due["b@example.com"] == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 Berlin
    assert due["n@example.com"] == late


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("23:00", "2026-03-03 08:00"),
        ("03:00", "2026-03-02 08:00"),
        ("08:00", "2026-03-02 08:00"),
        ("12:00", "2026-03-02 12:00"),
        ("20:59", "2026-03-02 20:59"),
    ],
)
def test_quiet_hours_over_midnight(local, expected):
    tz = sending_rules.zone("Europe/Berlin")
    due = datetime.fromisoformat(f"2026-03-02 {local}").replace(tzinfo=tz)
    after = sending_rules.after_quiet_hours(due, time(21), time(8), tz)
    assert after.astimezone(tz).strftime("%Y-%m-%d %H:%M") == expected


def test_quiet_hours_within_one_day():
    tz = sending_rules.zone("UTC")
    due = datetime(2026, 3, 2, 12, 30, tzinfo=tz)
    assert sending_rules.after_quiet_hours(due, time(12), time(14), tz).hour == 14
    assert sending_rules.after_quiet_hours(due, time(13), time(14), tz) == due


def test_the_customers_locale_picks_the_survey_language():
    make_survey(slug="shop", languages=("de", "en"))
    record_touchpoints(
        items=[
            event(1, customer={"email": "a@example.com", "locale": "en-US"}),
            event(2, customer={"email": "b@example.com", "locale": "fr"}),
            event(3, customer={"email": "c@example.com"}),
        ]
    )
    locales = dict(Invitation.objects.values_list("contact__email", "locale"))
    assert locales == {"a@example.com": "en", "b@example.com": "de", "c@example.com": "de"}


def test_a_known_contacts_locale_is_used_when_the_event_has_none():
    make_survey(slug="shop", languages=("en", "nl"))
    Contact.objects.create(email="nl@example.com", locale="nl-BE")
    record_touchpoints(items=[event(1, customer={"email": "nl@example.com"})])
    assert Invitation.objects.get().locale == "nl"


def test_attributes_are_frozen_onto_the_invitation():
    make_survey(slug="shop")
    record_touchpoints(items=[event(1, attributes={"agent": "kim", "channel": "phone"})])
    stored = TouchpointEvent.objects.get()
    stored.attributes["agent"] = "lee"  # the ticket is reassigned later
    stored.save()
    assert Invitation.objects.get().attributes == {"agent": "kim", "channel": "phone"}


# --- the rules in the survey API ---------------------------------------------------------------


def test_rules_are_read_and_written_through_the_survey_api(admin_client):
    make_survey(slug="shop")
    response = admin_client.patch(
        "/api/v1/surveys/shop/",
        {
            "send_delay_minutes": 120,
            "expires_after_days": 7,
            "reminder_after_days": 3,
            "min_days_between_surveys": 30,
            "sample_rate": 0.25,
            "filters": {"channel": ["web", "phone"]},
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "08:00",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["filters"] == {"channel": ["web", "phone"]}
    assert (body["quiet_hours_start"], body["quiet_hours_end"]) == ("21:00", "08:00")
    survey = Survey.objects.get(slug="shop")
    assert (survey.send_delay_minutes, survey.sample_rate, survey.quiet_hours_end) == (
        120,
        0.25,
        time(8),
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"send_delay_minutes": -5}, "send_delay_minutes"),
        ({"expires_after_days": 0}, "expires_after_days"),
        ({"reminder_after_days": "soon"}, "reminder_after_days"),
        ({"min_days_between_surveys": -1}, "min_days_between_surveys"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"filters": {"channel": "web"}}, "filters"),
        ({"filters": {"bad name!": ["x"]}}, "filters"),
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "08:00"}, "quiet_hours_start"),
        ({"quiet_hours_start": "21:00"}, "quiet_hours_end"),
    ],
)
def test_invalid_rules_are_a_400_naming_the_field(admin_client, change, field):
    make_survey(slug="shop")
    response = admin_client.patch("/api/v1/surveys/shop/", change, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
