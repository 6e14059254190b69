"""Everything that writes surveys, invitations and responses. Domain failures raise DomainError."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from . import scales, signals, tokens
from .errors import AlreadyAnswered, DomainError, FrozenQuestionError, InvitationClosed
from .models import Answer, Contact, Invitation, Question, Response, Survey
from .survey_templates import TEMPLATES

SURVEY_FIELDS = (
    "name",
    "slug",
    "touchpoint",
    "languages",
    "intro",
    "thank_you",
    "email_subject",
    "email_body",
    "csat_target",
    "send_delay_minutes",
    "expires_after_days",
    "reminder_after_days",
    "min_days_between_surveys",
    "sample_rate",
    "filters",
    "quiet_hours_start",
    "quiet_hours_end",
)
QUESTION_FIELDS = (
    "kind",
    "scale",
    "text",
    "labels",
    "reversed",
    "satisfied",
    "primary",
    "required",
    "max_length",
)
# What publishing freezes: changing these after answers exist would corrupt the figures.
FROZEN_FIELDS = ("kind", "scale", "reversed", "satisfied")

ALLOWED_TRANSITIONS = {
    Survey.Status.DRAFT: {Survey.Status.ACTIVE, Survey.Status.ARCHIVED},
    Survey.Status.ACTIVE: {Survey.Status.PAUSED, Survey.Status.ARCHIVED},
    Survey.Status.PAUSED: {Survey.Status.ACTIVE, Survey.Status.ARCHIVED},
    Survey.Status.ARCHIVED: set(),
}


@transaction.atomic
def create_survey(*, data: dict, created_by=None) -> Survey:
    """A draft survey from validated API data (see SurveySerializer)."""
    data = dict(data)
    questions = data.pop("questions", [])
    status = data.pop("status", Survey.Status.DRAFT)
    if Survey.objects.filter(slug=data["slug"]).exists():
        raise DomainError(
            f"a survey with the slug {data['slug']!r} exists", field="slug", status=409
        )
    survey = Survey.objects.create(
        **{k: v for k, v in data.items() if k in SURVEY_FIELDS}, created_by=created_by
    )
    _replace_questions(survey, questions)
    if status != Survey.Status.DRAFT:
        change_status(survey=survey, status=status)
    return survey


@transaction.atomic
def update_survey(*, survey: Survey, data: dict) -> Survey:
    """Apply a partial, validated update. Published scales stay frozen (FrozenQuestionError)."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.status == Survey.Status.ARCHIVED:
        raise DomainError("an archived survey cannot be changed", status=409)
    data = dict(data)
    questions = data.pop("questions", None)
    status = data.pop("status", None)
    if "slug" in data and data["slug"] != survey.slug:
        if survey.is_published:
            raise DomainError(
                "the slug of a published survey cannot change", field="slug", status=409
            )
        if Survey.objects.filter(slug=data["slug"]).exclude(pk=survey.pk).exists():
            raise DomainError(
                f"a survey with the slug {data['slug']!r} exists", field="slug", status=409
            )
    for field, value in data.items():
        if field in SURVEY_FIELDS:
            setattr(survey, field, value)
    survey.save()
    if questions is not None:
        _replace_questions(survey, questions)
    if status is not None and status != survey.status:
        change_status(survey=survey, status=status)
    return survey


def _replace_questions(survey: Survey, questions: list[dict]) -> None:
    """Make the survey's questions exactly `questions`, matched by key, in that order."""
    existing = {q.key: q for q in survey.questions.all()}
    wanted = [q["key"] for q in questions]
    removed = [key for key in existing if key not in wanted]
    if removed and survey.is_published:
        raise FrozenQuestionError(
            f"question {removed[0]!r} belongs to a published survey and cannot be removed",
            field="questions",
        )
    if removed:
        Question.objects.filter(survey=survey, key__in=removed).delete()
    # Clear primary first so the one-primary constraint holds while rows are rewritten.
    Question.objects.filter(survey=survey).update(primary=False)
    for position, data in enumerate(questions):
        question = existing.get(data["key"])
        if question is None:
            Question.objects.create(
                survey=survey,
                key=data["key"],
                position=position,
                frozen=survey.is_published,
                **{f: data[f] for f in QUESTION_FIELDS if f in data},
            )
            continue
        if question.frozen:
            for field in FROZEN_FIELDS:
                if field in data and _normal(data[field]) != _normal(getattr(question, field)):
                    raise FrozenQuestionError(
                        f"question {question.key!r} is published: its {field} can no longer "
                        "change (texts and labels may still be corrected)",
                        field=field,
                    )
        for field in QUESTION_FIELDS:
            if field in data:
                setattr(question, field, data[field])
        question.position = position
        question.save()


