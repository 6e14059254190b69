"""Which of a survey's languages a customer gets: the invitation, its email and the answer page
all ask here."""

from __future__ import annotations

from .models import Survey


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
