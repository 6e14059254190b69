"""Attributes: what a touchpoint says about the purchase or the contact (channel, agent,
product, region...), frozen onto its invitation and response.

One rule for their names and values, whichever way they come in (the touchpoint API and its CSV
import, the invitation API, the response import), and one way to compare a value, exact and
case-sensitive, the way the dashboards group them: a survey's filters and the follow-up routing
rules match exactly the values a breakdown shows.
"""

from __future__ import annotations

import json
import re

MAX_ATTRIBUTES = 50
MAX_NAME_LENGTH = 50
MAX_VALUE_LENGTH = 200
NAME = re.compile(rf"^[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{MAX_NAME_LENGTH - 1}}}$")
NAME_RULE = f"letters, digits, '_', '-' or '.', at most {MAX_NAME_LENGTH}"


def name_error(name: object) -> str | None:
    """Why `name` cannot name an attribute, or None."""
    if not isinstance(name, str) or not NAME.match(name):
        return f"{str(name)[:MAX_NAME_LENGTH]!r} is not an attribute name ({NAME_RULE})."
    return None


def value_error(value: object) -> str | None:
    """Why `value` cannot be an attribute's value (text, a number, true/false or null), or None."""
    if isinstance(value, str):
        return f"At most {MAX_VALUE_LENGTH} characters." if len(value) > MAX_VALUE_LENGTH else None
    if value is None or isinstance(value, bool | int | float):
        return None
    return "Give a string, a number, true/false or null."


def errors(attributes: object, *, path: str = "attributes") -> dict[str, list[str]]:
    """Every problem of an attributes object, as {"attributes.<name>": ["message"]}; {} if none."""
    if not isinstance(attributes, dict):
        return {path: ['Give an object like {"channel": "web"}.']}
    if len(attributes) > MAX_ATTRIBUTES:
        return {path: [f"At most {MAX_ATTRIBUTES} attributes."]}
    found = {}
    for name, value in attributes.items():
        good_name = isinstance(name, str) and NAME.match(name)
        problem = value_error(value) if good_name else name_error(name)
        if problem:
            found[f"{path}.{str(name)[:MAX_NAME_LENGTH]}"] = [problem]
    return found


def attribute_text(value: object) -> str | None:
    """An attribute value as the reports show and count it: text as it is, numbers and true/false
    as JSON writes them; None for null (and for anything else, which is never counted)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def value_matches(value: object, wanted: str) -> bool:
    """Whether an attribute's value is `wanted`: exactly, as the reports would show it."""
    text = attribute_text(value)
    return text is not None and text == wanted
