"""Responses with a score, a comment and attributes, written straight to the tables."""

from datetime import UTC, datetime

from reports.receivers import mark_response_days
from surveys import scales
from surveys.models import Answer, Response, Survey


def respond(
    survey: Survey,
    score: int | None,
    comment: str = "",
    *,
    at: str | datetime = "2026-03-10T12:00",
    attributes: dict | None = None,
    touchpoint_type: str | None = None,
    is_test: bool = False,
) -> Response:
    """One response to the survey's primary question (and its comment question), stored the way
    the answer page stores it: satisfied and score_norm decided from the question."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
    response = Response.objects.create(
        survey=survey,
        submitted_at=at,
        locale="en",
        touchpoint_type=survey.touchpoint if touchpoint_type is None else touchpoint_type,
        attributes=attributes or {},
        is_test=is_test,
    )
    rows = []
    primary = survey.primary_question()
    if score is not None:
        rows.append(
            Answer(
                response=response,
                question=primary,
                score=score,
                score_norm=scales.normalized_score(primary.scale, primary.reversed, score),
                satisfied=primary.is_satisfied(score),
            )
        )
    if comment:
        question = next(q for q in survey.questions.all() if q.kind == scales.COMMENT)
        rows.append(Answer(response=response, question=question, text=comment))
    Answer.objects.bulk_create(rows)
    # As the answer page does: the response's day is stale for the rollups (beat folds it in).
    mark_response_days(sender=None, response=response)
    return response


def answer_all(
    survey: Survey,
    scores: dict[str, int],
    comment: str = "",
    *,
    at: str,
    invitation=None,
    attributes: dict | None = None,
    is_test: bool = False,
) -> Response:
    """One response answering the questions in `scores` (and the comment), stored as the answer
    page stores it."""
    submitted_at = datetime.fromisoformat(at)
    response = Response.objects.create(
        survey=survey,
        submitted_at=submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=UTC),
        locale="en",
        is_test=is_test,
        touchpoint_type=survey.touchpoint,
        attributes={"channel": "web"} if attributes is None else attributes,
        invitation=invitation,
        contact=invitation.contact if invitation else None,
    )
    questions = {q.key: q for q in survey.questions.all()}
    rows = [
        Answer(
            response=response,
            question=questions[key],
            score=score,
            score_norm=scales.normalized_score(
                questions[key].scale, questions[key].reversed, score
            ),
            satisfied=questions[key].is_satisfied(score),
        )
        for key, score in scores.items()
    ]
    if comment:
        rows.append(Answer(response=response, question=questions["comment"], text=comment))
    Answer.objects.bulk_create(rows)
    mark_response_days(sender=None, response=response)
    return response
