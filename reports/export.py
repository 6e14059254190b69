"""CSV and XLSX exports of responses and of report series, streamed so that a million rows never
sit in memory, and safe to open in a spreadsheet (no cell is ever read as a formula)."""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime

import xlsxwriter
from django.conf import settings
from django.db import connection
from django.db.models import F, Func, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from surveys.models import Answer, Question, Response, Survey

from .redact import comment_for_display

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


CUSTOMER_COLUMNS = ("customer_email", "customer_name", "customer_external_id")


def response_table(survey: Survey, rows: QuerySet[Response]) -> Iterator[list]:
    """The header, then one list per response (oldest first), read in keyset chunks: when and in
    which language it was answered, the touchpoint (type and id), the customer (unless
    EXPORT_CUSTOMER_DETAILS is off), the invitation's sent and answered times, whether the
    primary answer is satisfied, one column per question (`q.<key>`: the score, or the comment
    text, masked while contact details are hidden) and one per attribute (`attr.<name>`).
    Times are aware datetimes in the site's time zone."""
    primary: Question | None = survey.primary_question()
    questions = list(survey.questions.all())
    customer = settings.EXPORT_CUSTOMER_DETAILS
    names = attribute_names(rows)
    yield [
        "response_id",
        "submitted_at",
        "survey",
        "language",
        "touchpoint",
        "touchpoint_id",
        *(CUSTOMER_COLUMNS if customer else ()),
        "invitation_sent_at",
        "invitation_answered_at",
        "satisfied",
        *(f"q.{q.key}" for q in questions),
        *(f"attr.{name}" for name in names),
    ]
    fields = [
        "pk",
        "submitted_at",
        "locale",
        "touchpoint_type",
        "invitation__touchpoint__external_id",
        "invitation__sent_at",
        "invitation__answered_at",
        "attributes",
    ]
    if customer:
        rows = rows.annotate(
            **{
                f"_{column}": Coalesce(F(f"contact__{field}"), F(f"invitation__contact__{field}"))
                for column, field in zip(
                    CUSTOMER_COLUMNS, ("email", "name", "external_id"), strict=True
                )
            }
        )
        fields += [f"_{column}" for column in CUSTOMER_COLUMNS]
    zone = timezone.get_default_timezone()
    rows = rows.order_by("submitted_at", "pk").values_list(*fields)
    last = None
    while True:
        chunk = rows
        if last is not None:
            # keyset: the rows after the last one read, along the (survey, submitted_at) index
            at, pk = last
            chunk = chunk.filter(submitted_at__gte=at).exclude(submitted_at=at, pk__lte=pk)
        chunk = list(chunk[:CHUNK])
        if not chunk:
            return
        last = (chunk[-1][1], chunk[-1][0])
        answers = _answers([row[0] for row in chunk], questions)
        for (
            pk,
            submitted,
            language,
            touchpoint,
            touchpoint_id,
            sent,
            answered,
            attrs,
            *who,
        ) in chunk:
            attrs = attrs if isinstance(attrs, dict) else {}
            given = answers.get(pk, {})
            satisfied = given.get(primary.pk, (None, None))[1] if primary else None
            yield [
                pk,
                submitted.astimezone(zone),
                survey.slug,
                language,
                touchpoint,
                touchpoint_id or "",
                *(value or "" for value in who),
                sent.astimezone(zone) if sent else None,
                answered.astimezone(zone) if answered else None,
                "" if satisfied is None else ("yes" if satisfied else "no"),
                *(given.get(q.pk, ("", None))[0] for q in questions),
                *(_cell(attrs.get(name)) for name in names),
            ]


def _answers(response_ids: list[int], questions: list[Question]) -> dict[int, dict]:
    """{response id: {question id: (score or masked text, satisfied)}} of a chunk's responses."""
    scored = {q.pk for q in questions if q.is_scored}
    out: dict[int, dict] = {}
    for response_id, question_id, score, satisfied, text in Answer.objects.filter(
        response_id__in=response_ids
    ).values_list("response_id", "question_id", "score", "satisfied", "text"):
        value = score if question_id in scored else comment_for_display(text or "")
        out.setdefault(response_id, {})[question_id] = ("" if value is None else value, satisfied)
    return out


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
        yield writer.writerow([_csv_value(v) for v in row])


def _csv_value(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return neutralize(value)


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
    date_style = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
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
                # a real date (a number with a date style), in the time zone it was given in
                ws.write_datetime(r, c, value.replace(tzinfo=None), date_style)
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
