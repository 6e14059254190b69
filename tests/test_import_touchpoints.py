"""python manage.py import_touchpoints FILE.csv: a backlog through the API's validation."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from surveys.models import Contact, Invitation, TouchpointEvent, TouchpointSkip

from .factories import make_survey

HEADER = (
    "type,external_id,occurred_at,customer_email,customer_name,customer_external_id,"
    "customer_locale,customer_time_zone,attr.channel,attr.order_id\n"
)


def recent(hours: int = 1) -> str:
    return (timezone.now() - timedelta(hours=hours)).isoformat(timespec="seconds")


def run(path, *args) -> str:
    out = io.StringIO()
    call_command("import_touchpoints", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def backlog(tmp_path):
    t = recent()
    text = (
        HEADER
        + f"purchase,o-1,{t},ana@example.com,Ana,c-1,de,Europe/Berlin,web,A-1\n"  # line 2
        + "purchase,o-2,yesterday,bo@example.com,Bo,,,,web,A-2\n"  # line 3: bad time
        + f'purchase,o-3,{t},cy@example.com,"Cy, the ""second""",,,,phone,A-3\n'  # line 4
        + f'purchase,o-4,{t},not-an-email,"Dee\nwith a line break",,xx_1234567890,Mars/Base,web,A-4\n'  # 5-6
        + f"purchase,o-5,{t},eve@example.com,Eve,,,,web,A-5\n"  # line 7
        + f"purchase,o-1,{t},ana@example.com,Ana,c-1,de,,web,A-1\n"  # line 8: repeats line 2
        + "\n"  # line 9: blank
        + f"purchase,o-6,{t},fay@example.com\n"  # line 10: too few fields
        + f"Purchase!,o-7,{t},,,,,,web,A-7\n"  # line 11: bad type, no customer
    )
    path = tmp_path / "backlog.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_rows_are_stored_and_bad_ones_reported_with_their_line(db, backlog):
    survey = make_survey()
    out = run(backlog)

    assert "4 rows accepted (3 were created, 1 were already there), 4 rejected." in out
    assert "line 3: occurred_at: 'yesterday' is not an ISO-8601 date and time" in out
    assert "line 5: customer_email: 'not-an-email' is not an email address." in out
    assert "customer_time_zone: 'Mars/Base' is not a time zone" in out
    assert "line 10: has 4 fields, the header has 10" in out
    assert "line 11: type: Use lowercase letters" in out
    assert "customer: Give the customer's email or external_id (or both)." in out
    assert "line 7" not in out and "line 9" not in out

    events = {e.external_id: e for e in TouchpointEvent.objects.select_related("contact")}
    assert sorted(events) == ["o-1", "o-3", "o-5"]
    assert events["o-1"].attributes == {"channel": "web", "order_id": "A-1"}
    ana = events["o-1"].contact
    assert (ana.email, ana.name, ana.external_id, ana.locale, ana.time_zone) == (
        "ana@example.com",
        "Ana",
        "c-1",
        "de",
        "Europe/Berlin",
    )
    assert Contact.objects.get(email="cy@example.com").name == 'Cy, the "second"'
    # The same service as the API: each event got its invitation.
    assert Invitation.objects.filter(survey=survey).count() == 3


def test_importing_the_same_file_again_finds_duplicates(db, backlog):
    make_survey()
    run(backlog)
    out = run(backlog)
    assert "4 rows accepted (0 were created, 4 were already there), 4 rejected." in out
    assert TouchpointEvent.objects.count() == 3
    assert Invitation.objects.count() == 3


def test_a_dry_run_validates_and_stores_nothing(db, backlog):
    make_survey()
    out = run(backlog, "--dry-run")
    assert "4 rows accepted (3 would be created, 1 would be already there), 4 rejected." in out
    assert "line 3: occurred_at:" in out
    assert "Dry run: nothing was stored." in out
    assert TouchpointEvent.objects.count() == 0 and Contact.objects.count() == 0


def test_small_batches_give_the_same_result(db, backlog):
    make_survey()
    out = run(backlog, "--batch-size", "2")
    assert "4 rows accepted (3 were created, 1 were already there), 4 rejected." in out


def test_a_semicolon_file_with_a_bom_from_a_spreadsheet(db, tmp_path):
    make_survey()
    path = tmp_path / "excel.csv"
    path.write_bytes(
        (
            "type;external_id;occurred_at;customer_email;attr.region\r\n"
            f"purchase;o-1;{recent()};ana@example.com;Nord, Süd\r\n"
        ).encode("utf-8-sig")
    )
    out = run(path)
    assert "1 rows accepted (1 were created, 0 were already there), 0 rejected." in out
    assert TouchpointEvent.objects.get().attributes == {"region": "Nord, Süd"}


def test_an_old_backlog_is_recorded_but_not_surveyed(db, tmp_path):
    survey = make_survey(expires_after_days=14)
    path = tmp_path / "old.csv"
    path.write_text(
        "type,external_id,occurred_at,customer_email\n"
        f"purchase,o-1,{recent(hours=24 * 60)},ana@example.com\n"
    )
    run(path)
    assert TouchpointSkip.objects.get(survey=survey).reason == "stale"


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "type,occurred_at,customer_email\npurchase,2026-01-01,a@example.com\n",
            "missing column(s) external_id",
        ),
        (
            "type,external_id,occurred_at,customer_name\n",
            "missing customer_email or customer_external_id",
        ),
        (
            "type,external_id,occurred_at,customer_email,channel\n",
            "unknown column(s) 'channel' (attributes are named attr.<name>)",
        ),
        ("", "is empty"),
    ],
)
def test_a_file_without_a_valid_header_is_refused(db, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError) as error:
        run(path)
    assert message in str(error.value)
    assert TouchpointEvent.objects.count() == 0


def test_an_unreadable_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        "type,external_id,occurred_at,customer_name\nx,1,2,Jürgen\n".encode("latin-1")
    )
    with pytest.raises(CommandError, match="is not UTF-8 text"):
        run(latin)


def test_the_command_exits_non_zero_without_a_traceback(db, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "bad.csv"
    path.write_text("type,external_id\n")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_touchpoints", str(path)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "missing column(s) occurred_at" in result.stderr
    assert "Traceback" not in result.stderr
