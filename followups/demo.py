"""Demo data for closing the loop: settings, routing, and follow-ups in every state."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from surveys.models import Response, Survey

from . import services
from .models import FollowUp, FollowUpNote, FollowUpSettings, RoutingRule
from .triggers import FollowUpRules, with_triggers

NOTES = [
    "Called, apologised and offered a replacement.",
    "Refund issued; the customer was pleased with the quick answer.",
    "Shared with the warehouse team: parcels to the north were delayed all week.",
    "Customer asked to be called back tomorrow morning.",
]


@transaction.atomic
def seed(stdout=None, *, per_survey: int = 8, seed: int = 11) -> int:
    """Create follow-up settings and follow-ups for the demo surveys; nothing if they exist."""
    surveys = list(Survey.objects.filter(slug__in=["purchase", "support"]).order_by("slug"))
    if not surveys or FollowUpSettings.objects.filter(survey__in=surveys).exists():
        return 0
    manager = User.objects.filter(username="manager").first()
    admin = User.objects.filter(username="admin").first()
    rng = random.Random(seed)
    now = timezone.now()
    created = 0
    for survey in surveys:
        config = FollowUpSettings.objects.create(
            survey=survey, sla_hours=24 if survey.slug == "support" else 48, default_owner=manager
        )
        if survey.csat_target is None:
            Survey.objects.filter(pk=survey.pk).update(csat_target=75)
        if admin is not None:
            dimension, value = (
                ("agent", "anna") if survey.slug == "support" else ("channel", "phone")
            )
            RoutingRule.objects.create(
                settings=config, position=0, attribute=dimension, value=value, owner=admin
            )
        unhappy = (
            with_triggers(
                Response.objects.filter(survey=survey, submitted_at__gte=now - timedelta(days=12)),
                FollowUpRules.of(survey, config),
            )
            .order_by("-submitted_at")
            .values_list("pk", flat=True)[:per_survey]
        )
        for i, response_id in enumerate(unhappy):
            follow_up = services.open_follow_up(response_id=response_id)
            if follow_up is None:
                continue
            created += 1
            _age(follow_up, i, rng, manager, now)
    if stdout is not None:
        stdout.write(f"Follow-ups: settings for {len(surveys)} surveys, {created} follow-ups.")
    return created


def _age(follow_up: FollowUp, i: int, rng: random.Random, user, now) -> None:
    """Backdate to the response and move along open → contacted → resolved for variety."""
    opened = follow_up.response.submitted_at
    fields = {"opened_at": opened, "due_at": opened + (follow_up.due_at - follow_up.opened_at)}
    fields["notified_at"] = opened  # demo follow-ups send no mail
    FollowUpNote.objects.filter(follow_up=follow_up).update(created_at=opened)
    stage = i % 4  # 0: open, 1: contacted, 2 and 3: resolved
    if stage >= 1:
        contact_at = min(now, opened + timedelta(hours=rng.uniform(1, 30)))
        fields.update(
            first_contact_at=contact_at,
            contact_outcome=rng.choice(["reached", "left_message", "emailed"]),
            status=FollowUp.Status.IN_PROGRESS,
        )
        FollowUpNote.objects.create(
            follow_up=follow_up,
            author=user,
            kind=FollowUpNote.Kind.CONTACTED,
            text=rng.choice(NOTES[:2] + NOTES[3:]),
            created_at=contact_at,
        )
        if stage >= 2:
            resolved_at = min(now, contact_at + timedelta(hours=rng.uniform(2, 40)))
            fields.update(status=FollowUp.Status.RESOLVED, resolved_at=resolved_at)
            FollowUpNote.objects.create(
                follow_up=follow_up,
                author=user,
                kind=FollowUpNote.Kind.STATUS,
                text="Resolved. " + rng.choice(NOTES),
                created_at=resolved_at,
            )
    FollowUp.objects.filter(pk=follow_up.pk).update(**fields)
