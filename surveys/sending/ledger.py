"""A batch's marks and outcomes on the invitation rows: the handover's two marks and each
message's outcome, written by as few statements as the order of events allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from csat_platform.prepared import prepared_cursor

from ..models import Invitation, Survey
from .claims import INTERRUPTED, INVITATION, REMINDER, lease_end
from .outcomes import SendError, retry_delay

Status = Invitation.Status

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


class _Ledger:
    """The database half of a batch (see batch._Batch): needs kind, lease, db, outcome."""

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
