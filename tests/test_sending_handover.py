"""A message's handover in two marks, each crash point played in-process against a real SMTP
server on loopback: killed before the end of its message, an invitation is sent again; killed
after it, it is failed "interrupted" and never sent twice (see surveys.sending)."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from surveys import sending
from surveys.models import Invitation

from .factories import make_survey
from .test_sending import due_invitation, send_due

Status = Invitation.Status


class Crash(BaseException):
    """The worker process dies here: no `except Exception` in the pipeline catches it."""


def three_due(survey) -> list[Invitation]:
    return [due_invitation(survey, email=f"c{i}@example.com")[0] for i in range(3)]


def crash_on_call(monkeypatch, name: str, call: int, *, after: bool) -> None:
    """Make the batch's `name` crash on its `call`-th call, before it runs or after it ran."""
    original = getattr(sending._Batch, name)
    calls = Counter()

    def crashing(batch, *args, **kwargs):
        calls[name] += 1
        if calls[name] == call and not after:
            raise Crash
        result = original(batch, *args, **kwargs)
        if calls[name] == call:
            raise Crash
        return result

    monkeypatch.setattr(sending._Batch, name, crashing)


def crash_the_batch(monkeypatch, name: str, call: int, *, after: bool) -> None:
    claim = sending.claim_invitations()
    crash_on_call(monkeypatch, name, call, after=after)
    with pytest.raises(Crash):
        sending.send_batch(claim)
    monkeypatch.undo()


def lease_runs_out() -> None:
    Invitation.objects.filter(status=Status.SENDING).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def marks(invitation: Invitation) -> tuple[str, bool, bool]:
    invitation.refresh_from_db()
    return (
        invitation.status,
        invitation.handover_at is not None,
        invitation.terminator_at is not None,
    )


def emails_to(server) -> Counter:
    return Counter(address for item in server.messages for address in item["to"])


def test_killed_between_the_two_marks_the_message_is_sent_again_once(db, smtp_server, monkeypatch):
    survey = make_survey()
    first, second, third = three_due(survey)
    # The second message's envelope and content are at the server, its end is not.
    crash_the_batch(monkeypatch, "mark_end", 2, after=False)
    assert marks(first) == (Status.SENT, False, False)  # recorded with the second's handover
    assert marks(second) == (Status.SENDING, True, False)
    assert marks(third) == (Status.SENDING, False, False)
    assert emails_to(smtp_server) == {"c0@example.com": 1}

    lease_runs_out()
    assert send_due() == {"sent": 2}
    assert emails_to(smtp_server) == {f"c{i}@example.com": 1 for i in range(3)}
    for invitation in (second, third):
        assert marks(invitation) == (Status.SENT, False, False)


def test_killed_after_the_end_went_out_the_message_is_failed_not_sent_twice(
    db, smtp_server, monkeypatch
):
    survey = make_survey()
    first, second, third = three_due(survey)
    # The server took the second message and answered; the answer was never recorded.
    crash_the_batch(monkeypatch, "end_data", 2, after=True)
    assert marks(second) == (Status.SENDING, True, True)
    assert emails_to(smtp_server) == {"c0@example.com": 1, "c1@example.com": 1}

    lease_runs_out()
    assert send_due() == {"sent": 1}
    assert emails_to(smtp_server) == {f"c{i}@example.com": 1 for i in range(3)}
    assert marks(second)[0] == Status.FAILED
    assert second.status_reason == sending.INTERRUPTED
    assert marks(third) == (Status.SENT, False, False)


def test_killed_right_after_the_second_mark_the_message_is_failed_though_never_ended(
    db, smtp_server, monkeypatch
):
    """Committed but not yet written: the worker cannot tell this from "written" after a crash,
    so the message counts as possibly delivered. The one case that loses a survey."""
    survey = make_survey()
    _, second, _ = three_due(survey)
    crash_the_batch(monkeypatch, "mark_end", 2, after=True)
    lease_runs_out()
    assert send_due() == {"sent": 1}
    assert emails_to(smtp_server) == {"c0@example.com": 1, "c2@example.com": 1}
    assert marks(second)[0] == Status.FAILED and "interrupted" in second.status_reason


def test_a_redelivered_batch_takes_over_a_handover_its_dead_copy_left_before_the_end(
    db, smtp_server, monkeypatch
):
    survey = make_survey()
    first, second, _ = three_due(survey)
    claim = sending.claim_invitations()
    crash_on_call(monkeypatch, "mark_end", 2, after=False)
    with pytest.raises(Crash):
        sending.send_batch(claim)
    monkeypatch.undo()
    # The task comes back (acks_late) with the same claim while its lease still runs.
    assert sending.send_batch(claim) == {"sent": 2}
    assert emails_to(smtp_server) == {f"c{i}@example.com": 1 for i in range(3)}
    assert marks(first)[0] == marks(second)[0] == Status.SENT


