"""Plain decisions, no database: does an answer open a follow-up, and who owns it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext


@dataclass(frozen=True)
class ScoredAnswer:
    """The primary question's answer, as the trigger needs it."""

    score: int
    satisfied: bool | None
    reversed: bool = False


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


def trigger_reason(
    *,
    enabled: bool,
    on_not_satisfied: bool,
    score_at_most: int | None,
    keywords: list[str],
    primary: ScoredAnswer | None,
    comments: list[str],
) -> Trigger | None:
    """Why this answer opens a follow-up, or None if it does not."""
    if not enabled:
        return None
    if primary is not None:
        if on_not_satisfied and primary.satisfied is False:
            return Trigger("not_satisfied", score=primary.score)
        if score_at_most is not None:
            # On a reversed scale (1 = best) "as bad as N or worse" means N or more.
            worse = (
                primary.score >= score_at_most
                if primary.reversed
                else primary.score <= score_at_most
            )
            if worse:
                return Trigger("score", score=primary.score, limit=score_at_most)
    text = " ".join(comments).casefold()
    if text:
        for word in keywords:
            if word.strip() and word.strip().casefold() in text:
                return Trigger("keyword", word=word.strip())
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
