"""One line of the file: validated into a Row, or every reason it is rejected; its import key."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from csat_platform.boundary import problem_in_row
from surveys import attributes as attribute_rules
from surveys.languages import match_language
from surveys.models import Question
from surveys.responses import scored_answer
from surveys.touchpoints import LOCALE_RE, TYPE_RE

from .. import periods
from .spec import ImportSpec

MAX_VALUE = 200
EARLIEST_YEAR = 1970
KEY_LENGTH = 64  # Response.import_key
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WHOLE_NUMBER = re.compile(r"^[+-]?\d+(\.0+)?$")


@dataclass
class Row:
    line: int
    submitted_at: datetime
    score: int
    comment: str = ""
    email: str = ""
    customer_id: str = ""
    touchpoint_type: str = ""
    touchpoint_id: str = ""
    locale: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    key: str = ""


def parse_moment(raw: str, *, now: datetime) -> datetime:
    """An ISO date (midnight in the site's time zone) or date and time (without an offset: in
    the site's time zone). Raises ValueError with the reason."""
    raw = raw.strip()
    if not raw:
        raise ValueError("submitted_at is missing")
    zone = periods.site_zone()
    try:
        if DATE_ONLY.match(raw):
            moment = datetime.combine(date.fromisoformat(raw), time.min, tzinfo=zone)
        else:
            moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"submitted_at {raw[:40]!r} is not an ISO date or date and time "
            "(e.g. 2024-03-01 or 2024-03-01T14:30:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if moment > now:
        raise ValueError(f"submitted_at {raw[:40]} lies in the future")
    if moment.year < EARLIEST_YEAR:
        raise ValueError(f"submitted_at {raw[:40]} is before {EARLIEST_YEAR}: check the year")
    return moment


def parse_score(raw: str, question: Question) -> int:
    raw = raw.strip()
    if not raw:
        raise ValueError("score is missing")
    if not WHOLE_NUMBER.match(raw):
        raise ValueError(f"score {raw[:20]!r} is not a whole number")
    score = int(float(raw))
    scale = question.scale_def
    try:
        scored_answer(question, score)
    except ValueError:
        raise ValueError(
            f"score {score} is not on the {question.scale} scale of {question.key!r} "
            f"({scale.low}-{scale.high})"
        ) from None
    return score


def parse_row(spec: ImportSpec, line: int, values: list[str], *, now: datetime) -> Row | str:
    """A valid Row, or every reason the line is rejected, joined by '; '."""
    if len(values) != len(spec.columns):
        return (
            f"has {len(values)} fields, the header has {len(spec.columns)} "
            "(a comment with the separator in it must be quoted)"
        )

    problem = problem_in_row(spec.columns, values)
    if problem is not None:
        return f"{problem.field}: {problem.message}"

    def value(name: str) -> str:
        index = spec.index(name)
        return values[index].strip() if index is not None else ""

    reasons: list[str] = []
    submitted_at = score = None
    try:
        submitted_at = parse_moment(value("submitted_at"), now=now)
    except ValueError as error:
        reasons.append(str(error))
    try:
        score = parse_score(value("score"), spec.question)
    except ValueError as error:
        reasons.append(str(error))

    comment = value("comment")
    if spec.comment_question and len(comment) > spec.comment_question.max_length:
        reasons.append(
            f"comment has {len(comment)} characters; the survey's comment question allows "
            f"{spec.comment_question.max_length}"
        )
    email = value("customer_email")
    if email:
        try:
            if len(email) > 254:
                raise ValidationError("too long")
            validate_email(email)
            email = email.lower()
        except ValidationError:
            reasons.append(f"customer_email {email[:60]!r} is not an email address")
    customer_id = value("customer_id")
    if len(customer_id) > MAX_VALUE:
        reasons.append(f"customer_id has more than {MAX_VALUE} characters")
    touchpoint_type = value("touchpoint_type") or spec.survey.touchpoint
    if not TYPE_RE.match(touchpoint_type):
        reasons.append(
            f"touchpoint_type {touchpoint_type[:40]!r}: use lowercase letters, digits, '_', '-' "
            "or '.' (e.g. purchase, support_contact)"
        )
    touchpoint_id = value("touchpoint_id")
    if len(touchpoint_id) > MAX_VALUE:
        reasons.append(f"touchpoint_id has more than {MAX_VALUE} characters")
    locale = value("locale")
    if locale:
        if not LOCALE_RE.match(locale) or len(locale) > 16:
            reasons.append(f"locale {locale[:20]!r} is not a language tag (e.g. de or de-AT)")
        else:
            locale = match_language(spec.survey, locale) or locale.lower().replace("_", "-")
    attributes = {}
    for index, name in spec.attributes:
        text = values[index].strip()
        problem = attribute_rules.value_error(text)
        if problem:
            reasons.append(f"attr.{name}: {problem}")
        elif text:
            attributes[name] = text
    if reasons:
        return "; ".join(reasons)
    return Row(
        line=line,
        submitted_at=submitted_at,
        score=score,
        comment=comment,
        email=email,
        customer_id=customer_id,
        touchpoint_type=touchpoint_type,
        touchpoint_id=touchpoint_id,
        locale=locale,
        attributes=attributes,
    )


def row_key(spec: ImportSpec, row: Row, occurrences: Counter) -> str:
    """The row's import_key: its touchpoint_id, else a hash of its content and of how many
    identical rows came before it in the file (so identical answers stay distinct answers, and
    the same file imported again yields the same keys)."""
    if row.touchpoint_id:
        if len(row.touchpoint_id) <= KEY_LENGTH:
            return row.touchpoint_id
        return "tp:" + hashlib.sha256(row.touchpoint_id.encode()).hexdigest()[: KEY_LENGTH - 3]
    content = json.dumps(
        [
            spec.question.key,
            row.submitted_at.astimezone(UTC).isoformat(),
            row.score,
            row.comment,
            row.email,
            row.customer_id,
            row.touchpoint_type,
            row.locale,
            sorted(row.attributes.items()),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    digest = hashlib.sha256(content).digest()
    occurrences[digest] += 1
    numbered = hashlib.sha256(content + b"#%d" % occurrences[digest]).hexdigest()
    return "row:" + numbered[: KEY_LENGTH - 4]
