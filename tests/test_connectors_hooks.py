"""Provider deliveries to /hooks/<id>/: valid, forged, stale, replayed, ignored and malformed,
per provider, with payloads and signatures built as each provider's documentation says."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import services
from connectors.models import Connector, Delivery
from surveys import tokens
from surveys.models import Invitation, TouchpointEvent

from . import connector_payloads as p
from .factories import make_survey

SECRET = "shpss_0123456789abcdef"


@pytest.fixture
def shop(db):
    return make_survey(slug="shop", touchpoint="purchase")


@pytest.fixture
def support(db):
    return make_survey(slug="support", touchpoint="support_contact", name="Support survey")


def connect(provider, survey, **fields) -> Connector:
    secret = SECRET if provider in ("shopify", "stripe", "zendesk") else None
    return services.create_connector(provider=provider, survey=survey.slug, secret=secret, **fields)


def post(connector, body: bytes, headers: dict, *, content_type="application/json"):
    return Client().post(
        f"/hooks/{connector.public_id}/", body, content_type=content_type, headers=headers
    )


def outcomes(connector) -> list[str]:
    return list(connector.deliveries.order_by("id").values_list("outcome", flat=True))


# Each provider: its survey, a payload maker, a header maker, and a payload it ignores.
CASES = {
    "shopify": ("shop", p.shopify_order, p.shopify_headers),
    "woocommerce": ("shop", p.woo_order, p.woo_headers),
    "stripe": ("shop", p.stripe_event, p.stripe_headers),
    "zendesk": ("support", p.zendesk_ticket, p.zendesk_headers),
    "zammad": ("support", p.zammad_ticket, p.zammad_headers),
    "freshdesk": ("support", p.freshdesk_ticket, p.freshdesk_headers),
    "generic": ("shop", p.generic_event, p.generic_headers),
}


@pytest.fixture(params=list(CASES))
def case(request, shop, support):
    survey_name, payload, headers = CASES[request.param]
    survey = {"shop": shop, "support": support}[survey_name]
    return request.param, connect(request.param, survey), survey, payload, headers


def test_a_signed_delivery_makes_one_touchpoint_and_one_invitation(case):
    provider, connector, survey, payload, headers = case
    body = p.dumps(payload())
    response = post(connector, body, headers(connector.secret, body))
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "accepted"
    event = TouchpointEvent.objects.get()
    assert event.type == survey.touchpoint
    assert event.external_id.startswith(f"{provider}:") or provider == "generic"
    assert Invitation.objects.filter(survey=survey, touchpoint=event).count() == 1
    delivery = connector.deliveries.get()
    assert delivery.touchpoint_id == event.pk
    assert delivery.fields  # the payload's top-level fields, for the delivery log


def test_a_forged_signature_is_401_and_stores_nothing(case):
    _, connector, _, payload, headers = case
    body = p.dumps(payload())
    signed = headers(
        "not-the-secret"
        if connector.provider != "generic"
        else "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
        body,
    )
    response = post(connector, body, signed)
    assert response.status_code == 401
    assert not TouchpointEvent.objects.exists()
    assert not Delivery.objects.exists()
    connector.refresh_from_db()
    assert connector.refused == 1


def test_a_missing_signature_is_401(case):
    _, connector, _, payload, _ = case
    response = post(connector, p.dumps(payload()), {})
    assert response.status_code == 401
    assert not Delivery.objects.exists() and not TouchpointEvent.objects.exists()


def test_an_altered_body_is_401(case):
    _, connector, _, payload, headers = case
    if connector.provider == "freshdesk":
        pytest.skip("Freshdesk signs nothing: its header carries the secret itself.")
    body = p.dumps(payload())
    signed = headers(connector.secret, body)
    response = post(connector, body.replace(b"@example.com", b"@evil.example"), signed)
    assert response.status_code == 401
    assert not TouchpointEvent.objects.exists()


def test_a_replayed_delivery_sends_nothing_twice(case):
    _, connector, _, payload, headers = case
    body = p.dumps(payload())
    signed = headers(connector.secret, body)
    assert post(connector, body, signed).json()["outcome"] == "accepted"
    again = post(connector, body, signed)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert TouchpointEvent.objects.count() == 1
    assert Invitation.objects.count() == 1
    assert outcomes(connector) == ["accepted", "duplicate"]


def test_a_replay_of_an_ignored_delivery_stays_a_duplicate_once_its_topic_is_chosen(shop):
    """The replay check looks at the delivery id before anything is recorded."""
    connector = connect("shopify", shop)
    body = p.dumps(p.shopify_order())
    signed = p.shopify_headers(SECRET, body, topic="orders/paid")
    assert post(connector, body, signed).json()["outcome"] == "ignored"
    services.update_connector(connector=connector, data={"events": ["orders/paid"]})
    again = post(connector, body, signed).json()
    assert again["outcome"] == "duplicate"
    assert again["detail"] == "A replay of a delivery already received."
    assert not TouchpointEvent.objects.exists()


@pytest.mark.django_db(transaction=True)  # no test transaction around: as in production
def test_a_delivery_is_one_transaction_with_one_lookup_of_its_connector(shop):
    """What a delivery costs beyond the touchpoint service: the connector and its survey in one
    query, the replay check, the delivery's row; no savepoint inside the one transaction."""
    connector = connect("shopify", shop)
    body = p.dumps(p.shopify_order())
    with CaptureQueriesContext(connection) as queries:
        assert post(connector, body, p.shopify_headers(SECRET, body)).status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if "SAVEPOINT" in s]
    assert len([s for s in statements if '"connectors_connector"' in s]) == 1
    assert len([s for s in statements if '"connectors_delivery"' in s]) == 2  # check, insert


