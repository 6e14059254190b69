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


def trigger_reason(
    *,
    enabled: bool,
    on_not_satisfied: bool,
    score_at_most: int | None,
    keywords: list[str],
    primary: ScoredAnswer | None,
    comments: list[str],
) -> str | None:
    """Why this answer opens a follow-up (a short text for people), or None if it does not."""
    if not enabled:
        return None
    if primary is not None:
        if on_not_satisfied and primary.satisfied is False:
            return gettext("not satisfied (score %(score)s)") % {"score": primary.score}
        if score_at_most is not None:
            # On a reversed scale (1 = best) "as bad as N or worse" means N or more.
            worse = (
                primary.score >= score_at_most
                if primary.reversed
                else primary.score <= score_at_most
            )
            if worse:
                return gettext("score %(score)s: %(limit)s or worse") % {
                    "score": primary.score,
                    "limit": score_at_most,
                }
    text = " ".join(comments).casefold()
    if text:
        for word in keywords:
            if word.strip() and word.strip().casefold() in text:
                return gettext("comment mentions “%(word)s”") % {"word": word.strip()}
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
