import json

import pytest
from django.core import mail

from surveys.models import Invitation, Survey

from .factories import invite, make_survey

pytestmark = pytest.mark.django_db


def test_admin_creates_a_survey_from_each_template(admin_client):
    for template in ("csat-purchase", "csat-support", "nps", "ces"):
        response = admin_client.post("/design/new/", {"template": template})
        assert response.status_code == 302
    assert Survey.objects.count() == 4
    support = Survey.objects.get(touchpoint="support_contact", questions__key="speed")
    assert list(support.questions.values_list("key", "reversed")) == [
        ("service", True),
        ("resolved", True),
        ("speed", True),
        ("comment", False),
    ]
    assert support.questions.get(key="service").satisfied == [1, 2]


def test_slugs_stay_unique_when_the_same_template_is_used_twice(admin_client):
    admin_client.post("/design/new/", {"template": "nps"})
    admin_client.post("/design/new/", {"template": "nps"})
    assert sorted(Survey.objects.values_list("slug", flat=True)) == [
        "net-promoter-score",
        "net-promoter-score-2",
    ]


def test_editor_page_embeds_the_definition_and_the_scale_catalog(admin_client):
    make_survey(slug="shop")
    page = admin_client.get("/design/shop/").content.decode()
    assert 'id="survey-definition"' in page and 'id="scale-catalog"' in page


def test_preview_renders_the_unsaved_definition_with_the_answer_page_template(admin_client):
    make_survey(slug="shop")
    definition = {
        "languages": ["en", "de"],
        "questions": [
            {
                "key": "q",
                "kind": "rating",
                "scale": "emoji-3",
                "text": {"en": "Happy?", "de": "Froh?"},
            }
        ],
    }
    page = admin_client.post(
        "/design/shop/preview/?lang=de", json.dumps(definition), content_type="application/json"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Froh?" in html and "😊" in html and "Zufrieden" in html
    assert 'type="submit" disabled' in html  # a preview cannot be submitted
    assert Survey.objects.get(slug="shop").questions.filter(key="q").count() == 0  # nothing saved


def test_preview_reports_invalid_definitions_by_field(admin_client):
    make_survey(slug="shop")
    definition = {"questions": [{"key": "q", "kind": "rating", "scale": "1-5", "satisfied": [9]}]}
    page = admin_client.post(
        "/design/shop/preview/", json.dumps(definition), content_type="application/json"
    )
    assert page.status_code == 400
    assert "satisfied" in json.dumps(page.json())
    bad = admin_client.post("/design/shop/preview/", "{", content_type="application/json")
    assert bad.status_code == 400


def test_send_me_a_test_creates_a_test_invitation_and_mails_it(
    admin_client, admin, django_capture_on_commit_callbacks
):
    from csat_platform.celery import app

    make_survey(slug="shop")
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post("/design/shop/test/", {"lang": "en"})
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 201
    invitation = Invitation.objects.get()
    assert invitation.is_test and invitation.status == "sent"
    assert mail.outbox[0].to == [admin.email]
    assert response.json()["link"] in mail.outbox[0].body


def test_send_me_a_test_needs_an_email_address(admin_client, admin):
    admin.email = ""
    admin.save()
    make_survey(slug="shop")
    response = admin_client.post("/design/shop/test/", {"email": "not-an-address"})
    assert response.status_code == 400
    assert Invitation.objects.count() == 0


def test_mailbox_shows_the_demo_mail(admin_client, settings, tmp_path):
    from django.core.mail import EmailMultiAlternatives

    from csat_platform.mailbox import MailboxBackend

    settings.MAILBOX_DIR = tmp_path
    message = EmailMultiAlternatives("Hello <there>", "text body", to=["a@example.com"])
    message.attach_alternative("<p>html body</p>", "text/html")
    MailboxBackend().send_messages([message])
    listing = admin_client.get("/mailbox/").content.decode()
    assert "Hello &lt;there&gt;" in listing
    name = next(tmp_path.glob("*.eml")).stem
    assert "text body" in admin_client.get(f"/mailbox/{name}/").content.decode()
    html = admin_client.get(f"/mailbox/{name}/?part=html")
    assert b"<p>html body</p>" in html.content
    assert "script-src 'none'" in html["Content-Security-Policy"]
    assert admin_client.get("/mailbox/../secret_key/").status_code == 404


def test_delivery_funnel_counts_each_step_once(client, survey):

    for i, form in enumerate(
        [None, {"satisfaction": "4"}, {"satisfaction": "2", "comment": "Late parcel"}]
    ):
        invitation, token = invite(survey=survey, email=f"f{i}@example.com")
        Invitation.objects.filter(pk=invitation.pk).update(
            status="sent", sent_at=invitation.created_at
        )
        if form:
            client.post(f"/s/{token}/", form)
    from surveys.selectors import invitation_counts

    funnel = invitation_counts(survey)
    assert (funnel["sent"], funnel["clicked"], funnel["answered"], funnel["commented"]) == (
        3,
        2,
        2,
        1,
    )
