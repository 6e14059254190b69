"""A subject is plain text: names with & or ' arrive as written, not as HTML entities, in every
mail the product sends (read from a real SMTP server on loopback)."""

import pytest
from django.test import Client

from followups import tasks
from followups.models import FollowUpSettings
from surveys import invitations
from surveys.customers import CustomerIn
from surveys.models import Contact

from .factories import make_survey, manager_user
from .followups_support import eager_celery  # noqa: F401 (fixture)
from .test_sending import send_due

pytestmark = pytest.mark.django_db

NAME = "Tom & Jerry's <Shop>"


def test_invitation_subjects_are_plain_text(smtp_server):
    plain = make_survey(slug="plain", name=NAME)
    custom = make_survey(slug="custom", name=NAME, email_subject={"en": "{name}, how was it?"})
    ana = Contact.objects.create(email="ana@example.com", name="Ana")
    bo = Contact.objects.create(email="bo@example.com", name="Bo O'Brien & Sons")
    invitations.invite(survey=plain, customer=ana)
    invitations.invite(survey=custom, customer=bo)
    assert send_due() == {"sent": 2}
    subjects = {m["to"][0]: m["message"]["Subject"] for m in smtp_server.wait_for(2)}
    assert subjects == {
        "ana@example.com": "Tom & Jerry's <Shop>: how did we do?",
        "bo@example.com": "Bo O'Brien & Sons, how was it?",
    }


def test_follow_up_and_alert_subjects_are_plain_text(
    smtp_server,
    django_capture_on_commit_callbacks,
    eager_celery,  # noqa: F811
):
    survey = make_survey(slug="shop", name=NAME)
    owner = manager_user(email="owner@example.com")
    FollowUpSettings.objects.create(survey=survey, default_owner=owner)
    _, token = invitations.invite(survey=survey, customer=CustomerIn(email="a@x.org"))
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post(f"/s/{token}/", {"satisfaction": "1"}).status_code == 302
    tasks.send_alert_mail.apply(args=(survey.pk, {"message": "CSAT fell."}))
    subjects = [m["message"]["Subject"] for m in smtp_server.wait_for(2)]
    assert subjects == [
        "Follow-up: Tom & Jerry's <Shop>, not satisfied (score 1)",
        "CSAT alert: Tom & Jerry's <Shop>",
    ]