def _normal(value):
    return sorted(value) if isinstance(value, list) else value


@transaction.atomic
def change_status(*, survey: Survey, status: str) -> Survey:
    """Move along draft → active ⇄ paused → archived; publishing freezes every question."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if status == survey.status:
        return survey
    if status not in ALLOWED_TRANSITIONS[survey.status]:
        raise DomainError(
            f"a survey cannot go from {survey.status} to {status}", field="status", status=409
        )
    now = timezone.now()
    if status == Survey.Status.ACTIVE and not survey.is_published:
        _check_publishable(survey)
        survey.published_at = now
        survey.questions.update(frozen=True)
    if status == Survey.Status.ARCHIVED:
        survey.archived_at = now
    survey.status = status
    survey.save(update_fields=["status", "published_at", "archived_at", "updated_at"])
    return survey


def publish_survey(*, survey: Survey) -> Survey:
    return change_status(survey=survey, status=Survey.Status.ACTIVE)


def _check_publishable(survey: Survey) -> None:
    questions = list(survey.questions.all())
    if not any(q.is_scored for q in questions):
        raise DomainError(
            "add at least one rating, NPS or CES question before publishing", field="questions"
        )
    for q in questions:
        if not q.text.get(survey.default_language):
            raise DomainError(
                f"question {q.key!r} has no text in {survey.default_language}", field="questions"
            )


def create_survey_from_template(*, template: str, name: str, slug: str, created_by=None) -> Survey:
    try:
        definition = copy.deepcopy(TEMPLATES[template]["survey"])
    except KeyError:
        raise DomainError(f"unknown template {template!r}", field="template") from None
    # Templates are written in the API's format; run them through the same validation.
    from .api.serializers import SurveySerializer

    languages = definition["languages"]
    for question in definition["questions"]:
        for field in ("text", "labels"):
            if field in question:
                question[field] = {k: v for k, v in question[field].items() if k in languages}

    serializer = SurveySerializer(data={**definition, "name": name, "slug": slug})
    serializer.is_valid(raise_exception=True)
    return create_survey(data=serializer.validated_data, created_by=created_by)


# --- Invitations -------------------------------------------------------------------------------


def new_invitation(
    *,
    survey: Survey,
    contact: Contact,
    locale: str = "",
    attributes: dict | None = None,
    due_at=None,
    touchpoint=None,
    is_test: bool = False,
) -> tuple[Invitation, str]:
    """An unsaved invitation and its token (for bulk_create by the sending pipeline)."""
    salt = tokens.new_salt()
    token = tokens.make_token(salt)
    now = timezone.now()
    due_at = due_at or now
    invitation = Invitation(
        survey=survey,
        contact=contact,
        touchpoint=touchpoint,
        salt=salt,
        token_hash=tokens.hash_token(token),
        locale=match_language(survey, locale) or "",
        attributes=attributes or {},
        is_test=is_test,
        due_at=due_at,
        expires_at=due_at + timedelta(days=survey.expires_after_days or 3650),
        reminder_due_at=(
            due_at + timedelta(days=survey.reminder_after_days)
            if survey.reminder_after_days
            else None
        ),
    )
    return invitation, token


@transaction.atomic
def create_invitation(
    *,
    survey: Survey,
    email: str,
    name: str = "",
    locale: str = "",
    attributes: dict | None = None,
    is_test: bool = False,
) -> tuple[Invitation, str]:
    """A personal link for one customer (the API and the designer's "send me a test")."""
    if survey.status == Survey.Status.ARCHIVED:
        raise DomainError("an archived survey takes no new invitations", status=409)
    if not is_test and survey.status != Survey.Status.ACTIVE:
        raise DomainError("publish the survey before inviting customers", status=409)
    contact = Contact.objects.filter(email__iexact=email, external_id__isnull=True).first()
    if contact is None:
        contact = Contact.objects.create(email=email, name=name, locale=locale)
    elif name and contact.name != name:
        contact.name = name
        contact.save(update_fields=["name"])
    invitation, token = new_invitation(
        survey=survey, contact=contact, locale=locale, attributes=attributes, is_test=is_test
    )
    invitation.save()
    return invitation, token


def invitation_link(token: str) -> str:
    return f"{settings.SITE_URL}/s/{token}/"


def match_language(survey: Survey, code: str) -> str | None:
    """The survey language matching `code` (a full tag or its primary subtag), if any."""
    if not code:
        return None
    code = code.lower().replace("_", "-")
    for candidate in (code, code.split("-")[0]):
        if candidate in survey.languages:
            return candidate
    return None


def pick_language(survey: Survey, *wanted: str) -> str:
    """The first of `wanted` the survey speaks, else the survey's first language."""
    for code in wanted:
        match = match_language(survey, code)
        if match:
            return match
    return survey.default_language


def record_click(*, invitation: Invitation) -> None:
    """The customer opened the link: the 'clicked' step of the delivery funnel (first time only)."""
    if Invitation.objects.filter(pk=invitation.pk, clicked_at__isnull=True).update(
        clicked_at=timezone.now()
    ):
        signals.invitation_changed.send(sender=Invitation, invitation=invitation)


def check_open(invitation: Invitation) -> None:
    if invitation.survey.status == Survey.Status.ARCHIVED:
        raise InvitationClosed(gettext("This survey is no longer accepting answers."))
    if invitation.is_expired:
        raise InvitationClosed(gettext("This survey link has expired."))


def record_response(
    *,
    invitation: Invitation,
    answers: dict[str, str],
    locale: str,
    questions: list[Question] | None = None,
) -> Response:
    """Store the one response of an invitation.

    `answers` maps question keys to the submitted strings. Raises DomainError (field = the
    question key) for bad input, AlreadyAnswered when the invitation has its response already.
    """
    check_open(invitation)
    survey = invitation.survey
    if questions is None:
        questions = list(survey.questions.order_by("position", "id"))
    rows = _validate_answers(questions, answers)
    now = timezone.now()
    response = Response(
        survey=survey,
        invitation=invitation,
        contact_id=invitation.contact_id,
        submitted_at=now,
        locale=locale,
        touchpoint_type=survey.touchpoint,
        attributes=invitation.attributes,
        is_test=invitation.is_test,
    )
    answers_rows = [Answer(response=response, **row) for row in rows]
    try:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            _insert_response_in_one_statement(response, answers_rows, invitation, now)
        elif connection.vendor == "postgresql":
            with transaction.atomic():  # a savepoint keeps the caller's transaction usable
                _insert_response_in_one_statement(response, answers_rows, invitation, now)
        else:
            with transaction.atomic():
                response.save(force_insert=True)
                for answer in answers_rows:
                    answer.response = response
                Answer.objects.bulk_create(answers_rows)
                Invitation.objects.filter(pk=invitation.pk).update(
                    answered_at=now, clicked_at=invitation.clicked_at or now
                )
    except IntegrityError:
        if Response.objects.filter(invitation_id=invitation.pk).exists():
            raise AlreadyAnswered(gettext("This survey has already been answered.")) from None
        raise
    transaction.on_commit(
        lambda: signals.response_recorded.send(sender=Response, response=response)
    )
    return response


def _insert_response_in_one_statement(
    response: Response, answers: list[Answer], invitation: Invitation, now
) -> None:
    """The response, its answers and the invitation's answered_at in one SQL statement.

    One statement is atomic on its own, so this writes all or nothing with a single round trip
    instead of five (BEGIN, three statements, COMMIT): the answer page's hot path.
    """
    values = ", ".join(
        ["(%s::bigint, %s::smallint, %s::double precision, %s::boolean, %s::text)"] * len(answers)
    )
    params: list = [
        response.survey_id,
        invitation.pk,
        response.contact_id,
        now,
        response.locale,
        response.touchpoint_type,
        json.dumps(response.attributes),
        response.source,
        response.is_test,
    ]
    for a in answers:
        params += [a.question_id, a.score, a.score_norm, a.satisfied, a.text]
    params += [now, now, invitation.pk]
    sql = f"""
        WITH new_response AS (
            INSERT INTO {Response._meta.db_table}
                (survey_id, invitation_id, contact_id, submitted_at, locale, touchpoint_type,
                 attributes, source, is_test)
            VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)
            RETURNING id
        ), new_answers AS (
            INSERT INTO {Answer._meta.db_table}
                (response_id, question_id, score, score_norm, satisfied, text)
            SELECT new_response.id, a.question_id, a.score, a.score_norm, a.satisfied, a.text
            FROM new_response, (VALUES {values}) AS a(question_id, score, score_norm, satisfied, text)
        ), answered AS (
            UPDATE {Invitation._meta.db_table}
            SET answered_at = %s, clicked_at = COALESCE(clicked_at, %s)
            WHERE id = %s
        )
        SELECT id FROM new_response
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        response.pk = cursor.fetchone()[0]


def scored_answer(question: Question, score: int) -> dict:
    """The fields an Answer stores for `score`: satisfied and score_norm decided once, from the
    frozen question (the answer page and the historical import both write through here).

    Raises ValueError when the score is not a point of the question's scale.
    """
    scale = question.scale_def
    if scale is None or score not in scale.points:
        raise ValueError(f"{score} is not on the {question.scale or 'comment'} scale")
    return {
        "question": question,
        "score": score,
        "score_norm": scales.normalized_score(question.scale, question.reversed, score),
        "satisfied": question.is_satisfied(score),
    }


def _validate_answers(questions: list[Question], answers: dict[str, str]) -> list[dict]:
    rows = []
    for q in questions:
        raw = (answers.get(q.key) or "").strip()
        if q.kind == scales.COMMENT:
            if len(raw) > q.max_length:
                raise DomainError(
                    gettext(
                        "Please shorten your comment to %(limit)d characters (it has %(length)d)."
                    )
                    % {"limit": q.max_length, "length": len(raw)},
                    field=q.key,
                )
            if not raw and q.required:
                raise DomainError(gettext("Please answer this question."), field=q.key)
            if raw:
                rows.append({"question": q, "text": raw})
            continue
        if not raw:
            if q.required:
                raise DomainError(gettext("Please choose an answer."), field=q.key)
            continue
        try:
            score = int(raw)
        except ValueError:
            raise DomainError(
                gettext("Please choose one of the answers shown."), field=q.key
            ) from None
        try:
            rows.append(scored_answer(q, score))
        except ValueError:
            raise DomainError(
                gettext("Please choose one of the answers shown."), field=q.key
            ) from None
    if not rows:
        raise DomainError(gettext("Please answer at least one question."), field=None)
    return rows


# --- Unsubscribes ------------------------------------------------------------------------------


@transaction.atomic
def unsubscribe(*, invitation: Invitation) -> bool:
    """Stop every survey to the invitation's customer, at once. True if this call unsubscribed.

    Safe to repeat. Scheduled invitations are suppressed now; the sender checks again at send time.
    """
    now = timezone.now()
    changed = Contact.objects.filter(pk=invitation.contact_id, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now
    )
    Invitation.objects.filter(
        contact_id=invitation.contact_id, status=Invitation.Status.SCHEDULED
    ).update(status=Invitation.Status.SUPPRESSED, status_reason="the customer unsubscribed")
    return changed == 1
