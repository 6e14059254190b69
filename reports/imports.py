"""Historical import of responses from CSV (`manage.py import_responses`).

The file is read line by line (UTF-8 with or without a BOM, CRLF or LF, quoted multi-line
comments, ',' ';' or tab between fields). Every row is validated the way the answer page and the
touchpoint API validate theirs; valid rows are written in batches, one transaction each:
contacts matched or created, responses (source "import", with an import_key) and their answers in
bulk, and the batch's days marked stale for the rollups. A crash mid-file leaves whole batches,
and importing the file again recognises every row already stored.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Lower
from django.utils import timezone

from privacy.models import ErasedIdentifier
from privacy.services import subject_hash
from surveys import scales
from surveys.errors import DomainError
from surveys.models import Answer, Contact, Question, Response, Survey
from surveys.services import match_language, scored_answer
from surveys.touchpoints import LOCALE_RE, TYPE_RE

from . import periods, rollups
from .filters import ATTRIBUTE_NAME

COLUMNS = (
    "submitted_at",
    "score",
    "comment",
    "customer_email",
    "customer_id",
    "touchpoint_type",
    "touchpoint_id",
    "locale",
)
REQUIRED = ("submitted_at", "score")
ATTR_PREFIX = "attr."
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_NAME = 50
MAX_VALUE = 200
BATCH_SIZE = 2000
EARLIEST_YEAR = 1970
KEY_LENGTH = 64  # Response.import_key
DELIMITERS = (",", ";", "\t")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WHOLE_NUMBER = re.compile(r"^[+-]?\d+(\.0+)?$")
# Up to this many imported days the rollups are always recomputed day by day (see update_rollups).
RECOMPUTE_DAYS_LIMIT = 45


class ImportFileError(DomainError):
    """The file or the command as a whole cannot be imported (nothing is written for it)."""


@dataclass(frozen=True)
class ImportSpec:
    """What a file's header means for a survey: where the score and the comment go."""

    survey: Survey
    question: Question
    comment_question: Question | None
    columns: tuple[str, ...]
    attributes: tuple[tuple[int, str], ...]  # (column index, attribute name)

    def index(self, name: str) -> int | None:
        return self.columns.index(name) if name in self.columns else None


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


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    values: tuple[str, ...]


@dataclass
class ImportResult:
    lines: int = 0
    imported: int = 0
    already: int = 0
    rejected: int = 0
    contacts_created: int = 0
    days: set[date] = field(default_factory=set)


# --- the survey and the header -----------------------------------------------------------------


def find_survey(slug: str) -> Survey:
    """The published survey to import into; ImportFileError for an unknown or draft one."""
    survey = Survey.objects.filter(slug=slug).prefetch_related("questions").first()
    if survey is None:
        known = ", ".join(Survey.objects.order_by("slug").values_list("slug", flat=True)[:20])
        raise ImportFileError(
            f"no survey with the slug {slug!r}" + (f" (surveys: {known})" if known else "")
        )
    if not survey.is_published:
        raise ImportFileError(
            f"the survey {slug!r} is a draft: its scales are not frozen yet, so imported scores "
            "could later mean something else. Publish it first, then import."
        )
    return survey


def plan_import(
    survey: Survey, header: list[str], *, question_key: str | None = None
) -> ImportSpec:
    """Check the header against the survey; ImportFileError names the first problem."""
    questions = sorted(survey.questions.all(), key=lambda q: (q.position, q.id))
    if question_key:
        question = next((q for q in questions if q.key == question_key), None)
        if question is None:
            raise ImportFileError(
                f"the survey has no question {question_key!r} "
                f"(questions: {', '.join(q.key for q in questions)})"
            )
        if not question.is_scored:
            raise ImportFileError(f"the question {question_key!r} is a comment: it has no score")
    else:
        question = survey.primary_question()
        if question is None:
            raise ImportFileError("the survey has no rating, NPS or CES question to import into")
    comment_question = next((q for q in questions if q.kind == scales.COMMENT), None)

    columns: list[str] = []
    attributes: list[tuple[int, str]] = []
    for index, raw in enumerate(header):
        name = raw.strip()
        if name.lower().startswith(ATTR_PREFIX):
            attribute = name[len(ATTR_PREFIX) :]
            if (
                not ATTRIBUTE_NAME.match(attribute)
                or "__" in attribute
                or len(attribute) > MAX_ATTRIBUTE_NAME
            ):
                raise ImportFileError(
                    f"column {raw!r}: an attribute name has letters, digits, '_' and '-' "
                    f"(at most {MAX_ATTRIBUTE_NAME}), e.g. attr.region"
                )
            name = ATTR_PREFIX + attribute
            attributes.append((index, attribute))
        else:
            name = name.lower()
            if name not in COLUMNS:
                raise ImportFileError(
                    f"unknown column {raw!r}: the columns are {', '.join(COLUMNS)} and "
                    "attr.<name> for attributes"
                )
        if name in columns:
            raise ImportFileError(f"the column {name!r} appears twice")
        columns.append(name)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportFileError(
            f"the file has no {' and no '.join(repr(c) for c in missing)} column "
            f"(its header: {', '.join(header)})"
        )
    if len(attributes) > MAX_ATTRIBUTES:
        raise ImportFileError(f"at most {MAX_ATTRIBUTES} attr.<name> columns")
    if "comment" in columns and comment_question is None:
        raise ImportFileError(
            "the file has a 'comment' column but the survey has no comment question: add one "
            "in the designer (allowed after publishing) or leave the column out"
        )
    return ImportSpec(
        survey=survey,
        question=question,
        comment_question=comment_question,
        columns=tuple(columns),
        attributes=tuple(attributes),
    )


