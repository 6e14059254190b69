from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from surveys import scales, services
from surveys.models import Answer, Invitation, Response

from . import factories
from .factories import make_survey, rating_question

pytestmark = pytest.mark.django_db


def invite(survey, email="ana@example.com", locale="en", **kwargs):
    invitation, token = factories.invite(
        survey=survey, email=email, name="Ana", locale=locale, **kwargs
    )
    return invitation, f"/s/{token}/"


def test_answer_page_shows_the_scale_as_a_labelled_radio_group(client, survey):
    _, url = invite(survey)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<fieldset" in html and "<legend>How satisfied are you?" in html
    assert html.count('type="radio" name="satisfaction"') == 5
    assert "Very satisfied" in html
    assert page["Cache-Control"] == "no-store"
    assert page["Referrer-Policy"] == "no-referrer"


def test_unknown_token_gets_the_same_404_as_any_unknown_address(client, db):
    unknown = client.get("/s/" + "A" * 32 + "/")
    other = client.get("/no-such-page/")
    assert unknown.status_code == other.status_code == 404
    assert unknown.content == other.content


def test_database_holds_no_live_link(survey):
    invitation, url = invite(survey)
    token = url.split("/")[2]
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in str(stored)


def test_score_in_the_link_preselects_but_never_records(client, survey):
    invitation, url = invite(survey)
    page = client.get(url + "?score=4")
    assert page.status_code == 200
    assert 'value="4" checked' in page.content.decode()
    assert Response.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.clicked_at is not None  # the visit counts as a click for the funnel


def test_score_outside_the_scale_in_the_link_is_ignored_with_a_notice(client, survey):
    _, url = invite(survey)
    page = client.get(url + "?score=9")
    assert page.status_code == 200
    assert " checked" not in page.content.decode()
    assert "not on this scale" in page.content.decode()


def test_customer_answers_and_sees_the_thank_you_page(client, survey):
    invitation, url = invite(survey)
    response = client.post(url, {"satisfaction": "5", "comment": "Quick delivery"})
    assert response.status_code == 302
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Thank you" in thanks.content.decode()
    stored = Response.objects.get()
    assert stored.invitation_id == invitation.pk
    answers = {a.question.key: a for a in stored.answers.all()}
    assert answers["satisfaction"].score == 5 and answers["satisfaction"].satisfied is True
    assert answers["comment"].text == "Quick delivery"
    invitation.refresh_from_db()
    assert invitation.answered_at is not None


def test_a_stored_response_is_announced_once_to_listeners(
    client, survey, django_capture_on_commit_callbacks
):
    from surveys.signals import response_recorded

    heard = []

    def listener(sender, response, **kwargs):
        heard.append((response.pk, response.answers.get(question__key="satisfaction").score))

    response_recorded.connect(listener)
    try:
        _, url = invite(survey)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {"satisfaction": "2"})
            client.post(url, {"satisfaction": "5"})  # refused: no second announcement
    finally:
        response_recorded.disconnect(listener)
    assert heard == [(Response.objects.get().pk, 2)]


def test_second_submit_keeps_the_first_answer(client, survey):
    _, url = invite(survey)
    client.post(url, {"satisfaction": "2"})
    again = client.post(url, {"satisfaction": "5"})
    assert again.status_code == 409
    assert "already answered" in again.content.decode()
    assert Answer.objects.get(question__key="satisfaction").score == 2
    assert client.get(url).status_code == 200  # a friendly page, not an error


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"satisfaction": "6"}, 400, "Please choose one of the answers shown."),
        ({"satisfaction": "abc"}, 400, "Please choose one of the answers shown."),
        ({}, 400, "Please choose an answer."),
        ({"satisfaction": "4", "comment": "x" * 201}, 400, "Please shorten your comment"),
    ],
)
def test_bad_input_gets_a_clear_message_and_a_4xx(client, survey, form, status, message):
    _, url = invite(survey)
    page = client.post(url, form)
    assert page.status_code == status
    assert message in page.content.decode()
    assert Response.objects.count() == 0


def test_expired_link_shows_a_closed_page(client, survey):
    _, url = invite(survey)
    with time_machine.travel(timezone.now() + timedelta(days=survey.expires_after_days + 1)):
        page = client.get(url)
        assert page.status_code == 410
        assert "expired" in page.content.decode()
        assert client.post(url, {"satisfaction": "5"}).status_code == 410
    assert Response.objects.count() == 0


def test_archived_survey_shows_a_closed_page(client, survey):
    _, url = invite(survey)
    services.change_status(survey=survey, status="archived")
    assert client.get(url).status_code == 410


