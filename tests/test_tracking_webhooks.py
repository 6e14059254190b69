"""Bounces, complaints, unsubscribes and deliveries from email providers, posted as the providers
post them (payloads as documented by Postmark, Mailgun and django-anymail) to the live URLs."""

import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from surveys import selectors
from surveys.models import Contact, Invitation, TouchpointSkip
from surveys.touchpoints import record_touchpoints

from .factories import make_survey
from .test_sending import send_due

Status = Invitation.Status
SECRET = "esp-hooks:Kc9v2x7QpW"
SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
POSTMARK = "/anymail/postmark/tracking/"
MAILGUN = "/anymail/mailgun/tracking/"
POSTMARK_ID = "2706ee8a-737c-4285-b032-ccd317af53ed"


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET], "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def auth(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def touchpoint(external_id: str, email: str = "ana@example.com") -> dict:
    return {
        "type": "purchase",
        "external_id": external_id,
        "occurred_at": timezone.now().isoformat(),
        "customer": {"email": email, "name": "Ana", "external_id": "c-17"},
    }


@pytest.fixture
def sent(db, smtp_server):
    """An invitation that really went out through SMTP, from a touchpoint posted by the shop."""
    survey = make_survey(min_days_between_surveys=0)  # a second survey invites the customer too
    [item] = record_touchpoints(items=[touchpoint("order-1")]).items
    assert send_due() == {"sent": 1}
    invitation = Invitation.objects.select_related("contact").get(touchpoint_id=item.id)
    assert invitation.status == Status.SENT
    return survey, invitation


def postmark_bounce(message_id: str, email: str = "ana@example.com", **extra) -> dict:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 901542550,
        "Type": "HardBounce",
        "TypeCode": 1,
        "ServerID": 23,
        "Name": "Hard bounce",
        "MessageID": message_id,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "surveys@example.com",
        "BouncedAt": "2026-04-27T16:28:50.3963933-04:00",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "How did we do?",
        "Metadata": {},
        **extra,
    }


def post_postmark(client, payload: dict, **headers):
    return client.post(
        POSTMARK, data=json.dumps(payload), content_type="application/json", **(headers or auth())
    )


def signed_mailgun(event_data: dict, key: str = SIGNING_KEY) -> dict:
    timestamp, token = str(int(time.time())), "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event_data,
    }


def mailgun_failed(message_id: str, severity: str = "permanent") -> dict:
    return {
        "event": "failed",
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "timestamp": 1777000000.375624,
        "log-level": "error",
        "severity": severity,
        "reason": "bounce",
        "envelope": {
            "sender": "surveys@example.com",
            "transport": "smtp",
            "targets": "ana@example.com",
        },
        "flags": {"is-routed": False, "is-authenticated": True, "is-system-test": False},
        "delivery-status": {
            "attempt-no": 1,
            "message": "550 5.1.1 The email account that you tried to reach does not exist.",
            "code": 550,
            "description": "",
            "session-seconds": 1.2,
        },
        "message": {
            "headers": {
                "to": "Ana <ana@example.com>",
                "message-id": message_id.strip("<>"),
                "from": "CSAT <surveys@example.com>",
                "subject": "How did we do?",
            },
            "attachments": [],
            "size": 4021,
        },
        "recipient": "ana@example.com",
        "recipient-domain": "example.com",
        "campaigns": [],
        "tags": [],
        "user-variables": {},
    }


def post_mailgun(client, payload: dict, **headers):
    return client.post(
        MAILGUN, data=json.dumps(payload), content_type="application/json", **(headers or auth())
    )


