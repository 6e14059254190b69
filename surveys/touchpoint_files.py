"""Touchpoint events in a CSV file: the one reader of the command line import
(`import_touchpoints`) and the survey admin's upload. Columns, the header's check, and each row
as the API's event object or the reason it is rejected; the events themselves are validated and
stored by surveys.touchpoints, like the API's.

Files are read line by line, never whole: a file of any length takes constant memory.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from django.utils import timezone

from csat_platform.boundary import problem_in_row

from . import attributes, sending_rules
from .touchpoints import EventIn, parse_event, stored_events

EVENT_COLUMNS = ("type", "external_id", "occurred_at")
CUSTOMER_COLUMNS = {
    "customer_email": "email",
    "customer_name": "name",
    "customer_external_id": "external_id",
    "customer_locale": "locale",
    "customer_time_zone": "time_zone",
}
ATTRIBUTE_PREFIX = "attr."


class FileProblem(Exception):
    """The file cannot be read as touchpoints at all (not UTF-8, empty, a bad header)."""


@dataclass(frozen=True)
class Row:
    """One record of the file: its first line, and the event or why it was rejected."""

    line: int
    event: dict | None = None
    rejected: str = ""
    lines_read: int = 0  # the file's lines read so far, header included (for progress)


def count_lines(path: Path) -> int:
    """The file's lines (for progress), checking on the way that it is UTF-8 text."""
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
        raise FileProblem(
            f"{path.name} is not UTF-8 text ({error.reason}); save it as CSV UTF-8 and try again."
        ) from None
    except OSError as error:
        raise FileProblem(f"Cannot read {path}: {error.strerror or error}.") from None
    if lines == 0 and not last:
        raise FileProblem(f"{path.name} is empty: it needs a header row and one row per event.")
    return lines + (0 if last.endswith(b"\n") else 1)


def detect_delimiter(header_line: str) -> str:
    """',' unless the header is split by ';' (spreadsheets in many European locales) or tabs."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def check_header(header: list[str], *, defaults: dict | None = None) -> list[str]:
    """The header's columns, or a FileProblem naming what is missing or unknown. A column given
    in `defaults` (the upload's survey gives the type) may be left out."""
    columns = [name.strip() for name in header]
    known = set(EVENT_COLUMNS) | set(CUSTOMER_COLUMNS)
    unknown = [c for c in columns if c not in known and not c.startswith(ATTRIBUTE_PREFIX)]
    problems = []
    missing = [c for c in EVENT_COLUMNS if c not in columns and c not in (defaults or {})]
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
        raise FileProblem(
            "The first line is not a valid header: "
            + "; ".join(problems)
            + f". Expected columns: {expected}."
        )
    return columns


def open_rows(
    handle: TextIO, *, delimiter: str = "", defaults: dict | None = None
) -> tuple[list[str], Iterator[Row]]:
    """The checked header of an open file and an iterator over its records after it."""
    header_line = handle.readline()
    delimiter = delimiter or detect_delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    columns = check_header(header, defaults=defaults)
    return columns, _rows(csv.reader(handle, delimiter=delimiter), columns, defaults or {})


def _rows(reader, columns: list[str], defaults: dict) -> Iterator[Row]:
    done = 1  # the header
    while True:
        start = done + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            done = 1 + reader.line_num
            yield Row(start, rejected=f"unreadable CSV: {error}", lines_read=done)
            continue
        done = 1 + reader.line_num  # the header + what the reader consumed (quoted newlines too)
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            yield Row(
                start,
                rejected=f"has {len(row)} fields, the header has {len(columns)}",
                lines_read=done,
            )
            continue
        problem = problem_in_row(columns, row)
        if problem is not None:
            yield Row(start, rejected=f"{problem.field}: {problem.message}", lines_read=done)
            continue
        yield Row(start, event={**defaults, **event_of(columns, row)}, lines_read=done)


def check_events(
    batch: list[tuple[int, dict]], seen: set[tuple[str, str]]
) -> tuple[list[tuple[int, EventIn]], int, list[tuple[int, str]]]:
    """What importing a batch of rows would do, writing nothing: the events it would create
    (line, event), how many are stored already or repeat an earlier row (`seen`, updated), and
    the rejected lines with their reasons, by the API's validation."""
    now, tz = timezone.now(), sending_rules.site_zone()
    valid, rejected = [], []
    for line, event in batch:
        parsed = parse_event(event, index=line, now=now, default_tz=tz)
        if isinstance(parsed, dict):
            rejected.append((line, describe(parsed)))
        else:
            valid.append((line, parsed))
    stored = stored_events([e for _line, e in valid])
    new, duplicates = [], 0
    for line, event in valid:
        key = (event.type, event.external_id)
        if key in stored or key in seen:
            duplicates += 1
        else:
            new.append((line, event))
            seen.add(key)
    return new, duplicates, rejected


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
