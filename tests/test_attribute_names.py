"""One rule for attribute names (surveys.attributes), whichever way they come in: the same names
are accepted, and the same refused, by touchpoints, their CSV import, invitations, the response
import, a survey's filters and the follow-up routing rules."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from followups.forms import RoutingRuleForm
from surveys.models import Invitation, Response, TouchpointEvent

from .factories import make_survey

pytestmark = pytest.mark.django_db

GOOD = ["channel", "a.b", "_source", "team-1", "x" * 50]
BAD = ["bad name", "a/b", ".lead", "-x", "x" * 51, "é", ""]


def touchpoint(n: int, name: str) -> dict:
    return {
        "type": "purchase",
        "external_id": f"o-{n}",
        "occurred_at": timezone.now().isoformat(),
        "customer": {"email": f"c{n}@example.com"},
        "attributes": {name: "v"},
    }


def test_the_touchpoint_api_takes_good_names_and_refuses_bad_ones(key_client):
    make_survey(slug="shop")
    body = [touchpoint(n, name) for n, name in enumerate(GOOD + BAD)]
    reply = key_client.post(
        "/api/v1/touchpoints/", json.dumps(body), content_type="application/json"
    )
    assert reply.status_code == 207
    statuses = [item["status"] for item in reply.json()["results"]]
    assert statuses == ["created"] * len(GOOD) + ["rejected"] * len(BAD)


@pytest.mark.parametrize("name", BAD)
def test_the_touchpoint_import_refuses_a_bad_name(tmp_path, name):
    path = tmp_path / "events.csv"
    path.write_text(f"type,external_id,occurred_at,customer_email,attr.{name}\n")
    with pytest.raises(CommandError, match="is not an attribute name"):
        call_command("import_touchpoints", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_the_touchpoint_import_takes_good_names(tmp_path):
    make_survey(slug="shop")
    now = timezone.now().isoformat()
    path = tmp_path / "events.csv"
    header = ",".join(f"attr.{name}" for name in GOOD)
    values = ",".join("v" for _ in GOOD)
    path.write_text(
        f"type,external_id,occurred_at,customer_email,{header}\n"
        f"purchase,o-1,{now},ana@example.com,{values}\n"
    )
    call_command("import_touchpoints", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(TouchpointEvent.objects.get().attributes) == sorted(GOOD)


def test_the_invitation_api_takes_good_names_and_refuses_bad_ones(key_client):
    make_survey(slug="shop")
    url = "/api/v1/surveys/shop/invitations/"
    good = key_client.post(
        url, {"email": "a@example.com", "attributes": dict.fromkeys(GOOD, "v")}, format="json"
    )
    assert good.status_code == 201, good.content
    for n, name in enumerate(BAD):
        bad = key_client.post(
            url, {"email": f"b{n}@example.com", "attributes": {name: "v"}}, format="json"
        )
        assert bad.status_code == 400, name
        assert "is not an attribute name" in bad.json()["detail"]
    assert Invitation.objects.count() == 1


def test_the_response_import_takes_good_names_and_refuses_bad_ones(tmp_path):
    make_survey(slug="shop")
    path = tmp_path / "answers.csv"
    header = ",".join(f"attr.{name}" for name in GOOD)
    path.write_text(f"submitted_at,score,{header}\n2024-03-01,4,{','.join('v' for _ in GOOD)}\n")
    call_command("import_responses", str(path), survey="shop", stdout=io.StringIO())
    assert sorted(Response.objects.get().attributes) == sorted(GOOD)
    for name in BAD:
        path.write_text(f"submitted_at,score,attr.{name}\n2024-03-01,4,v\n")
        with pytest.raises(CommandError, match="is not an attribute name"):
            call_command("import_responses", str(path), survey="shop", stdout=io.StringIO())


def test_survey_filters_and_routing_rules_follow_the_same_rule(admin_client):
    survey = make_survey(slug="shop")
    for name in GOOD + BAD:
        reply = admin_client.patch(
            f"/api/v1/surveys/{survey.slug}/", {"filters": {name: ["v"]}}, format="json"
        )
        form = RoutingRuleForm({"field": "attribute", "attribute": name, "value": "v"})
        form.is_valid()
        assert (reply.status_code == 200) == (name in GOOD), (name, reply.content)
        assert ("attribute" not in form.errors) == (name in GOOD), name
