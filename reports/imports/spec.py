"""The survey to import into and what the file's header means for it."""

from __future__ import annotations

from dataclasses import dataclass

from surveys import attributes as attribute_rules
from surveys import scales
from surveys.errors import DomainError
from surveys.models import Question, Survey

COLUMNS = (
    "submitted_at",
    "score",
    "comment",
    "customer_email",
    "customer_id",
    "touchpoint_type",
    "touchpoint_id",
    "locale",
)
REQUIRED = ("submitted_at", "score")
ATTR_PREFIX = "attr."
BATCH_SIZE = 2000


class ImportFileError(DomainError):
    """The file or the command as a whole cannot be imported (nothing is written for it)."""


@dataclass(frozen=True)
class ImportSpec:
    """What a file's header means for a survey: where the score and the comment go."""

    survey: Survey
    question: Question
    comment_question: Question | None
    columns: tuple[str, ...]
    attributes: tuple[tuple[int, str], ...]  # (column index, attribute name)

    def index(self, name: str) -> int | None:
        return self.columns.index(name) if name in self.columns else None


def find_survey(slug: str) -> Survey:
    """The published survey to import into; ImportFileError for an unknown or draft one."""
    survey = Survey.objects.filter(slug=slug).prefetch_related("questions").first()
    if survey is None:
        known = ", ".join(Survey.objects.order_by("slug").values_list("slug", flat=True)[:20])
        raise ImportFileError(
            f"no survey with the slug {slug!r}" + (f" (surveys: {known})" if known else "")
        )
    if not survey.is_published:
        raise ImportFileError(
            f"the survey {slug!r} is a draft: its scales are not frozen yet, so imported scores "
            "could later mean something else. Publish it first, then import."
        )
    return survey


def plan_import(
    survey: Survey, header: list[str], *, question_key: str | None = None
) -> ImportSpec:
    """Check the header against the survey; ImportFileError names the first problem."""
    questions = sorted(survey.questions.all(), key=lambda q: (q.position, q.id))
    if question_key:
        question = next((q for q in questions if q.key == question_key), None)
        if question is None:
            raise ImportFileError(
                f"the survey has no question {question_key!r} "
                f"(questions: {', '.join(q.key for q in questions)})"
            )
        if not question.is_scored:
            raise ImportFileError(f"the question {question_key!r} is a comment: it has no score")
    else:
        question = survey.primary_question()
        if question is None:
            raise ImportFileError("the survey has no rating, NPS or CES question to import into")
    comment_question = next((q for q in questions if q.kind == scales.COMMENT), None)

    columns: list[str] = []
    attributes: list[tuple[int, str]] = []
    for index, raw in enumerate(header):
        name = raw.strip()
        if name.lower().startswith(ATTR_PREFIX):
            attribute = name[len(ATTR_PREFIX) :]
            problem = attribute_rules.name_error(attribute)
            if problem:
                raise ImportFileError(f"column {raw!r}: {problem}")
            name = ATTR_PREFIX + attribute
            attributes.append((index, attribute))
        else:
            name = name.lower()
            if name not in COLUMNS:
                raise ImportFileError(
                    f"unknown column {raw!r}: the columns are {', '.join(COLUMNS)} and "
                    "attr.<name> for attributes"
                )
        if name in columns:
            raise ImportFileError(f"the column {name!r} appears twice")
        columns.append(name)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportFileError(
            f"the file has no {' and no '.join(repr(c) for c in missing)} column "
            f"(its header: {', '.join(header)})"
        )
    if len(attributes) > attribute_rules.MAX_ATTRIBUTES:
        raise ImportFileError(f"at most {attribute_rules.MAX_ATTRIBUTES} attr.<name> columns")
    if "comment" in columns and comment_question is None:
        raise ImportFileError(
            "the file has a 'comment' column but the survey has no comment question: add one "
            "in the designer (allowed after publishing) or leave the column out"
        )
    return ImportSpec(
        survey=survey,
        question=question,
        comment_question=comment_question,
        columns=tuple(columns),
        attributes=tuple(attributes),
    )