def test_an_error_while_recording_stores_neither_touchpoint_nor_delivery(shop, monkeypatch):
    connector = connect("shopify", shop)

    def failing():
        raise RuntimeError("disk full")

    monkeypatch.setattr(tokens, "salts_and_hashes", failing)
    body = p.dumps(p.shopify_order())
    with pytest.raises(RuntimeError):
        post(connector, body, p.shopify_headers(SECRET, body))
    assert not TouchpointEvent.objects.exists()
    assert not Delivery.objects.exists()
    assert not Invitation.objects.exists()


def test_the_same_order_or_ticket_in_a_new_delivery_is_a_duplicate(case):
    """A provider's retry with a new delivery id, or a second event about the same order."""
    _, connector, _, payload, headers = case
    body = p.dumps(payload())
    post(connector, body, headers(connector.secret, body))
    response = post(connector, body, headers(connector.secret, body))  # fresh ids
    assert response.json()["outcome"] == "duplicate"
    assert Invitation.objects.count() == 1


def test_a_malformed_body_is_400(case):
    _, connector, _, _, headers = case
    for body in (b"{not json", b"[1, 2]", p.dumps({"unrelated": True})):
        response = post(connector, body, headers(connector.secret, body))
        assert response.status_code == 400, body
    assert not TouchpointEvent.objects.exists()
    assert set(outcomes(connector)) == {"malformed"}


@pytest.mark.parametrize("provider", ["stripe", "zendesk", "generic"])
def test_a_stale_timestamp_is_refused(provider, shop, support):
    survey_name, payload, headers = CASES[provider]
    connector = connect(provider, {"shop": shop, "support": support}[survey_name])
    body = p.dumps(payload())
    response = post(connector, body, headers(connector.secret, body, at=time.time() - 301))
    assert response.status_code == 401
    assert not Delivery.objects.exists() and not TouchpointEvent.objects.exists()
    # Within the 5 minutes, it passes.
    response = post(connector, body, headers(connector.secret, body, at=time.time() - 200))
    assert response.status_code == 200


IGNORED = {
    "shopify": lambda c, s: (p.dumps(p.shopify_order()), "orders/create"),
    "woocommerce": lambda c, s: (p.dumps(p.woo_order(status="processing")), None),
    "stripe": lambda c, s: (p.dumps(p.stripe_event("payment_intent.succeeded")), None),
    "zendesk": lambda c, s: (p.dumps(p.zendesk_ticket(status="Open")), None),
    "zammad": lambda c, s: (p.dumps(p.zammad_ticket(state="open")), None),
    "freshdesk": lambda c, s: (p.dumps(p.freshdesk_ticket(status="Pending")), None),
}


@pytest.mark.parametrize("provider", list(IGNORED))
def test_a_topic_or_status_not_acted_on_is_200_and_recorded_as_ignored(provider, shop, support):
    survey_name, _, headers = CASES[provider]
    connector = connect(provider, {"shop": shop, "support": support}[survey_name])
    body, topic = IGNORED[provider](connector, None)
    signed = headers(connector.secret, body, **({"topic": topic} if topic else {}))
    response = post(connector, body, signed)
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert not TouchpointEvent.objects.exists()
    assert connector.deliveries.get().error


def test_shopify_order_fields_become_customer_and_attributes(shop):
    connector = connect("shopify", shop)
    body = p.dumps(p.shopify_order())
    post(connector, body, p.shopify_headers(SECRET, body))
    invitation = Invitation.objects.select_related("contact").get()
    assert invitation.contact.email == "jon@example.com"
    assert invitation.contact.name == "Jon Snow"
    assert invitation.contact.locale == "de"
    assert invitation.attributes == {
        "order": "#9999",
        "order_total": "403.00",
        "currency": "EUR",
        "product": "IPod Nano - 8GB, Case",
        "shop": "example.myshopify.com",
        "channel": "web",
    }


