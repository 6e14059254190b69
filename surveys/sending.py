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

from __future__ import annotations

import contextlib
import logging
import random
import re
import smtplib
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from csat_platform.prepared import prepared_cursor

from . import tokens
from .emails import InvitationWire, WireEmail, build_invitation_email
from .models import Invitation, Survey

log = logging.getLogger(__name__)
Status = Invitation.Status

INVITATION = "invitation"
REMINDER = "reminder"
INTERRUPTED = (
    "interrupted after the message was handed to the mail server in full, before its answer was "
    "recorded: it may or may not have been delivered, and is not resent so that nobody gets it "
    "twice"
)


@dataclass(frozen=True)
class Claim:
    kind: str
    ids: list[int]
    lease: datetime


def _locked(queryset: QuerySet) -> QuerySet:
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset  # SQLite: one writer at a time (BEGIN IMMEDIATE) already serialises claims


def lease_end(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.CSAT_SEND_LEASE_SECONDS)


@transaction.atomic
def claim_invitations(*, now: datetime | None = None, limit: int | None = None) -> Claim | None:
    """Claim up to `limit` due invitations (dead workers' expired claims first); None if none."""
    now = now or timezone.now()
    limit = limit or settings.CSAT_SEND_BATCH_SIZE
    stale = list(
        _locked(
            Invitation.objects.filter(status=Status.SENDING, lease_expires_at__lte=now).order_by(
                "lease_expires_at"
            )
        ).values_list("id", "handover_at", "terminator_at")[:limit]
    )
    interrupted = [pk for pk, _, end in stale if end is not None]
    if interrupted:
        # handover_at stays: should the lost worker still record an acceptance, it wins.
        Invitation.objects.filter(pk__in=interrupted).update(
            status=Status.FAILED, status_reason=INTERRUPTED, lease_expires_at=None
        )
        log.warning("%d handovers interrupted after their end: marked failed", len(interrupted))
    ids = [pk for pk, _, end in stale if end is None]
    unfinished = sum(1 for _, handover, end in stale if handover is not None and end is None)
    if unfinished:
        log.warning("%d handovers interrupted before their end: sent again", unfinished)
    if len(ids) < limit:
        due = _locked(
            Invitation.objects.filter(status=Status.SCHEDULED, due_at__lte=now)
            .filter(Q(survey__status=Survey.Status.ACTIVE) | Q(is_test=True))
            .order_by("due_at")
        ).values_list("id", flat=True)
        ids += list(due[: limit - len(ids)])
    if not ids:
        return None
    lease = lease_end(now)
    Invitation.objects.filter(pk__in=ids).update(
        status=Status.SENDING, lease_expires_at=lease, handover_at=None, terminator_at=None
    )
    return Claim(INVITATION, ids, lease)


def _reminders_due(now: datetime) -> QuerySet:
    return Invitation.objects.filter(
        status=Status.SENT,
        reminder_sent_at__isnull=True,
        answered_at__isnull=True,
        reminder_due_at__lte=now,
        is_test=False,
    )


@transaction.atomic
def claim_reminders(*, now: datetime | None = None, limit: int | None = None) -> Claim | None:
    """Claim up to `limit` due reminders: sent, unanswered, not expired, not reminded yet."""
    now = now or timezone.now()
    limit = limit or settings.CSAT_SEND_BATCH_SIZE
    rows = list(
        _locked(_reminders_due(now).order_by("reminder_due_at")).values_list(
            "id", "terminator_at", "expires_at"
        )[:limit]
    )
    interrupted = [pk for pk, end, _ in rows if end is not None]
    closed = [pk for pk, end, exp in rows if end is None and exp and exp <= now]
    ids = [pk for pk, end, exp in rows if end is None and not (exp and exp <= now)]
    if interrupted:
        Invitation.objects.filter(pk__in=interrupted).update(
            reminder_due_at=None, status_reason=f"reminder {INTERRUPTED}"
        )
    if closed:
        Invitation.objects.filter(pk__in=closed).update(reminder_due_at=None, handover_at=None)
    if not ids:
        return None
    lease = lease_end(now)
    Invitation.objects.filter(pk__in=ids).update(
        reminder_due_at=lease, handover_at=None, terminator_at=None
    )
    return Claim(REMINDER, ids, lease)


