"""/api/v1/connectors/: the stable interface. Secrets appear in the answer to a create or a
rotation and never again; survey admins and API keys only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from connectors import services
from connectors.models import Connector

from . import connector_payloads as p
from .factories import make_survey
from .test_api_schema import CHECKS, in_test_transaction, schema  # noqa: F401 - a fixture

# Loaded now, outside any test's transaction (loading it is a request to /api/schema/).
CONNECTORS_SCHEMA = schema["/api/v1/connectors/"]["POST"]


@pytest.fixture
def shop(db):
    return make_survey(slug="shop")


def create(client, **body):
    return client.post("/api/v1/connectors/", body, format="json")


def test_create_answers_201_with_the_absolute_url_and_the_given_secret(key_client, shop, settings):
    response = create(key_client, provider="shopify", survey="shop", secret="shpss_abc")
    assert response.status_code == 201, response.content
    data = response.json()
    connector = Connector.objects.get()
    assert data["id"] == connector.pk
    assert data["provider"] == "shopify" and data["survey"] == "shop"
    assert data["secret"] == "shpss_abc"
    assert data["url"] == f"{settings.SITE_URL}/hooks/{connector.public_id}/"
    assert data["url"].startswith("http")
    assert data["events"] == ["orders/fulfilled"]


@pytest.mark.parametrize("provider", ["woocommerce", "zammad", "freshdesk", "generic"])
def test_a_secret_is_generated_where_the_user_chooses_it(key_client, shop, provider):
    data = create(key_client, provider=provider, survey="shop").json()
    assert len(data["secret"]) >= 32
    assert data["secret"].startswith("whsec_") == (provider == "generic")


@pytest.mark.parametrize("provider", ["shopify", "stripe", "zendesk"])
def test_the_providers_own_secret_is_required(key_client, shop, provider):
    response = create(key_client, provider=provider, survey="shop")
    assert response.status_code == 400
    assert "secret" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "magento", "survey": "shop"}, "provider"),
        ({"provider": "zammad", "survey": "nosuch"}, "survey"),
        ({"provider": "zammad", "survey": "shop", "events": ["opened"]}, "events"),
        ({"provider": "zammad", "survey": "shop", "mapping": {"bad name!": "x"}}, "mapping"),
        ({"provider": "generic", "survey": "shop", "secret": "whsec_!!!"}, "secret"),
    ],
)
def test_bad_input_is_400_naming_the_field(key_client, shop, body, field):
    response = create(key_client, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Connector.objects.exists()


def test_the_secret_is_never_shown_again(key_client, shop):
    pk = create(key_client, provider="zammad", survey="shop").json()["id"]
    assert "secret" not in key_client.get(f"/api/v1/connectors/{pk}/").json()
    assert "secret" not in key_client.get("/api/v1/connectors/").json()["results"][0]
    changed = key_client.patch(f"/api/v1/connectors/{pk}/", {"name": "Helpdesk"}, format="json")
    assert changed.status_code == 200 and "secret" not in changed.json()


def test_patch_changes_survey_events_and_active(key_client, shop):
    make_survey(slug="other")
    pk = create(key_client, provider="shopify", survey="shop", secret="s").json()["id"]
    response = key_client.patch(
        f"/api/v1/connectors/{pk}/",
        {"survey": "other", "events": ["orders/paid"], "active": False},
        format="json",
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["survey"], data["events"], data["active"]) == ("other", ["orders/paid"], False)


def test_rotate_gives_a_new_secret_once(key_client, shop):
    created = create(key_client, provider="generic", survey="shop").json()
    rotated = key_client.post(f"/api/v1/connectors/{created['id']}/rotate/", {}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]
    assert Connector.objects.get().secret == rotated.json()["secret"]


def test_rotate_a_providers_secret_needs_the_new_one(key_client, shop):
    pk = create(key_client, provider="stripe", survey="shop", secret="whsec_a").json()["id"]
    assert key_client.post(f"/api/v1/connectors/{pk}/rotate/", {}, format="json").status_code == 400
    response = key_client.post(
        f"/api/v1/connectors/{pk}/rotate/", {"secret": "whsec_b"}, format="json"
    )
    assert response.json()["secret"] == "whsec_b"


def test_delete_then_the_address_is_gone(key_client, shop):
    created = create(key_client, provider="zammad", survey="shop").json()
    assert key_client.delete(f"/api/v1/connectors/{created['id']}/").status_code == 204
    assert key_client.get(f"/api/v1/connectors/{created['id']}/").status_code == 404
    body = p.dumps(p.zammad_ticket())
    response = APIClient().post(
        "/hooks/" + created["url"].rstrip("/").rsplit("/", 1)[1] + "/",
        body,
        content_type="application/json",
        headers=p.zammad_headers(created["secret"], body),
    )
    assert response.status_code == 404


def test_deliveries_are_listed(key_client, shop):
    created = create(key_client, provider="zammad", survey="shop").json()
    body = p.dumps(p.zammad_ticket())
    path = "/hooks/" + created["url"].rstrip("/").rsplit("/", 1)[1] + "/"
    APIClient().post(
        path,
        body,
        content_type="application/json",
        headers=p.zammad_headers(created["secret"], body),
    )
    data = key_client.get(f"/api/v1/connectors/{created['id']}/deliveries/").json()
    assert data["count"] == 1
    assert data["results"][0]["outcome"] == "accepted"
    fields = data["results"][0]["fields"]
    assert fields["ticket.state"] == '"closed"'
    assert fields["ticket.customer"] == "{4 fields}"
    assert fields["article.id"] == "44"


def test_managers_and_strangers_may_not(manager_client, shop):
    assert manager_client.get("/api/v1/connectors/").status_code == 403
    assert create(manager_client, provider="zammad", survey="shop").status_code == 403
    assert APIClient().get("/api/v1/connectors/").status_code in (401, 403)
    assert not Connector.objects.exists()


def test_a_survey_admin_session_may(admin_client, shop):
    assert create(admin_client, provider="zammad", survey="shop").status_code == 201


@pytest.mark.usefixtures("in_test_transaction")
def test_connector_answers_match_the_schema(api_key, shop):
    """The operations on a stored connector, checked against /api/schema/ like the fuzzing run
    (which cannot guess a stored connector's id)."""
    headers = {"Authorization": f"Bearer {api_key}"}
    made = schema["/api/v1/connectors/"]["POST"].Case(
        body={"provider": "zendesk", "survey": "shop", "secret": "s3cret"}
    )
    pk = made.call_and_validate(headers=headers, checks=CHECKS).json()["id"]
    # A delivery, made without the test client (which would reconnect the signal that
    # in_test_transaction disconnected).
    body = p.dumps(p.zendesk_ticket())
    services.receive(
        connector=Connector.objects.get(), headers=p.zendesk_headers("s3cret", body), body=body
    )
    for method, path, kwargs, status in [
        ("GET", "/api/v1/connectors/", {}, 200),
        ("GET", "/api/v1/connectors/{id}/", {}, 200),
        ("PATCH", "/api/v1/connectors/{id}/", {"body": {"events": ["solved"]}}, 200),
        ("PATCH", "/api/v1/connectors/{id}/", {"body": {"events": ["open"]}}, 400),
        ("GET", "/api/v1/connectors/{id}/deliveries/", {}, 200),
        ("POST", "/api/v1/connectors/{id}/rotate/", {"body": {"secret": "n3w"}}, 200),
        ("POST", "/api/v1/connectors/{id}/rotate/", {"body": {}}, 400),
        ("DELETE", "/api/v1/connectors/{id}/", {}, 204),
    ]:
        if "{id}" in path:
            kwargs = {**kwargs, "path_parameters": {"id": pk}}
        case = schema[path][method].Case(**kwargs)
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code == status, (method, path, response.content)
