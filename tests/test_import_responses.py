"""Historical import: `manage.py import_responses FILE.csv --survey <slug>`."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from privacy import services as privacy_services
from reports import imports, rollups
from reports.service import csat_report
from surveys.models import Answer, Contact, Response
from tests.conftest import on_postgres
from tests.factories import make_survey, rating_question

pytestmark = pytest.mark.django_db(transaction=False)

HEADER = "submitted_at,score,comment,customer_email,customer_id,touchpoint_id,attr.region"
MARCH = {"start": date(2024, 3, 1), "end": date(2024, 3, 31)}


def write(tmp_path, text: str, *, name="answers.csv", bom=False, crlf=False) -> str:
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode()
    if bom:
        data = b"\xef\xbb\xbf" + data
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def run(path: str, *args: str) -> str:
    out = io.StringIO()
    call_command("import_responses", path, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


GOOD_AND_BAD = "\n".join(
    [
        HEADER,
        '2024-03-01,5,"Great, and fast.',
        'Second line of the comment.",Ana@Example.com,c-1,order-1,north',
        "2024-03-02T14:30:00,4,,,c-2,order-2,south",
        '2024-03-03T10:00:00+02:00,2,"Slow ""delivery""",bob@example.com,,,north',
        "2024-03-04,7,,,,order-4,north",
        "not a date,3,,,,order-5,",
        "2099-01-01,3,,,,order-6,",
        "2024-03-05,3,,not-an-email,,order-7,",
        f"2024-03-06,3,{'x' * 201},,,order-8,",
        "2024-03-07,1,,,,order-1,east",
        "2024-03-08,3,,,,order-9",
        "",
    ]
)


