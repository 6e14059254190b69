"""Many responses at once (bulk inserts), for export and dashboard tests that need volume."""

from datetime import UTC, datetime, timedelta

from surveys import scales
from surveys.models import Answer, Response, Survey


def add_responses(survey: Survey, count: int, *, start: str = "2026-03-01") -> None:
    """`count` responses spread over March 2026, scores cycling 1-5, every third commented."""
    primary = survey.primary_question()
    comment = next(q for q in survey.questions.all() if q.kind == scales.COMMENT)
    first = datetime.fromisoformat(start).replace(tzinfo=UTC)
    responses = Response.objects.bulk_create(
        Response(
            survey=survey,
            submitted_at=first + timedelta(minutes=(i * 13) % (30 * 24 * 60)),
            touchpoint_type=survey.touchpoint,
            attributes={"channel": ("web", "app", "phone")[i % 3], "region": f"r{i % 4}"},
        )
        for i in range(count)
    )
    answers = []
    for i, response in enumerate(responses):
        score = 1 + i % 5
        answers.append(
            Answer(
                response=response,
                question=primary,
                score=score,
                score_norm=scales.normalized_score(primary.scale, primary.reversed, score),
                satisfied=primary.is_satisfied(score),
            )
        )
        if i % 3 == 0:
            answers.append(Answer(response=response, question=comment, text=f"comment number {i}"))
    Answer.objects.bulk_create(answers, batch_size=2000)
