"""Sending through a real Celery worker and beat on the real Redis broker, to a real SMTP server.

Runs in CI (PostgreSQL + Redis); skipped on SQLite without a broker, failed there under
CSAT_REQUIRE_POSTGRES=1.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from csat_platform.celery import app as celery_app
from surveys import tasks
from surveys.models import Contact, Invitation

from .celery_processes import CeleryProcesses, require_real_services, wait_until
from .factories import make_survey
from .mail_servers import ScriptedSmtp
from .test_sending import due_invitation, links_in

Status = Invitation.Status
pytestmark = pytest.mark.slow


@pytest.fixture
def celery(transactional_db, tmp_path, smtp_server):
    require_real_services()
    celery_app.control.purge()  # nothing left over from an earlier run reaches this test
    processes = CeleryProcesses(tmp_path, smtp_server.port)
    yield processes
    processes.stop_all()


def settled() -> bool:
    return not Invitation.objects.filter(status__in=[Status.SCHEDULED, Status.SENDING]).exists()


def test_send_tasks_ack_late_requeue_on_worker_loss_and_carry_no_eta():
    for task in (tasks.send_invitation_batch, tasks.dispatch_due_invitations):
        assert task.acks_late and task.reject_on_worker_lost
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["send-due-invitations"]
    assert entry["task"] == tasks.dispatch_due_invitations.name
    assert set(entry.get("options", {})) <= {"expires"}  # no eta, no countdown


def test_due_invitations_leave_as_localized_emails_through_the_worker(celery, smtp_server):
    survey = make_survey(languages=("en", "de", "nl"))
    sent = {}
    for locale in ("en", "de", "nl"):
        invitation, token = due_invitation(
            survey, email=f"{locale}@example.com", locale=locale, attributes={"order_id": "7"}
        )
        sent[f"{locale}@example.com"] = (invitation, token)
    later, _ = due_invitation(
        survey, email="later@example.com", due_at=timezone.now() + timedelta(hours=1)
    )
    gone, _ = due_invitation(survey, email="gone@example.com")
    Contact.objects.filter(pk=gone.contact_id).update(unsubscribed_at=timezone.now())

    celery.beat()
    celery.worker()
    messages = smtp_server.wait_for(3, timeout=40)
    wait_until(
        lambda: (
            not Invitation.objects.filter(status=Status.SENDING).exists()
            and Invitation.objects.filter(status=Status.SENT).count() == 3
        ),
        timeout=20,
        processes=celery,
        what="three sent invitations",
    )
    expected = {"en": "Very satisfied", "de": "Sehr zufrieden", "nl": "Zeer tevreden"}
    for received in messages:
        [address] = received["to"]
        invitation, token = sent[address]
        message = received["message"]
        html = message.get_body(preferencelist=("html",)).get_content()
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert expected[invitation.locale] in html
        assert len(set(links_in(text, token))) == 5
        assert message["List-Unsubscribe"].strip().endswith(f"/u/{token}/>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        invitation.refresh_from_db()
        assert invitation.status == Status.SENT
        assert invitation.message_id == message["Message-ID"].strip()
    assert Invitation.objects.get(pk=later.pk).status == Status.SCHEDULED
    assert Invitation.objects.get(pk=gone.pk).status == Status.SUPPRESSED
    assert len(smtp_server.messages) == 3


def test_the_worker_reminds_only_those_who_have_not_answered(celery, smtp_server, client):
    survey = make_survey(reminder_after_days=2)
    quiet, quiet_token = due_invitation(survey, email="quiet@example.com")
    answered, answered_token = due_invitation(survey, email="answered@example.com")
    past = timezone.now() - timedelta(minutes=5)
    Invitation.objects.update(status=Status.SENT, sent_at=past, reminder_due_at=past)
    client.post(f"/s/{answered_token}/", {"satisfaction": "5"})

    celery.beat()
    celery.worker()
    [received] = smtp_server.wait_for(1, timeout=40)
    assert received["to"] == ["quiet@example.com"]
    assert received["message"]["Subject"].startswith("Reminder:")
    assert f"/s/{quiet_token}/" in received["message"].get_body(("plain",)).get_content()
    wait_until(
        lambda: Invitation.objects.filter(pk=quiet.pk, reminder_sent_at__isnull=False).exists(),
        timeout=10,
        processes=celery,
        what="the reminder to be recorded",
    )
    time.sleep(2)  # a few more ticks: still one reminder, none for the respondent
    assert len(smtp_server.messages) == 1
    assert Invitation.objects.get(pk=answered.pk).reminder_sent_at is None


def test_temporary_refusals_are_retried_and_permanent_ones_fail(celery, transactional_db):
    server = ScriptedSmtp(
        {
            "busy@example.com": ["451 4.3.0 Try again later", "421 4.7.0 Too busy"],
            "nobody@example.com": "550 5.1.1 No such user",
        }
    ).start()
    try:
        celery.smtp_port = server.port
        survey = make_survey()
        busy, _ = due_invitation(survey, email="busy@example.com")
        nobody, _ = due_invitation(survey, email="nobody@example.com")
        celery.beat()
        celery.worker()
        wait_until(settled, timeout=40, processes=celery, what="both invitations to settle")
        busy.refresh_from_db()
        nobody.refresh_from_db()
        assert busy.status == Status.SENT and busy.attempts == 3
        assert nobody.status == Status.FAILED and nobody.attempts == 1
        assert nobody.status_reason.startswith("550 5.1.1 No such user")
        assert server.accepted == ["busy@example.com"]
    finally:
        server.stop()
