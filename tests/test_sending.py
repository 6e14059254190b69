"""The sending pipeline in-process, against a real SMTP server on loopback."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from surveys import sending, services
from surveys.models import Contact, Invitation, Survey, TouchpointEvent
from surveys.sending import ledger

from .factories import make_invitation, make_survey, rating_question
from .mail_servers import SilentSmtp

Status = Invitation.Status


def due_invitation(survey, *, email="ana@example.com", name="Ana", locale="", **fields):
    contact = Contact.objects.create(email=email, name=name, locale=locale)
    fields.setdefault("due_at", timezone.now() - timedelta(seconds=1))
    return make_invitation(survey, contact, locale=locale, **fields)


def send_due() -> dict:
    """What one beat tick and its worker do, in this process."""
    totals: dict = {}
    for claim_batch in (sending.claim_invitations, sending.claim_reminders):
        while (claim := claim_batch()) is not None:
            for key, n in sending.send_batch(claim).items():
                totals[key] = totals.get(key, 0) + n
    return totals


def links_in(part: str, token: str) -> list[str]:
    return re.findall(rf"https?://[^\s\"<>]*/s/{token}/\?score=-?\d+", part)


def test_due_invitation_goes_out_localized_with_headers_and_one_link_per_point(
    db, smtp_server, settings
):
    settings.SITE_URL = "https://csat.example.com"
    survey = make_survey(
        languages=("en", "de"),
        # every text in German too: a language with a missing text is not offered (languages.py)
        questions=[
            rating_question(
                primary=True, required=True, text={"en": "How satisfied?", "de": "Wie zufrieden?"}
            ),
        ],
        email_subject={"en": "Your order {reference}", "de": "Ihre Bestellung {reference}"},
        email_body={
            "en": "Hello {name}, how was order {reference}?",
            "de": "Hallo {name}, wie war Bestellung {reference}? {unknown} bleibt.",
        },
    )
    invitation, token = due_invitation(survey, locale="de-AT", attributes={"order_id": "A-17"})
    assert send_due() == {"sent": 1}

    [received] = smtp_server.wait_for(1)
    message = received["message"]
    assert received["to"] == ["ana@example.com"]
    assert message["Subject"] == "Ihre Bestellung A-17"
    # A long header is folded onto its own line; unfolded, it is exactly the one URL.
    assert message["List-Unsubscribe"].strip() == f"<https://csat.example.com/u/{token}/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].strip().startswith(f"<csat.{invitation.pk}.invitation.")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert message.get_content_type() == "multipart/alternative"
    assert "Hallo Ana, wie war Bestellung A-17? {unknown} bleibt." in text
    for part in (text, html):
        assert len(set(links_in(part, token))) == 5  # one link per point of the 1-5 scale
        assert f"https://csat.example.com/s/{token}/?score=5" in part
        assert f"https://csat.example.com/u/{token}/" in part
    assert "Sehr zufrieden" in html  # German default label of the top point
    assert "<table" in html and "style=" in html and "<img" not in html and "<link" not in html

    invitation.refresh_from_db()
    assert invitation.status == Status.SENT and invitation.sent_at is not None
    assert invitation.message_id == message["Message-ID"].strip()
    assert invitation.attempts == 1 and invitation.lease_expires_at is None


def test_default_texts_use_the_touchpoint_reference_and_english(db, smtp_server):
    survey = make_survey()
    contact = Contact.objects.create(email="bo@example.com", name="Bo")
    touchpoint = TouchpointEvent.objects.create(
        type="purchase", external_id="ORD-992", occurred_at=timezone.now(), contact=contact
    )
    make_invitation(survey, contact, touchpoint=touchpoint)
    send_due()
    message = smtp_server.wait_for(1)[0]["message"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert message["Subject"] == "Shop survey: how did we do?"
    assert "Hello Bo," in text and "Thank you for your order ORD-992." in text


def test_emoji_scale_links_show_faces(db, smtp_server):
    survey = make_survey(
        questions=[
            {
                "key": "mood",
                "kind": "rating",
                "scale": "emoji-5",
                "text": "How was it?",
                "primary": True,
            }
        ]
    )
    _, token = due_invitation(survey)
    send_due()
    html = smtp_server.wait_for(1)[0]["message"].get_body(preferencelist=("html",)).get_content()
    assert len(set(links_in(html, token))) == 5
    from surveys.scales import SCALES

    assert all(face in html for face in SCALES["emoji-5"].faces)


def test_nothing_is_sent_before_it_is_due_or_for_a_paused_survey(db, smtp_server):
    survey = make_survey()
    due_invitation(survey, due_at=timezone.now() + timedelta(hours=2))
    paused = make_survey(slug="paused")
    services.change_status(survey=paused, status=Survey.Status.PAUSED)
    due_invitation(paused, email="p@example.com")
    assert send_due() == {}
    assert set(Invitation.objects.values_list("status", flat=True)) == {Status.SCHEDULED}
    assert smtp_server.messages == []


def test_unsubscribed_and_undeliverable_customers_are_suppressed_at_send_time(db, smtp_server):
    survey = make_survey()
    gone, _ = due_invitation(survey, email="gone@example.com")
    bounced, _ = due_invitation(survey, email="bounced@example.com")
    due_invitation(survey, email="ok@example.com")
    Contact.objects.filter(pk=gone.contact_id).update(unsubscribed_at=timezone.now())
    Contact.objects.filter(pk=bounced.contact_id).update(
        undeliverable_at=timezone.now(), undeliverable_reason="hard bounce"
    )
    assert send_due() == {"sent": 1, "suppressed": 2}
    assert [m["to"] for m in smtp_server.wait_for(1)] == [["ok@example.com"]]
    gone.refresh_from_db()
    bounced.refresh_from_db()
    assert (gone.status, gone.status_reason) == (Status.SUPPRESSED, "the customer unsubscribed")
    assert bounced.status == Status.SUPPRESSED and "hard bounce" in bounced.status_reason


# --- SMTP errors ---------------------------------------------------------------------------------


def test_temporary_errors_retry_with_backoff_and_permanent_errors_fail(db, scripted_smtp, settings):
    settings.CSAT_SEND_RETRY_SECONDS = 60
    server = scripted_smtp(
        {
            "full@example.com": "452 4.2.2 Mailbox full, try later",
            "nobody@example.com": "550 5.1.1 No such user",
        }
    )
    survey = make_survey()
    full, _ = due_invitation(survey, email="full@example.com")
    nobody, _ = due_invitation(survey, email="nobody@example.com")
    ok, _ = due_invitation(survey, email="ok@example.com")
    before = timezone.now()
    assert send_due() == {"retrying": 1, "failed": 1, "sent": 1}
    assert server.accepted == ["ok@example.com"]  # the connection survived both refusals

    full.refresh_from_db()
    nobody.refresh_from_db()
    assert full.status == Status.SCHEDULED and full.attempts == 1
    assert "452" in full.status_reason and "Mailbox full" in full.status_reason
    assert before + timedelta(seconds=45) < full.due_at < before + timedelta(seconds=75)
    assert nobody.status == Status.FAILED and nobody.status_reason.startswith("550")

    # Still refused at every attempt: it fails after the last one, with the reason.
    for _ in range(settings.CSAT_SEND_MAX_ATTEMPTS - 1):
        Invitation.objects.filter(pk=full.pk).update(due_at=timezone.now())
        send_due()
    full.refresh_from_db()
    assert full.status == Status.FAILED
    assert full.attempts == settings.CSAT_SEND_MAX_ATTEMPTS
    assert full.status_reason.startswith(f"gave up after {full.attempts} attempts: 452")


@pytest.fixture
def silent_smtp():
    server = SilentSmtp().start()
    yield server.port
    server.stop()


def test_a_mail_server_that_hangs_times_out_and_the_batch_retries_later(db, settings, silent_smtp):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
        "127.0.0.1",
        silent_smtp,
        False,
    )
    settings.EMAIL_TIMEOUT = 1
    survey = make_survey()
    first, _ = due_invitation(survey, email="a@example.com")
    second, _ = due_invitation(survey, email="b@example.com")
    started = time.monotonic()
    assert send_due() == {"retrying": 2}
    assert time.monotonic() - started < 5
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == Status.SCHEDULED
    assert "unreachable" in first.status_reason and first.attempts == 1
    assert second.attempts == 0  # never handed over: the attempt is not spent
    assert first.due_at > timezone.now() and second.due_at > timezone.now()


# --- leases --------------------------------------------------------------------------------------


def test_a_dead_workers_claim_is_picked_up_after_its_lease(db, smtp_server):
    survey = make_survey()
    abandoned, _ = due_invitation(survey, email="a@example.com")
    claim = sending.claim_invitations()
    assert claim.ids == [abandoned.pk]
    assert sending.claim_invitations() is None  # held: nobody else takes it
    # The worker died before sending. Once the lease has run out, the claim comes due again.
    Invitation.objects.filter(pk=abandoned.pk).update(lease_expires_at=timezone.now())
    assert send_due() == {"sent": 1}
    # The dead worker's task, redelivered late, finds the rows no longer held by its claim.
    assert sending.send_batch(claim) == {}
    assert len(smtp_server.wait_for(1)) == 1


def test_claims_lost_with_the_broker_do_not_block_the_next_tick(db, settings, monkeypatch):
    """A full window of expired claims (their batch messages gone with a Redis restart) is
    reclaimed by the next tick instead of counting as work still in flight."""
    from surveys import tasks

    settings.CSAT_SEND_MAX_BATCHES, settings.CSAT_SEND_BATCH_SIZE = 2, 2
    survey = make_survey()
    for i in range(4):
        due_invitation(survey, email=f"c{i}@example.com")
    queued = []
    monkeypatch.setattr(tasks.send_invitation_batch, "delay", lambda *args: queued.append(args))
    assert tasks.dispatch_due_invitations() == 2  # the window is full
    assert tasks.dispatch_due_invitations() == 0  # live claims: nothing more to take
    queued.clear()  # the broker lost both messages; the leases run out
    Invitation.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert tasks.dispatch_due_invitations() == 2
    assert sorted(pk for _, ids, _ in queued for pk in ids) == sorted(
        Invitation.objects.values_list("pk", flat=True)
    )


def test_a_row_another_run_of_the_claim_handed_over_meanwhile_is_not_sent_twice(
    db, smtp_server, monkeypatch
):
    survey = make_survey()
    due_invitation(survey)
    claim = sending.claim_invitations()
    build = sending._Batch.build

    def build_while_a_redelivered_copy_hands_it_over(batch, invitation):
        message = build(batch, invitation)
        Invitation.objects.filter(pk=invitation.pk).update(handover_at=timezone.now())
        return message

    monkeypatch.setattr(sending._Batch, "build", build_while_a_redelivered_copy_hands_it_over)
    assert sending.send_batch(claim) == {"skipped": 1}
    assert smtp_server.messages == []


def test_outcomes_are_recorded_alike_where_an_update_cannot_return_rows(
    db, scripted_smtp, monkeypatch
):
    monkeypatch.setattr(ledger, "_update_returns_rows", lambda db: False)  # SQLite before 3.35
    server = scripted_smtp({"nobody@example.com": "550 5.1.1 No such user"})
    survey = make_survey()
    first, _ = due_invitation(survey, email="first@example.com")
    nobody, _ = due_invitation(survey, email="nobody@example.com")
    last, _ = due_invitation(survey, email="last@example.com")
    assert send_due() == {"sent": 2, "failed": 1}
    assert server.accepted == ["first@example.com", "last@example.com"]
    for invitation in (first, nobody, last):
        invitation.refresh_from_db()
        assert invitation.handover_at is None and invitation.attempts == 1
    assert first.status == last.status == Status.SENT
    assert nobody.status == Status.FAILED and nobody.status_reason.startswith("550")


# --- reminders and expiry ------------------------------------------------------------------------


def test_one_reminder_with_the_same_link_goes_only_to_those_who_have_not_answered(
    db, smtp_server, client
):
    survey = make_survey(reminder_after_days=3)
    quiet, quiet_token = due_invitation(survey, email="quiet@example.com")
    answered, answered_token = due_invitation(survey, email="answered@example.com")
    assert send_due() == {"sent": 2}
    client.post(f"/s/{answered_token}/", {"satisfaction": "4"})

    assert send_due() == {}  # not due yet
    Invitation.objects.update(reminder_due_at=timezone.now() - timedelta(minutes=1))
    assert send_due() == {"sent": 1}
    messages = smtp_server.wait_for(3)
    reminder = messages[2]["message"]
    assert messages[2]["to"] == ["quiet@example.com"]
    assert reminder["Subject"].startswith("Reminder:")
    assert reminder["Message-ID"] != messages[0]["message"]["Message-ID"]
    assert f"/s/{quiet_token}/?score=4" in reminder.get_body(("plain",)).get_content()
    quiet.refresh_from_db()
    assert quiet.reminder_sent_at is not None and quiet.status == Status.SENT

    Invitation.objects.update(reminder_due_at=timezone.now() - timedelta(minutes=1))
    assert send_due() == {}  # one reminder only
    assert len(smtp_server.messages) == 3


def test_expired_invitations_get_no_reminder_and_close(db, smtp_server):
    survey = make_survey(reminder_after_days=1, expires_after_days=2)
    late, _ = due_invitation(survey, email="late@example.com")
    never, _ = due_invitation(survey, email="never@example.com", due_at=timezone.now())
    send_due()
    past = timezone.now() - timedelta(minutes=1)
    Invitation.objects.filter(pk=late.pk).update(reminder_due_at=past, expires_at=past)
    Invitation.objects.filter(pk=never.pk).update(
        status=Status.SCHEDULED, sent_at=None, expires_at=past
    )
    # No reminder after expiry, and no late first mail: the unsent one closes at send time...
    assert send_due() == {"expired": 1}
    # ...and the sent one when expiry runs.
    assert sending.expire_invitations() == 1
    late.refresh_from_db()
    never.refresh_from_db()
    assert late.status == never.status == Status.EXPIRED
    assert len(smtp_server.messages) == 2


# --- unsubscribing -------------------------------------------------------------------------------


def test_unsubscribe_get_shows_a_button_and_changes_nothing(db, client):
    survey = make_survey(languages=("en", "de"))
    invitation, token = due_invitation(survey, locale="de")
    page = client.get(f"/u/{token}/")
    assert page.status_code == 200
    assert '<form method="post">' in page.content.decode()
    invitation.contact.refresh_from_db()
    assert invitation.contact.unsubscribed_at is None
    assert page["Cache-Control"] == "no-store"
    assert client.get("/u/" + "x" * 32 + "/").status_code == 404


def test_one_click_post_unsubscribes_at_once_and_is_safe_to_repeat(db, smtp_server):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # mail clients send no CSRF token
    survey = make_survey()
    invitation, token = due_invitation(survey)
    later, _ = due_invitation(survey, email=invitation.contact.email, due_at=timezone.now())
    Invitation.objects.filter(pk=later.pk).update(contact=invitation.contact)
    for _ in range(2):
        response = client.post(
            f"/u/{token}/",
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
    invitation.contact.refresh_from_db()
    assert invitation.contact.unsubscribed_at is not None
    assert "unsubscribed" in client.get(f"/u/{token}/").content.decode()
    assert send_due() == {}
    assert smtp_server.messages == []
    assert set(Invitation.objects.values_list("status", flat=True)) == {Status.SUPPRESSED}