def expire_invitations(*, now: datetime | None = None) -> int:
    """Close invitations whose link ran out: unanswered sent ones, and scheduled ones never sent."""
    now = now or timezone.now()
    opened = Invitation.objects.filter(
        status=Status.SENT, answered_at__isnull=True, expires_at__lte=now
    ).update(status=Status.EXPIRED, reminder_due_at=None)
    unsent = Invitation.objects.filter(status=Status.SCHEDULED, expires_at__lte=now).update(
        status=Status.EXPIRED, status_reason="the link expired before the invitation was sent"
    )
    return opened + unsent


# --- sending a batch ---------------------------------------------------------------------------


class SendError(Exception):
    def __init__(self, reason: str, *, temporary: bool, connection_lost: bool = False):
        super().__init__(reason)
        self.reason = reason[:450]
        self.temporary = temporary
        self.connection_lost = connection_lost
        self.outcome = "retrying"  # what became of the message it ended the batch on


def classify(error: Exception) -> SendError:
    """4xx replies, lost connections and timeouts are temporary; 5xx replies are permanent."""
    code, text = None, str(error)
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, reply = max(error.recipients.values())
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    elif isinstance(error, smtplib.SMTPAuthenticationError):
        # The operator's credentials, not this customer's address: retry until they are fixed.
        return SendError(f"mail server login failed: {error}", temporary=True)
    elif isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        text = error.smtp_error.decode(errors="replace") if error.smtp_error else ""
    elif getattr(error, "status_code", None) is not None:  # an ESP's HTTP API (django-anymail)
        status = error.status_code
        return SendError(f"HTTP {status}: {text}", temporary=status >= 500 or status == 429)
    if code is not None:
        return SendError(f"{code} {text}".strip(), temporary=400 <= code < 500)
    if isinstance(error, smtplib.SMTPServerDisconnected | OSError):
        return SendError(
            f"mail server unreachable: {type(error).__name__}: {error}",
            temporary=True,
            connection_lost=True,
        )
    return SendError(f"{type(error).__name__}: {error}", temporary=False)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter, capped at six hours."""
    base = settings.CSAT_SEND_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(base, 6 * 3600) * random.uniform(0.8, 1.2))


def suppression_reason(invitation: Invitation) -> str:
    contact = invitation.contact
    if contact.unsubscribed_at:
        return "the customer unsubscribed"
    if contact.undeliverable_at:
        return f"the address is undeliverable: {contact.undeliverable_reason or 'bounced'}"[:500]
    if not contact.email:
        return "the customer has no email address"
    if invitation.survey.status == Survey.Status.ARCHIVED:
        return "the survey was archived"
    return ""


_INCREMENT = object()  # a column's value plus one, in an outcome's fields


@dataclass(frozen=True)
class _Outcome:
    """A handed-over message's outcome, keyed by its handover: written with the next handover."""

    pk: int
    handover: datetime
    fields: dict[str, object]


@dataclass(frozen=True)
class _Handover:
    """The first mark of a message's handover, as the next UPDATE writes it."""

    pk: int
    at: datetime
    seen: datetime | None  # the first mark of a copy of this batch that died before the end
    final: bool  # no end to hold back (an ESP's API): the second mark goes with the first


