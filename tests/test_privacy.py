"""Erasure and export of one customer's data; retention; the figures never move."""

import json
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from access.models import ApiKey
from privacy import services, signals
from privacy.models import ErasureLog
from surveys import responses, selectors, tokens
from surveys.models import Answer, Contact, Invitation, Response, TouchpointEvent

from .factories import make_invitation, make_survey

pytestmark = pytest.mark.django_db

ANA = {"email": "Ana.Silva@example.com", "name": "Ana Silva", "external_id": "C-100"}
PERSONAL = ("ana.silva@example.com", "Ana Silva", "C-100", "+49 170 1234567")


def customer(email, name, external_id=None, locale="de"):
    return Contact.objects.create(email=email, name=name, external_id=external_id, locale=locale)


def answered(survey, contact, score, comment="", *, days_ago=0, order="O-1"):
    """A touchpoint, its invitation and the customer's response, as the product stores them."""
    at = timezone.now() - timedelta(days=days_ago)
    attributes = {
        "channel": "web",
        "agent": "Bob",
        "product": "Kettle",
        "customer_name": contact.name,
        "email": contact.email,
        "customer_ref": contact.external_id or "",
        "note": f"call back at {contact.email}",
    }
    touchpoint = TouchpointEvent.objects.create(
        type="purchase",
        external_id=order,
        occurred_at=at,
        received_at=at,
        contact=contact,
        attributes=attributes,
    )
    invitation, token = make_invitation(
        survey,
        contact,
        now=at,
        touchpoint=touchpoint,
        locale=contact.locale,
        attributes=attributes,
        status=Invitation.Status.SENT,
        sent_at=at,
    )
    with time_machine.travel(at + timedelta(minutes=5), tick=False):
        response = responses.record_response(
            invitation=invitation,
            answers={"satisfaction": str(score), "comment": comment},
            locale=contact.locale,
        )
    return response, token


def figures(survey) -> dict:
    """CSAT, n, distribution, mean and commented counts straight from the Answer rows, plus
    the delivery funnel the designer shows."""
    out = {}
    for question in survey.questions.all():
        rows = Answer.objects.filter(question=question)
        scored = [a for a in rows if a.score is not None]
        out[question.key] = {
            "n": len(scored),
            "satisfied": sum(1 for a in scored if a.satisfied),
            "csat": round(100 * sum(a.satisfied for a in scored) / len(scored), 6)
            if scored
            else None,
            "mean": round(sum(a.score for a in scored) / len(scored), 6) if scored else None,
            "distribution": dict(Counter(a.score for a in scored)),
            "rows": rows.count(),
            "commented": rows.filter(question__kind="comment").exclude(text="").count(),
        }
    out["responses"] = Response.objects.filter(survey=survey).count()
    out["contacts"] = Contact.objects.count()
    out["distinct_respondents"] = (
        Response.objects.filter(survey=survey).values("contact").distinct().count()
    )
    out["by_locale"] = dict(Counter(Response.objects.values_list("locale", flat=True)))
    funnel = selectors.invitation_counts(survey)
    out["funnel"] = {k: funnel[k] for k in ("total", "sent", "answered", "commented", "clicked")}
    return out


@pytest.fixture
def world():
    survey = make_survey(
        slug="shop", min_days_between_surveys=0
    )  # the customers here are surveyed again and again
    ana = customer(**ANA)
    ben = customer("ben@example.com", "Ben Berg", "C-200", locale="en")
    ana_first, ana_token = answered(
        survey, ana, 2, "Ana Silva here, call me on +49 170 1234567", order="O-1"
    )
    answered(survey, ana, 5, order="O-2")
    answered(survey, ben, 4, "Great kettle, says Ben Berg", order="O-3")
    return {"survey": survey, "ana": ana, "ben": ben, "token": ana_token}


def everything_stored_text() -> str:
    """Every table the surveys app keeps, dumped: the place personal data could hide."""
    rows = []
    for model in (Contact, TouchpointEvent, Invitation, Response, Answer, ErasureLog):
        # (ErasedIdentifier holds only keyed hashes.)
        rows += [json.dumps(r, default=str) for r in model.objects.values()]
    return "\n".join(rows)