def test_shopify_orders_paid_acts_only_when_chosen(shop):
    connector = connect("shopify", shop)
    body = p.dumps(p.shopify_order())
    assert (
        post(connector, body, p.shopify_headers(SECRET, body, topic="orders/paid")).json()[
            "outcome"
        ]
        == "ignored"
    )
    services.update_connector(connector=connector, data={"events": ["orders/paid"]})
    assert (
        post(connector, body, p.shopify_headers(SECRET, body, topic="orders/paid")).json()[
            "outcome"
        ]
        == "accepted"
    )


def test_stripe_session_and_its_payment_intent_are_one_touchpoint(shop):
    connector = connect(
        "stripe", shop, events=["checkout.session.completed", "payment_intent.succeeded"]
    )
    for type_ in ("checkout.session.completed", "payment_intent.succeeded"):
        body = p.dumps(p.stripe_event(type_))
        post(connector, body, p.stripe_headers(SECRET, body))
    assert outcomes(connector) == ["accepted", "duplicate"]
    event = TouchpointEvent.objects.get()
    assert event.external_id == "stripe:pi_3MtwBw"
    assert event.attributes == {"order_total": "20.00", "currency": "EUR"}


def test_zendesk_ticket_fields_become_attributes_and_the_locale(support):
    connector = connect("zendesk", support)
    body = p.dumps(p.zendesk_ticket())
    post(connector, body, p.zendesk_headers(SECRET, body))
    invitation = Invitation.objects.select_related("contact").get()
    assert invitation.contact.locale == "da"
    assert invitation.attributes == {
        "ticket": "35436",
        "agent": "Olga",
        "group": "Billing",
        "channel": "Email",
        "brand": "Acme",
    }


def test_a_mapping_adds_attributes_from_the_payload(support):
    connector = connect("zammad", support, mapping={"title": "ticket.title"})
    body = p.dumps(p.zammad_ticket())
    post(connector, body, p.zammad_headers(connector.secret, body))
    assert TouchpointEvent.objects.get().attributes["title"] == "Order not delivered"
    assert TouchpointEvent.objects.get().attributes["agent"] == "Olga Agent"


def test_an_event_without_customer_email_is_recorded_as_rejected(shop):
    connector = connect("woocommerce", shop)
    body = p.dumps(p.woo_order(email=""))
    response = post(connector, body, p.woo_headers(connector.secret, body))
    assert response.status_code == 200
    assert response.json()["outcome"] == "rejected"
    assert "customer" in connector.deliveries.get().error
    assert not TouchpointEvent.objects.exists()


def test_a_paused_connector_records_the_delivery_as_ignored(shop):
    connector = connect("shopify", shop, active=False)
    body = p.dumps(p.shopify_order())
    assert post(connector, body, p.shopify_headers(SECRET, body)).json()["outcome"] == "ignored"
    assert not TouchpointEvent.objects.exists()


