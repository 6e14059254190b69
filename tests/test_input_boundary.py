"""The input boundary: a NUL (\\x00), a lone surrogate or JSON nested too deep is a 400 naming
the field, wherever it comes in (page forms, query parameters, JSON strings and keys, cookies,
the address, webhooks), or a rejected line of an import, never a 500; nothing is stored for it.

On PostgreSQL each of these reached the database and failed there (CI runs these tests on it)."""

import base64
import io
import json

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from csat_platform import boundary
from surveys.models import Answer, Contact, Invitation, Response, Survey, TouchpointEvent

from .dashboard_data import respond
from .factories import invite, make_survey

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Contains a NUL character (\\x00), which is not allowed."


def deeply_nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def event(**customer) -> dict:
    return {
        "type": "purchase",
        "external_id": "order-1",
        "occurred_at": "2026-03-01T14:30:00Z",
        "customer": {"email": "ana@example.com", **customer},
        "attributes": {"channel": "web"},
    }


# --- the rule ----------------------------------------------------------------------------------


def test_the_first_problem_is_named_by_its_path():
    data = {"questions": [{"text": {"en": "ok"}}, {"text": {"en": "a\x00b"}}], "name": "x\x00"}
    problem = boundary.find_problem(data)
    assert problem.field == "questions.1.text.en"
    assert problem.message == NUL_MESSAGE


def test_a_key_is_named_by_the_object_it_is_in_and_shown_escaped():
    problem = boundary.find_problem({"attributes": {"ok": "1", "a\x00b": "2"}})
    assert problem.field == "attributes"
    assert "'a\\\\x00b'" in problem.message


def test_a_lone_surrogate_cannot_be_stored_but_a_pair_can():
    assert boundary.find_problem({"name": "\U0001f600 fine"}) is None
    assert boundary.find_problem({"name": "half \ud83d"}).field == "name"


def test_nesting_is_allowed_up_to_the_limit():
    assert boundary.find_problem(json.loads(deeply_nested(boundary.MAX_JSON_DEPTH))) is None
    problem = boundary.find_problem(json.loads(deeply_nested(boundary.MAX_JSON_DEPTH + 1)))
    assert problem.field == ".".join(["a"] * boundary.MAX_JSON_DEPTH)


# --- forms on pages ------------------------------------------------------------------------------


