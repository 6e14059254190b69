"""Claiming due invitations and reminders for a batch, and closing those whose link ran out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import Invitation, Survey

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
            .exclude(channel=Invitation.Channel.HELPDESK)  # the helpdesk mails those
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
    ).exclude(channel=Invitation.Channel.HELPDESK)  # no reminder for the helpdesk's own mail


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
