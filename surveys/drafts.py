"""The designer's unsaved survey: the editor's JSON, validated as a save would validate it, as a
survey and questions that are never saved. The page and email previews show it."""

from __future__ import annotations

import copy
import json

from .api.serializers import SurveySerializer
from .models import Question, Survey, primary_of
from .services import QUESTION_FIELDS

# What the previews show of a survey; the rest stays as saved.
SHOWN_FIELDS = (
    "name",
    "languages",
    "title",
    "intro",
    "thank_you",
    "touchpoint",
    "email_subject",
    "email_body",
    "expires_after_days",
)


class DraftError(ValueError):
    """An unusable draft; `detail` is the 400 answer's JSON (the serializer's errors)."""

    def __init__(self, detail: dict):
        super().__init__("invalid draft")
        self.detail = detail


def parse_draft(survey: Survey, body: bytes | str) -> tuple[Survey, list[Question]]:
    """The saved `survey` with the editor's unsaved changes (JSON `body`), or DraftError."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise DraftError({"detail": "The preview needs a JSON body."}) from None
    if not isinstance(payload, dict):
        raise DraftError({"detail": "The preview needs a JSON object."})
    serializer = SurveySerializer(survey, data=payload, partial=True)
    if not serializer.is_valid():
        raise DraftError(serializer.errors)
    data = serializer.validated_data
    draft = copy.copy(survey)  # keeps its id for the templates; it is never saved
    for name in SHOWN_FIELDS:
        if name in data:
            setattr(draft, name, data[name])
    if "questions" in data:
        questions = [
            Question(survey=draft, key=q["key"], **{f: q[f] for f in QUESTION_FIELDS if f in q})
            for q in data["questions"]
        ]
    else:
        questions = list(survey.questions.all())
    # The email asks the draft for its primary question: the unsaved ones, not the saved rows.
    draft.primary_question = lambda: primary_of(questions)
    return draft, questions