def test_a_nul_in_the_answer_page_comment_shows_the_form_again_with_a_400():
    survey = make_survey(languages=("en", "de"))
    _invitation, token = invite(survey=survey, email="ana@example.com", name="Ana", locale="de")
    response = APIClient().post(f"/s/{token}/", {"satisfaction": "4", "comment": "a\x00b"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'name="comment"' in page  # its own form, in the customer's language
    assert "nicht gespeichert werden" in page
    assert ">ab</textarea>" in page  # what is left of the text, to send again
    assert not Response.objects.exists()

    again = APIClient().post(f"/s/{token}/", {"satisfaction": "4", "comment": "ab"})
    assert again.status_code == 302
    assert Answer.objects.get(question__key="comment").text == "ab"


def test_a_nul_in_a_page_form_field_is_a_400_page_naming_it(admin_client):
    response = admin_client.post(
        "/design/new/", {"name": "Shop\x00", "template": ""}, HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "<code>name</code>" in page
    assert "Er is niets opgeslagen" in page  # the reader's language
    assert not Survey.objects.exists()


def test_a_nul_in_a_field_name_is_named_escaped(admin_client):
    response = admin_client.post("/design/new/", {"na\x00me": "Shop"})
    assert response.status_code == 400
    assert "<code>na\\x00me</code>" in response.content.decode()


def test_a_nul_in_the_login_form_is_a_400(client, admin):
    response = client.post("/accounts/login/", {"username": "user\x00", "password": "pw"})
    assert response.status_code == 400


# --- query parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/?attr.channel=we%00b",
        "/dashboard/shop/?attr.channel=we%00b",
        "/dashboard/shop/?touchpoint=pur%00chase",
        "/dashboard/shop/comments/?q=late%00",
        "/dashboard/shop/export/responses.csv?attr.channel=we%00b",
        "/dashboard/shop/export/responses.xlsx?q=%00",
        "/dashboard/shop/export/series.csv?attr.re%00gion=north",
        "/followups/?q=%00",
        "/design/shop/invitations/?q=ana%00",
        "/admin/surveys/contact/?q=ana%00",
        "/mailbox/?part=%00",
    ],
)
def test_a_nul_in_a_page_query_is_a_400_page(url, admin):
    survey = make_survey(slug="shop")
    respond(survey, 5, "fine", attributes={"channel": "web"})
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = APIClient()
    client.force_login(admin)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Es wurde nichts gespeichert" in response.content.decode()


def test_an_export_with_a_bad_filter_answers_400_before_streaming(admin_client):
    make_survey(slug="shop")
    response = admin_client.get("/dashboard/shop/export/responses.csv?attr.channel=we%00b")
    assert response.status_code == 400
    assert not response.streaming


def test_an_export_runs_its_first_query_before_the_200(admin_client, monkeypatch):
    """A filter the database refuses fails before the first byte, not in the middle."""
    from reports import export

    make_survey(slug="shop")

    def refused(rows):
        raise RuntimeError("refused by the database")

    monkeypatch.setattr(export, "attribute_names", refused)
    with pytest.raises(RuntimeError):
        admin_client.get("/dashboard/shop/export/responses.csv")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/reports/csat/?survey=shop&attr.channel=we%00b", "attr.channel"),
        ("/api/v1/reports/csat/?survey=sh%00op", "survey"),
        ("/api/v1/reports/overview/?range=%00", "range"),
        ("/api/v1/customers/export/?email=ana%00@example.com", "email"),
        ("/api/v1/surveys/?limit=%00", "limit"),
    ],
)
def test_a_nul_in_an_api_query_is_a_400_naming_the_parameter(url, field, key_client):
    make_survey(slug="shop")
    response = key_client.get(url)
    assert response.status_code == 400
    assert response.json() == {field: [NUL_MESSAGE]}


def test_the_api_message_is_in_the_readers_language(key_client):
    response = key_client.get("/api/v1/reports/overview/?range=%00", HTTP_ACCEPT_LANGUAGE="pl")
    assert response.status_code == 400
    assert response.json()["range"] != [NUL_MESSAGE]


# --- JSON bodies of the API ---------------------------------------------------------------------


def test_a_nul_in_a_survey_text_is_a_400_naming_its_path(key_client):
    definition = {
        "name": "Shop",
        "slug": "shop",
        "touchpoint": "purchase",
        "questions": [{"key": "q", "kind": "rating", "text": {"en": "How\x00?"}}],
    }
    response = key_client.post("/api/v1/surveys/", definition, format="json")
    assert response.status_code == 400
    assert response.json() == {"questions.0.text.en": [NUL_MESSAGE]}
    assert not Survey.objects.exists()


