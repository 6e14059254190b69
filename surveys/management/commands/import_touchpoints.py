"""python manage.py import_touchpoints FILE.csv [--dry-run]: a backlog of touchpoint events.

Each row goes through the same validation and service as POST /api/v1/touchpoints/
(surveys.touchpoints), a batch at a time; a bad row is reported with its line and never stops
the valid ones; importing the same file again finds every row a duplicate.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from csat_platform.boundary import problem_in_row
from surveys import attributes, sending_rules
from surveys.touchpoints import MAX_BATCH, parse_event, record_touchpoints, stored_events

EVENT_COLUMNS = ("type", "external_id", "occurred_at")
CUSTOMER_COLUMNS = {
    "customer_email": "email",
    "customer_name": "name",
    "customer_external_id": "external_id",
    "customer_locale": "locale",
    "customer_time_zone": "time_zone",
}
ATTRIBUTE_PREFIX = "attr."


@dataclass
class Summary:
    created: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.duplicates


class Command(BaseCommand):
    help = (
        "Import touchpoint events from a CSV file (columns type, external_id, occurred_at, "
        "customer_email, customer_name, customer_external_id, customer_locale, "
        "customer_time_zone, attr.<name>), with the API's validation."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a UTF-8 CSV file with a header row")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, store nothing"
        )
        parser.add_argument(
            "--batch-size", type=int, default=MAX_BATCH, help=f"rows per batch (≤ {MAX_BATCH})"
        )
        parser.add_argument(
            "--delimiter", default="", help="the column separator (default: detected, , or ;)"
        )

    def handle(self, *args, file: str, dry_run: bool, batch_size: int, delimiter: str, **options):
        if not 1 <= batch_size <= MAX_BATCH:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH}.")
        path = Path(file)
        lines = count_lines(path)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header_line = handle.readline()
            delimiter = delimiter or detect_delimiter(header_line)
            header = next(csv.reader([header_line], delimiter=delimiter), [])
            columns = check_header(header)
            reader = csv.reader(handle, delimiter=delimiter)
            summary = self.import_rows(
                reader, columns, lines=lines, dry_run=dry_run, batch_size=batch_size
            )
        self.report(summary, dry_run=dry_run)

    def import_rows(self, reader, columns, *, lines, dry_run, batch_size) -> Summary:
        summary = Summary()
        batch: list[tuple[int, dict]] = []
        seen: set[tuple[str, str]] = set()
        done = 1  # the header
        progress = tqdm(total=lines, initial=1, unit=" lines", desc="Importing", leave=True)
        try:
            while True:
                start = done + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    summary.rejected.append((start, f"unreadable CSV: {error}"))
                    row = None
                # 1 + the header's line + what the reader consumed (quoted newlines included)
                progress.update(1 + reader.line_num - done)
                done = 1 + reader.line_num
                if row is None or not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(columns):
                    summary.rejected.append(
                        (start, f"has {len(row)} fields, the header has {len(columns)}")
                    )
                    continue
                problem = problem_in_row(columns, row)
                if problem is not None:
                    summary.rejected.append((start, f"{problem.field}: {problem.message}"))
                    continue
                batch.append((start, event_of(columns, row)))
                if len(batch) >= batch_size:
                    self.flush(batch, summary, seen, dry_run=dry_run)
                    batch = []
            if batch:
                self.flush(batch, summary, seen, dry_run=dry_run)
        finally:
            progress.close()
        return summary

    def flush(self, batch, summary: Summary, seen: set, *, dry_run: bool) -> None:
        if dry_run:
            self.validate_only(batch, summary, seen)
            return
        result = record_touchpoints(items=[event for _line, event in batch])
        for (line, _event), item in zip(batch, result.items, strict=True):
            if item.status == "created":
                summary.created += 1
            elif item.status == "duplicate":
                summary.duplicates += 1
            else:
                summary.rejected.append((line, describe(item.errors)))

    def validate_only(self, batch, summary: Summary, seen: set) -> None:
        """What an import would do, without writing: validation, and duplicates of stored
        events or of earlier rows of the file."""
        now, tz = timezone.now(), sending_rules.site_zone()
        valid = []
        for line, event in batch:
            parsed = parse_event(event, index=line, now=now, default_tz=tz)
            if isinstance(parsed, dict):
                summary.rejected.append((line, describe(parsed)))
            else:
                valid.append(parsed)
        stored = stored_events(valid)
        for key in ((e.type, e.external_id) for e in valid):
            if key in stored or key in seen:
                summary.duplicates += 1
            else:
                summary.created += 1
                seen.add(key)

    def report(self, summary: Summary, *, dry_run: bool) -> None:
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{summary.accepted:,} rows accepted ({summary.created:,} {verb} created, "
            f"{summary.duplicates:,} {verb} already there), {len(summary.rejected):,} rejected."
        )
        for line, reason in summary.rejected:
            self.stdout.write(f"  line {line}: {reason}")
        if dry_run:
            self.stdout.write("Dry run: nothing was stored.")


def count_lines(path: Path) -> int:
    """The file's lines (for the progress bar), checking on the way that it is UTF-8 text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, last = 0, b""
    try:
        with path.open("rb") as raw:
            while chunk := raw.read(1 << 20):
                decoder.decode(chunk)
                lines += chunk.count(b"\n")
                last = chunk
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise CommandError(
            f"{path} is not UTF-8 text ({error.reason}); save it as CSV UTF-8 and try again."
        ) from None
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from None
    if lines == 0 and not last:
        raise CommandError(f"{path} is empty: it needs a header row and one row per event.")
    return lines + (0 if last.endswith(b"\n") else 1)


