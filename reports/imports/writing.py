"""Writing the valid rows in batches, one transaction each, and bringing the rollups up to date."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from privacy.models import ErasedIdentifier
from privacy.services import subject_hash
from surveys.customers import CustomerIn, resolve_customers
from surveys.models import Answer, Contact, Response, Survey
from surveys.responses import scored_answer

from .. import periods, rollups
from .rows import Row, parse_row, row_key
from .spec import BATCH_SIZE, ImportSpec

# Up to this many imported days the rollups are always recomputed day by day (see update_rollups).
RECOMPUTE_DAYS_LIMIT = 45


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
    """The contact of every row (by line) that names one, found or made by the one customer
    rule (surveys.customers), as for touchpoint events; history changes nothing else stored
    about a known customer. Returns them and how many were created."""
    named = [r for r in rows if r.email or r.customer_id]
    contacts, created = resolve_customers(
        [CustomerIn(email=r.email, external_id=r.customer_id, locale=r.locale) for r in named],
        now=now,
        update=False,
    )
    return {r.line: c for r, c in zip(named, contacts, strict=True) if c is not None}, created


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
    if not rollups.enabled():
        return "no rollups on this database (its reports read the raw rows)"
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
