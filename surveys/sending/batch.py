"""Sending one claimed batch: each held row once, over one mail connection (see the package's
docstring for the order of marks)."""

from __future__ import annotations

import logging
import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.core.mail import EmailMultiAlternatives
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from ..emails import InvitationWire, WireEmail
from ..models import Invitation
from .claims import INTERRUPTED, INVITATION, REMINDER, Claim
from .ledger import _Ledger, _Outcome, _relax_commits
from .outcomes import SendError, classify, retry_delay, suppression_reason
from .transport import _Transport

log = logging.getLogger(__name__)
Status = Invitation.Status


class _Batch(_Ledger, _Transport):
    """One claimed batch: the rows it still holds, its lease, and one open mail connection."""

    def __init__(self, claim: Claim):
        self.kind = claim.kind
        self.lease = claim.lease
        self.mail = None
        self.cache: dict = {}
        self.wire: InvitationWire | None = None
        self.outcome: _Outcome | None = None
        self.helper: ThreadPoolExecutor | None = None  # talks SMTP while we write the handover
        self.unfinished = False  # the connection is inside DATA, before the message's end
        self.envelope_accepted = False  # the current message's, set by the helper thread
        # The database, looked up once: through django.db.connection every attribute costs a
        # context-local lookup, and the per-message statements read a dozen.
        self.db = connections[DEFAULT_DB_ALIAS]
        self.upcoming: Invitation | None = None  # the batch's next row
        self.prebuilt: tuple[int, WireEmail | EmailMultiAlternatives] | None = None

    def send_wire(self, invitation: Invitation, message: WireEmail, now: datetime) -> str:
        """Send over Django's SMTP backend: the envelope, DATA and the message without its end
        travel while the marks are written, the end only once the second is committed."""
        if now >= self.lease:
            self.flush()
            return "skipped"  # the lease ran out: another claim may hold the row
        self.helper = self.helper or ThreadPoolExecutor(max_workers=1)
        self.envelope_accepted = False
        accepted = threading.Event()
        opening = self.helper.submit(self.open_data, message, accepted)
        marked = False
        try:
            handed = self.handover(invitation, now)
            if handed:
                # Once the server accepted the envelope, the second mark is written while DATA
                # and the content travel: committed before the end all the same. (Should DATA
                # be refused after all, that refusal is recorded as the outcome.)
                accepted.wait()
                marked = self.envelope_accepted and self.mark_end(invitation, now)
        finally:
            refused = opening.exception()
        if not handed or (self.envelope_accepted and not marked):
            # The claim was lost (its lease ran out and another worker took the row). The server
            # holds an unfinished message at most: closing the connection discards it (inside
            # DATA, no RSET can).
            self.drop_connection()
            return "skipped"
        if refused is not None:
            return self.failed(invitation, now, refused)
        try:
            self.end_data(meanwhile=self.prebuild)  # the next message is built meanwhile
        except smtplib.SMTPResponseException as raw:  # the server answered: it took nothing
            return self.failed(invitation, now, raw)
        except Exception as raw:  # noqa: BLE001 - the end went out, its answer never came
            return self.failed(invitation, now, raw, unknown=True)
        self.record_sent(invitation, now, message.message_id)
        return "sent"

    def failed(
        self, invitation: Invitation, handover: datetime, raw: Exception, *, unknown: bool = False
    ) -> str:
        """Record a send that failed after its handover; a lost server ends the batch. `unknown`:
        the end of the message had gone out, so the server may have it: failed, never resent."""
        error = classify(raw)
        if error.connection_lost or unknown:
            self.drop_connection()
        if unknown:
            outcome = self.record_unknown(invitation, handover, error)
        else:
            outcome = self.record_error(invitation, handover, error)
        if error.connection_lost:
            self.flush()
            error.outcome = outcome
            raise error from raw
        return outcome

    def send_one(self, invitation: Invitation) -> str:
        """Send one held invitation (or reminder); returns what became of it."""
        now = timezone.now()
        if invitation.terminator_at is not None:
            # A worker that held this claim died after the end of this message had gone out (and
            # the task was redelivered). One that died before it is taken over: see write().
            if self.kind == INVITATION:
                self.finish(
                    invitation,
                    status=Status.FAILED,
                    status_reason=INTERRUPTED,
                    lease_expires_at=None,
                )
            else:
                self.finish(
                    invitation, reminder_due_at=None, status_reason=f"reminder {INTERRUPTED}"
                )
            return "failed"
        suppressed = suppression_reason(invitation)
        if suppressed and self.kind == INVITATION:
            self.finish(
                invitation,
                status=Status.SUPPRESSED,
                status_reason=suppressed,
                lease_expires_at=None,
            )
            return "suppressed"
        if suppressed or (self.kind == REMINDER and invitation.answered_at):
            self.finish(invitation, reminder_due_at=None)
            return "suppressed"
        if invitation.is_expired:
            if self.kind == INVITATION:
                self.finish(
                    invitation,
                    status=Status.EXPIRED,
                    status_reason="the link expired before the invitation was sent",
                    lease_expires_at=None,
                )
            else:
                self.finish(invitation, reminder_due_at=None)
            return "expired"
        try:
            message = self.message_for(invitation)
        except Exception as error:  # noqa: BLE001 - a message that cannot be built fails alone
            log.exception("invitation %s could not be built", invitation.pk)
            reason = f"the message could not be built: {error}"[:500]
            if self.kind == INVITATION:
                self.finish(
                    invitation, status=Status.FAILED, status_reason=reason, lease_expires_at=None
                )
            else:
                self.finish(invitation, reminder_due_at=None, status_reason=reason)
            return "failed"
        if isinstance(message, WireEmail):
            return self.send_wire(invitation, message, now)
        # An ESP's API call has no end to hold back: both marks before it, so a crash during the
        # call leaves the message failed "interrupted", never resent.
        if not self.handover(invitation, now, final=True):
            return "skipped"  # the claim was lost (lease ran out and another worker took it)
        try:
            message_id = self.deliver(message)
        except Exception as raw:  # noqa: BLE001 - every outcome is recorded on the row
            return self.failed(invitation, now, raw)
        self.record_sent(invitation, now, message_id)
        return "sent"


def send_batch(claim: Claim) -> dict[str, int]:
    """Send the claim's rows that are still held by it, over one mail connection.

    Returns how many were sent, retrying, failed, suppressed, expired or skipped (claim lost).
    """
    batch = _Batch(claim)
    rows = batch.rows(claim.ids)
    counts: dict[str, int] = {}
    relaxed = _relax_commits()
    held = {row.pk for row in rows}
    try:
        for index, invitation in enumerate(rows):
            if batch.lease_half_used():
                held = batch.keep_lease([row.pk for row in rows[index:]])
            if invitation.pk not in held:
                counts["skipped"] = counts.get("skipped", 0) + 1
                continue
            batch.upcoming = rows[index + 1] if index + 1 < len(rows) else None
            try:
                outcome = batch.send_one(invitation)
            except SendError as error:
                # The server is gone: the rest of the batch waits for the next attempt unspent.
                rest = [row.pk for row in rows[index + 1 :]]
                batch.release(rest, reason=error.reason, delay=retry_delay(1))
                counts[error.outcome] = counts.get(error.outcome, 0) + 1
                if rest:
                    counts["retrying"] = counts.get("retrying", 0) + len(rest)
                break
            counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        try:
            batch.flush()
        finally:
            batch.close()
        if relaxed:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
    return counts
