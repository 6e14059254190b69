"""The API keys page: survey admins make a key (secret shown once), list and revoke keys; a
reports key reads but every write is refused; the Django admin cannot make a key."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from access.models import ApiKey, hash_key

from .factories import UserFactory, admin_user, make_survey, manager_user

pytestmark = pytest.mark.django_db

URL = "/settings/api-keys/"


def logged_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def secret_in(page: str) -> str:
    match = re.search(r'value="(csat_[^"]+)"[^>]*data-secret', page)
    assert match, "no secret on the page"
    return match.group(1)


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_only_survey_admins_reach_the_page():
    key, _ = ApiKey.generate(name="shop")
    assert Client().get(URL).status_code == 302
    for user in (manager_user(), UserFactory()):
        client = logged_in(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"name": "x", "scope": "full"}).status_code == 403
        assert client.post(f"{URL}{key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


def test_a_key_made_on_the_page_is_shown_once_and_works_against_the_api():
    admin = admin_user(username="alex")
    client = logged_in(admin)
    reply = client.post(URL, {"name": "shop", "scope": "full"})
    assert reply.status_code == 201 and reply["Cache-Control"] == "private, no-store"
    raw = secret_in(reply.content.decode())
    stored = ApiKey.objects.get(name="shop")
    assert stored.key_hash == hash_key(raw) and raw.startswith(stored.prefix)
    assert stored.created_by == admin and stored.scope == "full"
    listing = client.get(URL).content.decode()
    assert raw not in listing and f"{stored.prefix}…" in listing and "by alex" in listing
    assert bearer(raw).get("/api/v1/surveys/").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_the_page_needs_csrf():
    client = logged_in(admin_user(), csrf=True)
    assert client.post(URL, {"name": "shop", "scope": "full"}).status_code == 403
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scope": "full"}, "This field is required."),
        ({"name": "x" * 101, "scope": "full"}, "at most 100 characters"),
        ({"name": "shop", "scope": "root"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_answered_on_the_page(data, message):
    reply = logged_in(admin_user()).post(URL, data)
    assert reply.status_code == 400 and message in reply.content.decode()
    assert not ApiKey.objects.exists()


def test_a_taken_name_is_a_409_on_the_page_in_the_readers_language():
    ApiKey.generate(name="shop")
    client = logged_in(admin_user())
    reply = client.post(URL, {"name": "shop", "scope": "full"}, HTTP_ACCEPT_LANGUAGE="de")
    assert reply.status_code == 409
    assert "existiert bereits" in reply.content.decode()
    assert ApiKey.objects.count() == 1


def test_a_revoked_key_is_refused_at_once():
    client = logged_in(admin_user())
    raw = secret_in(client.post(URL, {"name": "shop", "scope": "full"}).content.decode())
    key = ApiKey.objects.get()
    reply = client.post(f"{URL}{key.pk}/revoke/")
    assert reply.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert bearer(raw).get("/api/v1/surveys/").status_code == 401
    assert client.post(f"{URL}999999/revoke/").status_code == 404


def test_a_reports_key_reads_and_every_write_is_refused(settings):
    make_survey(slug="shop")
    client = logged_in(admin_user())
    raw = secret_in(client.post(URL, {"name": "bi", "scope": "reports"}).content.decode())
    api = bearer(raw)
    assert api.get("/api/v1/surveys/").status_code == 200
    assert api.get("/api/v1/reports/csat/?survey=shop").status_code == 200
    writes = [
        ("post", "/api/v1/surveys/", {"name": "X", "slug": "x", "touchpoint": "purchase"}),
        ("patch", "/api/v1/surveys/shop/", {"name": "Renamed"}),
        ("post", "/api/v1/surveys/shop/publish/", {}),
        ("post", "/api/v1/surveys/shop/invitations/", {"email": "ana@example.com"}),
        (
            "post",
            "/api/v1/touchpoints/",
            {
                "type": "purchase",
                "external_id": "o-1",
                "occurred_at": "2026-03-01T12:00:00Z",
                "customer": {"email": "ana@example.com"},
            },
        ),
        ("post", "/api/v1/customers/erase/", {"email": "ana@example.com"}),
    ]
    for method, url, body in writes:
        reply = getattr(api, method)(url, json.dumps(body), content_type="application/json")
        assert reply.status_code == 403, (url, reply.status_code)
    # Reading customers' personal data is not a report either.
    assert api.get("/api/v1/customers/export/?email=ana@example.com").status_code == 403
    from surveys.models import Invitation, Survey, TouchpointEvent

    assert Survey.objects.get().name != "Renamed" and Survey.objects.count() == 1
    assert not Invitation.objects.exists() and not TouchpointEvent.objects.exists()


def test_a_full_key_still_writes():
    _, raw = ApiKey.generate(name="shop", scope="full")
    reply = bearer(raw).post(
        "/api/v1/surveys/",
        json.dumps({"name": "X", "slug": "x", "touchpoint": "purchase", "languages": ["en"]}),
        content_type="application/json",
    )
    assert reply.status_code == 201


def test_the_django_admin_cannot_make_a_key_without_a_secret():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = logged_in(superuser)
    assert client.get("/admin/access/apikey/add/").status_code == 403
    reply = client.post("/admin/access/apikey/add/", {"name": "broken"})
    assert reply.status_code == 403 and not ApiKey.objects.exists()
    ApiKey.generate(name="shop")
    assert client.get("/admin/access/apikey/").status_code == 200


def test_the_command_makes_a_reports_key(capsys):
    from django.core.management import call_command

    call_command("create_api_key", "bi", "--scope", "reports")
    assert ApiKey.objects.get(name="bi").scope == "reports"