def assert_ana_gone():
    dump = everything_stored_text().casefold()
    for value in PERSONAL:
        assert value.casefold() not in dump, value


def test_erasure_by_email_removes_the_personal_data_and_keeps_every_figure(world):
    before = figures(world["survey"])
    result = services.erase_customer(email="ana.silva@EXAMPLE.com", via="test")
    assert figures(world["survey"]) == before
    assert result.counts == {
        "contacts": 1,
        "touchpoints": 2,
        "invitations": 2,
        "responses": 2,
        "answers": 1,
    }
    assert_ana_gone()
    ana = Contact.objects.get(pk=world["ana"].pk)
    assert ana.email.endswith("@erased.invalid") and ana.name == "" and ana.external_id is None
    # Kept: scores, dates, the language, the non-personal attributes.
    response = Response.objects.filter(contact=ana).order_by("submitted_at").first()
    assert response.locale == "de"
    assert {"channel": "web", "agent": "Bob", "product": "Kettle"}.items() <= (
        response.attributes.items()
    )
    assert "customer_name" not in response.attributes and "email" not in response.attributes
    assert sorted(
        Answer.objects.filter(response__contact=ana).values_list("score", flat=True),
        key=lambda s: (s is None, s),
    ) == [2, 5, None]
    comment = Answer.objects.get(response__contact=ana, question__key="comment")
    assert comment.text == services.ERASED_TEXT
    # Ben is untouched.
    ben = Contact.objects.get(pk=world["ben"].pk)
    assert (ben.email, ben.name) == ("ben@example.com", "Ben Berg")
    assert Answer.objects.get(response__contact=ben, question__key="comment").text == (
        "Great kettle, says Ben Berg"
    )


def test_erasure_by_external_id(world):
    before = figures(world["survey"])
    result = services.erase_customer(external_id="C-100", via="test")
    assert result.counts["contacts"] == 1 and not result.already_erased
    assert figures(world["survey"]) == before
    assert_ana_gone()


def test_erasure_covers_every_contact_with_that_email(world):
    twin = customer("ana.silva@example.com", "A. Silva", None, locale="en")
    answered(world["survey"], twin, 1, "second account", order="O-9")
    before = figures(world["survey"])
    result = services.erase_customer(email="ana.silva@example.com", via="test")
    assert result.counts["contacts"] == 2 and result.counts["answers"] == 2
    assert figures(world["survey"]) == before


def test_unknown_customer_is_an_error_and_changes_nothing(world):
    before = everything_stored_text()
    with pytest.raises(services.DomainError) as error:
        services.erase_customer(email="nobody@example.com", via="test")
    assert error.value.status == 404
    assert everything_stored_text() == before
    assert not ErasureLog.objects.exists()


def test_repeated_erasure_is_safe(world):
    services.erase_customer(email=ANA["email"], via="test")
    after_first = everything_stored_text()
    before = figures(world["survey"])
    again = services.erase_customer(email=ANA["email"], via="test")
    assert again.already_erased and set(again.counts.values()) == {0}
    again = services.erase_customer(external_id="C-100", via="test")
    assert again.already_erased
    assert figures(world["survey"]) == before
    assert everything_stored_text() == after_first
    assert ErasureLog.objects.count() == 1


def test_erased_customers_old_link_no_longer_opens(client, world):
    assert client.get(f"/s/{world['token']}/").status_code == 200
    services.erase_customer(email=ANA["email"], via="test")
    assert client.get(f"/s/{world['token']}/").status_code == 404


def test_scheduled_invitation_of_an_erased_customer_is_not_sent(world):
    invitation, _ = make_invitation(world["survey"], world["ana"])
    services.erase_customer(email=ANA["email"], via="test")
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SUPPRESSED


def test_erasure_log_says_who_when_and_how_many_but_not_whom(world, admin):
    services.erase_customer(email=ANA["email"], user=admin, via="api")
    log = ErasureLog.objects.get()
    assert log.performed_by == admin and log.via == "api" and log.kind == "request"
    assert log.counts["contacts"] == 1 and log.counts["answers"] == 1
    assert timezone.now() - log.performed_at < timedelta(minutes=1)
    stored = json.dumps(
        {k: str(v) for k, v in ErasureLog.objects.values().get().items()}
    ).casefold()
    for value in (*PERSONAL, "ana", "silva", "c-100"):
        assert value.casefold() not in stored
    hashes = list(log.identifiers.values_list("subject_hash", flat=True))
    assert len(hashes) == 2 and all(len(h) == 64 for h in hashes)  # the email and the external id