def test_a_nul_in_a_label_or_a_filter_name_is_a_400(key_client):
    make_survey(slug="shop", publish=False)
    labels = {"questions": [{"key": "q", "kind": "rating", "labels": {"en": ["a", "b\x00"]}}]}
    response = key_client.patch("/api/v1/surveys/shop/", labels, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["questions.0.labels.en.1"]
    response = key_client.patch(
        "/api/v1/surveys/shop/", {"filters": {"chan\x00nel": ["web"]}}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["filters"]


def test_a_nul_in_a_touchpoint_field_is_a_400_naming_it_and_stores_nothing(key_client):
    make_survey()
    response = key_client.post("/api/v1/touchpoints/", event(name="Ana\x00"), format="json")
    assert response.status_code == 400
    assert response.json() == {"customer.name": [NUL_MESSAGE]}
    batch = [event(), {**event(), "external_id": "order-2", "attributes": {"a\x00": "b"}}]
    response = key_client.post("/api/v1/touchpoints/", batch, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["1.attributes"]
    assert not TouchpointEvent.objects.exists()
    assert not Contact.objects.exists()


def test_a_form_to_the_api_is_refused_as_a_form_whatever_it_holds(key_client):
    response = key_client.post("/api/v1/touchpoints/", {"type": "pur\x00chase"})
    assert response.status_code == 415


def test_a_nul_in_an_invitation_attribute_key_is_a_400(key_client):
    make_survey(slug="shop")
    body = {"email": "ana@example.com", "attributes": {"re\x00gion": "north"}}
    response = key_client.post("/api/v1/surveys/shop/invitations/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["attributes"]
    assert not Invitation.objects.exists()


def test_a_nul_in_an_erasure_request_is_a_400(key_client):
    response = key_client.post("/api/v1/customers/erase/", {"external_id": "c\x00"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"external_id": [NUL_MESSAGE]}


def test_a_lone_surrogate_in_json_is_a_400(key_client):
    body = json.dumps(event(name="\ud800")).replace("\\ud800", "\\ud800")
    response = key_client.post("/api/v1/touchpoints/", body, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["customer.name"]


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_too_deep_is_a_400(depth, key_client):
    body = '{"type": "purchase", "attributes": ' + deeply_nested(depth) + "}"
    response = key_client.post("/api/v1/touchpoints/", body, content_type="application/json")
    assert response.status_code == 400
    assert "Nested deeper than 32 levels." in json.dumps(response.json())


def test_every_api_view_reads_json_through_the_boundary():
    """A view that sets its own parsers would bypass the checks: none does."""

    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern.callback

    api_views = [v.cls for v in views(get_resolver().url_patterns) if hasattr(v, "cls")]
    api_views = [cls for cls in api_views if issubclass(cls, APIView)]
    assert len(api_views) >= 10
    for cls in api_views:
        for parser in cls().get_parsers():
            assert isinstance(parser, boundary.JSONParser), (cls, parser)


# --- JSON bodies outside DRF ----------------------------------------------------------------------


def test_the_designer_preview_refuses_a_nul_and_deep_nesting(admin_client):
    make_survey(slug="shop", publish=False)
    url = "/design/shop/preview/"
    response = admin_client.post(url, {"intro": {"en": "a\x00"}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"intro.en": [NUL_MESSAGE]}
    for depth in (1000, 100_000):
        response = admin_client.post(url, deeply_nested(depth), content_type="application/json")
        assert response.status_code == 400, depth


def test_a_nul_in_a_webhook_payload_is_a_400_and_changes_nothing(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ["hooks:secret-1"]}
    contact = Contact.objects.create(email="ana@example.com")
    payload = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "MessageID": "id\x00",
        "Email": "ana@example.com",
        "BouncedAt": "2026-04-27T16:28:50Z",
        "Description": "gone",
    }
    auth = "Basic " + base64.b64encode(b"hooks:secret-1").decode()
    response = APIClient().post(
        "/anymail/postmark/tracking/", payload, format="json", HTTP_AUTHORIZATION=auth
    )
    assert response.status_code == 400
    assert response.json() == {"MessageID": [NUL_MESSAGE]}
    contact.refresh_from_db()
    assert contact.undeliverable_at is None


# --- the address, cookies and headers ------------------------------------------------------------


def test_a_nul_in_the_address_is_a_400(admin_client):
    assert APIClient().get("/s/abc%00def/").status_code == 400
    assert admin_client.get("/mailbox/x%00.eml/").status_code == 400


def test_a_nul_in_the_session_cookie_is_a_400(client):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    response = client.get("/dashboard/")
    assert response.status_code == 400
    assert "cookie sessionid" in response.content.decode()


def test_a_nul_in_a_header_is_a_400(key_client):
    response = key_client.get("/api/v1/surveys/", HTTP_USER_AGENT="probe\x00")
    assert response.status_code == 400
    assert list(response.json()) == ["header User-Agent"]


# --- imports ---------------------------------------------------------------------------------------


def run(command: str, path, *args) -> str:
    out = io.StringIO()
    call_command(command, str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_nul_in_an_imported_answer_rejects_that_line_only(tmp_path):
    make_survey(slug="shop")
    path = tmp_path / "answers.csv"
    path.write_text(
        "submitted_at,score,comment,attr.region\n"
        "2024-03-01,5,fine,north\n"
        "2024-03-02,4,a\x00b,north\n"
        "2024-03-03,3,ok,so\x00uth\n"
        "2024-03-04,2,late,east\n",
        encoding="utf-8",
    )
    out = run("import_responses", path, "--survey", "shop")
    assert "line 3: comment: Contains a NUL character" in out
    assert "line 4: attr.region: Contains a NUL character" in out
    assert Response.objects.count() == 2


def test_a_nul_in_an_imported_touchpoint_rejects_that_line_only(tmp_path):
    make_survey()
    path = tmp_path / "events.csv"
    path.write_text(
        "type,external_id,occurred_at,customer_email,customer_name,attr.channel\n"
        "purchase,o-1,2026-03-01T10:00:00Z,ana@example.com,Ana,web\n"
        "purchase,o-2,2026-03-01T10:00:00Z,bo@example.com,B\x00o,web\n"
        "purchase,o-3,2026-03-01T10:00:00Z,cy@example.com,Cy,we\x00b\n"
        "purchase,o-4,2026-03-01T10:00:00Z,dee@example.com,Dee,web\n",
        encoding="utf-8",
    )
    out = run("import_touchpoints", path)
    assert "line 3: customer_name: Contains a NUL character" in out
    assert "line 4: attr.channel: Contains a NUL character" in out
    assert sorted(TouchpointEvent.objects.values_list("external_id", flat=True)) == ["o-1", "o-4"]


# --- page size --------------------------------------------------------------------------------------


def test_a_list_gives_at_most_the_maximum_page_size(key_client):
    for n in range(boundary.MAX_PAGE_SIZE + 1):
        Survey.objects.create(name=f"s{n}", slug=f"s{n}", touchpoint="purchase")
    body = key_client.get("/api/v1/surveys/?limit=100000").json()
    assert body["count"] == boundary.MAX_PAGE_SIZE + 1
    assert len(body["results"]) == boundary.MAX_PAGE_SIZE
    assert body["next"]


def test_the_schema_documents_the_maximum_page_size(key_client):
    schema = key_client.get("/api/schema/?format=json").json()
    [limit] = [
        p for p in schema["paths"]["/api/v1/surveys/"]["get"]["parameters"] if p["name"] == "limit"
    ]
    assert limit["schema"]["maximum"] == boundary.MAX_PAGE_SIZE


# --- dry runs find what real runs reject ------------------------------------------------------------


def rejected_lines(out: str) -> list[int]:
    return sorted(
        int(line.split()[1].rstrip(":")) for line in out.splitlines() if line.startswith("  line ")
    )


def test_an_answer_import_dry_run_rejects_exactly_the_lines_a_real_run_rejects(tmp_path):
    from privacy import services as privacy_services

    make_survey(slug="shop")
    Contact.objects.create(email="gone@example.com")
    privacy_services.erase_customer(email="gone@example.com", via="test")
    bad = [
        "not a date,3,,,,,,,",  # 3
        "2099-01-01,3,,,,,,,",  # 4: future
        "1960-01-01,3,,,,,,,",  # 5: before 1970
        "2024-03-01,,,,,,,,",  # 6: no score
        "2024-03-01,4.5,,,,,,,",  # 7: not whole
        "2024-03-01,9,,,,,,,",  # 8: off the scale
        f"2024-03-01,3,{'x' * 201},,,,,,",  # 9: comment too long for the question
        "2024-03-01,3,,not-an-email,,,,,",  # 10
        f"2024-03-01,3,,,{'c' * 201},,,,",  # 11: customer_id too long
        "2024-03-01,3,,,,Purchase!,,,",  # 12: touchpoint_type
        f"2024-03-01,3,,,,,{'t' * 201},,",  # 13: touchpoint_id too long
        "2024-03-01,3,,,,,,xx_1234567890123,",  # 14: locale
        f"2024-03-01,3,,,,,,,{'v' * 201}",  # 15: attribute too long
        "2024-03-01,3",  # 16: too few fields
        "2024-03-01,3,a\x00b,,,,,,",  # 17: NUL
        "2024-03-02,3,,,,,order-1,,",  # 18: repeats line 2's touchpoint_id
        "2024-03-03,3,,gone@example.com,,,,,",  # 19: erased customer
    ]
    text = "\n".join(
        [
            "submitted_at,score,comment,customer_email,customer_id,touchpoint_type,touchpoint_id,"
            "locale,attr.region",
            "2024-03-01,5,fine,ana@example.com,c-1,purchase,order-1,en,north",  # 2
            *bad,
            "2024-03-04,4,,,,,,,",  # 20
            "",
        ]
    )
    path = tmp_path / "answers.csv"
    path.write_text(text, encoding="utf-8")

    def run_with_rejects(*args) -> list[int]:
        rejects = tmp_path / "rejects.csv"
        run("import_responses", path, "--survey", "shop", "--rejects", str(rejects), *args)
        return sorted(int(row.split(",", 1)[0]) for row in rejects.read_text().splitlines()[1:])

    dry = run_with_rejects("--dry-run")
    assert dry == list(range(3, 20))
    assert not Response.objects.exists()
    assert run_with_rejects() == dry
    assert Response.objects.count() == 2


def test_a_touchpoint_import_dry_run_rejects_exactly_the_lines_a_real_run_rejects(tmp_path):
    make_survey()
    t = "2026-03-01T10:00:00Z"
    rows = [
        f"purchase,o-1,{t},ana@example.com,Ana,,,,web",  # 2
        f"Purchase!,o-2,{t},b@example.com,,,,,",  # 3: type
        f"purchase,,{t},b@example.com,,,,,",  # 4: no external_id
        "purchase,o-4,yesterday,b@example.com,,,,,",  # 5: time
        "purchase,o-5,2099-01-01T00:00:00Z,b@example.com,,,,,",  # 6: future
        f"purchase,o-6,{t},not-an-email,,,,,",  # 7: email
        f"purchase,o-7,{t},,,,,,",  # 8: no customer
        f"purchase,o-8,{t},b@example.com,,,xx_1234567890,,",  # 9: locale
        f"purchase,o-9,{t},b@example.com,,,,Mars/Base,",  # 10: time zone
        f"purchase,o-10,{t},b@example.com,{'n' * 201},,,,",  # 11: name too long
        f"purchase,o-11,{t},b@example.com,,,,,{'v' * 201}",  # 12: attribute too long
        f"purchase,o-12,{t},b@example.com",  # 13: too few fields
        f"purchase,o-13,{t},b@example.com,B\x00,,,,",  # 14: NUL
        f'purchase,o-14,{t},b@example.com,"{"x" * 140_000}",,,,',  # 15: a field the CSV reader refuses
        f"purchase,o-1,{t},ana@example.com,Ana,,,,web",  # 16: a duplicate is not rejected
        f"purchase,o-15,{t},cy@example.com,Cy,,,,",  # 17
    ]
    path = tmp_path / "events.csv"
    path.write_text(
        "type,external_id,occurred_at,customer_email,customer_name,customer_external_id,"
        "customer_locale,customer_time_zone,attr.channel\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    dry = rejected_lines(run("import_touchpoints", path, "--dry-run"))
    assert dry == list(range(3, 16))
    assert not TouchpointEvent.objects.exists()
    assert rejected_lines(run("import_touchpoints", path)) == dry
    assert TouchpointEvent.objects.count() == 2
