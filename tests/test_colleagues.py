"""The colleagues page: survey admins invite colleagues by email with a role (a set-password link
through Django's password-reset machinery, mailed), change roles and deactivate; the last active
survey admin stays one."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from access.roles import MANAGER, SURVEY_ADMIN, can_view_reports, is_survey_admin
from access.tasks import send_colleague_invitation

from .factories import UserFactory, admin_user, manager_user
from .followups_support import eager_celery  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
URL = "/settings/colleagues/"


def logged_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def can_log_in(username: str) -> bool:
    reply = Client().post("/accounts/login/", {"username": username, "password": "pw"})
    return reply.status_code == 302


def test_only_survey_admins_reach_the_page():
    other = manager_user()
    assert Client().get(URL).status_code == 302
    for user in (manager_user(), UserFactory()):
        client = logged_in(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"email": "x@example.com", "role": SURVEY_ADMIN}).status_code == 403
        reply = client.post(f"{URL}{other.pk}/role/", {"role": SURVEY_ADMIN})
        assert reply.status_code == 403
        assert client.post(f"{URL}{other.pk}/active/", {"active": "0"}).status_code == 403
    other.refresh_from_db()
    assert not is_survey_admin(other) and other.is_active
    assert not User.objects.filter(email="x@example.com").exists()


def test_the_forms_need_csrf():
    client = logged_in(admin_user(), csrf=True)
    assert client.post(URL, {"email": "x@example.com", "role": MANAGER}).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()


def test_an_invited_colleague_gets_a_set_password_link_by_mail(
    django_capture_on_commit_callbacks,
    eager_celery,  # noqa: F811
):
    admin = admin_user(username="alex", first_name="Alex")
    client = logged_in(admin)
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(
            URL,
            {"email": "Mia@Example.com", "name": "Mia Berg", "role": MANAGER},
            HTTP_ACCEPT_LANGUAGE="de",
        )
    assert reply.status_code == 302
    mia = User.objects.get(username="mia@example.com")
    assert not mia.has_usable_password() and mia.get_full_name() == "Mia Berg"
    assert can_view_reports(mia) and not is_survey_admin(mia)
    [message] = mail.outbox
    assert message.to == ["mia@example.com"] and "Alex" in message.subject
    assert "Manager" in message.body and "Benutzername" in message.body  # the inviter's language
    link = re.search(r"https?://\S+/accounts/set-password/\S+/", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form = Client().get("/" + path, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()


def test_inviting_someone_twice_or_with_bad_input_is_answered_on_the_page():
    manager_user(username="mia@example.com", email="mia@example.com")
    client = logged_in(admin_user())
    reply = client.post(URL, {"email": "MIA@example.com", "role": MANAGER})
    assert reply.status_code == 409 and "is a colleague already" in reply.content.decode()
    reply = client.post(URL, {"email": "nope", "role": MANAGER}, HTTP_ACCEPT_LANGUAGE="nl")
    assert reply.status_code == 400 and "Voer een geldig e-mailadres in." in reply.content.decode()
    reply = client.post(URL, {"email": "x@example.com", "role": "Owner"})
    assert reply.status_code == 400 and "Select a valid choice." in reply.content.decode()
    assert User.objects.count() == 2 and not mail.outbox


def test_roles_change_and_colleagues_are_deactivated():
    admin = admin_user()
    mia = manager_user(username="mia")
    client = logged_in(admin)
    assert client.post(f"{URL}{mia.pk}/role/", {"role": SURVEY_ADMIN}).status_code == 302
    mia = User.objects.get(pk=mia.pk)
    assert is_survey_admin(mia) and mia.groups.count() == 1
    assert client.post(f"{URL}{mia.pk}/active/", {"active": "0"}).status_code == 302
    assert not User.objects.get(pk=mia.pk).is_active
    assert not can_log_in("mia")
    page = client.get(URL).content.decode()
    assert "deactivated" in page and "Reactivate" in page
    assert client.post(f"{URL}{mia.pk}/active/", {"active": "1"}).status_code == 302
    assert can_log_in("mia")
    assert client.post(f"{URL}{mia.pk}/role/", {"role": "root"}).status_code == 400
    assert client.post(f"{URL}999999/role/", {"role": MANAGER}).status_code == 404


def test_the_last_survey_admin_can_neither_demote_nor_deactivate_themselves():
    alex = admin_user(username="alex")
    client = logged_in(alex)
    reply = client.post(f"{URL}{alex.pk}/role/", {"role": MANAGER}, HTTP_ACCEPT_LANGUAGE="de")
    assert reply.status_code == 409
    assert "letzte Umfrage-Admin" in reply.content.decode() or "alex" in reply.content.decode()
    reply = client.post(f"{URL}{alex.pk}/active/", {"active": "0"})
    assert reply.status_code == 409 and "last survey admin" in reply.content.decode()
    alex = User.objects.get(pk=alex.pk)
    assert is_survey_admin(alex) and alex.is_active
    # With a second admin, either may step down.
    admin_user(username="bea")
    assert client.post(f"{URL}{alex.pk}/role/", {"role": MANAGER}).status_code == 302
    assert not is_survey_admin(User.objects.get(pk=alex.pk))


def test_a_deactivated_colleague_gets_no_invitation_mail():
    mia = manager_user(email="mia@example.com", is_active=False)
    send_colleague_invitation(mia.pk, "Alex", "en")
    assert not mail.outbox
