"""Celery tasks: they take ids, load rows and call surveys.sending. The database holds due times:
no task is ever queued with a long eta or countdown."""

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import sending
from .models import Invitation


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def dispatch_due_invitations() -> int:
    """Beat's tick: claim due invitations and reminders in batches and queue one task per batch.

    Claims stop once about CSAT_SEND_MAX_BATCHES batches are in flight, so a slow mail server
    does not let claims pile up in the queue past their lease.
    """
    room = settings.CSAT_SEND_MAX_BATCHES * settings.CSAT_SEND_BATCH_SIZE
    # Only live claims count as in flight: claims whose lease ran out (their batch message was
    # lost with a broker restart, or their worker died) are exactly what the next claim takes back.
    room -= Invitation.objects.filter(
        status=Invitation.Status.SENDING, lease_expires_at__gt=timezone.now()
    ).count()
    queued = 0
    for claim_batch in (sending.claim_invitations, sending.claim_reminders):
        while room > 0:
            claim = claim_batch(limit=min(room, settings.CSAT_SEND_BATCH_SIZE))
            if claim is None:
                break
            # The claim is committed: if this publish is lost, the lease brings the rows back.
            send_invitation_batch.delay(claim.kind, claim.ids, claim.lease.isoformat())
            room -= len(claim.ids)
            queued += 1
    return queued


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_invitation_batch(kind: str, ids: list[int], lease: str) -> dict[str, int]:
    """Send one claimed batch. A redelivered or stale message finds its rows no longer held."""
    claim = sending.Claim(kind, [int(pk) for pk in ids], datetime.fromisoformat(lease))
    return sending.send_batch(claim)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def expire_invitations() -> int:
    return sending.expire_invitations()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_test_invitation(invitation_id: int) -> dict[str, int]:
    """Send the designer's "send me a test" mail at once, through the same path as every mail."""
    now = timezone.now()
    lease = sending.lease_end(now)
    claimed = Invitation.objects.filter(
        pk=invitation_id, status=Invitation.Status.SCHEDULED, is_test=True
    ).update(
        status=Invitation.Status.SENDING,
        lease_expires_at=lease,
        handover_at=None,
        terminator_at=None,
    )
    if claimed != 1:
        return {}  # beat's tick claimed it first and sends it
    return sending.send_batch(sending.Claim(sending.INVITATION, [invitation_id], lease))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def check_touchpoint_upload(upload_id: int) -> None:
    """Read an uploaded touchpoint file for its preview; writes nothing but the upload's row."""
    from . import uploads

    uploads.check_upload(upload_id=upload_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_touchpoint_upload(upload_id: int) -> None:
    """Import a confirmed touchpoint file, a batch at a time, with its progress on its row."""
    from . import uploads

    uploads.run_upload(upload_id=upload_id)