def test_woocommerce_ping_on_creation_is_answered(shop):
    connector = connect("woocommerce", shop)
    response = post(
        connector, b"webhook_id=15", {}, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not Delivery.objects.exists()


def test_a_rotated_secret_replaces_the_old_one(shop):
    connector = connect("woocommerce", shop)
    old = connector.secret
    services.rotate_secret(connector=connector)
    body = p.dumps(p.woo_order())
    assert post(connector, body, p.woo_headers(old, body)).status_code == 401
    assert post(connector, body, p.woo_headers(connector.secret, body)).status_code == 200


def test_unknown_address_get_and_oversized_body(shop, settings):
    connector = connect("shopify", shop)
    assert (
        Client().post("/hooks/nosuch/", b"{}", content_type="application/json").status_code == 404
    )
    assert Client().get(f"/hooks/{connector.public_id}/").status_code == 405
    settings.CONNECTORS_MAX_BODY_BYTES = 1024
    body = p.dumps(p.shopify_order(note="x" * 2000))
    assert post(connector, body, p.shopify_headers(SECRET, body)).status_code == 413
    assert not Delivery.objects.exists()


def test_a_nul_byte_in_a_signed_body_is_400(shop):
    connector = connect("shopify", shop)
    body = p.dumps(p.shopify_order(note="a\x00b"))
    assert post(connector, body, p.shopify_headers(SECRET, body)).status_code == 400
    assert not TouchpointEvent.objects.exists()


def test_deliveries_are_capped_per_connector(shop, settings):
    settings.CONNECTORS_DELIVERY_RETENTION = 5
    connector = connect("shopify", shop)
    for n in range(120):
        body = p.dumps(p.shopify_order(order_id=n + 1))
        post(connector, body, p.shopify_headers(SECRET, body, topic="orders/create"))
    other = connect("shopify", shop)
    body = p.dumps(p.shopify_order(order_id=1))
    post(other, body, p.shopify_headers(SECRET, body, topic="orders/create"))
    assert connector.deliveries.count() == 120  # no delivery pays for the trim

    assert services.trim_deliveries() == 115
    kept = list(connector.deliveries.order_by("-id"))
    assert [d.fields["id"] for d in kept] == ["120", "119", "118", "117", "116"]
    assert kept[0].fields["customer.first_name"] == '"Jon"'
    assert other.deliveries.count() == 1
    assert services.trim_deliveries() == 0


def test_beat_trims_the_delivery_logs():
    from django.conf import settings as django_settings

    from csat_platform.celery import app

    schedule = django_settings.CELERY_BEAT_SCHEDULE.values()
    entry = next(e for e in schedule if e["task"].endswith("trim_deliveries"))
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


@pytest.mark.parametrize(
    ("provider", "headers"),
    [
        ("stripe", {"Stripe-Signature": "t=99999999999999999999,v1=00"}),
        ("stripe", {"Stripe-Signature": "garbage"}),
        (
            "zendesk",
            {"X-Zendesk-Webhook-Signature": "x", "X-Zendesk-Webhook-Signature-Timestamp": "y"},
        ),
        ("generic", {"webhook-id": "m", "webhook-timestamp": "abc", "webhook-signature": "v1,x"}),
        ("generic", {"webhook-id": "m", "webhook-timestamp": "9" * 30, "webhook-signature": "v1"}),
        ("zammad", {"X-Hub-Signature": "sha256=abc"}),
        ("freshdesk", {"X-CSAT-Token": ""}),
    ],
)
def test_garbled_signature_headers_are_401_never_500(provider, headers, shop, support):
    connector = connect(provider, {"shop": shop, "support": support}[CASES[provider][0]])
    response = post(connector, p.dumps(CASES[provider][1]()), headers)
    assert response.status_code == 401


def test_a_stripe_event_with_an_absurd_time_still_records_its_touchpoint(shop):
    connector = connect("stripe", shop)
    event = p.stripe_event()
    event["created"] = 10**20
    body = p.dumps(event)
    response = post(connector, body, p.stripe_headers(SECRET, body))
    assert response.status_code == 200
    assert response.json()["outcome"] == "accepted"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
SHAPES = {
    "shopify": st.fixed_dictionaries(
        {"id": JSON, "email": JSON, "customer": JSON},
        optional={"line_items": JSON, "updated_at": JSON, "customer_locale": JSON},
    ),
    "woocommerce": st.fixed_dictionaries(
        {"id": JSON, "status": st.just("completed") | JSON, "billing": JSON}
    ),
    "stripe": st.fixed_dictionaries(
        {
            "id": JSON,
            "type": st.just("checkout.session.completed") | JSON,
            "created": JSON,
            "data": st.fixed_dictionaries({"object": JSON}),
        }
    ),
    "zendesk": st.fixed_dictionaries(
        {
            "ticket": st.fixed_dictionaries(
                {
                    "id": JSON,
                    "status": st.just("solved") | JSON,
                    "requester": JSON,
                    "assignee": JSON,
                }
            )
        }
    ),
    "zammad": st.fixed_dictionaries(
        {
            "ticket": st.fixed_dictionaries(
                {"id": JSON, "state": st.just("closed") | JSON, "customer": JSON, "owner": JSON}
            )
        }
    ),
    "freshdesk": st.fixed_dictionaries(
        {
            "ticket_id": JSON,
            "ticket_status": st.just("Resolved") | JSON,
            "ticket_contact_email": JSON,
        }
    ),
    "generic": st.fixed_dictionaries(
        {"external_id": JSON, "customer": JSON, "occurred_at": JSON, "attributes": JSON}
    ),
}


@pytest.mark.parametrize("provider", list(SHAPES))
def test_any_signed_body_of_the_providers_shape_is_answered_never_500(provider, shop, support):
    """Whatever a signed body holds where the provider's fields should be: a 200 with an
    outcome or a 400, and the delivery recorded."""
    connector = connect(provider, {"shop": shop, "support": support}[CASES[provider][0]])
    sign = CASES[provider][2]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(payload=SHAPES[provider])
    def check(payload):
        body = json.dumps(payload).encode()
        response = post(connector, body, sign(connector.secret, body))
        assert response.status_code in (200, 400), response.content

    check()