class _Batch:
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

    # The claim is ours while the row still carries our lease (a reclaim gives it a new one).
    def held(self, queryset: QuerySet) -> QuerySet:
        if self.kind == INVITATION:
            return queryset.filter(status=Status.SENDING, lease_expires_at=self.lease)
        return queryset.filter(
            status=Status.SENT, reminder_due_at=self.lease, reminder_sent_at__isnull=True
        )

    def rows(self, ids: list[int]) -> list[Invitation]:
        rows = list(
            self.held(Invitation.objects.filter(pk__in=ids))
            .select_related("contact", "touchpoint")
            .order_by("id")
        )
        # A batch mostly holds one survey's invitations: load each survey once, not per row.
        surveys = Survey.objects.in_bulk({row.survey_id for row in rows})
        for row in rows:
            row.survey = surveys[row.survey_id]
        return rows

    def release(self, ids: list[int], *, reason: str, delay: timedelta) -> None:
        """Give rows back unsent (no attempt used), due again after `delay`."""
        if not ids:
            return
        now = timezone.now()
        if self.kind == INVITATION:
            self.held(Invitation.objects.filter(pk__in=ids)).update(
                status=Status.SCHEDULED,
                due_at=now + delay,
                lease_expires_at=None,
                status_reason=f"retrying: {reason}"[:500],
            )
        else:
            self.held(Invitation.objects.filter(pk__in=ids)).update(reminder_due_at=now + delay)

    def lease_half_used(self) -> bool:
        return self.lease - timezone.now() <= timedelta(
            seconds=settings.CSAT_SEND_LEASE_SECONDS / 2
        )

    def keep_lease(self, ids: list[int]) -> set[int]:
        """Extend the lease (call once half of it is used); returns the ids still held."""
        new = lease_end(timezone.now())
        queryset = self.held(Invitation.objects.filter(pk__in=ids))
        held = set(queryset.values_list("id", flat=True))
        if self.kind == INVITATION:
            queryset.update(lease_expires_at=new)
        else:
            queryset.update(reminder_due_at=new)
        self.lease = new
        return held

    def backend(self):
        if self.mail is None:
            self.mail = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
        return self.mail

    def connection(self):
        # open() is a no-op while open: the batch reuses one connection.
        if self.backend().open() and isinstance(self.mail, SmtpBackend):
            # The end of a message is a write of its own: it must not wait for the server to
            # acknowledge the rest (Nagle's algorithm), as the server answers only after it.
            with contextlib.suppress(OSError):
                self.mail.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.mail

    def build(self, invitation: Invitation) -> WireEmail | EmailMultiAlternatives:
        """The message as bytes for Django's SMTP backend; as an EmailMessage for any other, so
        that an ESP backend (django-anymail) still reads its metadata."""
        token = tokens.token_for(invitation)
        reminder = self.kind == REMINDER
        if type(self.backend()) is SmtpBackend:
            self.wire = self.wire or InvitationWire(self.cache)
            return self.wire.build(invitation, token, reminder=reminder)
        return build_invitation_email(invitation, token, reminder=reminder, cache=self.cache)

    def message_for(self, invitation: Invitation) -> WireEmail | EmailMultiAlternatives:
        if self.prebuilt is not None and self.prebuilt[0] == invitation.pk:
            message, self.prebuilt = self.prebuilt[1], None
            return message
        return self.build(invitation)

    def prebuild(self) -> None:
        """Build the next row's message while the mail server takes this one in."""
        if self.upcoming is None:
            return
        try:
            self.prebuilt = (self.upcoming.pk, self.build(self.upcoming))
        except Exception:  # noqa: BLE001 - send_one builds it again and records why it failed
            self.prebuilt = None

    def deliver(self, message: EmailMultiAlternatives) -> str:
        """Hand one message to the mail server; returns its Message-ID (or the ESP's id)."""
        self.connection().send_messages([message])
        status = getattr(message, "anymail_status", None)
        return str(getattr(status, "message_id", None) or message.extra_headers["Message-ID"])

    def envelope(self, message: WireEmail) -> None:
        """MAIL FROM and RCPT TO as smtplib's sendmail sends them: the server has no message yet."""
        smtp = self.connection().connection
        smtp.ehlo_or_helo_if_needed()
        options = [f"size={len(message.data)}"] if smtp.has_extn("size") else []
        code, reply = smtp.mail(message.sender, options)
        if code != 250:
            _abort(smtp, code)
            raise smtplib.SMTPSenderRefused(code, reply, message.sender)
        refused = {}
        for recipient in message.recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
            if code == 421:
                smtp.close()
                raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(message.recipients):
            _abort(smtp, 0)
            raise smtplib.SMTPRecipientsRefused(refused)

    def open_data(self, message: WireEmail, accepted: threading.Event) -> None:
        """The envelope, DATA and the message without its end ("\\r\\n.\\r\\n"): until that end
        the server holds an unfinished transaction it must discard, nothing it can deliver.
        `accepted` is set once the envelope is accepted (`self.envelope_accepted`) or refused."""
        try:
            self.envelope(message)
            self.envelope_accepted = True
        finally:
            accepted.set()
        smtp = self.mail.connection
        code, reply = smtp.docmd("data")
        if code != 354:
            _abort(smtp, code)
            raise smtplib.SMTPDataError(code, reply)
        self.unfinished = True
        smtp.send(_dot_stuffed(message.data))

    def end_data(self, meanwhile: Callable[[], None]) -> None:
        """Write the end of the message, run `meanwhile` while the server takes the message in,
        then read the server's answer."""
        smtp = self.mail.connection
        self.unfinished = False
        smtp.send(b".\r\n")
        meanwhile()
        code, reply = smtp.getreply()
        if code != 250:
            _abort(smtp, code)
            raise smtplib.SMTPDataError(code, reply)

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

    def drop_connection(self) -> None:
        """Close the connection without QUIT: it is broken, or inside DATA, where QUIT would be a
        line of the message (a server discards a message left without its end). The next message
        opens a new one."""
        self.unfinished = False
        if self.mail is not None:
            smtp = getattr(self.mail, "connection", None)
            if isinstance(smtp, smtplib.SMTP):
                with contextlib.suppress(Exception):
                    smtp.close()
                self.mail.connection = None
            with contextlib.suppress(Exception):
                self.mail.close()
            self.mail = None

    def close(self) -> None:
        if self.helper is not None:
            self.helper.shutdown()
        if self.unfinished:
            self.drop_connection()
        elif self.mail is not None:
            with contextlib.suppress(Exception):
                self.mail.close()  # QUIT
            self.mail = None

    # --- one message ---------------------------------------------------------------------------

    def finish(self, invitation: Invitation, **fields) -> None:
        """Record an outcome without a handover (suppressed, expired, undeliverable)."""
        self.flush()
        self.held(Invitation.objects.filter(pk=invitation.pk)).update(**fields)

    def handover(self, invitation: Invitation, now: datetime, *, final: bool = False) -> bool:
        """Set the first mark, writing the previous message's outcome in the same statement;
        with `final`, the second mark too. False if the claim is no longer ours."""
        if now >= self.lease:
            self.flush()
            return False
        return self.write(
            self.outcome, _Handover(invitation.pk, now, invitation.handover_at, final)
        )

    def flush(self) -> None:
        """Write the outcome still waiting for the next handover."""
        if self.outcome is not None:
            self.write(self.outcome, None)

    def held_sql(self) -> tuple[str, list[object]]:
        """`held` for the per-message statements, as SQL and its parameters."""
        lease = self.db.ops.adapt_datetimefield_value(self.lease)
        if self.kind == INVITATION:
            return "status = %s AND lease_expires_at = %s", [Status.SENDING.value, lease]
        held = "status = %s AND reminder_due_at = %s AND reminder_sent_at IS NULL"
        return held, [Status.SENT.value, lease]

    def write(self, outcome: _Outcome | None, handover: _Handover | None) -> bool:
        """One UPDATE: record `outcome` on its row (keyed by its handover only, so even a claim
        marked interrupted meanwhile takes it) and set `handover` on a row this claim still holds
        and nobody else handed over (or only a dead copy of this batch, before the end of the
        message: whose mark is then replaced). Returns whether the handover was set."""
        if outcome is not None and handover is not None and not _update_returns_rows(self.db):
            self.write(outcome, None)
            outcome = None
        ops, quote = self.db.ops, self.db.ops.quote_name

        def value(v: object) -> object:
            return ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v

        sets: list[str] = []
        wheres: list[str] = []
        params: list[object] = []
        if outcome is not None:
            for column, new in outcome.fields.items():
                name = quote(column)
                then = f"{name} + 1" if new is _INCREMENT else "%s"
                sets.append(f"{name} = CASE WHEN id = %s THEN {then} ELSE {name} END")
                params += [outcome.pk] if new is _INCREMENT else [outcome.pk, value(new)]
        if handover is not None:
            sets.append("handover_at = CASE WHEN id = %s THEN %s ELSE NULL END")
            params += [handover.pk, value(handover.at)]
            if handover.final:
                sets.append("terminator_at = CASE WHEN id = %s THEN %s ELSE NULL END")
                params += [handover.pk, value(handover.at)]
            else:
                sets.append("terminator_at = NULL")
        else:
            sets.append("handover_at = NULL, terminator_at = NULL")
        if outcome is not None:
            wheres.append("(id = %s AND handover_at = %s)")
            params += [outcome.pk, value(outcome.handover)]
        if handover is not None:
            held, held_params = self.held_sql()
            wheres.append(
                "(id = %s AND terminator_at IS NULL AND (handover_at IS NULL OR handover_at = %s)"
                f" AND {held})"
            )
            params += [handover.pk, value(handover.seen), *held_params]
        sql = (
            f"UPDATE {quote(Invitation._meta.db_table)} SET {', '.join(sets)} "
            f"WHERE {' OR '.join(wheres)}"
        )
        if handover is not None and outcome is not None:
            sql += " RETURNING id"
        with prepared_cursor(self.db) as cursor:
            cursor.execute(sql, params)
            if handover is not None and outcome is not None:
                handed = handover.pk in {pk for (pk,) in cursor.fetchall()}
            else:
                handed = handover is not None and cursor.rowcount == 1
        self.outcome = None
        return handed

    def mark_end(self, invitation: Invitation, handover: datetime) -> bool:
        """Commit the second mark, right before the end of the message is written: from here the
        server may have it. False if the handover is no longer this batch's."""
        ops, quote = self.db.ops, self.db.ops.quote_name
        held, held_params = self.held_sql()
        sql = (
            f"UPDATE {quote(Invitation._meta.db_table)} SET terminator_at = %s "
            f"WHERE id = %s AND handover_at = %s AND terminator_at IS NULL AND {held}"
        )
        params = [
            ops.adapt_datetimefield_value(timezone.now()),
            invitation.pk,
            ops.adapt_datetimefield_value(handover),
            *held_params,
        ]
        with prepared_cursor(self.db) as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount == 1

    def record_sent(self, invitation: Invitation, handover: datetime, message_id: str) -> None:
        now = timezone.now()
        if self.kind == INVITATION:
            fields = {
                "status": Status.SENT.value,
                "sent_at": now,
                "message_id": message_id[:255],
                "lease_expires_at": None,
                "attempts": _INCREMENT,
                "status_reason": "",
            }
        else:
            fields = {"reminder_sent_at": now, "reminder_due_at": None}
        self.outcome = _Outcome(invitation.pk, handover, fields)

    def record_error(self, invitation: Invitation, handover: datetime, error: SendError) -> str:
        now = timezone.now()
        if self.kind == REMINDER:
            if error.temporary:
                fields = {"reminder_due_at": now + retry_delay(2)}
                outcome = "retrying"
            else:
                fields = {
                    "reminder_due_at": None,
                    "status_reason": f"reminder not sent: {error.reason}"[:500],
                }
                outcome = "failed"
        else:
            attempts = invitation.attempts + 1
            if error.temporary and attempts < settings.CSAT_SEND_MAX_ATTEMPTS:
                fields = {
                    "status": Status.SCHEDULED.value,
                    "due_at": now + retry_delay(attempts),
                    "status_reason": f"retrying: {error.reason}"[:500],
                }
                outcome = "retrying"
            else:
                reason = (
                    f"gave up after {attempts} attempts: {error.reason}"
                    if error.temporary
                    else error.reason
                )
                fields = {"status": Status.FAILED.value, "status_reason": reason[:500]}
                outcome = "failed"
            fields.update(attempts=attempts, lease_expires_at=None)
        self.outcome = _Outcome(invitation.pk, handover, fields)
        return outcome

    def record_unknown(self, invitation: Invitation, handover: datetime, error: SendError) -> str:
        """The end of the message went out and its answer was lost: failed, not resent."""
        reason = f"{INTERRUPTED} ({error.reason})"
        if self.kind == REMINDER:
            fields = {"reminder_due_at": None, "status_reason": f"reminder {reason}"[:500]}
        else:
            fields = {
                "status": Status.FAILED.value,
                "status_reason": reason[:500],
                "attempts": invitation.attempts + 1,
                "lease_expires_at": None,
            }
        self.outcome = _Outcome(invitation.pk, handover, fields)
        return "failed"

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


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it before its end, as smtplib's data() writes it: a line's
    leading dot doubled, the last line ended."""
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _abort(smtp: smtplib.SMTP, code: int) -> None:
    """End a refused SMTP transaction as smtplib does: 421 closes, anything else resets."""
    if code == 421:
        smtp.close()
    else:
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            smtp.rset()


def _update_returns_rows(db) -> bool:
    """UPDATE ... RETURNING: PostgreSQL, and SQLite from 3.35."""
    return db.vendor == "postgresql" or (
        db.vendor == "sqlite" and db.Database.sqlite_version_info >= (3, 35)
    )


def _relax_commits() -> bool:
    """On PostgreSQL, let this batch's per-message commits skip the wait for the disk flush.

    The server still applies each commit at once and in order, so a killed worker, a lost
    broker or a lost mail connection is handled exactly as with durable commits. Only a crash
    of PostgreSQL itself may forget the last fraction of a second of outcomes: those messages
    would be sent again. CSAT_SEND_DURABLE_COMMITS=1 keeps every commit durable instead, at one
    disk flush per outcome (see docs/sending.md).
    """
    if connection.vendor != "postgresql" or settings.CSAT_SEND_DURABLE_COMMITS:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    return True
