"""What the customer's answer page shows: one function, used by the live page and the preview."""

from dataclasses import dataclass, field

from django.utils.translation.trans_real import parse_accept_lang_header

from . import scales
from .languages import pick_language
from .models import Question, Survey, localized


@dataclass
class PointView:
    value: int
    label: str
    face: str = ""
    selected: bool = False


@dataclass
class QuestionView:
    key: str
    kind: str
    scale: str
    text: str
    required: bool
    points: list[PointView] = field(default_factory=list)
    max_length: int = 0
    value: str = ""
    error: str = ""

    @property
    def is_comment(self) -> bool:
        return self.kind == scales.COMMENT

    @property
    def is_emoji(self) -> bool:
        return self.scale.startswith("emoji")

    @property
    def is_long(self) -> bool:
        return len(self.points) > 7

    @property
    def end_labels(self) -> tuple[str, str]:
        return (self.points[0].label, self.points[-1].label) if self.points else ("", "")


def page_language(
    survey: Survey, *, requested: str = "", stored: str = "", accept: str = ""
) -> str:
    """The switch (?lang=), else the customer's locale, else the browser, else the first language."""
    browser = [code for code, _ in parse_accept_lang_header(accept or "")]
    return pick_language(survey, requested, stored, *browser)


def question_views(
    survey: Survey,
    questions: list[Question],
    language: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> list[QuestionView]:
    values = values or {}
    errors = errors or {}
    views = []
    for q in questions:
        view = QuestionView(
            key=q.key,
            kind=q.kind,
            scale=q.scale,
            text=localized(q.text, language, survey.default_language),
            required=q.required,
            max_length=q.max_length if q.kind == scales.COMMENT else 0,
            value=values.get(q.key, ""),
            error=errors.get(q.key, ""),
        )
        if q.is_scored:
            scale = scales.get_scale(q.scale)
            labels = q.labels_in(language)
            for i, point in enumerate(scale.points):
                view.points.append(
                    PointView(
                        value=point,
                        label=labels[i] if i < len(labels) else str(point),
                        face=scale.faces[i] if scale.faces else "",
                        selected=values.get(q.key) == str(point),
                    )
                )
        views.append(view)
    return views
