"""The OpenAPI schema is the truth: schemathesis generates requests for every operation of
/api/schema/ and checks that no answer is a 500, that every status code is documented and that
every body matches its schema.

The requests go through the WSGI application, in the test's database transaction, with an API
key, against a published survey with answers, touchpoints and invitations, so operations do real
work. It is bounded (CSAT_SCHEMATHESIS_EXAMPLES per operation in the fuzzing phase, 25 by
default); README "Tests" gives the command for a longer run.
"""

import os
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from access.models import ApiKey
from csat_platform.wsgi import application
from surveys.touchpoints import record_touchpoints

from .dashboard_data import respond
from .factories import make_survey

EXAMPLES = int(os.environ.get("CSAT_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
CUSTOMER = "ana@example.com"

# Half of the slugs, survey names and customers are ones the data below has, so operations get
# past their 404 to the real work; the other half are whatever the schema allows.
CONFIG = schemathesis.Config.from_dict(
    {
        "dictionaries": {
            "slugs": {"values": ["shop", "draft"]},
            "customers": {"values": [CUSTOMER]},
        },
        "parameters": {
            "path.slug": {"dictionary": "slugs", "probability": 0.5},
            "query.survey": {"dictionary": "slugs", "probability": 0.5},
            "query.email": {"dictionary": "customers", "probability": 0.5},
            "body.email": {"dictionary": "customers", "probability": 0.3},
        },
        "generation": {"max-examples": EXAMPLES},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)

# What the run did, per operation: printed at the end of the session (tests/conftest.py).
CASES: Counter = Counter()
FAILURES: Counter = Counter()


@pytest.fixture
def api_headers(db):
    """The data the operations work on, and the API key's header."""
    survey = make_survey(
        slug="shop", csat_target=80, quiet_hours_start="21:00", quiet_hours_end="08:00"
    )
    make_survey(slug="draft", publish=False)
    now = (timezone.now() - timedelta(hours=1)).isoformat()
    record_touchpoints(
        items=[
            {
                "type": "purchase",
                "external_id": f"order-{n}",
                "occurred_at": now,
                "customer": {"email": email, "name": "Ana", "external_id": f"c-{n}"},
                "attributes": {"channel": "web", "region": "north"},
            }
            for n, email in enumerate([CUSTOMER, "bo@example.com", "cy@example.com"])
        ]
    )
    for score, comment in ((5, "Quick."), (2, "Late."), (4, "")):
        respond(survey, score, comment, at=timezone.now(), attributes={"channel": "web"})
    _, key = ApiKey.generate(name="schemathesis")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def in_test_transaction():
    """Django's WSGI handler closes the database connection around each request (a server's
    habit); here the requests run inside the test's transaction, as the test client's do."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_matches_the_schema(case, api_headers, in_test_transaction):
    operation = case.operation.label
    CASES[operation] += 1
    try:
        case.call_and_validate(headers=api_headers, checks=CHECKS)
    except Exception:
        FAILURES[operation] += 1
        raise


EVENT = {
    "type": "purchase",
    "external_id": "order-9",
    "occurred_at": "2026-03-01T14:30:00Z",
    "customer": {"email": "dee@example.com"},
}
SURVEY = {"name": "New", "slug": "new", "touchpoint": "purchase", "csat_target": "75.5"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/api/v1/surveys/", {}, 200),
        ("POST", "/api/v1/surveys/", {"body": SURVEY}, 201),
        ("POST", "/api/v1/surveys/", {"body": {**SURVEY, "slug": "shop"}}, 409),
        ("GET", "/api/v1/surveys/{slug}/", {"path_parameters": {"slug": "shop"}}, 200),
        ("GET", "/api/v1/surveys/{slug}/", {"path_parameters": {"slug": "nosuch"}}, 404),
        (
            "PATCH",
            "/api/v1/surveys/{slug}/",
            {"path_parameters": {"slug": "draft"}, "body": {"quiet_hours_start": "22:00:00"}},
            400,
        ),
        ("POST", "/api/v1/surveys/{slug}/publish/", {"path_parameters": {"slug": "draft"}}, 200),
        ("GET", "/api/v1/survey-templates/", {}, 200),
        ("GET", "/api/v1/reports/overview/", {"query": {"range": "30d"}}, 200),
        ("GET", "/api/v1/reports/csat/", {"query": {"survey": "shop", "group_by": "channel"}}, 200),
        ("POST", "/api/v1/touchpoints/", {"body": EVENT}, 201),
        (
            "POST",
            "/api/v1/touchpoints/",
            {"body": {**EVENT, "external_id": "order-0"}},
            200,
        ),  # stored
        ("POST", "/api/v1/touchpoints/", {"body": {**EVENT, "customer": {}}}, 400),
        ("POST", "/api/v1/touchpoints/", {"body": [EVENT, {"type": "?"}]}, 207),
        ("POST", "/api/v1/touchpoints/", {"body": []}, 400),
        (
            "POST",
            "/api/v1/surveys/{slug}/invitations/",
            {"path_parameters": {"slug": "shop"}, "body": {"email": "eve@example.com"}},
            201,
        ),
        ("GET", "/api/v1/surveys/{slug}/delivery/", {"path_parameters": {"slug": "shop"}}, 200),
        ("GET", "/api/v1/customers/export/", {"query": {"email": CUSTOMER}}, 200),
        ("POST", "/api/v1/customers/erase/", {"body": {"email": CUSTOMER}}, 200),
        ("POST", "/api/v1/customers/erase/", {"body": {"email": "nobody@example.com"}}, 404),
    ],
)
def test_answers_the_schema_once_got_wrong_match_it(
    method, path, kwargs, status, api_headers, in_test_transaction
):
    """Lists documented as one object, csat_target as a string, quiet hours as format: time,
    fields missing from the overview and from one touchpoint's answer, undocumented statuses."""
    case = schema[path][method].Case(**kwargs)
    response = case.call_and_validate(headers=api_headers, checks=CHECKS)
    assert response.status_code == status