def test_a_redelivered_batch_fails_a_handover_its_dead_copy_left_after_the_end(
    db, smtp_server, monkeypatch
):
    survey = make_survey()
    _, second, _ = three_due(survey)
    claim = sending.claim_invitations()
    crash_on_call(monkeypatch, "end_data", 2, after=True)
    with pytest.raises(Crash):
        sending.send_batch(claim)
    monkeypatch.undo()
    assert sending.send_batch(claim) == {"failed": 1, "sent": 1}
    assert emails_to(smtp_server) == {f"c{i}@example.com": 1 for i in range(3)}
    assert marks(second)[0] == Status.FAILED and second.status_reason == sending.INTERRUPTED


def test_a_lost_answer_to_the_end_of_the_message_fails_it_and_retries_the_rest(db, scripted_smtp):
    server = scripted_smtp({}, hang_up_after_end=("c1@example.com",))
    survey = make_survey()
    first, second, third = three_due(survey)
    assert send_due() == {"sent": 1, "failed": 1, "retrying": 1}
    assert server.accepted == ["c0@example.com", "c1@example.com"]
    assert marks(second)[0] == Status.FAILED
    assert second.status_reason.startswith(sending.INTERRUPTED + " (mail server unreachable")
    assert second.attempts == 1
    # The server is gone for this batch: the rest waits for the next attempt, unspent.
    assert marks(third)[0] == Status.SCHEDULED and third.attempts == 0


def test_a_refusal_of_the_end_of_the_message_is_an_answer_retried_or_failed_as_usual(
    db, scripted_smtp
):
    server = scripted_smtp(
        {},
        end_replies={
            "c0@example.com": "451 4.3.0 Try again later",
            "c1@example.com": "554 5.7.1 Rejected",
        },
    )
    survey = make_survey()
    first, second, third = three_due(survey)
    assert send_due() == {"retrying": 1, "failed": 1, "sent": 1}
    assert server.accepted == ["c2@example.com"]  # the connection went on after both
    assert marks(first) == (Status.SCHEDULED, False, False)
    assert first.status_reason.startswith("retrying: 451")
    assert marks(second) == (Status.FAILED, False, False)
    assert second.status_reason.startswith("554")


def test_a_claim_lost_inside_data_discards_the_unfinished_message_and_the_batch_goes_on(
    db, smtp_server, monkeypatch
):
    survey = make_survey()
    first, second = (due_invitation(survey, email=f"c{i}@example.com")[0] for i in range(2))
    claim = sending.claim_invitations()
    open_data, handover = sending._Batch.open_data, sending._Batch.handover
    at_server = threading.Event()

    def open_data_and_tell(batch, message, accepted):
        open_data(batch, message, accepted)
        at_server.set()

    def handover_after_a_redelivered_copy_took_it(batch, invitation, now, **kwargs):
        if invitation.pk == first.pk:
            # The envelope, DATA and the content are at the server, all but the end.
            assert at_server.wait(10)
            Invitation.objects.filter(pk=first.pk).update(handover_at=timezone.now())
        return handover(batch, invitation, now, **kwargs)

    monkeypatch.setattr(sending._Batch, "open_data", open_data_and_tell)
    monkeypatch.setattr(sending._Batch, "handover", handover_after_a_redelivered_copy_took_it)
    assert sending.send_batch(claim) == {"skipped": 1, "sent": 1}
    assert emails_to(smtp_server) == {"c1@example.com": 1}  # over a new connection


def test_without_an_end_to_hold_back_an_esp_call_is_failed_if_killed_during_it(
    db, settings, monkeypatch
):
    """django-anymail's HTTP APIs: both marks go before the call, as one."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    survey = make_survey()
    _, second, _ = three_due(survey)
    crash_the_batch(monkeypatch, "deliver", 2, after=False)
    assert marks(second) == (Status.SENDING, True, True)
    lease_runs_out()
    assert send_due() == {"sent": 1}
    assert sorted(m.to[0] for m in mail.outbox) == ["c0@example.com", "c2@example.com"]
    assert marks(second)[0] == Status.FAILED and second.status_reason == sending.INTERRUPTED


@pytest.mark.parametrize("after_the_end", [False, True])
def test_a_reminder_caught_between_the_marks_goes_again_and_after_them_never_twice(
    db, smtp_server, monkeypatch, after_the_end
):
    survey = make_survey(reminder_after_days=3)
    invitation, _ = due_invitation(survey)
    assert send_due() == {"sent": 1}
    Invitation.objects.update(reminder_due_at=timezone.now() - timedelta(minutes=1))
    claim = sending.claim_reminders()
    crash_on_call(monkeypatch, "end_data" if after_the_end else "mark_end", 1, after=after_the_end)
    with pytest.raises(Crash):
        sending.send_batch(claim)
    monkeypatch.undo()
    # The reminder's claim runs out: reminder_due_at is its lease's end.
    Invitation.objects.update(reminder_due_at=timezone.now() - timedelta(seconds=1))
    assert send_due() == ({} if after_the_end else {"sent": 1})
    assert emails_to(smtp_server) == {"ana@example.com": 2}  # the invitation, one reminder
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT and invitation.reminder_due_at is None
    if after_the_end:
        assert invitation.reminder_sent_at is None
        assert invitation.status_reason == f"reminder {sending.INTERRUPTED}"
    else:
        assert invitation.reminder_sent_at is not None
        assert (invitation.handover_at, invitation.terminator_at) == (None, None)
