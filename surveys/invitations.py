"""Every invitation is made here, whichever way it comes: touchpoint events (the API and their
CSV import), the invitation API, the designer's test, and the browser sends to come (a CSV
upload, "invite this customer"). So a survey's rules hold the same everywhere, in this order:

1. A touchpoint asks for a survey only when it passes the survey's filters, is not too old for
   its link, and falls in the sample. These choose among touchpoints; an explicit invitation has
   chosen its customer already.
2. Nobody unsubscribed, undeliverable or without an address is invited, nor anyone surveyed
   within the survey's `min_days_between_surveys` (fatigue, across all surveys).
3. The invitation is due the survey's send delay after the touchpoint (after now for an explicit
   invitation), or at an explicit send time instead; never before now, never in the customer's
   quiet hours. Its link expires `expires_after_days` later, and its one reminder comes only
   before that, out of the quiet hours too.

A designer's test goes to the admin's own address at once: of all this, only the unsubscribe and
address checks apply (and it is never counted for fatigue).

An invitation the helpdesk delivers (channel "helpdesk": its own reply carries the link, see
connectors.links) is none of our mail: the helpdesk decided who gets it, so no rule above but
the link's expiry applies; it is "sent" from its creation and has no reminder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from . import advisory_locks, sending_rules, tokens
from .attributes import errors as attribute_errors
from .customers import CustomerIn, resolve_customer
from .errors import DomainError
from .languages import pick_language
from .models import Contact, Invitation, Survey, TouchpointEvent, TouchpointSkip

Reason = TouchpointSkip.Reason
# Invitations that never reached the customer do not count for the fatigue rule.
NOT_SURVEYED = (Invitation.Status.FAILED, Invitation.Status.SUPPRESSED)


@dataclass(frozen=True)
class Skip:
    """Why a survey invites nobody for this touchpoint or customer (a TouchpointSkip reason)."""

    reason: str
    detail: str = ""


class InvitationSkipped(DomainError):
    """The survey's rules give the customer no invitation now (409, with the reason)."""

    status = 409

    def __init__(self, skip: Skip):
        label = Reason(skip.reason).label
        super().__init__(f"no invitation: {label}" + (f" ({skip.detail})" if skip.detail else ""))
        self.reason = skip.reason

    def as_dict(self) -> dict:
        return {**super().as_dict(), "reason": self.reason}


def invitation_link(token: str) -> str:
    return f"{settings.SITE_URL}/s/{token}/"


class InvitationBatch:
    """The invitations of one batch, and the reasons of the touchpoints that get none, decided
    under the rules above and written in bulk by `save`. Fatigue is read once, for all of the
    batch's customers, who are locked first so that no concurrent batch surveys them too."""

    def __init__(
        self,
        *,
        surveys: Iterable[Survey],
        contacts: Iterable[Contact],
        now: datetime | None = None,
    ):
        self.now = now or timezone.now()
        ids = {contact.pk for contact in contacts}
        advisory_locks.lock(f"c:{pk}" for pk in ids)
        self.last_surveyed = _last_surveyed(surveys, ids, now=self.now)
        self.invitations: list[Invitation] = []
        self.skips: list[TouchpointSkip] = []
        self._tokens = tokens.salts_and_hashes()

    def add(
        self,
        survey: Survey,
        contact: Contact,
        *,
        touchpoint: TouchpointEvent | None = None,
        send_at: datetime | None = None,
        locale: str = "",
        attributes: dict | None = None,
        is_test: bool = False,
        channel: str = Invitation.Channel.EMAIL,
    ) -> Invitation | Skip:
        """The customer's invitation to `survey` (unsaved until `save`), or why there is none."""
        if channel == Invitation.Channel.HELPDESK:
            if not contact.email:  # a link opens for the ticket's requester's email only
                return self._skip(survey, touchpoint, Skip(Reason.UNDELIVERABLE, "no email"))
            return self._add_delivered(survey, contact, touchpoint, locale, attributes)
        skip = skip_reason(
            survey,
            contact,
            touchpoint=touchpoint,
            last_surveyed=self.last_surveyed.get(contact.pk),
            now=self.now,
            is_test=is_test,
        )
        if skip is not None:
            return self._skip(survey, touchpoint, skip)
        if is_test:
            wanted, tz = self.now, None
        else:
            if send_at is None:
                start = touchpoint.occurred_at if touchpoint is not None else self.now
                send_at = start + timedelta(minutes=survey.send_delay_minutes)
            wanted = max(send_at, self.now)
            tz = sending_rules.zone(contact.time_zone) or sending_rules.site_zone()
            self.last_surveyed[contact.pk] = self.now
        plan = sending_rules.schedule(survey, due_at=wanted, tz=tz)
        salt, token_hash = next(self._tokens)
        invitation = Invitation(
            survey=survey,
            contact=contact,
            touchpoint=touchpoint,
            salt=salt,
            token_hash=token_hash,
            locale=pick_language(survey, locale, contact.locale),
            attributes=dict(attributes or {}),
            is_test=is_test,
            due_at=plan.due_at,
            expires_at=plan.expires_at,
            reminder_due_at=plan.reminder_due_at,
            created_at=self.now,
        )
        self.invitations.append(invitation)
        return invitation

    def _skip(self, survey: Survey, touchpoint: TouchpointEvent | None, skip: Skip) -> Skip:
        if touchpoint is not None:
            self.skips.append(
                TouchpointSkip(
                    touchpoint=touchpoint,
                    survey=survey,
                    reason=skip.reason,
                    detail=skip.detail,
                    created_at=self.now,
                )
            )
        return skip

    def _add_delivered(self, survey, contact, touchpoint, locale, attributes) -> Invitation:
        """An invitation the helpdesk's own email carries: sent now, expiring as any link."""
        self.last_surveyed[contact.pk] = self.now
        salt, token_hash = next(self._tokens)
        invitation = Invitation(
            survey=survey,
            contact=contact,
            touchpoint=touchpoint,
            salt=salt,
            token_hash=token_hash,
            locale=pick_language(survey, locale, contact.locale),
            attributes=dict(attributes or {}),
            channel=Invitation.Channel.HELPDESK,
            status=Invitation.Status.SENT,
            due_at=self.now,
            sent_at=self.now,
            expires_at=self.now + timedelta(days=survey.expires_after_days or 3650),
            reminder_due_at=None,
            created_at=self.now,
        )
        self.invitations.append(invitation)
        return invitation

    def save(self) -> None:
        if self.invitations:
            Invitation.objects.bulk_create(self.invitations, batch_size=1000)
        if self.skips:
            TouchpointSkip.objects.bulk_create(self.skips, batch_size=1000)


