"""The sending pipeline. The invitation row is the truth; the broker only carries "send these now".

1. `claim_invitations` / `claim_reminders` (run by beat's tick) lock due rows with
   SELECT ... FOR UPDATE SKIP LOCKED, so several dispatchers never claim the same row, and give
   them a lease: invitations go to `sending` with `lease_expires_at`; a reminder's claim moves its
   `reminder_due_at` to the lease's end. A claim whose worker died simply comes due again.
2. `send_batch` (a worker task) sends a claimed batch over one mail connection. A message's
   handover has two marks. `handover_at` is set by an UPDATE (only while the claim is still ours
   and nobody handed the row over yet) that also records the previous message's outcome; over
   SMTP the envelope, DATA and the message without its end ("\r\n.\r\n") travel meanwhile, which
   the server cannot deliver. `terminator_at` is committed once the server accepted the
   envelope, and the end is written only after both; the server's answer is recorded with the
   next message's handover (the batch's last one by its own UPDATE). They run in autocommit.
3. A claim found again with only `handover_at` set was interrupted before its end left: the
   server has nothing to deliver, so it is sent again. One found with `terminator_at` set was
   interrupted after: the server may or may not have it. It is marked failed with that reason
   instead of being resent, so a customer never gets the same survey twice. An ESP's API
   (django-anymail) has no end to hold back: both marks are set at once, before the call
   (see docs/sending.md).
"""

from .batch import _Batch, send_batch
from .claims import (
    INTERRUPTED,
    INVITATION,
    REMINDER,
    Claim,
    claim_invitations,
    claim_reminders,
    expire_invitations,
    lease_end,
)
from .outcomes import SendError, classify, retry_delay, suppression_reason

__all__ = [
    "INTERRUPTED",
    "INVITATION",
    "REMINDER",
    "Claim",
    "SendError",
    "_Batch",
    "claim_invitations",
    "claim_reminders",
    "classify",
    "expire_invitations",
    "lease_end",
    "retry_delay",
    "send_batch",
    "suppression_reason",
]
