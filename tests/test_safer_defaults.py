"""Defaults that protect customers and admins: a fatigue rule of 30 days, the primary question
required, "(optional)" on the answer page, one message per problem when publishing an empty
survey, and drafts that were never published can be deleted (asked first, POST with CSRF)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from surveys.models import Invitation, Question, Survey, TouchpointSkip
from surveys.touchpoints import record_touchpoints

from .factories import UserFactory, admin_user, invite, make_survey, manager_user

DEFINITION = {
    "name": "After purchase",
    "slug": "after-purchase",
    "touchpoint": "purchase",
    "languages": ["en"],
    "questions": [
        {"key": "satisfaction", "kind": "rating", "scale": "1-5", "primary": True, "text": "How?"},
        {"key": "speed", "kind": "rating", "scale": "1-5", "text": "Speed?"},
        {"key": "comment", "kind": "comment", "text": "Anything else?"},
    ],
}


def logged_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def purchase(n: int, email: str = "ana@example.com") -> dict:
    return {
        "type": "purchase",
        "external_id": f"order-{n}",
        "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "customer": {"email": email},
    }


@pytest.mark.django_db
def test_a_new_survey_surveys_a_customer_at_most_once_in_30_days(admin_client):
    assert admin_client.post("/api/v1/surveys/", DEFINITION, format="json").status_code == 201
    assert admin_client.post("/api/v1/surveys/after-purchase/publish/").status_code == 200
    survey = Survey.objects.get()
    assert survey.min_days_between_surveys == 30
    record_touchpoints(items=[purchase(1), purchase(2), purchase(3)])
    assert Invitation.objects.count() == 1
    assert TouchpointSkip.objects.filter(reason="fatigued").count() == 2
    # Changeable per survey: 0 switches the rule off.
    admin_client.patch(
        "/api/v1/surveys/after-purchase/", {"min_days_between_surveys": 0}, format="json"
    )
    record_touchpoints(items=[purchase(4)])
    assert Invitation.objects.count() == 2


@pytest.mark.django_db
def test_the_primary_question_is_required_unless_it_says_otherwise(admin_client):
    admin_client.post("/api/v1/surveys/", DEFINITION, format="json")
    required = dict(Question.objects.values_list("key", "required"))
    assert required == {"satisfaction": True, "speed": False, "comment": False}
    definition = json.loads(json.dumps(DEFINITION))
    definition["slug"] = "relaxed"
    definition["questions"][0]["required"] = False
    admin_client.post("/api/v1/surveys/", definition, format="json")
    assert not Question.objects.get(survey__slug="relaxed", key="satisfaction").required


@pytest.mark.django_db
def test_the_answer_page_marks_optional_questions(admin_client):
    admin_client.post("/api/v1/surveys/", DEFINITION, format="json")
    admin_client.post("/api/v1/surveys/after-purchase/publish/")
    _, token = invite(survey=Survey.objects.get(), email="ana@example.com")
    page = Client().get(f"/s/{token}/").content.decode()
    assert page.count("(required)") == 1 and page.count("(optional)") == 2
    german = Client().get(f"/s/{token}/?lang=de")
    assert german.status_code == 200


@pytest.mark.django_db
def test_publishing_an_empty_survey_names_the_problem_once_in_the_readers_language(admin_client):
    empty = {**DEFINITION, "questions": []}
    admin_client.post("/api/v1/surveys/", empty, format="json")
    reply = admin_client.post("/api/v1/surveys/after-purchase/publish/", HTTP_ACCEPT_LANGUAGE="de")
    assert reply.status_code == 400
    assert "mindestens eine Bewertungs-, NPS- oder CES-Frage" in reply.json()["detail"]


# --- deleting drafts ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_draft_never_published_is_deleted_after_asking():
    draft = make_survey(slug="draft", publish=False)
    invite(survey=draft, email="alex@example.com", is_test=True)
    client = logged_in(admin_user())
    page = client.get("/design/draft/delete/")
    assert page.status_code == 200 and "Its 1 test invitation and its answer go too." in page.text
    assert Survey.objects.filter(slug="draft").exists()  # asking deletes nothing
    reply = client.post("/design/draft/delete/", follow=True)
    assert reply.status_code == 200 and "is deleted" in reply.content.decode()
    assert not Survey.objects.exists() and not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_published_survey_is_never_deleted():
    published = make_survey(slug="shop")
    paused = make_survey(slug="paused")
    paused.status = Survey.Status.PAUSED
    paused.save()
    client = logged_in(admin_user())
    for slug in ("shop", "paused"):
        assert client.get(f"/design/{slug}/delete/").status_code == 409
        reply = client.post(f"/design/{slug}/delete/")
        assert reply.status_code == 409 and "archive this one" in reply.content.decode()
    assert Survey.objects.filter(pk__in=[published.pk, paused.pk]).count() == 2
    listing = client.get("/design/").content.decode()
    assert "/design/shop/delete/" not in listing


@pytest.mark.django_db
def test_deleting_needs_the_admin_role_and_csrf():
    make_survey(slug="draft", publish=False)
    for user in (manager_user(), UserFactory()):
        assert logged_in(user).post("/design/draft/delete/").status_code == 403
        assert logged_in(user).get("/design/draft/delete/").status_code == 403
    assert logged_in(admin_user(), csrf=True).post("/design/draft/delete/").status_code == 403
    assert Survey.objects.filter(slug="draft").exists()
    assert "/design/draft/delete/" in logged_in(admin_user()).get("/design/").content.decode()


@pytest.mark.django_db
def test_the_survey_list_marks_test_answers_apart_from_the_count():
    survey = make_survey(slug="shop")
    _, token = invite(survey=survey, email="alex@example.com", is_test=True)
    Client().post(f"/s/{token}/", {"satisfaction": "5"})
    page = logged_in(admin_user()).get("/design/").content.decode()
    assert "+1 test" in page and "/design/shop/invitations/?test=1#invitations" in page
    delivery = logged_in(admin_user()).get("/design/shop/invitations/?test=1").content.decode()
    assert "alex@example.com" in delivery and ">test</span>" in delivery
