"""Which of a survey's languages a customer gets: the invitation, its email and the answer page
all ask here. A language whose texts are incomplete (surveys.translations) is not offered: the
customer gets the survey's first language as a whole, never a page or mail mixing two."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Survey
from .selectors import survey_questions
from .translations import missing_translations

_OFFERED: dict[tuple, list[str]] = {}  # (survey id, updated_at) → offered languages


def offered_languages(survey: Survey) -> list[str]:
    """The survey's languages with every text, the first language always. Kept on the survey
    object, and per process for a saved survey as it was last saved (as its questions are:
    selectors.survey_questions), so the answer page does not check every text per request."""
    cached = getattr(survey, "_offered_languages", None)
    if cached is not None:
        return cached
    languages = list(survey.languages or [])
    key = (survey.pk, survey.updated_at) if survey.pk and len(languages) > 1 else None
    cached = languages if len(languages) <= 1 else _OFFERED.get(key)
    if cached is None:
        incomplete = {m.language for m in missing_translations(survey, survey_questions(survey))}
        cached = [code for i, code in enumerate(languages) if i == 0 or code not in incomplete]
        if key is not None:
            if len(_OFFERED) > 500:
                _OFFERED.clear()
            _OFFERED[key] = cached
    survey._offered_languages = cached
    return cached


def match_language(survey: Survey, code: str, languages: Iterable[str] | None = None) -> str | None:
    """The language among `languages` (default: all the survey's) matching `code` (a full tag or
    its primary subtag), if any."""
    if not code:
        return None
    languages = list(survey.languages if languages is None else languages)
    code = code.lower().replace("_", "-")
    for candidate in (code, code.split("-")[0]):
        if candidate in languages:
            return candidate
    return None


def pick_language(survey: Survey, *wanted: str) -> str:
    """The first of `wanted` the survey offers (offered_languages), else its first language."""
    offered = offered_languages(survey)
    for code in wanted:
        match = match_language(survey, code, offered)
        if match:
            return match
    return survey.default_language
