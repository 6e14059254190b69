from celery import shared_task
from django.utils import timezone

from . import tokens
from .emails import build_invitation_email
from .models import Invitation


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_test_invitation(invitation_id: int) -> None:
    """Send the designer's "send me a test" mail. Claims the row first so it goes out once."""
    claimed = Invitation.objects.filter(
        pk=invitation_id, status=Invitation.Status.SCHEDULED, is_test=True
    ).update(status=Invitation.Status.SENDING, attempts=1)
    if claimed != 1:
        return
    invitation = Invitation.objects.select_related("survey", "contact").get(pk=invitation_id)
    message = build_invitation_email(invitation, tokens.token_for(invitation))
    try:
        message.send()
    except Exception as error:  # noqa: BLE001 - the reason is stored for the admin to read
        Invitation.objects.filter(pk=invitation_id).update(
            status=Invitation.Status.FAILED, status_reason=str(error)[:500]
        )
        raise
    Invitation.objects.filter(pk=invitation_id).update(
        status=Invitation.Status.SENT,
        sent_at=timezone.now(),
        message_id=message.extra_headers.get("Message-ID", ""),
    )
