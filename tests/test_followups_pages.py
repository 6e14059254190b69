"""The follow-up pages: role checks, CSRF, validation (400/409), and the actions managers take."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from followups import services
from followups.models import FollowUp, FollowUpSettings, RoutingRule
from surveys.models import Response

from .factories import UserFactory, admin_user, invite, manager_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(survey):
    _, token = invite(
        survey=survey, email="ana@example.com", name="Ana <Lima>", attributes={"order": "A-1"}
    )
    Client().post(f"/s/{token}/", {"satisfaction": "1", "comment": "Late <script>x</script>"})
    return services.open_follow_up(response_id=Response.objects.get().pk)


def logged_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_log_in(follow_up):
    for url in ("/followups/", f"/followups/{follow_up.pk}/", "/followups/settings/shop/"):
        reply = Client().get(url)
        assert reply.status_code == 302 and "/accounts/login/" in reply["Location"]
    reply = Client().post(f"/followups/{follow_up.pk}/status/", {"status": "resolved"})
    assert reply.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


def test_users_without_a_role_get_403(follow_up):
    client = logged_in(UserFactory())
    assert client.get("/followups/").status_code == 403
    assert client.get(f"/followups/{follow_up.pk}/").status_code == 403
    assert client.get(f"/responses/{follow_up.response_id}/").status_code == 403
    reply = client.post(f"/followups/{follow_up.pk}/note/", {"text": "hi"})
    assert reply.status_code == 403 and follow_up.notes.count() == 1


def test_managers_see_the_queue_with_what_the_customer_said_escaped(follow_up):
    reply = logged_in(manager_user()).get("/followups/")
    assert reply.status_code == 200
    page = reply.content.decode()
    assert "Ana &lt;Lima&gt;" in page and "Late &lt;script&gt;" in page and "<script>x" not in page
    assert f"/followups/{follow_up.pk}/" in page
    detail = logged_in(manager_user()).get(f"/followups/{follow_up.pk}/").content.decode()
    assert "A-1" in detail and f"/responses/{follow_up.response_id}/" in detail


def test_the_full_response_page_shows_every_answer(follow_up):
    page = logged_in(manager_user()).get(f"/responses/{follow_up.response_id}/")
    assert page.status_code == 200
    assert "Very dissatisfied" in page.content.decode()
    assert "Late &lt;script&gt;x&lt;/script&gt;" in page.content.decode()
    assert logged_in(manager_user()).get("/responses/999999/").status_code == 404


def test_managers_assign_note_contact_and_resolve(follow_up):
    manager = manager_user(username="mia")
    client = logged_in(manager, csrf=True)
    client.get(f"/followups/{follow_up.pk}/")
    token = client.cookies["csrftoken"].value
    url = f"/followups/{follow_up.pk}"
    steps = [
        ("assign", {"assignee": "mia"}),
        ("note", {"text": "Calling her after lunch."}),
        ("contacted", {"outcome": "reached", "text": "Apologised, sent a voucher."}),
        ("status", {"status": "resolved", "text": "Voucher used."}),
    ]
    for action, data in steps:
        reply = client.post(f"{url}/{action}/", {**data, "csrfmiddlewaretoken": token})
        assert reply.status_code == 302, (action, reply.content[:300])
    follow_up.refresh_from_db()
    assert follow_up.assignee == manager
    assert follow_up.status == "resolved" and follow_up.resolved_at is not None
    assert follow_up.first_contact_at is not None and follow_up.contact_outcome == "reached"
    kinds = list(follow_up.notes.values_list("kind", flat=True))
    assert kinds == ["opened", "assigned", "note", "contacted", "status"]
    page = client.get(f"{url}/").content.decode()
    assert "Voucher used." in page and "Calling her after lunch." in page


def test_posts_without_a_csrf_token_are_refused(follow_up):
    reply = logged_in(manager_user(), csrf=True).post(
        f"/followups/{follow_up.pk}/status/", {"status": "resolved"}
    )
    assert reply.status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


def test_actions_need_post(follow_up):
    client = logged_in(manager_user())
    assert client.get(f"/followups/{follow_up.pk}/status/").status_code == 405


@pytest.mark.parametrize(
    "action, data",
    [
        ("note", {"text": "   "}),
        ("note", {"text": "x" * 5001}),
        ("contacted", {}),
        ("contacted", {"outcome": "telepathy"}),
        ("status", {"status": "closed"}),
        ("assign", {"assignee": "nobody-of-that-name"}),
    ],
)
def test_invalid_actions_are_400_and_change_nothing(follow_up, action, data):
    client = logged_in(manager_user())
    reply = client.post(f"/followups/{follow_up.pk}/{action}/", data)
    assert reply.status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.status == "open" and follow_up.notes.count() == 1
    assert follow_up.first_contact_at is None


def test_conflicting_actions_are_409(follow_up):
    client = logged_in(manager_user())
    assert client.post(f"/followups/{follow_up.pk}/status/", {"status": "open"}).status_code == 409
    client.post(f"/followups/{follow_up.pk}/status/", {"status": "resolved"})
    reply = client.post(f"/followups/{follow_up.pk}/contacted/", {"outcome": "reached"})
    assert reply.status_code == 409 and "reopen" in reply.content.decode()
    assert client.post(f"/followups/{follow_up.pk}/status/", {"status": "open"}).status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "open" and follow_up.resolved_at is None


def test_unknown_follow_up_is_404():
    assert logged_in(manager_user()).get("/followups/424242/").status_code == 404
    reply = logged_in(manager_user()).post("/followups/424242/note/", {"text": "x"})
    assert reply.status_code == 404


def test_queue_filters_and_highlights_overdue(survey, follow_up, time_machine):
    mine = manager_user(username="mia")
    services.assign_follow_up(follow_up=follow_up, assignee=mine, by=mine)
    client = logged_in(mine)
    assert f'data-id="{follow_up.pk}"' in client.get("/followups/?assignee=me").content.decode()
    assert (
        f'data-id="{follow_up.pk}"' not in client.get("/followups/?assignee=none").content.decode()
    )
    assert (
        f'data-id="{follow_up.pk}"'
        not in client.get("/followups/?status=resolved").content.decode()
    )
    assert f'data-id="{follow_up.pk}"' not in client.get("/followups/?overdue=1").content.decode()
    time_machine.move_to(follow_up.due_at + timedelta(minutes=1))
    page = client.get("/followups/?overdue=1&survey=shop").content.decode()
    assert f'<tr class="overdue" data-id="{follow_up.pk}"' in page


@pytest.mark.parametrize(
    "query", ["status=bogus", "survey=no-such-survey", "assignee=nobody-here", "survey=Bad Slug!"]
)
def test_invalid_queue_filters_are_400(follow_up, query):
    reply = logged_in(manager_user()).get(f"/followups/?{query}")
    assert reply.status_code == 400


# --- Settings (admins only) --------------------------------------------------------------------


def settings_form(**overrides) -> dict:
    data = {
        "enabled": "on",
        "on_not_satisfied": "on",
        "score_at_most": "",
        "keywords": "refund, cancel, Refund",
        "sla_hours": "24",
        "default_owner": "",
        "alert_window_days": "7",
        "alert_drop_points": "10",
        "alert_min_answers": "20",
        "rule-TOTAL_FORMS": "2",
        "rule-INITIAL_FORMS": "0",
        "rule-MIN_NUM_FORMS": "0",
        "rule-MAX_NUM_FORMS": "50",
        "rule-0-ORDER": "2",
        "rule-0-field": "touchpoint_type",
        "rule-0-attribute": "",
        "rule-0-value": "purchase",
        "rule-0-owner": "ben",
        "rule-1-ORDER": "1",
        "rule-1-field": "attribute",
        "rule-1-attribute": "team",
        "rule-1-value": "billing",
        "rule-1-owner": "bea",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_managers_cannot_open_settings(survey):
    client = logged_in(manager_user())
    assert client.get("/followups/settings/shop/").status_code == 403
    assert client.post("/followups/settings/shop/", settings_form()).status_code == 403
    assert not FollowUpSettings.objects.exists()


def test_admins_save_settings_and_ordered_routing(survey):
    manager_user(username="ben")
    manager_user(username="bea")
    client = logged_in(admin_user())
    assert client.get("/followups/settings/shop/").status_code == 200
    reply = client.post("/followups/settings/shop/", settings_form())
    assert reply.status_code == 302, reply.content.decode()[:2000]
    config = FollowUpSettings.objects.get(survey=survey)
    assert config.sla_hours == 24 and config.keywords == ["refund", "cancel"]
    rules = list(RoutingRule.objects.order_by("position"))
    assert [(r.field, r.attribute, r.value, r.owner.username) for r in rules] == [
        ("attribute", "team", "billing", "bea"),
        ("touchpoint_type", "", "purchase", "ben"),
    ]
    page = client.get("/followups/settings/shop/").content.decode()
    assert 'value="billing"' in page and "refund, cancel" in page
    # Deleting a rule removes it.
    reply = client.post("/followups/settings/shop/", settings_form(**{"rule-1-DELETE": "on"}))
    assert reply.status_code == 302
    assert list(RoutingRule.objects.values_list("value", flat=True)) == ["purchase"]


@pytest.mark.parametrize("language", ["en", "de", "pl"])
def test_settings_page_fills_its_fields_readably_in_every_language(survey, language):
    """A number field's value keeps the dot a browser needs (German would write 10,00 and the
    field would show empty); keywords show as typed, an empty list as nothing."""
    FollowUpSettings.objects.create(survey=survey, alert_drop_points=Decimal("12.5"))
    page = (
        logged_in(admin_user())
        .get("/followups/settings/shop/", HTTP_ACCEPT_LANGUAGE=language)
        .content.decode()
    )
    assert 'name="alert_drop_points" value="12.50"' in page
    assert 'name="sla_hours" value="48"' in page
    assert 'name="keywords" value=""' in page and "[]" not in page


@pytest.mark.parametrize(
    "overrides",
    [
        {"sla_hours": "0"},
        {"sla_hours": "abc"},
        {"sla_hours": "99999"},
        {"score_at_most": "9"},  # not on the 1-5 scale
        {"alert_window_days": "0"},
        {"alert_drop_points": "150"},
        {"rule-1-attribute": ""},  # an attribute rule needs the attribute's name
        {"rule-1-attribute": "team name;drop"},
        {"rule-1-owner": "someone-else"},
        {"rule-0-value": ""},
        {"keywords": ",".join(f"w{i}" for i in range(60))},
    ],
)
def test_invalid_settings_are_400_and_change_nothing(survey, overrides):
    manager_user(username="ben")
    manager_user(username="bea")
    reply = logged_in(admin_user()).post("/followups/settings/shop/", settings_form(**overrides))
    assert reply.status_code == 400
    assert not FollowUpSettings.objects.exists() and not RoutingRule.objects.exists()


def test_settings_of_an_unknown_survey_are_404(db):
    assert logged_in(admin_user()).get("/followups/settings/nope/").status_code == 404


def test_queue_links_admins_to_the_settings(survey, follow_up):
    page = logged_in(admin_user()).get("/followups/?survey=shop").content.decode()
    assert "/followups/settings/shop/" in page
    assert (
        "/followups/settings/" not in logged_in(manager_user()).get("/followups/").content.decode()
    )


def test_follow_up_statuses_are_constrained_in_the_database(follow_up):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=follow_up.pk).update(resolved_at=timezone.now())


def test_reason_and_timeline_read_in_the_managers_language(follow_up):
    """What the product records (why it opened, who owns it, the outcome, the status) is worded
    in the reader's language, not in the language it was recorded in."""
    from django.utils import translation

    manager = manager_user()
    services.record_contact(
        follow_up=follow_up, outcome=FollowUp.Outcome.REACHED, text="Refund sent", by=manager
    )
    services.resolve_follow_up(follow_up=follow_up, by=manager)
    client = logged_in(manager)
    page = client.get(f"/followups/{follow_up.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "nicht zufrieden" in page
    assert "Refund sent" in page  # what a person wrote stays as written
    with translation.override("de"):
        expected = [note.event_text() for note in follow_up.notes.all()]
    assert all(text and text in page for text in expected), expected
    assert "Opened:" not in page and "Resolved." not in page
    queue = client.get("/followups/?status=resolved", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    with translation.override("pl"):
        assert follow_up.reason_text in queue
