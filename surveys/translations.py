"""Which of a survey's texts are missing in which of its languages: a warning before publishing.

A text counts as missing in a language when the survey has it in another of its languages (an
empty introduction everywhere is a choice, not a gap). Question texts are needed in every
language; custom scale labels are needed wherever another language has them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

from .models import Question, Survey

SURVEY_TEXT_FIELDS = ("title", "intro", "thank_you", "email_subject", "email_body")


def _field_names() -> dict[str, str]:
    return {
        "title": gettext("Title for customers"),
        "intro": gettext("Introduction"),
        "thank_you": gettext("Thank-you text"),
        "email_subject": gettext("Email subject"),
        "email_body": gettext("Email text"),
    }


@dataclass(frozen=True)
class MissingTranslation:
    language: str
    field: str  # "intro", "thank_you", "email_subject", "email_body", "questions.<key>.text|labels"
    label: str

    def as_dict(self) -> dict:
        language = dict(settings.LANGUAGES).get(self.language, self.language)
        return {
            "language": self.language,
            "field": self.field,
            "message": gettext("%(field)s is missing in %(language)s.")
            % {"field": self.label, "language": language},
        }


def _has(texts, language: str) -> bool:
    if isinstance(texts, dict):
        value = texts.get(language)
        return bool(value.strip() if isinstance(value, str) else value)
    return False


def missing_translations(
    survey: Survey, questions: list[Question] | None = None
) -> list[MissingTranslation]:
    """Survey language × field pairs without a text, in the survey's order of languages."""
    if questions is None:
        questions = list(survey.questions.all())
    languages = list(survey.languages or [])
    names = _field_names()
    missing = []
    for language in languages:
        for field in SURVEY_TEXT_FIELDS:
            texts = getattr(survey, field)
            used = isinstance(texts, dict) and any(_has(texts, o) for o in languages)
            if used and not _has(texts, language):
                missing.append(MissingTranslation(language, field, names[field]))
        for position, question in enumerate(questions, start=1):
            if not _has(question.text, language):
                label = gettext("Question %(number)s (%(key)s)") % {
                    "number": position,
                    "key": question.key,
                }
                missing.append(
                    MissingTranslation(language, f"questions.{question.key}.text", label)
                )
            labels = question.labels if isinstance(question.labels, dict) else {}
            if any(labels.get(o) for o in languages) and not labels.get(language):
                label = gettext("Scale labels of question %(number)s (%(key)s)") % {
                    "number": position,
                    "key": question.key,
                }
                missing.append(
                    MissingTranslation(language, f"questions.{question.key}.labels", label)
                )
    return missing
