"""Export speed and memory on PostgreSQL: responses.csv and responses.xlsx of N responses.

    python bench/export.py [--responses 20000] [--database-url postgres://.../bench_export]

Fills a fresh database of its own (dropped and created again) with one survey of four scored
questions and a comment, N responses over a year (every one through an invitation for a
touchpoint, from N/3 customers, a comment on every third, three attributes), then exports them
all as the dashboard's export does (reports.export.response_table under the same query) and
prints, for CSV (streamed) and XLSX (written row by row to a temporary file), the time, the rows
per second, the output's size and the process's peak memory growth during the export (VmHWM,
reset before each run; ru_maxrss where /proc is missing).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database_url: str) -> None:
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "1",
            "SECRET_KEY": "bench-export-secret-key-0123456789abcdefghijklmn",
            "LOG_LEVEL": "WARNING",
            "CSAT_VAR_DIR": tempfile.mkdtemp(prefix="csat-bench-export-"),
            "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


QUESTIONS = [
    {"key": "speed", "kind": "rating", "scale": "1-5", "text": "How fast?", "primary": True},
    {"key": "friendly", "kind": "rating", "scale": "1-5", "text": "How friendly?"},
    {"key": "recommend", "kind": "nps", "scale": "0-10", "text": "Would you recommend us?"},
    {"key": "effort", "kind": "ces", "scale": "1-7", "text": "How easy was it?"},
    {"key": "comment", "kind": "comment", "text": "Anything else?", "max_length": 500},
]


def fill(responses: int) -> int:
    """The survey and its responses, generated in SQL (generate_series); the survey's id."""
    from django.db import connection

    from surveys import services
    from surveys.api.serializers import SurveySerializer

    serializer = SurveySerializer(
        data={
            "name": "Bench",
            "slug": "bench",
            "touchpoint": "support_contact",
            "languages": ["en"],
            "questions": QUESTIONS,
        }
    )
    serializer.is_valid(raise_exception=True)
    survey = services.create_survey(data=serializer.validated_data)
    services.publish_survey(survey=survey)
    q = {question.key: question.pk for question in survey.questions.all()}
    customers = max(responses // 3, 1)
    # Every row's time: one year back from 2026-11-30, spread by a multiplicative step.
    at = "timestamptz '2026-11-30' - (((g::bigint * 7919) %% 31536000) || ' seconds')::interval"
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO surveys_contact (id, email, name, external_id, locale, time_zone,
                   undeliverable_reason, created_at)
               SELECT g, 'customer' || g || '@example.com', 'Customer ' || g, 'CRM-' || g, 'en',
                   '', '', timestamptz '2025-01-01'
               FROM generate_series(1, %s) g""",
            [customers],
        )
        cursor.execute(
            f"""INSERT INTO surveys_touchpointevent (id, type, external_id, occurred_at,
                   attributes, received_at, contact_id)
               SELECT g, 'support_contact', 'T-' || g, {at} - interval '6 hours',
                   jsonb_build_object('ticket_id', 'T-' || g), {at}, 1 + g %% %s
               FROM generate_series(1, %s) g""",
            [customers, responses],
        )
        cursor.execute(
            f"""INSERT INTO surveys_invitation (id, salt, token_hash, locale, attributes, is_test,
                   status, status_reason, due_at, attempts, message_id, created_at, sent_at,
                   delivered_at, clicked_at, answered_at, contact_id, survey_id, touchpoint_id)
               SELECT g, 's', md5(g::text) || md5((g + 1)::text), 'en', '{{}}', false, 'sent', '',
                   {at} - interval '5 hours', 1, '', {at} - interval '5 hours',
                   {at} - interval '4 hours', {at} - interval '3 hours',
                   {at} - interval '1 hour', {at}, 1 + g %% %s, %s, g
               FROM generate_series(1, %s) g""",
            [customers, survey.pk, responses],
        )
        cursor.execute(
            f"""INSERT INTO surveys_response (id, submitted_at, locale, touchpoint_type,
                   attributes, source, is_test, contact_id, invitation_id, survey_id)
               SELECT g, {at}, 'en', 'support_contact',
                   jsonb_build_object('ticket_id', 'T-' || g,
                       'channel', (array['web', 'phone', 'email'])[1 + g %% 3],
                       'agent', 'agent-' || (g %% 40)),
                   'web', false, 1 + g %% %s, g, %s
               FROM generate_series(1, %s) g""",
            [customers, survey.pk, responses],
        )
        for key, score in (
            ("speed", "1 + g % 5"),
            ("friendly", "1 + (g / 3) % 5"),
            ("recommend", "g % 11"),
            ("effort", "1 + (g / 7) % 7"),
        ):
            cursor.execute(
                f"""INSERT INTO surveys_answer (score, score_norm, satisfied, text, question_id,
                       response_id)
                   SELECT {score.replace("%", "%%")}, 0.5, ({score.replace("%", "%%")}) >= 4,
                       '', %s, g
                   FROM generate_series(1, %s) g""",
                [q[key], responses],
            )
        cursor.execute(
            """INSERT INTO surveys_answer (text, question_id, response_id)
               SELECT 'The agent was helpful, the wait was long (' || g || ').', %s, g
               FROM generate_series(1, %s, 3) g""",
            [q["comment"], responses],
        )
        for table in ("contact", "touchpointevent", "invitation", "response", "answer"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('surveys_{table}', 'id'), "
                f"(SELECT max(id) FROM surveys_{table}))"
            )
        cursor.execute("ANALYZE")
    return survey.pk


def _reset_peak() -> int:
    """Reset the peak resident size (Linux: clear_refs 5); the current size in bytes."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak() -> int:
    try:
        return _status("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise OSError(field)


def measure(fmt: str, survey_id: int) -> None:
    from reports import export
    from reports.query import parse_query
    from reports.responses import responses_in
    from surveys.models import Survey

    survey = Survey.objects.prefetch_related("questions").get(pk=survey_id)
    query = parse_query({"range": "custom", "start": "2025-11-30", "end": "2026-11-30"})
    before = _reset_peak()
    started = time.perf_counter()
    counted = []

    def counting(source):
        for row in source:
            counted.append(None)
            yield row

    table = counting(export.response_table(survey, responses_in(survey, query)))
    if fmt == "csv":
        size = sum(len(line.encode()) for line in export.csv_lines(table))
    else:
        out = export.xlsx_file(table)
        size = out.seek(0, 2)
        out.close()
    rows = len(counted) - 1  # the header
    seconds = time.perf_counter() - started
    peak = _peak() - before
    print(
        f"{fmt:>4}: {rows:,} responses in {seconds:,.1f} s ({rows / seconds:,.0f}/s), "
        f"{size / 1e6:,.0f} MB, peak memory +{peak / 1e6:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_export")
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args()
    setup(args.database_url)
    started = time.perf_counter()
    survey_id = fill(args.responses)
    print(f"{args.responses:,} responses generated in {time.perf_counter() - started:,.0f} s")
    for fmt in args.formats.split(","):
        measure(fmt, survey_id)


if __name__ == "__main__":
    main()