def test_a_hard_bounce_marks_the_invitation_bounced_and_the_address_undeliverable(client, sent):
    survey, invitation = sent
    # As a django-anymail backend stores it: the provider's id of the message.
    Invitation.objects.filter(pk=invitation.pk).update(message_id=POSTMARK_ID)
    # A second survey's invitation for the same customer, due later.
    later = make_survey(slug="later", send_delay_minutes=60, min_days_between_surveys=0)
    [item] = record_touchpoints(items=[touchpoint("order-2")]).items
    scheduled = Invitation.objects.get(touchpoint_id=item.id, survey=later)
    assert scheduled.status == Status.SCHEDULED

    bounced_at = timezone.now()
    payload = postmark_bounce(POSTMARK_ID, BouncedAt=bounced_at.isoformat())
    assert post_postmark(client, payload).status_code == 200

    invitation.refresh_from_db()
    assert invitation.status == Status.BOUNCED
    assert invitation.bounced_at == bounced_at
    assert (
        "550 5.1.1" in invitation.status_reason or "unable to deliver" in invitation.status_reason
    )
    contact = Contact.objects.get(pk=invitation.contact_id)
    assert contact.undeliverable_at is not None
    assert "Postmark" in contact.undeliverable_reason

    # The next touchpoint of this customer is skipped as undeliverable...
    [item] = record_touchpoints(items=[touchpoint("order-3")]).items
    skip = TouchpointSkip.objects.get(touchpoint_id=item.id, survey=survey)
    assert skip.reason == TouchpointSkip.Reason.UNDELIVERABLE
    # ...and the invitations scheduled before the bounce (order-2, for both surveys) are
    # suppressed when they come due.
    Invitation.objects.filter(pk=scheduled.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert send_due() == {"suppressed": 2}
    scheduled.refresh_from_db()
    assert scheduled.status == Status.SUPPRESSED
    assert scheduled.status_reason.startswith("the address is undeliverable")

    counts = selectors.invitation_counts(survey)
    assert (counts["sent"], counts["bounced"], counts["delivered"]) == (1, 1, 0)


def test_the_same_bounce_twice_changes_nothing_the_second_time(client, sent):
    _survey, invitation = sent
    payload = postmark_bounce("unknown-to-us", Metadata={"invitation": str(invitation.pk)})
    assert post_postmark(client, payload).status_code == 200
    first = Invitation.objects.get(pk=invitation.pk)
    contact = Contact.objects.get(pk=invitation.contact_id)
    assert first.status == Status.BOUNCED  # found by the metadata on our message

    assert post_postmark(client, payload).status_code == 200
    again = Invitation.objects.get(pk=invitation.pk)
    assert (again.status, again.bounced_at, again.status_reason) == (
        first.status,
        first.bounced_at,
        first.status_reason,
    )
    assert Contact.objects.get(pk=contact.pk).undeliverable_at == contact.undeliverable_at


def test_a_mailgun_permanent_failure_is_matched_by_our_own_message_id(client, sent, smtp_server):
    _survey, invitation = sent
    header = smtp_server.messages[0]["message"]["Message-ID"].strip()
    assert header == invitation.message_id  # sent over SMTP: our Message-ID is the id
    # Postmark's SMTP relay turns this header into the metadata its webhooks echo back.
    assert smtp_server.messages[0]["message"]["X-PM-Metadata-invitation"] == str(invitation.pk)

    response = post_mailgun(client, signed_mailgun(mailgun_failed(header)))
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Status.BOUNCED
    assert "550 5.1.1" in invitation.status_reason
    assert Contact.objects.get(pk=invitation.contact_id).undeliverable_at is not None


def test_a_temporary_failure_changes_nothing(client, sent):
    _survey, invitation = sent
    payload = signed_mailgun(mailgun_failed(invitation.message_id, severity="temporary"))
    assert post_mailgun(client, payload).status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT
    assert Contact.objects.get(pk=invitation.contact_id).undeliverable_at is None


def test_a_soft_bounce_bounces_the_invitation_but_keeps_the_address(client, sent):
    _survey, invitation = sent
    payload = postmark_bounce(invitation.message_id, Type="SoftBounce", Name="Soft bounce")
    assert post_postmark(client, payload).status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Status.BOUNCED
    assert Contact.objects.get(pk=invitation.contact_id).undeliverable_at is None


def test_a_bounce_after_the_customer_answered_keeps_the_answer(client, sent):
    _survey, invitation = sent
    Invitation.objects.filter(pk=invitation.pk).update(
        clicked_at=timezone.now(), answered_at=timezone.now()
    )
    assert post_postmark(client, postmark_bounce(invitation.message_id)).status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT and invitation.bounced_at is None
    # The address bounces now (a later reminder, say): no more surveys to it.
    assert Contact.objects.get(pk=invitation.contact_id).undeliverable_at is not None


def test_a_bounce_for_an_address_the_customer_has_replaced_keeps_the_new_one(client, sent):
    _survey, invitation = sent
    Contact.objects.filter(pk=invitation.contact_id).update(email="ana.new@example.com")
    assert post_postmark(client, postmark_bounce(invitation.message_id)).status_code == 200
    assert Invitation.objects.get(pk=invitation.pk).status == Status.BOUNCED
    assert Contact.objects.get(pk=invitation.contact_id).undeliverable_at is None


def test_a_spam_complaint_unsubscribes_the_customer(client, sent):
    _survey, invitation = sent
    later = make_survey(slug="later", send_delay_minutes=60, min_days_between_surveys=0)
    [item] = record_touchpoints(items=[touchpoint("order-2")]).items
    scheduled = Invitation.objects.get(touchpoint_id=item.id, survey=later)
    complaint = {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "",
        "MessageID": invitation.message_id,
        "Metadata": {"invitation": str(invitation.pk)},
        "ServerID": 1234,
        "Description": "",
        "Details": "Test spam complaint details",
        "Email": "ana@example.com",
        "From": "surveys@example.com",
        "BouncedAt": "2026-04-27T16:28:50.3963933-04:00",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "How did we do?",
    }
    for _ in range(2):  # safe to repeat
        assert post_postmark(client, complaint).status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT
    assert invitation.status_reason == "the customer reported the email as spam (Postmark)"
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is not None
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.status_reason) == (
        Status.SUPPRESSED,
        "the customer unsubscribed",
    )
    [item] = record_touchpoints(items=[touchpoint("order-3")]).items
    skips = TouchpointSkip.objects.filter(touchpoint_id=item.id)
    assert [s.reason for s in skips] == ["unsubscribed", "unsubscribed"]