def test_good_lines_are_kept_and_bad_ones_rejected_with_their_line(tmp_path, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    make_survey(slug="shop")
    known = Contact.objects.create(email="someone@example.com", external_id="c-2")
    path = write(tmp_path, GOOD_AND_BAD, bom=True, crlf=True)
    rejects = tmp_path / "rejects.csv"

    out = run(path, "--survey", "shop", "--rejects", str(rejects))

    assert "Imported 3 responses" in out
    assert "Rejected: 7 lines." in out
    for line, reason in [
        (6, "score 7 is not on the 1-5 scale"),
        (7, "submitted_at 'not a date' is not an ISO date"),
        (8, "submitted_at 2099-01-01 lies in the future"),
        (9, "customer_email 'not-an-email' is not an email address"),
        (10, "comment has 201 characters; the survey's comment question allows 200"),
        (11, "touchpoint_id 'order-1' repeats line 2"),
        (12, "has 6 fields, the header has 7"),
    ]:
        assert f"line {line}: {reason}" in out
    with rejects.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["line", "reason", *HEADER.split(",")]
    assert [r[0] for r in rows[1:]] == ["6", "7", "8", "9", "10", "11", "12"]
    assert rows[2][2:] == ["not a date", "3", "", "", "", "order-5", ""]

    berlin = ZoneInfo("Europe/Berlin")
    first, second, third = Response.objects.order_by("submitted_at")
    # A date is midnight in the site's time zone; a time without an offset is read there too.
    assert first.submitted_at == datetime(2024, 3, 1, tzinfo=berlin)
    assert second.submitted_at == datetime(2024, 3, 2, 14, 30, tzinfo=berlin)
    assert third.submitted_at == datetime.fromisoformat("2024-03-03T10:00:00+02:00")
    assert {r.source for r in (first, second, third)} == {"import"}
    assert (first.import_key, second.import_key) == ("order-1", "order-2")
    assert third.import_key.startswith("row:") and len(third.import_key) == 64
    assert first.attributes == {"region": "north"} and first.touchpoint_type == "purchase"
    comment = Answer.objects.get(response=first, question__key="comment")
    assert comment.text == "Great, and fast.\r\nSecond line of the comment."
    assert Answer.objects.get(response=third, question__key="comment").text == 'Slow "delivery"'
    # Customers: by customer_id first, else by email (case-insensitive), else created.
    assert second.contact == known
    assert first.contact.external_id == "c-1" and first.contact.email == "ana@example.com"
    assert third.contact.email == "bob@example.com"
    assert Contact.objects.count() == 3


def test_satisfied_and_score_norm_are_decided_like_the_answer_page(tmp_path):
    survey = make_survey(slug="shop")
    run(write(tmp_path, "submitted_at,score\n2024-03-01,4\n2024-03-01,3\n"), "--survey", "shop")
    four, three = Answer.objects.order_by("-score")
    assert (four.score, four.satisfied, four.score_norm) == (4, True, 0.75)
    assert (three.score, three.satisfied, three.score_norm) == (3, False, 0.5)
    assert survey.primary_question().key == four.question.key


def test_satisfied_on_a_reversed_scale_and_the_report_counts_it(tmp_path):
    survey = make_survey(
        slug="grades",
        questions=[rating_question(key="grade", reversed=True, primary=True)],
    )
    path = write(
        tmp_path, "submitted_at,score\n" + "".join(f"2024-03-10,{s}\n" for s in (1, 2, 2, 3, 5))
    )
    run(path, "--survey", "grades")
    assert sorted(Answer.objects.values_list("score", "satisfied")) == [
        (1, True),
        (2, True),
        (2, True),
        (3, False),
        (5, False),
    ]
    report = csat_report(survey, **MARCH)
    assert (report["csat"], report["n"], report["satisfied"], report["mean"]) == (60.0, 5, 3, 2.6)


def test_reimporting_the_same_file_adds_nothing(tmp_path):
    survey = make_survey(slug="shop")
    text = f"""{HEADER}
2024-03-01,5,,,,order-1,north
2024-03-02,2,,,,,south
2024-03-02,2,,,,,south
2024-03-03,4,,a@example.com,,,
"""
    path = write(tmp_path, text)
    first = run(path, "--survey", "shop")
    assert "Imported 4 responses" in first  # two identical lines are two answers
    again = run(path, "--survey", "shop")
    assert "Imported 0 responses" in again and "Already imported: 4" in again
    assert Response.objects.filter(survey=survey).count() == 4
    assert Contact.objects.count() == 1
    # One identical line more: only that one is new.
    with open(path, "a") as f:
        f.write("2024-03-02,2,,,,,south\n")
    third = run(path, "--survey", "shop")
    assert "Imported 1 response " in third and "Already imported: 4" in third
    assert csat_report(survey, **MARCH)["n"] == 5


def test_report_figures_include_the_imported_answers(tmp_path):
    survey = make_survey(slug="shop")
    lines = [HEADER]
    for i in range(40):
        region = "north" if i % 2 else "south"
        score = 5 if (i % 4 == 1 or i % 4 == 2) else 2  # north: 50 %, south: 50 %
        if region == "north" and i < 20:
            score = 5  # north: 15 of 20 satisfied; south: 10 of 20
        lines.append(f"2024-03-{1 + i % 20:02d},{score},,,,,{region}")
    path = write(tmp_path, "\n".join(lines) + "\n")
    out = run(path, "--survey", "shop")
    how = "20 days recomputed" if on_postgres() else "no rollups on this database"
    assert f"Reports up to date for 2024-03-01 – 2024-03-20: {how}" in out
    report = csat_report(survey, **MARCH, group_by="region")
    raw = csat_report(survey, **MARCH, group_by="region", source="raw")
    assert (report["n"], report["satisfied"], report["csat"]) == (40, 25, 62.5)
    assert {b["value"]: (b["csat"], b["n"]) for b in report["breakdown"]} == {
        "north": (75.0, 20),
        "south": (50.0, 20),
    }
    assert {k: v for k, v in report.items() if k != "source"} == {
        k: v for k, v in raw.items() if k != "source"
    }


@pytest.fixture
def marked(monkeypatch) -> set:
    """The survey days the import marks stale (reports.rollups.mark_dirty, still called)."""
    days: set = set()
    original = rollups.mark_dirty

    def mark_dirty(survey_id, batch_days):
        days.update(batch_days)
        original(survey_id, batch_days)

    monkeypatch.setattr(rollups, "mark_dirty", mark_dirty)
    return days


def test_a_large_import_rebuilds_the_rollups_from_its_first_day(tmp_path, marked, rollups_engine):
    survey = make_survey(slug="shop")
    today = timezone.localdate()
    days = [today - timedelta(days=i) for i in range(1, imports.RECOMPUTE_DAYS_LIMIT + 10)]
    text = "submitted_at,score\n" + "".join(
        f"{d.isoformat()},{5 if d.toordinal() % 3 else 1}\n" for d in days
    )
    out = run(write(tmp_path, text), "--survey", "shop")
    assert f"rebuilt from {min(days).isoformat()}" in out
    report = csat_report(survey, start=min(days), end=today, interval="month")
    assert report["n"] == len(days)
    assert report["satisfied"] == sum(1 for d in days if d.toordinal() % 3)
    # The days were marked stale too, so beat catches up even if the command had died.
    assert marked == set(days)


def test_a_few_days_spread_over_years_are_recomputed_one_by_one(tmp_path, rollups_engine):
    survey = make_survey(slug="shop")
    text = "submitted_at,score\n" + "".join(f"{1980 + y}-06-01,5\n" for y in range(46))
    out = run(write(tmp_path, text), "--survey", "shop")
    assert "46 days recomputed" in out
    assert csat_report(survey, start=date(2024, 1, 1), end=date(2024, 12, 31))["n"] == 1


def test_dry_run_writes_nothing(tmp_path):
    make_survey(slug="shop")
    out = run(write(tmp_path, GOOD_AND_BAD), "--survey", "shop", "--dry-run")
    assert "Would import 3 responses" in out and "Dry run: nothing was written." in out
    assert "line 6: score 7" in out
    assert Response.objects.count() == 0 and Contact.objects.count() == 0


def test_unknown_survey_is_a_clear_error_with_exit_code_1(tmp_path):
    make_survey(slug="shop")
    path = write(tmp_path, "submitted_at,score\n2024-03-01,5\n")
    with pytest.raises(
        CommandError, match="no survey with the slug 'nope' \\(surveys: shop\\)"
    ) as e:
        run(path, "--survey", "nope")
    assert e.value.returncode == 1


def test_a_draft_survey_is_refused(tmp_path):
    make_survey(slug="draft", publish=False)
    with pytest.raises(CommandError, match="is a draft: its scales are not frozen"):
        run(write(tmp_path, "submitted_at,score\n2024-03-01,5\n"), "--survey", "draft")
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("submitted_at,scroe", "unknown column 'scroe'"),
        ("submitted_at,comment", "the file has no 'score' column"),
        ("submitted_at,score,score", "the column 'score' appears twice"),
        ("submitted_at,score,attr.bad name", "'bad name' is not an attribute name"),
    ],
)
def test_a_bad_header_writes_nothing(tmp_path, header, message):
    make_survey(slug="shop")
    with pytest.raises(CommandError, match=message):
        run(write(tmp_path, f"{header}\n2024-03-01,5,x\n"), "--survey", "shop")
    assert Response.objects.count() == 0


