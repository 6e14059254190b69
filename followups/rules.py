"""Plain values of the follow-up rules: why an answer opened a follow-up (Trigger), and the
keywords an admin typed. Whether it opens one is followups.triggers."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext


@dataclass(frozen=True)
class Trigger:
    """Why an answer opens a follow-up: the rule that fired and its values. Stored with the
    follow-up (as_dict) and worded in the reader's language when shown (text)."""

    rule: str  # not_satisfied, score, keyword
    score: int | None = None
    limit: int | None = None
    word: str = ""

    def text(self) -> str:
        if self.rule == "not_satisfied":
            return gettext("not satisfied (score %(score)s)") % {"score": self.score}
        if self.rule == "score":
            return gettext("score %(score)s: %(limit)s or worse") % {
                "score": self.score,
                "limit": self.limit,
            }
        return gettext("comment mentions “%(word)s”") % {"word": self.word}

    def as_dict(self) -> dict:
        return {"rule": self.rule, "score": self.score, "limit": self.limit, "word": self.word}

    @classmethod
    def from_dict(cls, data: dict) -> Trigger | None:
        try:
            return cls(**data) if data else None
        except TypeError:
            return None


def clean_keywords(raw: str | list[str]) -> list[str]:
    """Keywords from a comma- or line-separated text, trimmed, without duplicates, in order."""
    parts = raw if isinstance(raw, list) else raw.replace("\n", ",").split(",")
    seen: dict[str, str] = {}
    for part in parts:
        word = " ".join(str(part).split())
        if word and word.casefold() not in seen:
            seen[word.casefold()] = word
    return list(seen.values())