def test_other_apps_erase_their_copies_in_the_same_transaction(world):
    seen = []

    def followups(sender, contact, **kwargs):
        seen.append((contact.pk, contact.name, connection.in_atomic_block))
        return {"followups": 3}

    signals.erase_customer_data.connect(followups)
    try:
        result = services.erase_customer(email=ANA["email"], via="test")
    finally:
        signals.erase_customer_data.disconnect(followups)
    assert seen == [(world["ana"].pk, "", True)]
    assert result.counts["followups"] == 3


def test_a_failing_receiver_rolls_the_whole_erasure_back(world):
    before = everything_stored_text()

    def broken(sender, contact, **kwargs):
        raise RuntimeError("follow-up store unavailable")

    signals.erase_customer_data.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            services.erase_customer(email=ANA["email"], via="test")
    finally:
        signals.erase_customer_data.disconnect(broken)
    assert everything_stored_text() == before


def test_erase_customer_command(world):
    out = StringIO()
    call_command("erase_customer", "C-100", stdout=out)
    assert "Erased" in out.getvalue() and "contacts: 1" in out.getvalue()
    assert_ana_gone()
    assert ErasureLog.objects.get().via.startswith("command")
    with pytest.raises(CommandError, match="no customer"):
        call_command("erase_customer", "nobody@example.com")
    out = StringIO()
    call_command("erase_customer", ANA["email"], stdout=out)
    assert "erased before" in out.getvalue()


# --- export -------------------------------------------------------------------------------------


def test_export_holds_everything_stored_about_the_customer_and_no_token(world):
    out = StringIO()
    call_command("export_customer", ANA["email"], stdout=out)
    data = json.loads(out.getvalue())
    (contact,) = data["contacts"]
    assert (contact["email"], contact["name"], contact["external_id"]) == (
        ANA["email"],
        ANA["name"],
        "C-100",
    )
    assert [t["external_id"] for t in contact["touchpoints"]] == ["O-1", "O-2"]
    assert contact["touchpoints"][0]["attributes"]["customer_name"] == "Ana Silva"
    assert len(contact["invitations"]) == 2
    assert contact["invitations"][0]["survey"] == "shop"
    scores = [a["score"] for r in contact["responses"] for a in r["answers"]]
    assert sorted(s for s in scores if s is not None) == [2, 5]
    comments = [a["text"] for r in contact["responses"] for a in r["answers"] if a["text"]]
    assert comments == ["Ana Silva here, call me on +49 170 1234567"]
    assert contact["responses"][0]["answers"][0]["question_text"] == "How satisfied are you?"
    text = out.getvalue()
    assert "Ben" not in text
    invitation = Invitation.objects.filter(contact=world["ana"]).first()
    assert invitation.salt not in text and invitation.token_hash not in text
    assert world["token"] not in text and "salt" not in text and "token" not in text


def test_export_includes_what_other_apps_return(world):
    def followups(sender, contact, **kwargs):
        return {"followups": [{"status": "open"}]}

    signals.export_customer_data.connect(followups)
    try:
        out = StringIO()
        call_command("export_customer", "C-100", stdout=out)
    finally:
        signals.export_customer_data.disconnect(followups)
    assert json.loads(out.getvalue())["contacts"][0]["followups"] == [{"status": "open"}]


def test_export_of_an_unknown_customer_is_an_error(world):
    with pytest.raises(CommandError, match="no customer"):
        call_command("export_customer", "nobody@example.com")


def test_export_after_erasure_shows_nothing_personal(world):
    ana_pk = world["ana"].pk
    services.erase_customer(email=ANA["email"], via="test")
    out = StringIO()
    call_command("export_customer", f"erased-{ana_pk}@erased.invalid", stdout=out)
    text = out.getvalue().casefold()
    for value in PERSONAL:
        assert value.casefold() not in text


