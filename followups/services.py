"""Everything that writes follow-ups, their timeline and settings (webhook deliveries: webhooks)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from surveys.models import Question, Response, Survey

from . import rules, signals
from .errors import FollowUpError
from .models import FollowUp, FollowUpNote, FollowUpSettings, RoutingRule, Webhook
from .triggers import FollowUpRules, trigger_of
from .webhooks import queue_webhook_event

log = logging.getLogger(__name__)
User = get_user_model()


# --- Opening -----------------------------------------------------------------------------------


def route(settings: FollowUpSettings, *, attributes: dict, touchpoint_type: str):
    """The owner of a new follow-up: the first matching rule's, else the default owner."""
    if settings.pk:
        for rule in settings.rules.select_related("owner").order_by("position", "id"):
            if rule.matches(attributes=attributes, touchpoint_type=touchpoint_type):
                return rule.owner
    return settings.default_owner


def _score_rows(answers, primary: Question | None, language: str) -> list[dict]:
    rows = []
    for a in sorted(answers, key=lambda a: (a.question.position, a.question.id)):
        q = a.question
        if not q.is_scored or a.score is None:
            continue
        rows.append(
            {
                "key": q.key,
                "text": q.text_in(language),
                "score": a.score,
                "scale": q.scale,
                "label": q.label_of(a.score, language),
                "satisfied": a.satisfied,
                "primary": primary is not None and q.pk == primary.pk,
            }
        )
    return rows


@transaction.atomic
def open_follow_up(*, response_id: int) -> FollowUp | None:
    """Open the follow-up of an unhappy response; the existing one if it is open already.

    Returns None when the response does not call for one. Notifications are queued on commit.
    """
    existing = FollowUp.objects.filter(response_id=response_id).first()
    if existing is not None:
        return existing
    response = (
        Response.objects.select_related("survey", "contact")
        .prefetch_related("answers__question")
        .filter(pk=response_id)
        .first()
    )
    if response is None or response.is_test:
        return None
    settings = FollowUpSettings.for_survey(response.survey)
    rules = FollowUpRules.of(response.survey, settings)
    trigger = trigger_of(response.pk, rules)
    if trigger is None:
        return None
    answers = list(response.answers.all())
    comments = [a.text for a in answers if a.text]
    owner = route(
        settings, attributes=response.attributes or {}, touchpoint_type=response.touchpoint_type
    )
    now = timezone.now()
    language = response.survey.default_language
    try:
        with transaction.atomic():
            follow_up = FollowUp.objects.create(
                response=response,
                survey=response.survey,
                contact=response.contact,
                assignee=owner,
                reason=trigger.text()[:200],
                trigger=trigger.as_dict(),
                scores=_score_rows(answers, rules.primary, language),
                comment="\n\n".join(comments),
                touchpoint_type=response.touchpoint_type,
                attributes=response.attributes or {},
                opened_at=now,
                due_at=now + timedelta(hours=settings.sla_hours),
            )
    except IntegrityError:
        # Another worker opened it between our check and our insert: one follow-up per response.
        return FollowUp.objects.get(response_id=response_id)
    FollowUpNote.objects.create(
        follow_up=follow_up,
        kind=FollowUpNote.Kind.OPENED,
        event={"trigger": trigger.as_dict(), "owner": owner.get_username() if owner else ""},
        created_at=now,
    )
    signals.follow_up_opened.send(sender=FollowUp, follow_up_id=follow_up.pk)
    queue_webhook_event(
        event=Webhook.Event.FOLLOWUP_OPENED, survey=response.survey, follow_up=follow_up
    )
    return follow_up


# --- Acting on a follow-up -------------------------------------------------------------------


def _locked(follow_up: FollowUp) -> FollowUp:
    return FollowUp.objects.select_for_update().get(pk=follow_up.pk)


@transaction.atomic
def assign_follow_up(*, follow_up: FollowUp, assignee, by) -> FollowUp:
    follow_up = _locked(follow_up)
    if follow_up.assignee_id == (assignee.pk if assignee else None):
        return follow_up
    follow_up.assignee = assignee
    follow_up.save(update_fields=["assignee", "updated_at"])
    FollowUpNote.objects.create(
        follow_up=follow_up,
        author=by,
        kind=FollowUpNote.Kind.ASSIGNED,
        event={"assignee": assignee.get_username() if assignee else ""},
    )
    return follow_up