# --- reading the file --------------------------------------------------------------------------


class CsvFile:
    """The header and the records of a CSV file, with the line each record starts on.

    `on_bytes(n)` is called as the file is consumed (for a progress bar). Encodings must keep
    ASCII as it is (UTF-8, the default, or e.g. cp1252); a BOM is skipped.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        encoding: str = "utf-8",
        on_bytes: Callable[[int], None] | None = None,
    ):
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise ImportFileError(f"unknown encoding {encoding!r}") from None
        if 'a,;\t\r\n"'.encode(codec.name) != b'a,;\t\r\n"':
            raise ImportFileError(f"{encoding} files are not supported: save the file as UTF-8")
        self.encoding = codec.name
        self._stream = stream
        self._on_bytes = on_bytes or (lambda n: None)
        self._line = 0
        lines = self._lines()
        first = next(lines, None)
        if first is None or not first.strip():
            raise ImportFileError("the file is empty: the first line must be the header")
        self.delimiter = max(DELIMITERS, key=first.count)
        if not first.count(self.delimiter):
            self.delimiter = ","
        self._reader = csv.reader(_chain(first, lines), delimiter=self.delimiter)
        self.header = next(self._reader)

    def _lines(self) -> Iterator[str]:
        for number, raw in enumerate(self._stream, start=1):
            self._on_bytes(len(raw))
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield raw.decode(self.encoding)
            except UnicodeDecodeError:
                raise ImportFileError(
                    f"line {number} is not {self.encoding} text: save the file as UTF-8 or "
                    "name its encoding with --encoding (e.g. cp1252)"
                ) from None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(first line of the record, its fields); blank lines are skipped."""
        while True:
            start = self._reader.line_num + 1
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(
                    f"line {start}: the file cannot be read on from here ({error}); "
                    "is a quote left open?"
                ) from None
            if values and any(v.strip() for v in values):
                yield start, values


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


# --- one row -----------------------------------------------------------------------------------


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
        if len(text) > MAX_VALUE:
            reasons.append(f"attr.{name} has more than {MAX_VALUE} characters")
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


# --- writing -----------------------------------------------------------------------------------


def import_rows(
    spec: ImportSpec,
    records: Iterable[tuple[int, list[str]]],
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    on_reject: Callable[[Reject], None] | None = None,
    now: datetime | None = None,
    result: ImportResult | None = None,
) -> ImportResult:
    """Validate every record and write the valid ones in batches (nothing when `dry_run`).

    Pass `result` to keep the counts of the batches committed when the file turns out to be
    unreadable part way (ImportFileError from the records)."""
    now = now or timezone.now()
    result = result if result is not None else ImportResult()
    occurrences: Counter = Counter()
    first_line_of: dict[str, int] = {}
    batch: list[Row] = []

    def reject(line: int, reason: str, values) -> None:
        result.rejected += 1
        if on_reject:
            on_reject(Reject(line=line, reason=reason, values=tuple(values)))

    values_of: dict[int, list[str]] = {}
    for line, values in records:
        result.lines += 1
        row = parse_row(spec, line, values, now=now)
        if isinstance(row, str):
            reject(line, row, values)
            continue
        row.key = row_key(spec, row, occurrences)
        if row.touchpoint_id:  # content keys are distinct by construction
            if row.key in first_line_of:
                repeated = first_line_of[row.key]
                reject(line, f"touchpoint_id {row.touchpoint_id!r} repeats line {repeated}", values)
                continue
            first_line_of[row.key] = line
        batch.append(row)
        values_of[line] = values
        if len(batch) >= batch_size:
            _write(spec, batch, result, values_of, reject, dry_run=dry_run, now=now)
            batch, values_of = [], {}
    if batch:
        _write(spec, batch, result, values_of, reject, dry_run=dry_run, now=now)
    return result