def test_a_comment_column_needs_a_comment_question(tmp_path):
    make_survey(slug="plain", questions=[rating_question(primary=True)])
    path = write(tmp_path, "submitted_at,score,comment\n2024-03-01,5,nice\n")
    with pytest.raises(CommandError, match="the survey has no comment question: add one"):
        run(path, "--survey", "plain")
    assert Response.objects.count() == 0


def test_scores_can_go_to_another_question(tmp_path):
    survey = make_survey(
        slug="two",
        questions=[
            rating_question(primary=True),
            rating_question(key="speed", scale="0-10"),
        ],
    )
    run(
        write(tmp_path, "submitted_at,score\n2024-03-01,9\n"),
        "--survey",
        "two",
        "--question",
        "speed",
    )
    answer = Answer.objects.get()
    assert (answer.question.key, answer.score, answer.satisfied) == ("speed", 9, True)
    assert csat_report(survey, **MARCH, question_key="speed")["n"] == 1
    with pytest.raises(CommandError, match="the survey has no question 'nope'"):
        run(write(tmp_path, "submitted_at,score\n"), "--survey", "two", "--question", "nope")


def test_semicolons_and_whole_number_decimals_from_a_spreadsheet(tmp_path):
    make_survey(slug="shop")
    run(
        write(tmp_path, "submitted_at;score;attr.region\n2024-03-01;4.0;north\n"),
        "--survey",
        "shop",
    )
    answer = Answer.objects.get()
    assert answer.score == 4 and answer.response.attributes == {"region": "north"}