@transaction.atomic
def add_note(*, follow_up: FollowUp, text: str, by) -> FollowUpNote:
    text = text.strip()
    if not text:
        raise FollowUpError(gettext("Write a note first."), field="text")
    follow_up = _locked(follow_up)
    note = FollowUpNote.objects.create(follow_up=follow_up, author=by, text=text)
    follow_up.save(update_fields=["updated_at"])
    return note


@transaction.atomic
def record_contact(*, follow_up: FollowUp, outcome: str, text: str = "", by) -> FollowUp:
    """Someone contacted the customer: the first time sets time to first contact."""
    if outcome not in FollowUp.Outcome.values:
        raise FollowUpError(gettext("Choose how the contact went."), field="outcome")
    follow_up = _locked(follow_up)
    if follow_up.status == FollowUp.Status.RESOLVED:
        raise FollowUpError(gettext("This follow-up is resolved; reopen it first."), status=409)
    now = timezone.now()
    if follow_up.first_contact_at is None:
        follow_up.first_contact_at = now
    follow_up.contact_outcome = outcome
    follow_up.status = FollowUp.Status.IN_PROGRESS
    follow_up.save(update_fields=["first_contact_at", "contact_outcome", "status", "updated_at"])
    FollowUpNote.objects.create(
        follow_up=follow_up,
        author=by,
        kind=FollowUpNote.Kind.CONTACTED,
        event={"outcome": outcome},
        text=text.strip(),
        created_at=now,
    )
    return follow_up


@transaction.atomic
def change_status(*, follow_up: FollowUp, status: str, text: str = "", by) -> FollowUp:
    """open → in progress → resolved; a resolved follow-up may be reopened."""
    if status not in FollowUp.Status.values:
        raise FollowUpError(gettext("Unknown status."), field="status")
    follow_up = _locked(follow_up)
    if status == follow_up.status:
        # One sentence per status: a status word cannot be slotted into every language's sentence.
        already = {
            FollowUp.Status.OPEN: gettext("This follow-up is open already."),
            FollowUp.Status.IN_PROGRESS: gettext("This follow-up is in progress already."),
            FollowUp.Status.RESOLVED: gettext("This follow-up is resolved already."),
        }[follow_up.status]
        raise FollowUpError(already, status=409)
    now = timezone.now()
    previous = follow_up.status
    follow_up.status = status
    follow_up.resolved_at = now if status == FollowUp.Status.RESOLVED else None
    follow_up.save(update_fields=["status", "resolved_at", "updated_at"])
    FollowUpNote.objects.create(
        follow_up=follow_up,
        author=by,
        kind=FollowUpNote.Kind.STATUS,
        event={"status": status},
        text=text.strip(),
        created_at=now,
    )
    if status == FollowUp.Status.RESOLVED and previous != status:
        queue_webhook_event(
            event=Webhook.Event.FOLLOWUP_RESOLVED, survey=follow_up.survey, follow_up=follow_up
        )
    return follow_up


def resolve_follow_up(*, follow_up: FollowUp, text: str = "", by) -> FollowUp:
    return change_status(follow_up=follow_up, status=FollowUp.Status.RESOLVED, text=text, by=by)


# --- Settings ----------------------------------------------------------------------------------


@transaction.atomic
def save_settings(*, survey: Survey, data: dict, routing: list[dict]) -> FollowUpSettings:
    """Replace a survey's follow-up settings and its ordered routing rules (validated data)."""
    settings, _ = FollowUpSettings.objects.select_for_update().get_or_create(survey=survey)
    for field, value in data.items():
        setattr(settings, field, value)
    settings.keywords = rules.clean_keywords(settings.keywords or [])
    settings.save()
    settings.rules.all().delete()
    RoutingRule.objects.bulk_create(
        RoutingRule(settings=settings, position=i, **rule) for i, rule in enumerate(routing)
    )
    return settings