def test_page_speaks_the_customers_language(client):
    survey = make_survey(
        slug="de-en",
        languages=("en", "de"),
        questions=[
            rating_question(primary=True, text={"en": "How satisfied?", "de": "Wie zufrieden?"})
        ],
    )
    _, url = invite(survey, locale="de-AT")
    html = client.get(url).content.decode()
    assert "Wie zufrieden?" in html and "Sehr zufrieden" in html and 'lang="de"' in html
    html = client.get(url + "?lang=en").content.decode()
    assert "How satisfied?" in html
    # Without a language of the customer's, the invitation speaks the survey's first, as one
    # made for a touchpoint does; an invitation stored without any follows the browser.
    invitation, url = invite(survey, email="bo@example.com", locale="")
    assert invitation.locale == "en"
    Invitation.objects.filter(pk=invitation.pk).update(locale="")
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert "Wie zufrieden?" in html


def test_emoji_scale_shows_faces_with_text_labels(client):
    survey = make_survey(slug="faces", questions=[rating_question(scale="emoji-5", primary=True)])
    _, url = invite(survey)
    html = client.get(url).content.decode()
    assert "😄" in html and "Very satisfied" in html


ALL_SCALES = [
    (kind, code, rev)
    for kind, codes in scales.SCALES_BY_KIND.items()
    for code in codes
    for rev in ((False, True) if scales.SCALES[code].reversible and kind != "nps" else (False,))
]


@pytest.mark.parametrize(("kind", "code", "reversed"), ALL_SCALES)
def test_satisfied_is_decided_at_write_time_for_every_scale(client, kind, code, reversed):
    survey = make_survey(
        slug=f"s-{kind}-{code}-{int(reversed)}",
        questions=[
            {
                "key": "q",
                "kind": kind,
                "scale": code,
                "reversed": reversed,
                "text": "Q?",
                "primary": True,
            }
        ],
    )
    expected = set(scales.default_satisfied(kind, code, reversed))
    for point in scales.SCALES[code].points:
        _, url = invite(survey, email=f"p{point}@example.com")
        assert client.post(url, {"q": str(point)}).status_code == 302
        answer = Answer.objects.get(response__invitation__contact__email=f"p{point}@example.com")
        assert answer.satisfied is (point in expected), (code, reversed, point)
        assert answer.score == point


def test_reversed_school_grade_scale_counts_one_and_two_as_satisfied(client):
    # Seed 003: 1 = sehr zufrieden ... 5 = sehr unzufrieden.
    survey = make_survey(slug="grades", questions=[rating_question(reversed=True, primary=True)])
    for score, satisfied in [("1", True), ("2", True), ("3", False), ("5", False)]:
        _, url = invite(survey, email=f"g{score}@example.com")
        client.post(url, {"satisfaction": score})
        answer = Answer.objects.get(response__invitation__contact__email=f"g{score}@example.com")
        assert answer.satisfied is satisfied
        assert answer.score_norm == scales.normalized_score("1-5", True, int(score))


def test_satisfied_set_of_the_question_at_answer_time_is_what_counts(client):
    survey = make_survey(
        slug="custom", questions=[rating_question(satisfied=[3, 4, 5], primary=True)]
    )
    _, url = invite(survey)
    client.post(url, {"satisfaction": "3"})
    assert Answer.objects.get().satisfied is True


def test_answer_page_sets_no_cookie_and_a_plain_form_post_is_enough(survey):
    # No JavaScript, no cookie: the link token alone authenticates the customer.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    _, url = invite(survey)
    page = strict.get(url)
    assert not page.cookies
    response = strict.post(url, {"satisfaction": "4"})
    assert response.status_code == 302
    assert not response.cookies


def test_the_token_lookup_loads_what_the_orm_loads_and_nothing_more_later(
    survey, django_assert_num_queries
):
    """The answer page's lookup is written out by hand for speed: it must give the same
    invitation and survey as the ORM query it replaces, JSON and times decoded alike."""
    from surveys import selectors

    invitation, url = invite(survey, attributes={"order_id": "A-17", "channel": "web"})
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now(), expires_at=timezone.now() + timedelta(days=3)
    )
    expected = (
        Invitation.objects.select_related("survey")
        .only(*selectors.ANSWER_PAGE_FIELDS)
        .get(pk=invitation.pk)
    )
    found = selectors.invitation_for_token(url.split("/")[2])
    with django_assert_num_queries(0):
        for name in selectors.ANSWER_PAGE_FIELDS:
            path = name.split("__")
            if path[0] == "survey":
                assert getattr(found.survey, path[1]) == getattr(expected.survey, path[1]), name
            else:
                assert getattr(found, name) == getattr(expected, name), name
    assert found.attributes == {"order_id": "A-17", "channel": "web"}
    assert found.sent_at.tzinfo is not None and found.survey.languages == ["en"]
    assert selectors.invitation_for_token("A" * 32) is None