def contact_skip(contact: Contact) -> Skip | None:
    """Why this customer gets no survey mail at all (unsubscribed, no or a bouncing address), or
    None: checked when an invitation is made and again when it is sent."""
    if contact.unsubscribed_at is not None:
        return Skip(Reason.UNSUBSCRIBED)
    if not contact.email:
        return Skip(Reason.UNDELIVERABLE, "no email address")
    if contact.undeliverable_at is not None:
        return Skip(Reason.UNDELIVERABLE, contact.undeliverable_reason[:200] or "bounced")
    return None


def skip_reason(
    survey: Survey,
    contact: Contact,
    *,
    touchpoint: TouchpointEvent | None,
    last_surveyed: datetime | None,
    now: datetime,
    is_test: bool = False,
) -> Skip | None:
    """Why `survey` invites nobody here (steps 1 and 2 above), or None when it invites."""
    if touchpoint is not None:
        mismatch = sending_rules.filter_mismatch(survey.filters, touchpoint.attributes)
        if mismatch:
            return Skip(Reason.FILTERED, mismatch)
        if sending_rules.is_stale(survey, occurred_at=touchpoint.occurred_at, now=now):
            return Skip(Reason.STALE, f"occurred {touchpoint.occurred_at:%Y-%m-%d}")
        if not sending_rules.sampled_in(
            survey_id=survey.pk,
            touchpoint_type=touchpoint.type,
            external_id=touchpoint.external_id,
            rate=survey.sample_rate,
        ):
            return Skip(Reason.SAMPLED_OUT, f"sample rate {survey.sample_rate:g}")
    skip = contact_skip(contact)
    if skip is not None:
        return skip
    days = 0 if is_test else survey.min_days_between_surveys
    if days and last_surveyed is not None and last_surveyed > now - timedelta(days=days):
        return Skip(Reason.FATIGUED, f"last survey {last_surveyed:%Y-%m-%d %H:%M}")
    return None


def _last_surveyed(surveys: Iterable[Survey], ids: set[int], *, now: datetime) -> dict:
    """Contact id → time of their latest invitation within the longest fatigue window."""
    days = max((s.min_days_between_surveys for s in surveys), default=0)
    if not days or not ids:
        return {}
    rows = (
        Invitation.objects.filter(
            contact_id__in=ids, is_test=False, created_at__gt=now - timedelta(days=days)
        )
        .exclude(status__in=NOT_SURVEYED)
        .values("contact_id")
        .annotate(last=Max("created_at"))
        .values_list("contact_id", "last")
    )
    return dict(rows)


def check_takes_invitations(survey: Survey, *, is_test: bool = False) -> None:
    """Raise DomainError (409) unless `survey` takes invitations now: an active survey, or for
    a designer's test any survey but an archived one."""
    if survey.status == Survey.Status.ARCHIVED:
        raise DomainError(gettext("an archived survey takes no new invitations"), status=409)
    if not is_test and survey.status != Survey.Status.ACTIVE:
        raise DomainError(gettext("publish the survey before inviting customers"), status=409)


@transaction.atomic
def invite(
    *,
    survey: Survey,
    customer: CustomerIn | Contact,
    locale: str = "",
    attributes: dict | None = None,
    send_at: datetime | None = None,
    is_test: bool = False,
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """One customer's invitation to `survey` under its rules, and its link's token.

    The customer is found or made by surveys.customers. Raises DomainError: 409 for an archived
    survey or (but for a test) an unpublished one, InvitationSkipped (409, with the reason) when
    the rules invite nobody, 400 for bad attributes; nothing is written then.
    """
    check_takes_invitations(survey, is_test=is_test)
    problems = attribute_errors(attributes or {})
    if problems:
        field, [message] = next(iter(problems.items()))
        raise DomainError(message, field=field)
    contact = customer if isinstance(customer, Contact) else resolve_customer(customer, now=now)
    if contact is None:
        raise DomainError("give the customer's email or external_id", field="email")
    batch = InvitationBatch(surveys=[survey], contacts=[contact], now=now)
    outcome = batch.add(
        survey, contact, send_at=send_at, locale=locale, attributes=attributes, is_test=is_test
    )
    if isinstance(outcome, Skip):
        raise InvitationSkipped(outcome)
    batch.save()
    return outcome, tokens.token_for(outcome)
