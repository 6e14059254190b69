"""What a failed send means (temporary or not), when to try again, and who is not mailed."""

from __future__ import annotations

import random
import smtplib
from datetime import timedelta

from django.conf import settings

from ..invitations import contact_skip
from ..models import Invitation, Survey, TouchpointSkip

Status = Invitation.Status


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
    """Why a claimed invitation is not mailed after all (the invitation's rule, asked again at
    sending time, and an archived survey); "" when it is."""
    skip = contact_skip(invitation.contact)
    if skip is not None and skip.reason == TouchpointSkip.Reason.UNSUBSCRIBED:
        return "the customer unsubscribed"
    if skip is not None:
        return f"the address is undeliverable: {skip.detail}"[:500]
    if invitation.survey.status == Survey.Status.ARCHIVED:
        return "the survey was archived"
    return ""
