"""Sending from the browser: invite one customer, upload a CSV file of touchpoints, check it,
import it. Roles, CSRF, validation on the page, the survey's rules, and the same file twice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from surveys import uploads
from surveys.models import Contact, Invitation, TouchpointEvent, TouchpointSkip, TouchpointUpload

from .factories import UserFactory, admin_user, make_survey, manager_user

pytestmark = pytest.mark.django_db

HEADER = "external_id,occurred_at,customer_email,customer_name,customer_locale,attr.channel\n"


def logged_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def recent(minutes: int = 5) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat(timespec="seconds")


def csv_file(text: str, name: str = "orders.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def shop(db):
    return make_survey(slug="shop", languages=("en", "de"))


@pytest.fixture
def backlog() -> str:
    t = recent()
    return (
        HEADER
        + f"o-1,{t},ana@example.com,Ana,de,web\n"  # line 2
        + "o-2,yesterday,bo@example.com,Bo,,web\n"  # line 3: bad time
        + f"o-3,{t},not-an-email,Cy,,web\n"  # line 4: bad email
        + f"o-4,{t},dee@example.com,Dee,,phone\n"  # line 5
        + f"o-5,{t},eve@example.com\n"  # line 6: too few fields
    )


def admin_client() -> Client:
    return logged_in(admin_user(username="alex"))


def upload(client: Client, text: str, slug: str = "shop"):
    return client.post(f"/design/{slug}/send/upload/", {"file": csv_file(text)})


# --- roles and CSRF ----------------------------------------------------------------------------


def test_only_survey_admins_send(shop, backlog):
    item = TouchpointUpload.objects.create(survey=shop, file_name="x.csv", stored_as="uploads/x")
    pages = ["/design/shop/send/", f"/design/shop/uploads/{item.pk}/"]
    pages.append(f"/design/shop/uploads/{item.pk}/status/")
    assert Client().get(pages[0]).status_code == 302
    for user in (manager_user(), UserFactory()):
        client = logged_in(user)
        for page in pages:
            assert client.get(page).status_code == 403, page
        assert client.post("/design/shop/send/invite/", {"email": "a@example.com"}).status_code == (
            403
        )
        assert upload(client, backlog).status_code == 403
        assert client.post(f"/design/shop/uploads/{item.pk}/").status_code == 403
    assert not Invitation.objects.exists() and TouchpointUpload.objects.count() == 1


def test_the_forms_need_csrf(shop, backlog):
    client = logged_in(admin_user(), csrf=True)
    reply = client.post("/design/shop/send/invite/", {"email": "a@example.com", "language": "en"})
    assert reply.status_code == 403
    assert upload(client, backlog).status_code == 403
    assert not Invitation.objects.exists() and not TouchpointUpload.objects.exists()


# --- invite one customer -----------------------------------------------------------------------


def test_invite_one_customer_through_the_survey_rules(shop):
    client = admin_client()
    page = client.get("/design/shop/send/").content.decode()
    assert 'value="de"' in page and "Invite one customer now" in page
    reply = client.post(
        "/design/shop/send/invite/",
        {"email": "Ana@Example.com", "name": "Ana", "external_id": "c-7", "language": "de"},
        follow=True,
    )
    assert reply.status_code == 200 and "ana@example.com is invited" in reply.content.decode()
    invitation = Invitation.objects.get()
    assert invitation.locale == "de" and not invitation.is_test
    assert invitation.contact.external_id == "c-7" and invitation.contact.name == "Ana"


def test_fatigue_holds_back_a_second_invitation_with_the_reason_on_the_page(shop):
    shop.min_days_between_surveys = 30
    shop.save()
    client = admin_client()
    data = {"email": "ana@example.com", "language": "en"}
    client.post("/design/shop/send/invite/", data)
    reply = client.post("/design/shop/send/invite/", data, HTTP_ACCEPT_LANGUAGE="de")
    assert reply.status_code == 409
    assert "Kürzlich befragt" in reply.content.decode()
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "nope", "language": "en"}, "Enter a valid email address."),
        ({"email": "", "language": "en"}, "This field is required."),
        ({"email": "a@example.com", "language": "pl"}, "Select a valid choice."),
        ({"email": "a@example.com", "language": "en", "name": "x" * 201}, "at most 200"),
    ],
)
def test_bad_input_is_answered_on_the_page(shop, data, message):
    reply = admin_client().post("/design/shop/send/invite/", data)
    assert reply.status_code == 400 and message in reply.content.decode()
    assert not Invitation.objects.exists() and not Contact.objects.exists()


def test_a_nul_character_is_answered_on_the_page(shop):
    reply = admin_client().post(
        "/design/shop/send/invite/", {"email": "a@example.com", "name": "A\x00", "language": "en"}
    )
    assert reply.status_code == 400 and "NUL" in reply.content.decode()
    assert not Invitation.objects.exists()


def test_a_draft_is_not_sent_to_customers(db, backlog):
    make_survey(slug="draft", publish=False)
    client = admin_client()
    reply = client.post("/design/draft/send/invite/", {"email": "a@example.com", "language": "en"})
    assert reply.status_code == 409 and "publish the survey" in reply.content.decode()
    assert upload(client, backlog, slug="draft").status_code == 409
    assert not Invitation.objects.exists() and not TouchpointUpload.objects.exists()


# --- the upload --------------------------------------------------------------------------------


def test_an_upload_is_checked_then_imported_with_the_result(shop, backlog, media):
    client = admin_client()
    reply = upload(client, backlog)
    item = TouchpointUpload.objects.get()
    assert reply.status_code == 302 and reply["Location"] == f"/design/shop/uploads/{item.pk}/"
    assert (media / item.stored_as).read_text() == backlog
    assert item.status == "checking" and "Checking the file" in client.get(reply["Location"]).text

    uploads.check_upload(upload_id=item.pk)
    item.refresh_from_db()
    assert item.status == "checked" and not TouchpointEvent.objects.exists()
    assert (item.rows_new, item.rows_existing, item.rejected_count) == (2, 0, 3)
    assert [r["external_id"] for r in item.preview] == ["o-1", "o-4"]
    assert item.preview[0]["email"] == "ana@example.com" and item.preview[0]["locale"] == "de"
    assert [line for line, _reason in item.rejected] == [3, 4, 6]
    page = client.get(f"/design/shop/uploads/{item.pk}/").content.decode()
    assert "Import 2 touchpoints" in page and "not an email address" in page
    assert "has 3 fields, the header has 6" in page

    assert client.post(f"/design/shop/uploads/{item.pk}/").status_code == 302
    assert client.post(f"/design/shop/uploads/{item.pk}/").status_code == 409  # once only
    uploads.run_upload(upload_id=item.pk)
    item.refresh_from_db()
    assert item.status == "done" and (item.created, item.duplicates, item.invited) == (2, 0, 2)
    assert Invitation.objects.filter(survey=shop, touchpoint__isnull=False).count() == 2
    assert TouchpointEvent.objects.get(external_id="o-1").attributes == {"channel": "web"}
    page = client.get(f"/design/shop/uploads/{item.pk}/").content.decode()
    assert re.search(r'data-count="invited"><span class="n">2<', page)


def test_the_same_file_again_creates_nothing(shop, backlog):
    client = admin_client()
    for _ in range(2):
        upload(client, backlog)
        item = TouchpointUpload.objects.latest("id")
        uploads.check_upload(upload_id=item.pk)
        client.post(f"/design/shop/uploads/{item.pk}/")
        uploads.run_upload(upload_id=item.pk)
    first, again = TouchpointUpload.objects.order_by("id")
    again.refresh_from_db()
    assert (again.rows_new, again.rows_existing) == (0, 2)
    assert (again.created, again.duplicates, again.invited) == (0, 2, 0)
    assert TouchpointEvent.objects.count() == 2 and Invitation.objects.count() == 2


def test_skips_are_counted_per_reason(shop):
    shop.min_days_between_surveys = 30
    shop.save()
    Contact.objects.create(email="gone@example.com", unsubscribed_at=timezone.now())
    t = recent()
    text = (
        HEADER
        + f"o-1,{t},ana@example.com,Ana,,web\n"
        + f"o-2,{t},ana@example.com,Ana,,web\n"  # fatigued: Ana was just invited
        + f"o-3,{t},gone@example.com,,,web\n"  # unsubscribed
    )
    client = admin_client()
    upload(client, text)
    item = TouchpointUpload.objects.get()
    uploads.check_upload(upload_id=item.pk)
    client.post(f"/design/shop/uploads/{item.pk}/")
    uploads.run_upload(upload_id=item.pk)
    item.refresh_from_db()
    assert item.invited == 1 and item.skipped == {"fatigued": 1, "unsubscribed": 1}
    assert TouchpointSkip.objects.count() == 2


def test_lines_of_another_touchpoint_type_are_rejected(shop):
    t = recent()
    text = (
        "type,external_id,occurred_at,customer_email\n"
        f"purchase,o-1,{t},ana@example.com\n"
        f"support_contact,t-1,{t},bo@example.com\n"
    )
    client = admin_client()
    upload(client, text)
    item = TouchpointUpload.objects.get()
    uploads.check_upload(upload_id=item.pk)
    item.refresh_from_db()
    assert item.rows_new == 1
    assert item.rejected == [
        [3, "type: this survey takes purchase touchpoints, not 'support_contact'"]
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,email\nAna,ana@example.com\n", "not a valid header"),
        ("external_id,occurred_at,customer_email\n\xff", None),
    ],
)
def test_a_file_that_cannot_be_read_fails_with_the_reason(shop, text, message):
    client = admin_client()
    data = text.encode("latin-1") if message is None else text.encode()
    client.post("/design/shop/send/upload/", {"file": SimpleUploadedFile("a.csv", data)})
    item = TouchpointUpload.objects.get()
    uploads.check_upload(upload_id=item.pk)
    item.refresh_from_db()
    assert item.status == "failed"
    assert (message or "not UTF-8 text") in item.error
    page = client.get(f"/design/shop/uploads/{item.pk}/").content.decode()
    assert "could not be read" in page
    assert client.post(f"/design/shop/uploads/{item.pk}/").status_code == 409


def test_an_empty_or_missing_file_is_answered_on_the_page(shop):
    client = admin_client()
    reply = client.post("/design/shop/send/upload/", {"file": SimpleUploadedFile("a.csv", b"")})
    assert reply.status_code == 400 and "empty" in reply.content.decode()
    reply = client.post("/design/shop/send/upload/", {})
    assert reply.status_code == 400 and "This field is required." in reply.content.decode()
    assert not TouchpointUpload.objects.exists()


def test_a_too_large_file_is_refused(shop, settings):
    settings.CSAT_UPLOAD_MAX_MB = 0
    reply = admin_client().post("/design/shop/send/upload/", {"file": csv_file(HEADER)})
    assert reply.status_code == 400 and "larger than 0 MB" in reply.content.decode()


def test_the_status_view_reports_progress(shop, backlog):
    client = admin_client()
    upload(client, backlog)
    item = TouchpointUpload.objects.get()
    assert client.get(f"/design/shop/uploads/{item.pk}/status/").json() == {
        "status": "checking",
        "in_progress": True,
        "lines_done": 0,
        "lines_total": 0,
        "stalled": False,
    }
    uploads.check_upload(upload_id=item.pk)
    state = client.get(f"/design/shop/uploads/{item.pk}/status/").json()
    assert state["status"] == "checked" and state["lines_done"] == state["lines_total"] == 6
    assert client.get("/design/other/uploads/1/status/").status_code == 404