def _write(
    spec: ImportSpec,
    rows: list[Row],
    result: ImportResult,
    values_of: dict[int, list[str]],
    reject: Callable,
    *,
    dry_run: bool,
    now: datetime,
) -> None:
    """One batch, all or nothing: what is new is written, what is stored already is counted."""
    survey = spec.survey
    with transaction.atomic():
        if connection.vendor == "postgresql":  # one import of a survey at a time
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(4243, %s)", [survey.pk])
        stored = set(
            Response.objects.filter(
                survey_id=survey.pk, import_key__in=[r.key for r in rows]
            ).values_list("import_key", flat=True)
        )
        fresh = [r for r in rows if r.key not in stored]
        erased = _erased_lines(fresh)
        fresh = [r for r in fresh if r.line not in erased]
        days = {periods.local_day(r.submitted_at) for r in fresh}
        created = 0
        if fresh and not dry_run:
            created = _write_rows(spec, fresh, now=now)
            rollups.mark_dirty(survey.pk, days)
    # Counted once the batch is committed: a failed batch leaves no trace, in the figures either.
    result.already += len(stored)
    result.imported += len(fresh)
    result.contacts_created += created
    result.days |= days
    for row in rows:
        if row.line in erased:
            reject(
                row.line,
                "the customer's personal data was erased at their request: not imported again",
                values_of[row.line],
            )


def _write_rows(spec: ImportSpec, rows: list[Row], *, now: datetime) -> int:
    """Contacts, responses and answers of a batch in bulk; returns the contacts created."""
    contacts, created = _contacts(rows, now=now)
    if connection.vendor == "postgresql":
        _copy_rows(spec, rows, contacts)
        return created
    responses = Response.objects.bulk_create(
        [
            Response(
                survey=spec.survey,
                contact=contacts.get(r.line),
                submitted_at=r.submitted_at,
                locale=r.locale,
                touchpoint_type=r.touchpoint_type,
                attributes=r.attributes,
                source=Response.Source.IMPORT,
                import_key=r.key,
            )
            for r in rows
        ],
        batch_size=batch_size_for(Response),
    )
    answers = []
    for row, response in zip(rows, responses, strict=True):
        answers.append(Answer(response=response, **scored_answer(spec.question, row.score)))
        if row.comment:
            answers.append(
                Answer(response=response, question=spec.comment_question, text=row.comment)
            )
    Answer.objects.bulk_create(answers, batch_size=batch_size_for(Answer))
    return created


