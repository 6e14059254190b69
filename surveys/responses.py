"""A customer's response: the answer page records the click and the one response of an
invitation; the historical import writes its answers through `scored_answer` too."""

from __future__ import annotations

import json

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from . import scales, signals
from .errors import AlreadyAnswered, DomainError, InvitationClosed
from .models import Answer, Invitation, Question, Response, Survey


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