def detect_delimiter(header_line: str) -> str:
    """',' unless the header is split by ';' (spreadsheets in many European locales) or tabs."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def check_header(header: list[str]) -> list[str]:
    """The header's columns, or a CommandError naming what is missing or unknown."""
    columns = [name.strip() for name in header]
    known = set(EVENT_COLUMNS) | set(CUSTOMER_COLUMNS)
    unknown = [c for c in columns if c not in known and not c.startswith(ATTRIBUTE_PREFIX)]
    problems = []
    missing = [c for c in EVENT_COLUMNS if c not in columns]
    if missing:
        problems.append("missing column(s) " + ", ".join(missing))
    if "customer_email" not in columns and "customer_external_id" not in columns:
        problems.append("missing customer_email or customer_external_id (or both)")
    if unknown:
        problems.append(
            "unknown column(s) "
            + ", ".join(repr(c) for c in unknown)
            + f" (attributes are named {ATTRIBUTE_PREFIX}<name>)"
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        problems.append("repeated column(s) " + ", ".join(duplicated))
    for column in columns:
        if column.startswith(ATTRIBUTE_PREFIX):
            problem = attributes.name_error(column.removeprefix(ATTRIBUTE_PREFIX))
            if problem:
                problems.append(f"column {column!r}: {problem.rstrip('.')}")
    if problems:
        expected = ", ".join([*EVENT_COLUMNS, *CUSTOMER_COLUMNS, f"{ATTRIBUTE_PREFIX}<name>"])
        raise CommandError(
            "The first line is not a valid header: "
            + "; ".join(problems)
            + f". Expected columns: {expected}."
        )
    return columns


def event_of(columns: list[str], row: list[str]) -> dict:
    """A row as the API's event object; empty cells are left out."""
    event: dict = {"customer": {}, "attributes": {}}
    for name, value in zip(columns, row, strict=True):
        value = value.strip()
        if not value:
            continue
        if name in CUSTOMER_COLUMNS:
            event["customer"][CUSTOMER_COLUMNS[name]] = value
        elif name.startswith(ATTRIBUTE_PREFIX):
            event["attributes"][name.removeprefix(ATTRIBUTE_PREFIX)] = value
        else:
            event[name] = value
    return event


def describe(errors: dict[str, list[str]]) -> str:
    """{"customer.email": ["..."]} as "customer_email: ..." in the file's column names."""
    parts = []
    for path, messages in errors.items():
        column = path
        if path.startswith("customer."):
            column = "customer_" + path.removeprefix("customer.")
        elif path.startswith("attributes."):
            column = ATTRIBUTE_PREFIX + path.removeprefix("attributes.")
        elif path == "non_field_errors":
            column = "row"
        parts.append(f"{column}: {' '.join(messages)}")
    return "; ".join(parts)