def _copy_rows(spec: ImportSpec, rows: list[Row], contacts: dict[int, Contact]) -> None:
    """PostgreSQL: the responses and answers of a batch with COPY, several times faster than
    INSERTs. Response ids are drawn from the table's sequence first, so answers can name them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Response._meta.db_table, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        responses = []
        answers = []
        for pk, row in zip(ids, rows, strict=True):
            contact = contacts.get(row.line)
            responses.append(
                {
                    "id": pk,
                    "survey_id": spec.survey.pk,
                    "contact_id": contact.pk if contact else None,
                    "submitted_at": row.submitted_at,
                    "locale": row.locale,
                    "touchpoint_type": row.touchpoint_type,
                    "attributes": json.dumps(row.attributes),
                    "source": Response.Source.IMPORT.value,
                    "is_test": False,
                    "import_key": row.key,
                }
            )
            fields = scored_answer(spec.question, row.score)
            answers.append(
                {
                    "response_id": pk,
                    "question_id": spec.question.pk,
                    "score": fields["score"],
                    "score_norm": fields["score_norm"],
                    "satisfied": fields["satisfied"],
                    "text": "",
                }
            )
            if row.comment:
                answers.append(
                    {
                        "response_id": pk,
                        "question_id": spec.comment_question.pk,
                        "score": None,
                        "score_norm": None,
                        "satisfied": None,
                        "text": row.comment,
                    }
                )
        _copy(cursor, Response, responses)
        _copy(cursor, Answer, answers)


def _copy(cursor, model, rows: list[dict]) -> None:
    """COPY `rows` into the model's table; columns they do not name get the model's default
    (Django sets no database defaults), and the id its sequence when not given."""
    given = list(rows[0])
    extra = {}
    for f in model._meta.concrete_fields:
        if f.column in given or f.primary_key:
            continue
        default = f.get_default()
        extra[f.column] = json.dumps(default) if isinstance(default, dict | list) else default
    columns = given + list(extra)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    constant = tuple(extra.values())
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row.values(), *constant))


def batch_size_for(model) -> int:
    """Rows per INSERT that stay well under PostgreSQL's 65,535 parameters."""
    return max(1, 30000 // len(model._meta.concrete_fields))


def _erased_lines(rows: list[Row]) -> set[int]:
    """Lines whose customer (email or id) was erased under the privacy rules: one query."""
    if not ErasedIdentifier.objects.exists():  # the common case: skip hashing every row
        return set()
    hashes: dict[str, list[int]] = {}
    for row in rows:
        if row.email:
            hashes.setdefault(subject_hash("email", row.email), []).append(row.line)
        if row.customer_id:
            hashes.setdefault(subject_hash("external_id", row.customer_id), []).append(row.line)
    if not hashes:
        return set()
    found = ErasedIdentifier.objects.filter(subject_hash__in=list(hashes)).values_list(
        "subject_hash", flat=True
    )
    return {line for digest in found for line in hashes[digest]}


def _contacts(rows: list[Row], *, now: datetime) -> tuple[dict[int, Contact], int]:
    """The contact of every row (by line) that names one: found by customer_id (external id),
    else by email (case-insensitive), else created. An email-matched contact without an
    external id adopts the row's customer_id, as with touchpoint events. Nothing else stored
    about a contact is changed by history."""
    ext_ids = {r.customer_id for r in rows if r.customer_id}
    emails = {r.email for r in rows if r.email}
    by_ext = {c.external_id: c for c in Contact.objects.filter(external_id__in=ext_ids)}
    by_email: dict[str, Contact] = {}
    if emails:
        for contact in (
            Contact.objects.annotate(email_key=Lower("email"))
            .filter(email_key__in=emails)
            .order_by("id")
        ):
            by_email.setdefault(contact.email.lower(), contact)
    created: list[Contact] = []
    adopted: dict[int, Contact] = {}
    out: dict[int, Contact] = {}
    for row in rows:
        contact = by_ext.get(row.customer_id) if row.customer_id else None
        if contact is None and row.email:
            candidate = by_email.get(row.email)
            if candidate is not None and (not row.customer_id or candidate.external_id is None):
                contact = candidate
                if row.customer_id:
                    contact.external_id = row.customer_id
                    by_ext[row.customer_id] = contact
                    if contact.pk is not None:
                        adopted[contact.pk] = contact
        if contact is None and (row.email or row.customer_id):
            contact = Contact(
                email=row.email,
                external_id=row.customer_id or None,
                locale=row.locale,
                created_at=now,
            )
            created.append(contact)
            if row.customer_id:
                by_ext[row.customer_id] = contact
            if row.email:
                by_email.setdefault(row.email, contact)
        if contact is not None:
            out[row.line] = contact
    if created:
        Contact.objects.bulk_create(created, batch_size=batch_size_for(Contact))
    if adopted:
        Contact.objects.bulk_update(list(adopted.values()), ["external_id"])
    return out, len(created)


# --- the rollups -------------------------------------------------------------------------------


def update_rollups(survey: Survey, days: set[date], *, progress=None) -> str:
    """Bring the survey's rollups up to date for the imported days; says how.

    Day by day costs about 50-80 ms a day; a rebuild from the first imported day costs in
    proportion to the days from there to the survey's last answer (8-50 ms each, by how many
    answers a day holds).
    So a rebuild pays off once the imported days are more than about a third of that span
    (bench/import_responses.py measures both). The days were marked stale as well: had this
    step not run, beat would have folded them in.
    """
    if not days:
        return "nothing to update"
    first = min(days)
    latest = Response.objects.filter(survey_id=survey.pk).aggregate(m=Max("submitted_at"))["m"]
    last = max(max(days), periods.local_day(latest)) if latest else max(days)
    span = (last - first).days + 1
    if len(days) <= max(RECOMPUTE_DAYS_LIMIT, span // 3):
        for day in sorted(days):
            rollups.recompute_day(survey, day)
        return f"{len(days)} days recomputed"
    covered = rollups.rebuild(survey=survey, since=first, progress=progress)
    return f"rebuilt from {first.isoformat()} ({covered} days)"
