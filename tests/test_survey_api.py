import io

import pytest
from django.core.management import call_command

from surveys.models import Question, Survey

from .factories import make_survey, rating_question

pytestmark = pytest.mark.django_db


def definition(**overrides):
    data = {
        "name": "After purchase",
        "slug": "after-purchase",
        "touchpoint": "purchase",
        "languages": ["en", "de"],
        "intro": {"en": "Thanks for your order", "de": "Danke für Ihre Bestellung"},
        "thank_you": "Thank you!",
        "csat_target": 80,
        "questions": [
            rating_question(primary=True, required=True),
            {"key": "grade", "kind": "rating", "scale": "1-5", "reversed": True, "text": "Note?"},
            {"key": "nps", "kind": "nps", "text": "Recommend us?"},
            {"key": "comment", "kind": "comment", "text": "Anything else?", "max_length": 300},
        ],
    }
    data.update(overrides)
    return data


def test_admin_creates_a_survey_and_gets_defaults_for_every_question(admin_client):
    response = admin_client.post("/api/v1/surveys/", definition(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["thank_you"] == {"en": "Thank you!"}  # a plain string is the first language
    questions = {q["key"]: q for q in body["questions"]}
    assert questions["satisfaction"]["satisfied"] == [4, 5]
    assert questions["grade"]["satisfied"] == [1, 2]
    assert questions["nps"]["scale"] == "0-10"
    assert questions["nps"]["satisfied"] == [9, 10]
    assert questions["comment"]["max_length"] == 300
    assert [q["key"] for q in body["questions"]] == ["satisfaction", "grade", "nps", "comment"]


def test_api_key_can_create_and_read_surveys(key_client):
    assert key_client.post("/api/v1/surveys/", definition(), format="json").status_code == 201
    listing = key_client.get("/api/v1/surveys/").json()
    assert [s["slug"] for s in listing["results"]] == ["after-purchase"]


@pytest.mark.parametrize(
    ("question_change", "field"),
    [
        ({"scale": "1-6"}, "scale"),
        ({"satisfied": [4, 11]}, "satisfied"),
        ({"kind": "smiley"}, "kind"),
        ({"labels": {"en": ["only", "three", "labels"]}}, "labels"),
    ],
)
def test_invalid_question_definitions_are_a_400_naming_the_field(
    admin_client, question_change, field
):
    data = definition()
    data["questions"][0].update(question_change)
    response = admin_client.post("/api/v1/surveys/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["questions"]["0"] or field in response.json()["questions"][0]


def test_two_primary_questions_are_refused(admin_client):
    data = definition()
    data["questions"][1]["primary"] = True
    response = admin_client.post("/api/v1/surveys/", data, format="json")
    assert response.status_code == 400
    assert "primary" in str(response.json()["questions"])


def test_duplicate_question_keys_are_refused(admin_client):
    data = definition()
    data["questions"][1]["key"] = "satisfaction"
    response = admin_client.post("/api/v1/surveys/", data, format="json")
    assert response.status_code == 400
    assert "Duplicate question key" in str(response.json()["questions"])


def test_text_in_a_language_the_survey_does_not_speak_is_refused(admin_client):
    response = admin_client.post(
        "/api/v1/surveys/", definition(intro={"fr": "Bonjour"}), format="json"
    )
    assert response.status_code == 400
    assert "intro" in response.json()


def test_duplicate_slug_is_a_conflict(admin_client):
    admin_client.post("/api/v1/surveys/", definition(), format="json")
    response = admin_client.post("/api/v1/surveys/", definition(), format="json")
    assert response.status_code == 409
    assert "slug" in response.json()


def test_malformed_body_is_a_400(admin_client):
    response = admin_client.post("/api/v1/surveys/", "[1,2", content_type="application/json")
    assert response.status_code == 400


def test_publishing_freezes_scales_but_texts_and_labels_stay_editable(admin_client):
    admin_client.post("/api/v1/surveys/", definition(), format="json")
    published = admin_client.post("/api/v1/surveys/after-purchase/publish/")
    assert published.status_code == 200
    assert published.json()["status"] == "active"
    questions = published.json()["questions"]
    assert all(q["frozen"] for q in questions)

    changed_scale = [dict(q) for q in questions]
    changed_scale[0]["scale"] = "1-7"
    changed_scale[0].pop("satisfied")
    response = admin_client.patch(
        "/api/v1/surveys/after-purchase/", {"questions": changed_scale}, format="json"
    )
    assert response.status_code == 409
    assert "can no longer change" in response.json()["detail"]
    assert Question.objects.get(key="satisfaction").scale == "1-5"

    corrected = [dict(q) for q in questions]
    corrected[0]["text"] = {"en": "How happy are you with your order?", "de": "Wie zufrieden?"}
    corrected[0]["labels"] = {"en": ["Awful", "Bad", "OK", "Good", "Great"]}
    response = admin_client.patch(
        "/api/v1/surveys/after-purchase/", {"questions": corrected}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["questions"][0]["labels"]["en"][4] == "Great"

    removed = admin_client.patch(
        "/api/v1/surveys/after-purchase/", {"questions": questions[:2]}, format="json"
    )
    assert removed.status_code == 409
    assert Question.objects.filter(survey__slug="after-purchase").count() == 4


def test_satisfied_set_is_frozen_after_publishing(admin_client):
    admin_client.post("/api/v1/surveys/", definition(), format="json")
    questions = admin_client.post("/api/v1/surveys/after-purchase/publish/").json()["questions"]
    questions[0]["satisfied"] = [3, 4, 5]
    response = admin_client.patch(
        "/api/v1/surveys/after-purchase/", {"questions": questions}, format="json"
    )
    assert response.status_code == 409
    assert "satisfied" in response.json()


def test_status_moves_draft_active_paused_archived_and_not_back(admin_client):
    admin_client.post("/api/v1/surveys/", definition(), format="json")
    url = "/api/v1/surveys/after-purchase/"
    assert admin_client.patch(url, {"status": "paused"}, format="json").status_code == 409
    assert admin_client.patch(url, {"status": "active"}, format="json").json()["status"] == "active"
    assert admin_client.patch(url, {"status": "paused"}, format="json").json()["status"] == "paused"
    assert admin_client.patch(url, {"status": "active"}, format="json").json()["status"] == "active"
    assert (
        admin_client.patch(url, {"status": "archived"}, format="json").json()["status"]
        == "archived"
    )
    assert admin_client.patch(url, {"status": "active"}, format="json").status_code == 409
    assert Survey.objects.get(slug="after-purchase").questions.count() == 4  # archiving keeps data


def test_publishing_needs_a_scored_question(admin_client):
    data = definition(questions=[{"key": "c", "kind": "comment", "text": "Say something"}])
    admin_client.post("/api/v1/surveys/", data, format="json")
    response = admin_client.post("/api/v1/surveys/after-purchase/publish/")
    assert response.status_code == 400
    assert "questions" in response.json()


def test_unknown_survey_is_a_404(admin_client):
    assert admin_client.get("/api/v1/surveys/nope/").status_code == 404


def test_manager_cannot_design_through_the_api(manager_client):
    assert manager_client.get("/api/v1/surveys/").status_code == 403
    assert manager_client.post("/api/v1/surveys/", definition(), format="json").status_code == 403


def test_anonymous_and_wrong_keys_are_refused(client, db):
    assert client.get("/api/v1/surveys/").status_code in (401, 403)
    response = client.get("/api/v1/surveys/", HTTP_AUTHORIZATION="Bearer csat_wrong")
    assert response.status_code == 401


def test_create_api_key_prints_a_key_once_and_stores_only_its_hash(client):
    out = io.StringIO()
    call_command("create_api_key", "helpdesk", stdout=out, stderr=io.StringIO())
    raw = out.getvalue().strip()
    from access.models import ApiKey

    stored = ApiKey.objects.get(name="helpdesk")
    assert raw not in (stored.key_hash, stored.prefix)
    assert client.get("/api/v1/surveys/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_invitation_api_returns_a_personal_link(key_client, settings):
    make_survey(slug="shop")
    response = key_client.post(
        "/api/v1/surveys/shop/invitations/",
        {"email": "ana@example.com", "name": "Ana", "locale": "en"},
        format="json",
    )
    assert response.status_code == 201
    link = response.json()["link"]
    assert link.startswith(f"{settings.SITE_URL}/s/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 22  # at least 128 bits


def test_invitation_api_validates_the_email(key_client):
    make_survey(slug="shop")
    response = key_client.post(
        "/api/v1/surveys/shop/invitations/", {"email": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()


def test_draft_surveys_take_no_customer_invitations(key_client):
    make_survey(slug="shop", publish=False)
    response = key_client.post(
        "/api/v1/surveys/shop/invitations/", {"email": "a@example.com"}, format="json"
    )
    assert response.status_code == 409


def test_openapi_schema_and_docs_are_served(admin_client):
    schema = admin_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/surveys/" in schema.content
    assert admin_client.get("/api/docs/").status_code == 200
