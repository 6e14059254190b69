"""CSV and XLSX exports of responses and of report series, streamed so that a million rows never
sit in memory, and safe to open in a spreadsheet (no cell is ever read as a formula)."""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime

import xlsxwriter
from django.db import connection
from django.db.models import F, Func, QuerySet
from django.utils import timezone

from surveys.models import Question, Response, Survey

from .redact import comment_for_display
from .responses import comment_questions, primary_answer

CHUNK = 2000
# A spreadsheet runs a cell that starts with one of these as a formula (CWE-1236). OWASP's
# advice: prefix such a cell with a single quote so it is shown as the text it is.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576


def neutralize(value):
    """A cell value that no spreadsheet evaluates; numbers and booleans stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# --- responses ---------------------------------------------------------------------------------


def attribute_names(rows: QuerySet[Response]) -> list[str]:
    """Every attribute name used by the rows: the export's columns (none is silently dropped)."""
    if connection.vendor == "postgresql":
        keys = (
            rows.order_by()
            .annotate(_key=Func(F("attributes"), function="jsonb_object_keys"))
            .values_list("_key", flat=True)
            .distinct()
        )
        return sorted(keys)
    names: set[str] = set()
    for attributes in rows.order_by().values_list("attributes", flat=True).iterator(CHUNK):
        if isinstance(attributes, dict):
            names.update(attributes)
    return sorted(names)


def response_table(survey: Survey, rows: QuerySet[Response]) -> Iterator[list]:
    """The header, then one list per response, read in chunks: primary score, satisfied,
    comment (masked while contact details are hidden), date, touchpoint and attributes."""
    primary: Question | None = survey.primary_question()
    comment_q = next(iter(comment_questions(survey)), None)
    names = attribute_names(rows)
    yield [
        "response_id",
        "submitted_at",
        "survey",
        "touchpoint",
        "question",
        "score",
        "satisfied",
        "comment",
        *(f"attr.{name}" for name in names),
    ]
    values = (
        rows.order_by("submitted_at", "pk")
        .annotate(
            _score=primary_answer("score", primary),
            _satisfied=primary_answer("satisfied", primary),
            _comment=primary_answer("text", comment_q),
        )
        .values_list(
            "pk",
            "submitted_at",
            "touchpoint_type",
            "attributes",
            "_score",
            "_satisfied",
            "_comment",
        )
    )
    zone = timezone.get_default_timezone()
    question_key = primary.key if primary else ""
    for pk, submitted_at, touchpoint, attributes, score, satisfied, comment in values.iterator(
        chunk_size=CHUNK
    ):
        attributes = attributes if isinstance(attributes, dict) else {}
        yield [
            pk,
            submitted_at.astimezone(zone).isoformat(timespec="seconds"),
            survey.slug,
            touchpoint,
            question_key,
            score,
            "" if satisfied is None else ("yes" if satisfied else "no"),
            comment_for_display(comment or ""),
            *(_cell(attributes.get(name)) for name in names),
        ]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


# --- writers -----------------------------------------------------------------------------------


class _Echo:
    """A file whose write returns the line, so csv.writer produces chunks for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_lines(table: Iterable[list]) -> Iterator[str]:
    """CSV text, one line at a time, every cell neutralized. A BOM first, for spreadsheet apps."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in table:
        yield writer.writerow([neutralize(v) for v in row])


def xlsx_file(table: Iterable[list], *, sheet: str = "Responses"):
    """An open temporary file holding the table as XLSX. xlsxwriter's constant_memory mode
    flushes every row to disk, so memory stays flat whatever the row count; a sheet that
    fills up continues on the next one."""
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "tmpdir": tempfile.gettempdir(),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd hh:mm",
        },
    )
    bold = book.add_format({"bold": True})
    rows = iter(table)
    header = [neutralize(v) for v in next(rows, [])]
    part = 0
    ws, r = None, XLSX_MAX_ROWS
    for row in rows:
        if r >= XLSX_MAX_ROWS:
            part += 1
            ws = book.add_worksheet(sheet if part == 1 else f"{sheet} {part}")
            ws.write_row(0, 0, header, bold)
            ws.freeze_panes(1, 0)
            r = 1
        for c, value in enumerate(row):
            value = neutralize(value)
            if isinstance(value, str):
                ws.write_string(r, c, value)
            elif isinstance(value, datetime):
                ws.write_datetime(r, c, value)
            elif value is None:
                ws.write_blank(r, c, None)
            else:
                ws.write(r, c, value)
        r += 1
    if ws is None:
        ws = book.add_worksheet(sheet)
        ws.write_row(0, 0, header, bold)
    book.close()
    out.seek(0)
    return out


# --- report series -----------------------------------------------------------------------------

SERIES_COLUMNS = ("period", "csat", "n", "ci_low", "ci_high", "mean")


def series_table(report: dict) -> Iterator[list]:
    """The trend of a csat_report result: one row per period."""
    yield list(SERIES_COLUMNS)
    for point in report.get("series") or []:
        yield [point.get(c) for c in SERIES_COLUMNS]