def test_an_unsubscribe_at_the_provider_unsubscribes(client, sent):
    _survey, invitation = sent
    change = {
        "RecordType": "SubscriptionChange",
        "MessageID": invitation.message_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "ChangedAt": "2026-06-05T17:17:32Z",
        "Recipient": "ana@example.com",
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": "",
        "Metadata": {},
    }
    assert post_postmark(client, change).status_code == 200
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is not None
    assert Invitation.objects.get(pk=invitation.pk).status_reason == (
        "the customer unsubscribed (Postmark)"
    )


def test_a_delivery_sets_delivered_at_once(client, sent):
    survey, invitation = sent
    delivery = {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": "ana@example.com",
        "Tag": "",
        "DeliveredAt": "2026-08-01T13:28:10.2735393-04:00",
        "Details": "Test delivery webhook details",
        "Metadata": {"invitation": str(invitation.pk)},
    }
    assert post_postmark(client, delivery).status_code == 200
    first = Invitation.objects.get(pk=invitation.pk).delivered_at
    # Postmark's time, unless a clock says it came before the message was sent.
    assert first == max(
        datetime.fromisoformat("2026-08-01T17:28:10.273539+00:00"), invitation.sent_at
    )
    delivery["DeliveredAt"] = "2026-08-02T13:28:10Z"
    assert post_postmark(client, delivery).status_code == 200
    assert Invitation.objects.get(pk=invitation.pk).delivered_at == first
    counts = selectors.invitation_counts(survey)
    assert (counts["sent"], counts["delivered"], counts["confirmed"]) == (1, 1, 1)


def test_an_unknown_message_is_ignored_with_a_log_line(client, sent, caplog):
    _survey, invitation = sent
    with caplog.at_level(logging.INFO, logger="surveys.tracking"):
        response = post_postmark(client, postmark_bounce("not-ours-1234"))
    assert response.status_code == 200
    assert "unknown message 'not-ours-1234' ignored" in caplog.text
    assert Invitation.objects.get(pk=invitation.pk).status == Status.SENT
    # Our Message-ID with a wrong token part is not ours either.
    forged = f"<csat.{invitation.pk}.invitation.000000000000@localhost>"
    assert post_postmark(client, postmark_bounce(forged)).status_code == 200
    assert Invitation.objects.get(pk=invitation.pk).status == Status.SENT


@pytest.mark.parametrize(
    "headers", [{}, auth("esp-hooks:wrong"), auth("someone:" + SECRET.split(":")[1])]
)
def test_wrong_or_missing_credentials_are_a_401_and_change_nothing(client, sent, headers):
    _survey, invitation = sent
    response = client.post(
        POSTMARK,
        data=json.dumps(postmark_bounce(invitation.message_id)),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert Invitation.objects.get(pk=invitation.pk).status == Status.SENT


def test_a_bad_mailgun_signature_is_a_403(client, sent):
    _survey, invitation = sent
    payload = signed_mailgun(mailgun_failed(invitation.message_id), key="key-not-the-right-one")
    assert post_mailgun(client, payload).status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).status == Status.SENT


def test_without_a_secret_the_webhooks_are_off(client, sent, settings):
    _survey, invitation = sent
    settings.ANYMAIL = {"WEBHOOK_SECRET": []}
    for headers in ({}, auth()):
        response = post_postmark(client, postmark_bounce(invitation.message_id), **headers)
        assert response.status_code == 403
        assert b"ANYMAIL_WEBHOOK_SECRET" in response.content
    assert Invitation.objects.get(pk=invitation.pk).status == Status.SENT


def test_a_payload_that_is_not_the_providers_is_a_400(client, db):
    response = client.post(POSTMARK, data="{not json", content_type="application/json", **auth())
    assert response.status_code == 400


def test_a_provider_setting_missing_on_our_side_is_a_503(client, db, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET]}  # no Mailgun signing key
    payload = signed_mailgun(mailgun_failed("<x@example.com>"))
    assert post_mailgun(client, payload).status_code == 503


def test_a_bounce_reaches_the_funnel_of_the_day_the_invitation_was_sent(client, sent):
    from reports import periods, rollups, service

    survey, invitation = sent
    sent_at = timezone.now() - timedelta(days=5)
    Invitation.objects.filter(pk=invitation.pk).update(message_id=POSTMARK_ID, sent_at=sent_at)
    rollups.rebuild()
    day = periods.local_day(sent_at)
    assert service.csat_report(survey, start=day, end=day)["funnel"]["bounced"] == 0

    assert post_postmark(client, postmark_bounce(POSTMARK_ID)).status_code == 200
    rollups.refresh()
    funnel = service.csat_report(survey, start=day, end=day)["funnel"]
    assert (funnel["sent"], funnel["bounced"], funnel["delivered"]) == (1, 1, 0)
