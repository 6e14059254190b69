"""Responses written straight to the tables, for report tests (the answer page has its own)."""

from datetime import UTC, datetime

from surveys import scales
from surveys.models import Answer, Contact, Response, Survey
from tests.factories import make_survey, rating_question


def add_response(
    survey: Survey,
    scores: dict[str, int],
    *,
    at: datetime | str,
    contact: Contact | None = None,
    locale: str = "en",
    attributes: dict | None = None,
    is_test: bool = False,
    touchpoint_type: str | None = None,
    comment: str = "",
) -> Response:
    """One response with a score per question key, `satisfied` and `score_norm` decided like the
    answer page, and a `comment` (to the survey's comment question) unless it is empty."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
    response = Response.objects.create(
        survey=survey,
        contact=contact,
        submitted_at=at,
        locale=locale,
        touchpoint_type=survey.touchpoint if touchpoint_type is None else touchpoint_type,
        attributes=attributes or {},
        is_test=is_test,
    )
    questions = {q.key: q for q in survey.questions.all()}
    answers = [
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
        question = next(q for q in questions.values() if q.kind == scales.COMMENT)
        answers.append(Answer(response=response, question=question, text=comment))
    Answer.objects.bulk_create(answers)
    return response


def nps_survey(slug: str = "shop", **kwargs) -> Survey:
    """A survey with a primary rating question, an NPS question and a comment question."""
    return make_survey(
        slug=slug,
        csat_target=75,
        questions=[
            rating_question(key="satisfaction", primary=True),
            {"key": "recommend", "kind": "nps", "scale": "0-10", "text": "Recommend us?"},
            {"key": "comment", "kind": "comment", "text": "Anything else?"},
        ],
        **kwargs,
    )
