"""Django's admin keeps the invariants the services keep: a published question's kind, scale,
direction and satisfied set cannot change, its questions cannot be removed, and the lifecycle
moves only through the designer and the API (which freeze questions when publishing)."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User

from surveys.models import Question, Survey

from .factories import make_survey, rating_question

pytestmark = pytest.mark.django_db


class FormFields(HTMLParser):
    """What a browser would post from the page's main form (disabled fields are not sent)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "file"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[name] = a.get("value") or "on"
            else:
                self.data[name] = a.get("value") or ""
        elif tag == "select" and name:
            self.select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data.lstrip("\n") if not self.data[self.textarea] else data


@pytest.fixture
def operator(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def change_form(client, survey: Survey) -> dict[str, str]:
    page = client.get(f"/admin/surveys/survey/{survey.pk}/change/")
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.content.decode())
    return parser.data


def frozen_fields(question: Question) -> tuple:
    question.refresh_from_db()
    return tuple(getattr(question, name) for name in Question.FROZEN_FIELDS)


def rewrite(data: dict[str, str]) -> dict[str, str]:
    """The operator turns the 1-5 rating into an NPS question, reversed, satisfied by 1."""
    return {
        **data,
        "questions-0-kind": "nps",
        "questions-0-scale": "0-10",
        "questions-0-reversed": "on",
        "questions-0-satisfied": "[1]",
    }


def test_a_published_questions_frozen_fields_cannot_change_in_the_admin(operator):
    survey = make_survey(slug="shop", questions=[rating_question(primary=True)])
    question = survey.questions.get()
    before = frozen_fields(question)
    data = change_form(operator, survey)
    assert "questions-0-scale" not in data  # shown, not editable
    reply = operator.post(
        f"/admin/surveys/survey/{survey.pk}/change/",
        {**rewrite(data), "questions-0-DELETE": "on", "status": "draft"},
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]
    assert frozen_fields(question) == before == ("rating", "1-5", False, [4, 5])
    survey.refresh_from_db()
    assert survey.status == Survey.Status.ACTIVE and survey.is_published


def test_a_draft_questions_fields_stay_editable_in_the_admin(operator):
    survey = make_survey(slug="draft", questions=[rating_question(primary=True)], publish=False)
    question = survey.questions.get()
    reply = operator.post(
        f"/admin/surveys/survey/{survey.pk}/change/", rewrite(change_form(operator, survey))
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]
    assert frozen_fields(question) == ("nps", "0-10", True, [1])
