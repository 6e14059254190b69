"""The words rollup writers and report readers share: dimensions, how long their keys and values
may be, the layout of answer counts and the scopes of coverage.

Plain code, no database. Writers (reports.rollups) and readers (reports.selectors,
reports.responses) both import it, and it imports neither.
"""

from __future__ import annotations

from surveys.attributes import attribute_text as shown_text

TOTAL = ""  # the dimension of the totals
TOUCHPOINT = "touchpoint"  # Response.touchpoint_type (an invitation: its survey's touchpoint)
LANGUAGE = "language"  # Response.locale / Invitation.locale
ATTR_PREFIX = "attr:"  # "attr:<name>": one attribute
KEY_LENGTH, VALUE_LENGTH = 100, 200  # attribute names and values as the rollups keep them

# Counts: the number of answers per score 0..10, then how many of them were satisfied.
SCORE_SLOTS = 11  # n0..n10: every scale of surveys.scales has its points within 0..10
COUNTS = [f"n{score}" for score in range(SCORE_SLOTS)]
SATISFIED = SCORE_SLOTS  # the index of the satisfied count in Counts
INVITATION_FIELDS = ("sent", "bounced", "clicked", "answered", "commented")

Counts = list[int]


def empty_counts() -> Counts:
    return [0] * (SCORE_SLOTS + 1)


def add_counts(into: Counts, other) -> Counts:
    for i, value in enumerate(other):
        into[i] += value
    return into


def answers_of(counts: Counts) -> int:
    return sum(counts[:SCORE_SLOTS])


def attr_dimension(name: str) -> str:
    return f"{ATTR_PREFIX}{name}"


def attribute_text(value) -> str | None:
    """An attribute value as rollup text (surveys.attributes' text, cut to the key length)."""
    text = shown_text(value)
    return None if text is None else text[:VALUE_LENGTH]


def dimensions_of(touchpoint_type: str, locale: str, attributes) -> list[tuple[str, str]]:
    """The (dimension, value) pairs a response or invitation is counted under, sorted."""
    dims = [(TOUCHPOINT, touchpoint_type[:VALUE_LENGTH]), (LANGUAGE, locale[:VALUE_LENGTH])]
    if isinstance(attributes, dict):
        for name, raw in attributes.items():
            text = attribute_text(raw)
            if text is not None and len(name) <= KEY_LENGTH:
                dims.append((attr_dimension(name), text))
    return sorted(dims)


def respondents_scope(survey_id: int) -> str:
    """The coverage scope of a survey's respondents."""
    return f"respondents:{survey_id}"


def customers_scope(touchpoint_type: str) -> str:
    """The coverage scope of the customers with a touchpoint of this type."""
    return f"customers:{touchpoint_type}"[:60]