# --- the API --------------------------------------------------------------------------------------


def test_admin_erases_through_the_api(admin_client, world):
    before = figures(world["survey"])
    response = admin_client.post("/api/v1/customers/erase/", {"email": ANA["email"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "already_erased": False,
        "counts": {"contacts": 1, "touchpoints": 2, "invitations": 2, "responses": 2, "answers": 1},
    }
    assert figures(world["survey"]) == before
    assert_ana_gone()
    again = admin_client.post("/api/v1/customers/erase/", {"email": ANA["email"]}, format="json")
    assert again.status_code == 200 and again.json()["already_erased"] is True


def test_api_key_erases_by_external_id(key_client, world):
    response = key_client.post("/api/v1/customers/erase/", {"external_id": "C-100"}, format="json")
    assert response.status_code == 200
    assert ErasureLog.objects.get().via == "api-key:shop"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "not-an-email"},
        {"email": "a@example.com", "external_id": "C-1"},
        {"email": ""},
    ],
)
def test_erase_api_refuses_a_malformed_request(admin_client, world, body):
    response = admin_client.post("/api/v1/customers/erase/", body, format="json")
    assert response.status_code == 400
    assert not ErasureLog.objects.exists()


def test_erase_api_says_404_for_an_unknown_customer(admin_client, world):
    response = admin_client.post(
        "/api/v1/customers/erase/", {"email": "nobody@example.com"}, format="json"
    )
    assert response.status_code == 404 and "no customer" in response.json()["detail"]


def test_manager_may_neither_erase_nor_export(manager_client, world):
    assert (
        manager_client.post(
            "/api/v1/customers/erase/", {"email": ANA["email"]}, format="json"
        ).status_code
        == 403
    )
    assert (
        manager_client.get("/api/v1/customers/export/", {"email": ANA["email"]}).status_code == 403
    )
    assert Contact.objects.get(pk=world["ana"].pk).name == "Ana Silva"


def test_anonymous_gets_401(world):
    client = APIClient()
    assert client.post("/api/v1/customers/erase/", {"email": ANA["email"]}).status_code == 401
    assert client.get("/api/v1/customers/export/", {"email": ANA["email"]}).status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer csat_wrong")
    assert bad.post("/api/v1/customers/erase/", {"email": ANA["email"]}).status_code == 401


def test_revoked_api_key_cannot_erase(world):
    key, raw = ApiKey.generate(name="old")
    key.revoked_at = timezone.now()
    key.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.post("/api/v1/customers/erase/", {"email": ANA["email"]}).status_code == 401


def test_export_api(admin_client, world):
    response = admin_client.get("/api/v1/customers/export/", {"external_id": "C-100"})
    assert response.status_code == 200
    (contact,) = response.json()["contacts"]
    assert contact["email"] == ANA["email"] and len(contact["responses"]) == 2
    assert "token_hash" not in json.dumps(response.json())
    assert admin_client.get("/api/v1/customers/export/").status_code == 400
    missing = admin_client.get("/api/v1/customers/export/", {"email": "nobody@example.com"})
    assert missing.status_code == 404


# --- retention ------------------------------------------------------------------------------------


def test_months_before_handles_short_months():
    moment = timezone.now().replace(year=2026, month=3, day=31, hour=12)
    assert services.months_before(moment, 1).date().isoformat() == "2026-02-28"
    assert services.months_before(moment, 12).date().isoformat() == "2025-03-31"
    assert services.months_before(moment, 15).date().isoformat() == "2024-12-31"