def test_an_unreadable_line_stops_the_import_after_whole_batches(tmp_path):
    survey = make_survey(slug="shop")
    good = "".join(f"2024-03-{d:02d},5\n" for d in range(1, 6))
    path = tmp_path / "broken.csv"
    path.write_bytes(b"submitted_at,score\n" + good.encode() + b"2024-03-09,\xff\n2024-03-10,4\n")
    with pytest.raises(CommandError, match="stopped: line 7 is not utf-8 text"):
        run(str(path), "--survey", "shop", "--batch-size", "2")
    # Lines 2-5 went in two whole batches; line 6 was in the batch that never committed.
    assert Response.objects.filter(survey=survey).count() == 4
    path.write_bytes(b"submitted_at,score\n" + good.encode() + b"2024-03-09,3\n2024-03-10,4\n")
    out = run(str(path), "--survey", "shop", "--batch-size", "2")
    assert "Imported 3 responses" in out and "Already imported: 4" in out


def test_a_failing_batch_leaves_no_half_written_rows(tmp_path, monkeypatch, marked):
    survey = make_survey(slug="shop")
    calls = {"n": 0}
    mark_dirty = rollups.mark_dirty

    def dies_in_the_second_batch(survey_id, days):
        calls["n"] += 1
        if calls["n"] == 2:  # after the batch's rows were written, before its commit
            raise RuntimeError("the process died")
        mark_dirty(survey_id, days)

    monkeypatch.setattr(rollups, "mark_dirty", dies_in_the_second_batch)
    text = "submitted_at,score,comment\n" + "".join(
        f"2024-03-{d:02d},5,c{d}\n" for d in range(1, 7)
    )
    with pytest.raises(RuntimeError):
        run(write(tmp_path, text), "--survey", "shop", "--batch-size", "3")
    assert Response.objects.filter(survey=survey).count() == 3
    assert Answer.objects.count() == 6
    assert marked == {date(2024, 3, d) for d in (1, 2, 3)}


def test_an_erased_customer_is_not_imported_again(tmp_path):
    make_survey(slug="shop")
    contact = Contact.objects.create(email="gone@example.com", name="Gone")
    privacy_services.erase_customer(email="gone@example.com", via="test")
    contact.refresh_from_db()
    text = "submitted_at,score,customer_email\n2024-03-01,5,GONE@example.com\n2024-03-01,4,\n"
    out = run(write(tmp_path, text), "--survey", "shop")
    assert "line 2: the customer's personal data was erased" in out
    assert "Imported 1 response " in out
    assert not Contact.objects.filter(email__iexact="gone@example.com").exists()


def test_imported_answers_open_no_follow_ups(tmp_path):
    from followups.models import FollowUp

    make_survey(slug="shop")
    run(write(tmp_path, "submitted_at,score\n2024-03-01,1\n"), "--survey", "shop")
    assert Response.objects.get().source == "import"
    assert FollowUp.objects.count() == 0
