"""The customer's language on every public page, and the logged-in UI's language switch."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.utils import timezone

from surveys import services
from surveys.models import Invitation, Response

from . import factories
from .factories import make_survey, rating_question

pytestmark = pytest.mark.django_db

TEXTS = {
    "en": "How satisfied?",
    "de": "Wie zufrieden?",
    "pl": "Jak bardzo?",
    "da": "Hvor tilfreds?",
}


@pytest.fixture
def multilingual():
    """A survey in English (its first language), German, Polish and Danish; not in Dutch."""
    return make_survey(
        slug="multi",
        languages=("en", "de", "pl", "da"),
        questions=[
            rating_question(primary=True, text=dict(TEXTS)),
            {
                "key": "comment",
                "kind": "comment",
                "text": {"en": "More?", "de": "Noch etwas?", "pl": "Coś jeszcze?", "da": "Mere?"},
            },
        ],
        thank_you={
            "en": "Thanks a lot.",
            "de": "Danke sehr.",
            "pl": "Dziękujemy bardzo.",
            "da": "Mange tak.",
        },
    )


def test_a_language_with_missing_texts_is_not_offered_the_first_one_is_used_whole(client):
    """German lacks the comment question's text: a German customer gets the English page as a
    whole (texts, labels and buttons), and the page offers no German."""
    survey = make_survey(
        slug="half",
        languages=("en", "de"),
        questions=[
            rating_question(primary=True, text={"en": "How satisfied?", "de": "Wie zufrieden?"}),
            {"key": "comment", "kind": "comment", "text": {"en": "More?"}},
        ],
    )
    url = invite(survey, locale="de")
    assert Invitation.objects.get().locale == "en"
    for page in (client.get(url), client.get(url + "?lang=de", HTTP_ACCEPT_LANGUAGE="de")):
        html = page.content.decode()
        assert 'lang="en"' in html and "How satisfied?" in html and "Wie zufrieden?" not in html
        assert ">Send<" in html and "Senden" not in html
        assert "?lang=de" not in html


def test_a_completed_language_is_offered_once_the_survey_is_saved(client):
    """The answer page keeps the offered languages per saved survey: completing the German text
    (which saves the survey) offers German at once."""
    survey = make_survey(
        slug="later",
        languages=("en", "de"),
        questions=[
            rating_question(primary=True, text={"en": "How satisfied?", "de": "Wie zufrieden?"}),
            {"key": "comment", "kind": "comment", "text": {"en": "More?"}},
        ],
    )
    url = invite(survey)
    assert "Wie zufrieden?" not in client.get(url + "?lang=de").content.decode()
    comment = survey.questions.get(key="comment")
    comment.text = {"en": "More?", "de": "Noch etwas?"}
    comment.save()
    survey.save()  # what the designer's save does to the survey row (updated_at)
    html = client.get(url + "?lang=de").content.decode()
    assert "Wie zufrieden?" in html and "Noch etwas?" in html


def invite(survey, locale=""):
    _, token = factories.invite(survey=survey, email="ana@example.com", locale=locale)
    return f"/s/{token}/"


def invite_without_language(survey) -> str:
    """An invitation stored without a language (made before invitations fixed theirs)."""
    invitation, token = factories.invite(survey=survey, email="ana@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(locale="")
    return f"/s/{token}/"


def shown(page) -> str:
    html = page.content.decode()
    return next(code for code, text in TEXTS.items() if text in html)


def test_lang_switch_wins_over_every_other_rule(client, multilingual):
    url = invite(multilingual, locale="de")
    page = client.get(url + "?lang=pl", HTTP_ACCEPT_LANGUAGE="da")
    assert shown(page) == "pl"
    assert 'lang="pl"' in page.content.decode()


def test_switch_to_a_language_the_survey_lacks_falls_back_to_the_next_rule(client, multilingual):
    url = invite(multilingual, locale="de")
    assert shown(client.get(url + "?lang=nl")) == "de"
    assert shown(client.get(url + "?lang=<script>")) == "de"


def test_invitation_locale_from_the_customer_comes_before_the_browser(client, multilingual):
    url = invite(multilingual, locale="de-AT")
    assert shown(client.get(url, HTTP_ACCEPT_LANGUAGE="da,en;q=0.5")) == "de"


def test_a_customer_without_a_language_is_invited_in_the_surveys_first(client, multilingual):
    """As for a touchpoint: the invitation's language is the one its email is written in, so
    the delivery figures per language and the page agree."""
    url = invite(multilingual, locale="fr")
    assert Invitation.objects.get().locale == "en"
    assert shown(client.get(url, HTTP_ACCEPT_LANGUAGE="da")) == "en"


def test_browser_language_among_the_surveys_languages_when_no_locale(client, multilingual):
    url = invite_without_language(multilingual)
    # Dutch is preferred but the survey does not speak it: the next browser language is taken.
    assert shown(client.get(url, HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9,da;q=0.8")) == "da"


def test_first_survey_language_when_nothing_else_matches(client, multilingual):
    url = invite(multilingual, locale="fr")
    assert shown(client.get(url, HTTP_ACCEPT_LANGUAGE="fr-FR,nl;q=0.5")) == "en"
    assert shown(client.get(url)) == "en"


def test_page_offers_a_switch_to_each_survey_language(client, multilingual):
    html = client.get(invite(multilingual, locale="de")).content.decode()
    for code, name in (("en", "English"), ("de", "Deutsch"), ("pl", "Polski"), ("da", "Dansk")):
        assert f'href="?lang={code}"' in html and name in html
    assert "?lang=nl" not in html
    assert 'aria-current="true">Deutsch' in html


def test_product_messages_follow_the_page_language(client, multilingual):
    url = invite(multilingual, locale="pl")
    html = client.get(url).content.decode()
    assert "Wyślij" in html and "Bardzo zadowolony" in html and "Język" in html
    html = client.get(url + "?lang=da").content.decode()
    assert "Meget tilfreds" in html and "Sprog" in html


def test_stored_response_locale_is_the_language_shown(client, multilingual):
    url = invite(multilingual, locale="de")
    page = client.get(url + "?lang=da")
    assert shown(page) == "da"
    # The form posts back to the language it was shown in.
    assert f'action="{url}?lang=da"' in page.content.decode()
    answer = client.post(url + "?lang=da", {"satisfaction": "4"})
    assert answer.status_code == 302 and answer["Location"].endswith("?lang=da")
    assert Response.objects.get().locale == "da"


def test_response_locale_without_a_switch_is_the_resolved_language(client, multilingual):
    url = invite_without_language(multilingual)
    client.post(url, {"satisfaction": "5"}, HTTP_ACCEPT_LANGUAGE="pl-PL")
    assert Response.objects.get().locale == "pl"


def test_thank_you_page_speaks_the_language_and_offers_the_switch(client, multilingual):
    url = invite(multilingual, locale="de")
    client.post(url, {"satisfaction": "4"})
    html = client.get(url + "thanks/").content.decode()
    assert "Danke sehr." in html and "Vielen Dank!" in html and 'lang="de"' in html
    html = client.get(url + "thanks/?lang=pl").content.decode()
    assert "Dziękujemy bardzo." in html and 'href="?lang=en"' in html
    html = client.get(url + "thanks/?lang=da").content.decode()
    assert "Mange tak." in html and 'lang="da"' in html


def test_validation_errors_are_in_the_page_language(client, multilingual):
    url = invite(multilingual, locale="de")
    page = client.post(url + "?lang=de", {"satisfaction": "9"})
    assert page.status_code == 400
    assert "Bitte wählen Sie eine der angezeigten Antworten." in page.content.decode()


def test_expired_page_speaks_the_customers_language(client, multilingual):
    url = invite(multilingual, locale="pl")
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        page = client.get(url)
    assert page.status_code == 410
    html = page.content.decode()
    assert "Ten link do ankiety wygasł." in html and "Ta ankieta jest zamknięta" in html


def test_closed_page_speaks_the_browsers_language(client, multilingual):
    url = invite_without_language(multilingual)
    services.change_status(survey=multilingual, status="archived")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="da-DK")
    assert page.status_code == 410
    assert "Denne undersøgelse modtager ikke længere svar." in page.content.decode()


def test_already_answered_page_speaks_the_language(client, multilingual):
    url = invite(multilingual, locale="de")
    client.post(url, {"satisfaction": "4"})
    html = client.get(url).content.decode()
    assert "Sie haben bereits geantwortet" in html


# --- the logged-in UI ------------------------------------------------------------------------


def test_logged_in_ui_follows_the_browser_language(admin_client):
    html = admin_client.get("/design/", HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9").content.decode()
    assert "Enquêtes" in html and "Uitloggen" in html


def test_language_switch_in_the_navigation_sets_the_ui_language(admin_client):
    html = admin_client.get("/design/").content.decode()
    assert 'action="/i18n/setlang/"' in html and 'name="language"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    switched = admin_client.post("/i18n/setlang/", {"language": "pl", "next": "/design/"})
    assert switched.status_code == 302 and switched["Location"] == "/design/"
    html = admin_client.get("/design/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert (
        "Ankiety" in html and "Wyloguj" in html and '<option value="pl" lang="pl" selected>' in html
    )


def test_language_switch_needs_the_csrf_token(admin):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/i18n/setlang/", {"language": "de"}).status_code == 403


def test_login_page_is_translated_too(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Log ind" in html and "Adgangskode" in html


def test_the_demo_surveys_speak_polish_completely(client):
    from django.core.management import call_command

    from surveys.models import Survey
    from surveys.translations import missing_translations

    call_command("seed_demo", days=10, per_day=20, stdout=open("/dev/null", "w"))  # noqa: SIM115
    for slug in ("purchase", "support"):
        survey = Survey.objects.get(slug=slug)
        assert "pl" in survey.languages
        assert missing_translations(survey) == []
    support = Survey.objects.get(slug="support")
    page = client.get(invite(support, locale="pl")).content.decode()
    assert '<html lang="pl"' in page
    for text in ("Jak oceniasz naszą obsługę klienta?", "Wcale nie rozwiązała", "Katastrofa"):
        assert text in page
    assert "Kundenservice" not in page and "customer service" not in page
    # Polish customers of the demo write in Polish.
    polish = Response.objects.filter(locale="pl", answers__text__gt="")
    assert polish.exists()
    assert not polish.filter(answers__text__in=["Took far too long.", "Great quality."]).exists()


class _Texts(HTMLParser):
    """The text a person reads on a page: text nodes (no scripts or styles) and the titles,
    labels and placeholders of elements, each whitespace-collapsed."""

    def __init__(self):
        super().__init__()
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder") and value:
                self.nodes.append(" ".join(value.split()))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.nodes.append(" ".join(data.split()))


def english_leftovers(html: str, language: str) -> list[str]:
    """Catalog sources shown in English on a page rendered in `language`: a text node that is
    exactly an English message, or a message of three words or more anywhere in the text."""
    import polib
    from django.conf import settings

    catalog = polib.pofile(f"{settings.BASE_DIR}/locale/{language}/LC_MESSAGES/django.po")
    english = {e.msgid for e in catalog if e.msgstr and e.msgstr != e.msgid and "%" not in e.msgid}
    # German "Filter" translates "Filters" and is also the English "Filter": not a leftover.
    english -= {e.msgstr for e in catalog}
    parser = _Texts()
    parser.feed(html)
    text = " ".join(parser.nodes)
    found = {node for node in parser.nodes if node in english}
    found |= {m for m in english if len(m.split()) >= 3 and m in text}
    return sorted(found)


@pytest.mark.parametrize("language", ["de", "pl"])
def test_staff_pages_show_no_english_leftovers(admin_client, language):
    """Every page an admin or a manager works with, in the demo's data, speaks their language."""
    from django.core.management import call_command

    from followups.models import FollowUp

    call_command("seed_demo", days=8, per_day=10, stdout=open("/dev/null", "w"))  # noqa: SIM115
    follow_up = FollowUp.objects.filter(survey__slug="support").first()
    pages = [
        "/design/",
        "/design/support/",
        "/design/support/invitations/",
        "/dashboard/",
        "/dashboard/support/?group_by=agent",
        "/dashboard/support/comments/",
        "/dashboard/support/responses/",
        "/followups/",
        f"/followups/{follow_up.pk}/",
        f"/responses/{follow_up.response_id}/",
        "/followups/settings/support/",
        "/dashboard/support/?interval=year",  # the bad-request page
    ]
    leftovers = {}
    for url in pages:
        page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert page.status_code in (200, 400), url
        if found := english_leftovers(page.content.decode(), language):
            leftovers[url] = found
    assert leftovers == {}