def test_retention_erases_exactly_what_is_older_than_the_cutoff():
    survey = make_survey(
        slug="shop", min_days_between_surveys=0
    )  # the customers here are surveyed again and again
    now = timezone.now().replace(year=2026, month=6, day=15, hour=12, minute=0, second=0)
    cutoff = services.months_before(now, 12)  # 2025-06-15 12:00
    old = customer("old@example.com", "Olga Old")
    edge = customer("edge@example.com", "Eddie Edge")
    active = customer("active@example.com", "Alice Active")
    Contact.objects.update(created_at=cutoff - timedelta(days=40))
    with time_machine.travel(cutoff - timedelta(days=1), tick=False):
        answered(survey, old, 1, "old comment by old@example.com", order="O-1")
        answered(survey, active, 2, "active customer's old comment", order="O-2")
        answered(survey, edge, 5, "edge comment", order="O-3")
    with time_machine.travel(now - timedelta(days=10), tick=False):
        answered(survey, active, 4, "recent comment", order="O-4")
    # The boundary: one second before the cutoff is erased, one second after is kept.
    Response.objects.filter(contact=old).update(submitted_at=cutoff - timedelta(seconds=1))
    Response.objects.filter(contact=edge).update(submitted_at=cutoff + timedelta(seconds=1))
    before = figures(survey)

    counts = services.erase_expired_personal_data(months=12, now=now)

    assert figures(survey) == before
    comments = dict(
        Answer.objects.filter(question__key="comment").values_list("response__contact", "text")
    )
    assert comments[old.pk] == services.ERASED_TEXT
    assert comments[edge.pk] == "edge comment"
    assert sorted(
        Answer.objects.filter(response__contact=active, question__key="comment").values_list(
            "text", flat=True
        )
    ) == ["[erased]", "recent comment"]
    # Olga has nothing newer than the cutoff: anonymised as a whole. Alice is still a customer.
    assert Contact.objects.get(pk=old.pk).name == ""
    assert Contact.objects.get(pk=active.pk).email == "active@example.com"
    assert Contact.objects.get(pk=edge.pk).name == "Eddie Edge"
    old_response = Response.objects.get(contact=old)
    assert "email" not in old_response.attributes and old_response.attributes["channel"] == "web"
    assert Response.objects.get(contact=edge).attributes["email"] == "edge@example.com"
    assert counts["answers"] == 2 and counts["contacts"] == 1
    log = ErasureLog.objects.get()
    assert log.kind == "retention" and log.performed_by is None and not log.identifiers.exists()
    # A second run finds nothing left to do and writes no second log entry.
    assert services.erase_expired_personal_data(months=12, now=now) == {}
    assert ErasureLog.objects.count() == 1


def test_retention_is_off_by_default(settings, world):
    from privacy.tasks import erase_expired_personal_data

    assert settings.RESPONSE_RETENTION_MONTHS == 0
    before = everything_stored_text()
    assert erase_expired_personal_data() == {}
    assert everything_stored_text() == before


def test_retention_task_uses_the_setting_and_is_scheduled_daily(settings, world):
    from privacy.tasks import erase_expired_personal_data

    schedule = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert schedule["task"] == "privacy.tasks.erase_expired_personal_data"
    assert schedule["schedule"] == 24 * 60 * 60
    settings.RESPONSE_RETENTION_MONTHS = 1
    before = figures(world["survey"])
    with time_machine.travel(timezone.now() + timedelta(days=62)):
        counts = erase_expired_personal_data.apply().get()
    assert counts["answers"] == 2
    assert figures(world["survey"]) == before
    assert_ana_gone()


def test_token_is_not_derivable_after_erasure(world):
    invitation = Invitation.objects.filter(contact=world["ana"]).first()
    services.erase_customer(email=ANA["email"], via="test")
    invitation.refresh_from_db()
    assert tokens.hash_token(world["token"]) != invitation.token_hash


def test_erasure_reaches_the_report_rollups_and_keeps_their_figures(world, rollups_engine):
    from reports import rollups, service
    from reports.models import AnswerCube, AnswerPairCube, InvitationCube

    def cubes() -> str:
        return json.dumps(
            [list(m.objects.values()) for m in (AnswerCube, AnswerPairCube, InvitationCube)],
            default=str,
        ).casefold()

    survey = world["survey"]
    rollups.rebuild()
    today = timezone.localdate()
    before = service.csat_report(survey, start=today - timedelta(days=7), end=today)
    assert "ana silva" in cubes()  # the customer_name attribute is a dimension

    services.erase_customer(email=ANA["email"], via="test")
    rollups.refresh()
    for value in PERSONAL:
        assert value.casefold() not in cubes(), value
    after = service.csat_report(survey, start=today - timedelta(days=7), end=today)
    for key in ("csat", "n", "satisfied", "mean", "distribution", "response_rate", "funnel"):
        assert after[key] == before[key], key
