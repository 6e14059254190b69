"""Exports of responses and of the report series: content, format, streaming, formula safety."""

import csv
import io
import tracemalloc
from datetime import date

import pytest
from openpyxl import load_workbook

from reports import export
from reports.query import parse_query
from reports.responses import responses_in
from tests.dashboard_data import respond
from tests.factories import make_survey

pytestmark = pytest.mark.django_db

MARCH = "range=custom&start=2026-03-01&end=2026-03-31"
CSV = "/dashboard/shop/export/responses.csv"
XLSX = "/dashboard/shop/export/responses.xlsx"


@pytest.fixture
def shop(db):
    return make_survey(slug="shop")


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def read_xlsx(response) -> list[dict]:
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_csv_has_one_row_per_response_with_score_comment_and_attributes(manager_client, shop):
    respond(shop, 5, "Great", at="2026-03-02T08:00", attributes={"channel": "web"})
    respond(shop, 2, "", at="2026-03-03T08:00", attributes={"region": "north"})
    respond(shop, 1, "too early", at="2026-02-20T08:00")
    response = manager_client.get(f"{CSV}?{MARCH}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="shop-responses-2026-03-01-2026-03-31.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    assert [(r["q.satisfaction"], r["satisfied"], r["q.comment"]) for r in rows] == [
        ("5", "yes", "Great"),
        ("2", "no", ""),
    ]
    assert rows[0]["submitted_at"] == "2026-03-02T08:00:00+00:00"
    assert rows[0]["touchpoint"] == "purchase" and rows[0]["language"] == "en"
    assert (rows[0]["attr.channel"], rows[0]["attr.region"]) == ("web", "")
    assert (rows[1]["attr.channel"], rows[1]["attr.region"]) == ("", "north")


def test_export_follows_the_filters_and_the_comment_search(manager_client, shop):
    respond(shop, 1, "late parcel", attributes={"channel": "web"})
    respond(shop, 1, "late parcel", attributes={"channel": "phone"})
    respond(shop, 5, "fine", attributes={"channel": "web"})
    rows = read_csv(manager_client.get(f"{CSV}?{MARCH}&attr.channel=web"))
    assert sorted(r["q.comment"] for r in rows) == ["fine", "late parcel"]
    rows = read_csv(manager_client.get(f"{CSV}?{MARCH}&q=late&band=unhappy"))
    assert sorted(r["attr.channel"] for r in rows) == ["phone", "web"]


def test_xlsx_holds_the_same_rows(manager_client, shop):
    respond(shop, 4, "Nice", at="2026-03-02T08:00", attributes={"channel": "app"})
    respond(shop, 1, "Bad", at="2026-03-05T08:00", attributes={"channel": "web"})
    response = manager_client.get(f"{XLSX}?{MARCH}")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = read_xlsx(response)
    assert [
        (r["q.satisfaction"], r["satisfied"], r["q.comment"], r["attr.channel"]) for r in rows
    ] == [
        (4, "yes", "Nice", "app"),
        (1, "no", "Bad", "web"),
    ]


FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("payload", FORMULAS)
def test_cells_that_start_like_a_formula_are_neutralized_in_csv(manager_client, shop, payload):
    respond(shop, 1, payload, attributes={"agent": payload})
    rows = read_csv(manager_client.get(f"{CSV}?{MARCH}"))
    assert rows[0]["q.comment"] == "'" + payload
    assert rows[0]["attr.agent"] == "'" + payload


@pytest.mark.parametrize("payload", FORMULAS)
def test_cells_that_start_like_a_formula_are_text_in_xlsx(manager_client, shop, payload):
    respond(shop, 1, payload, attributes={"agent": payload})
    response = manager_client.get(f"{XLSX}?{MARCH}")
    raw = b"".join(response.streaming_content)
    book = load_workbook(io.BytesIO(raw))  # not read-only: formulas would show as data_type "f"
    sheet = book.worksheets[0]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    # XLSX stores a carriage return as _x000D_, which openpyxl does not decode.
    values = {
        c.value.replace("_x000D_", "\r") if isinstance(c.value, str) else c.value for c in cells
    }
    assert values >= {"'" + payload}


def test_numbers_stay_numbers(shop):
    assert export.neutralize(-3) == -3
    assert export.neutralize("-3") == "'-3"
    assert export.neutralize("ok") == "ok"


def test_comments_in_exports_are_masked(manager_client, shop, settings):
    respond(shop, 2, "mail me at jo@example.com")
    assert read_csv(manager_client.get(f"{CSV}?{MARCH}"))[0]["q.comment"] == (
        "mail me at [email hidden]"
    )
    settings.HIDE_CONTACT_DETAILS_IN_COMMENTS = False
    assert (
        read_csv(manager_client.get(f"{XLSX.replace('xlsx', 'csv')}?{MARCH}"))[0]["q.comment"]
        == "mail me at jo@example.com"
    )


def test_the_csv_is_produced_row_by_row(shop):
    """The response body is a generator: the header leaves before the rows are read, and the
    rows are read from the database in chunks, not loaded at once."""
    for i in range(7):
        respond(shop, 1 + i % 5, f"c{i}")
    rows = responses_in(
        shop, parse_query({"range": "custom", "start": "2026-03-01", "end": "2026-03-31"})
    )
    lines = export.csv_lines(export.response_table(shop, rows))
    assert next(lines) == "\ufeff"
    header = next(lines).rstrip().split(",")
    assert header[:2] == ["response_id", "submitted_at"]
    assert next(lines).split(",")[header.index("q.satisfaction")] == "1"
    assert len(list(lines)) == 6


def _peak(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_export_keeps_memory_flat(shop, monkeypatch):
    """Streaming 3,000 rows peaks at a fraction of what holding the same rows takes, because
    rows are read from the database in chunks and leave one line at a time."""
    from tests.bulk import add_responses

    add_responses(shop, 3000)
    monkeypatch.setattr(export, "CHUNK", 200)
    march = {"range": "custom", "start": "2026-03-01", "end": "2026-03-31"}

    def stream():
        lines = export.csv_lines(
            export.response_table(shop, responses_in(shop, parse_query(march)))
        )
        assert sum(1 for _ in lines) == 3002  # BOM, header, rows

    def hold():
        rows = list(export.response_table(shop, responses_in(shop, parse_query(march))))
        assert len(rows) == 3001

    streamed, held = _peak(stream), _peak(hold)
    assert streamed * 3 < held, (streamed, held)


def test_series_export_is_csat_reports_series(manager_client, shop):
    from reports import rollups
    from reports.service import csat_report

    respond(shop, 5, at="2026-03-02T08:00")
    respond(shop, 1, at="2026-03-09T08:00")
    rollups.rebuild()
    report = csat_report(shop, start=date(2026, 3, 1), end=date(2026, 3, 31), interval="week")
    response = manager_client.get(f"/dashboard/shop/export/series.csv?{MARCH}&interval=week")
    rows = read_csv(response)
    assert [r["period"] for r in rows] == [p["period"] for p in report["series"]]
    assert [r["n"] for r in rows] == [str(p["n"]) for p in report["series"]]
    assert [r["csat"] for r in rows] == [
        "" if p["csat"] is None else str(p["csat"]) for p in report["series"]
    ]
    assert "100.0" in [r["csat"] for r in rows]
    xlsx = read_xlsx(
        manager_client.get(f"/dashboard/shop/export/series.xlsx?{MARCH}&interval=week")
    )
    assert [r["n"] for r in xlsx] == [p["n"] for p in report["series"]]


@pytest.mark.parametrize("url", [CSV, XLSX, "/dashboard/shop/export/series.csv"])
def test_exports_need_the_manager_or_admin_role(client, admin_client, shop, url, django_user_model):
    assert admin_client.get(url).status_code == 200
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    client.force_login(django_user_model.objects.create_user("nobody", password="pw"))
    assert client.get(url).status_code == 403


def test_bad_export_parameters_are_a_400(manager_client, shop):
    response = manager_client.get(f"{CSV}?range=custom&start=2026-03-01&end=yesterday")
    assert response.status_code == 400
    assert "<code>end</code>" in response.content.decode()


@pytest.fixture
def support(db):
    from tests.test_questions import QUESTIONS

    return make_survey(slug="support", questions=QUESTIONS, languages=("en", "de"))


def _answered_by_ana(survey):
    from datetime import UTC, datetime

    from tests.factories import ContactFactory
    from tests.test_responses_pages import invited_response

    ana = ContactFactory(email="ana@example.com", name="Ana Lima", external_id="CRM-7")
    return invited_response(
        survey,
        ana,
        at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        order="A-1",
        scores={"speed": 2, "friendly": 5, "recommend": 9, "effort": 6},
        comment="Slow, write to ana@example.com",
    )


def test_every_question_the_customer_and_the_invitation_have_a_column(manager_client, support):
    response = _answered_by_ana(support)
    url = "/dashboard/support/export/responses.csv"
    (row,) = read_csv(manager_client.get(f"{url}?{MARCH}"))
    assert row["response_id"] == str(response.pk)
    assert (row["q.speed"], row["q.friendly"], row["q.recommend"], row["q.effort"]) == (
        "2",
        "5",
        "9",
        "6",
    )
    assert row["q.comment"] == "Slow, write to [email hidden]" and row["satisfied"] == "no"
    assert (row["customer_email"], row["customer_name"], row["customer_external_id"]) == (
        "ana@example.com",
        "Ana Lima",
        "CRM-7",
    )
    assert (row["touchpoint"], row["touchpoint_id"], row["language"]) == ("purchase", "T-A-1", "en")
    assert row["invitation_sent_at"] == "2026-03-02T05:00:00+00:00"
    assert row["invitation_answered_at"] == "2026-03-02T09:00:00+00:00"
    assert (row["attr.order_id"], row["attr.channel"]) == ("A-1", "web")


def test_xlsx_dates_are_real_dates(manager_client, support):
    from datetime import datetime

    _answered_by_ana(support)
    response = manager_client.get(f"/dashboard/support/export/responses.xlsx?{MARCH}")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    # numbers with a date style, not text
    assert row["submitted_at"].is_date and row["invitation_answered_at"].is_date
    assert row["submitted_at"].value == datetime(2026, 3, 2, 9, 0)
    assert row["invitation_sent_at"].value == datetime(2026, 3, 2, 5, 0)
    assert (row["q.speed"].value, row["q.recommend"].value) == (2, 9)


def test_exports_leave_the_customer_out_when_asked(manager_client, support, settings):
    _answered_by_ana(support)
    settings.EXPORT_CUSTOMER_DETAILS = False
    for fmt in ("csv", "xlsx"):
        response = manager_client.get(f"/dashboard/support/export/responses.{fmt}?{MARCH}")
        (row,) = read_csv(response) if fmt == "csv" else read_xlsx(response)
        assert not set(export.CUSTOMER_COLUMNS) & set(row)
        assert "ana@example.com" not in str(row.values()) and "Ana Lima" not in str(row.values())
        assert row["q.speed"] in ("2", 2)
