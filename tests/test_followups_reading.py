"""Follow-ups as their reader sees them: contact details a customer typed are masked in the
queue, on the follow-up, in the owner's mail and in webhooks (reports.redact, one home), and the
questions are named in the reader's language."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followups import services
from followups.emails import follow_up_email
from followups.payloads import follow_up_data
from surveys.models import Response

from .factories import invite, make_survey, manager_user, rating_question

pytestmark = pytest.mark.django_db

TYPED = "Call me on +49 171 2345678 or write to jo@example.com"


@pytest.fixture
def follow_up(db):
    survey = make_survey(
        slug="bilingual",
        languages=("en", "de"),
        questions=[
            rating_question(
                primary=True, required=True, text={"en": "How was it?", "de": "Wie war es?"}
            ),
            {
                "key": "comment",
                "kind": "comment",
                "text": {"en": "Anything else?", "de": "Noch etwas?"},
            },
        ],
    )
    _, token = invite(survey=survey, email="ana@example.com", name="Ana")
    Client().post(f"/s/{token}/", {"satisfaction": "1", "comment": TYPED})
    opened = services.open_follow_up(response_id=Response.objects.get().pk)
    opened.assignee = User.objects.create_user("owner", email="owner@example.com")
    opened.save()
    return opened


def logged_in(**headers) -> Client:
    client = Client(**headers)
    client.force_login(manager_user())
    return client


def test_typed_contact_details_are_masked_everywhere_a_follow_up_shows(follow_up):
    assert follow_up.comment == TYPED  # kept as typed: the masking is in what is shown
    for url in ("/followups/", f"/followups/{follow_up.pk}/"):
        page = logged_in().get(url).content.decode()
        assert "jo@example.com" not in page and "2345678" not in page, url
        assert "[email hidden]" in page and "[phone hidden]" in page, url
    mail = follow_up_email(follow_up)
    assert "jo@example.com" not in mail.body and "[email hidden]" in mail.body
    assert "jo@example.com" not in mail.alternatives[0][0]
    assert follow_up_data(follow_up)["comment"] == (
        "Call me on [phone hidden] or write to [email hidden]"
    )


def test_shown_as_typed_when_the_installation_says_so(follow_up, settings):
    settings.HIDE_CONTACT_DETAILS_IN_COMMENTS = False
    assert "jo@example.com" in logged_in().get(f"/followups/{follow_up.pk}/").content.decode()


def test_questions_are_named_in_the_readers_language(follow_up):
    german = logged_in(HTTP_ACCEPT_LANGUAGE="de").get(f"/followups/{follow_up.pk}/")
    assert "Wie war es?" in german.content.decode()
    english = logged_in(HTTP_ACCEPT_LANGUAGE="en").get(f"/followups/{follow_up.pk}/")
    assert "How was it?" in english.content.decode()
    response = logged_in(HTTP_ACCEPT_LANGUAGE="de").get(f"/responses/{follow_up.response_id}/")
    assert "Wie war es?" in response.content.decode() and "Noch etwas?" in response.content.decode()
