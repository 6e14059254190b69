"""Demo data for the delivery page: what a few months of sending leave behind (bounces, failures,
unsubscribes, expired links) and today's touchpoints, decided by the real ingest service."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .models import Contact, Invitation, Survey
from .touchpoints import record_touchpoints

Status = Invitation.Status
BOUNCES = [
    "smtp;550 5.1.1 The email account that you tried to reach does not exist. (Postmark)",
    "smtp;550 5.1.1 <{email}>: Recipient address rejected: User unknown (Postmark)",
    "smtp;552 5.2.2 Mailbox full and over quota for too long (Postmark)",
]
FAILURES = [
    "550 5.7.1 Message rejected: the sending domain's SPF record does not list this server",
    "gave up after 6 attempts: 421 4.7.0 Temporary system problem, try again later",
    "554 5.7.1 Rejected by the recipient's spam filter",
]


def seed_delivery(survey: Survey, rng: random.Random) -> dict[str, int]:
    """Give `survey` (with months of sent invitations) the states a real one has, and post
    today's touchpoints through record_touchpoints so that some are invited and some skipped."""
    now = timezone.now()
    sent = Invitation.objects.filter(survey=survey, status=Status.SENT, is_test=False)
    unanswered = list(
        sent.filter(clicked_at__isnull=True, answered_at__isnull=True)
        .select_related("contact")
        .order_by("id")
    )
    rng.shuffle(unanswered)
    out = {"bounced": 0, "failed": 0, "suppressed": 0, "expired": 0}
    for invitation in unanswered[: max(len(unanswered) // 40, 3)]:
        reason = rng.choice(BOUNCES).format(email=invitation.contact.email)
        Invitation.objects.filter(pk=invitation.pk).update(
            status=Status.BOUNCED,
            bounced_at=invitation.sent_at + timedelta(minutes=rng.randint(1, 30)),
            status_reason=f"bounced: {reason}",
        )
        if "5.1.1" in reason:
            Contact.objects.filter(pk=invitation.contact_id).update(
                undeliverable_at=invitation.sent_at, undeliverable_reason=reason[:200]
            )
        out["bounced"] += 1
    rest = unanswered[max(len(unanswered) // 40, 3) :]
    for invitation in rest[: max(len(rest) // 80, 3)]:
        Invitation.objects.filter(pk=invitation.pk).update(
            status=Status.FAILED, sent_at=None, status_reason=rng.choice(FAILURES)
        )
        out["failed"] += 1
    rest = rest[max(len(rest) // 80, 3) :]
    for invitation in rest[: max(len(rest) // 60, 3)]:
        Contact.objects.filter(pk=invitation.contact_id).update(unsubscribed_at=invitation.sent_at)
        Invitation.objects.filter(pk=invitation.pk).update(
            status=Status.SUPPRESSED, sent_at=None, status_reason="the customer unsubscribed"
        )
        out["suppressed"] += 1
    # Most providers confirm deliveries a few seconds after sending.
    for invitation in sent.filter(delivered_at__isnull=True).only("id", "sent_at")[:100000]:
        if rng.random() < 0.93:
            Invitation.objects.filter(pk=invitation.pk).update(
                delivered_at=invitation.sent_at + timedelta(seconds=rng.randint(2, 40))
            )
    out["expired"] = sent.filter(answered_at__isnull=True, expires_at__lte=now).update(
        status=Status.EXPIRED, reminder_due_at=None
    )
    out.update(_todays_touchpoints(survey, rng))
    return out


def _todays_touchpoints(survey: Survey, rng: random.Random) -> dict[str, int]:
    """Touchpoints of the last hours: new customers (invited, due after the send delay), repeat
    customers (fatigued), unsubscribed and bounced ones, phone orders (filtered), a late backlog
    (stale) and the sample."""
    Survey.objects.filter(pk=survey.pk).update(
        send_delay_minutes=180,
        min_days_between_surveys=30,
        sample_rate=0.9,
        filters={"channel": ["web", "app", "email"]},
    )
    now = timezone.now()
    recent = list(
        Invitation.objects.filter(
            survey=survey, created_at__gte=now - timedelta(days=20), status=Status.SENT
        )
        .values_list("contact__email", flat=True)
        .order_by("id")[:12]
    )
    blocked = list(
        Contact.objects.filter(Q(unsubscribed_at__isnull=False) | Q(undeliverable_at__isnull=False))
        .values_list("email", flat=True)
        .order_by("id")[:6]
    )
    events = []
    for n in range(60):
        channel = rng.choice(["web", "web", "app", "email", "phone"])
        email = f"new{n}@example.com"
        occurred = now - timedelta(minutes=rng.randint(5, 170))
        if n < len(recent):
            email = recent[n]
        elif n - len(recent) < len(blocked):
            email = blocked[n - len(recent)]
        elif n >= 56:
            occurred = now - timedelta(days=rng.randint(20, 40))  # an old order posted late
        events.append(
            {
                "type": survey.touchpoint,
                "external_id": f"order-{90000 + n}",
                "occurred_at": occurred.isoformat(),
                "customer": {"email": email, "name": email.split("@")[0].title()},
                "attributes": {
                    "channel": channel,
                    "region": rng.choice(["north", "south", "east", "west"]),
                    "product": rng.choice(["shoes", "shirts", "bags", "watches", "jackets"]),
                    "order_id": f"A-{90000 + n}",
                },
            }
        )
    result = record_touchpoints(items=events)
    return {"touchpoints": result.created}
