"""Per-language survey texts in the designer, and the missing-translation warning before
publishing (in the designer and in the publish API's `warnings`)."""

import pytest
from django.utils import translation

from surveys.models import Survey
from surveys.translations import missing_translations

from .factories import admin_user, make_survey, rating_question

pytestmark = pytest.mark.django_db


def draft(**fields):
    return make_survey(
        slug="multi",
        publish=False,
        languages=("en", "de", "pl"),
        questions=[
            rating_question(
                primary=True,
                text={"en": "How satisfied?", "de": "Wie zufrieden?", "pl": "Jak bardzo?"},
                labels={"en": ["Awful", "Bad", "OK", "Good", "Great"]},
            ),
            {"key": "comment", "kind": "comment", "text": {"en": "Anything else?"}},
        ],
        intro={"en": "Two questions.", "de": "Zwei Fragen.", "pl": "Dwa pytania."},
        thank_you={"en": "Thanks!"},
        **fields,
    )


def pairs(survey):
    return [(m.language, m.field) for m in missing_translations(survey)]


def test_missing_translations_are_listed_per_language_and_field():
    survey = draft()
    assert pairs(survey) == [
        ("de", "thank_you"),
        ("de", "questions.satisfaction.labels"),
        ("de", "questions.comment.text"),
        ("pl", "thank_you"),
        ("pl", "questions.satisfaction.labels"),
        ("pl", "questions.comment.text"),
    ]


def test_a_text_left_empty_in_every_language_is_not_a_gap():
    survey = draft()
    assert not any(field.startswith("email") for _, field in pairs(survey))


def test_complete_survey_has_no_warning():
    survey = make_survey(
        slug="done",
        publish=False,
        languages=("en", "da"),
        questions=[rating_question(primary=True, text={"en": "How?", "da": "Hvordan?"})],
        thank_you={"en": "Thanks", "da": "Tak"},
    )
    assert pairs(survey) == []


def test_warning_messages_speak_the_admins_language():
    survey = draft()
    with translation.override("de"):
        message = missing_translations(survey)[0].as_dict()["message"]
    assert message == "Danktext fehlt in Deutsch."


def test_publish_api_lists_the_warnings_and_still_publishes(admin_client):
    draft()
    response = admin_client.post("/api/v1/surveys/multi/publish/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active"
    assert {"language": "pl", "field": "questions.comment.text"}.items() <= body["warnings"][
        -1
    ].items()
    assert body["warnings"][0] == {
        "language": "de",
        "field": "thank_you",
        "message": "Thank-you text is missing in Deutsch.",
    }
    assert Survey.objects.get(slug="multi").status == "active"


def test_publish_api_without_gaps_has_an_empty_warning_list(admin_client):
    make_survey(slug="one", publish=False)
    body = admin_client.post("/api/v1/surveys/one/publish/").json()
    assert body["warnings"] == []


def test_designer_loads_the_javascript_catalog_in_the_admins_language(admin_client):
    draft()
    html = admin_client.get("/design/multi/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<script src="/jsi18n/"></script>' in html and 'id="translation-warnings"' in html
    catalog = admin_client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Fehlende \\u00dcbersetzungen" in catalog or "Fehlende Übersetzungen" in catalog


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_designer_in_german_warns_about_missing_translations_live(browser, live_server):
    admin_user(username="greta")
    draft()
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "greta")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/design/multi/")
    box = page.locator("#translation-warnings")
    box.wait_for()
    text = box.inner_text()
    assert "Fehlende Übersetzungen" in text
    assert "Deutsch: Danktext" in text and "Frage 2 (comment)" in text
    assert "Polski" in text
    assert page.locator("#save-state").inner_text() == "Alle Änderungen gespeichert"
    page.screenshot(path="/tmp/designer-warnings-de.png", full_page=False)

    # Filling the missing texts in German removes German from the list at once.
    page.locator("#lang-tabs button", has_text="Deutsch").click()
    page.locator(".q input[aria-label='Text von Frage 2']").fill("Noch etwas?")
    page.locator("#f-thanks").fill("Danke!")
    for i, label in enumerate(["Schlecht", "Mäßig", "Okay", "Gut", "Super"], start=1):
        page.locator(f"input[aria-label='Beschriftung von Punkt {i}']").fill(label)
    page.wait_for_function(
        "() => !document.getElementById('translation-warnings').innerText.includes('Deutsch')"
    )
    assert "Polski" in box.inner_text()

    # Publishing asks, listing what is still missing, and is allowed.
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.click("#btn-publish")
    page.wait_for_function("() => document.getElementById('head-status').textContent === 'Aktiv'")
    assert "Fehlende Übersetzungen" in dialogs[0] and "Polski" in dialogs[0]
    assert "Deutsch" not in dialogs[0].split("Fehlende Übersetzungen")[1]
    survey = Survey.objects.get(slug="multi")
    assert survey.status == "active" and survey.thank_you["de"] == "Danke!"
    assert survey.questions.get(key="comment").text["de"] == "Noch etwas?"
    assert errors == []
    context.close()
