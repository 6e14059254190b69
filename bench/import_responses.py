"""Historical import speed on PostgreSQL: `manage.py import_responses` on a generated CSV.

    python bench/import_responses.py [--rows 100000] [--days 730]

Writes a CSV like a shop's export (two years of answers, a comment on every fifth, some over
several lines, customer ids and emails with repeat customers, a touchpoint id on half the rows,
two attributes), imports it into a fresh database of its own (default `bench_import`, dropped
and created again), imports it a second time (everything recognised), and times how the
rollups are brought up to date both ways: day by day against rebuilt from the first day.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

END = date(2026, 11, 30)


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
            "SECRET_KEY": "bench-import-secret-key-0123456789abcdefghijklm",
            "LOG_LEVEL": "WARNING",
            "CSAT_VAR_DIR": tempfile.mkdtemp(prefix="csat-bench-import-"),
            "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def write_csv(path: Path, rows: int, days: int, rng: random.Random) -> None:
    first = datetime.combine(END - timedelta(days=days - 1), datetime.min.time(), tzinfo=UTC)
    customers = max(rows // 5, 1)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "submitted_at",
                "score",
                "comment",
                "customer_email",
                "customer_id",
                "touchpoint_id",
                "attr.region",
                "attr.channel",
            ]
        )
        for i in range(rows):
            at = first + timedelta(seconds=rng.randrange(days * 86400))
            score = rng.choices([1, 2, 3, 4, 5], weights=[8, 7, 12, 33, 40])[0]
            comment = ""
            if i % 5 == 0:
                comment = rng.choice(
                    [
                        "Fast delivery, thank you!",
                        'The parcel was "damaged", but support helped.',
                        "Wrong size.\nSent it back, waiting for the refund.",
                    ]
                )
            c = rng.randrange(customers)
            out.writerow(
                [
                    at.isoformat(),
                    score,
                    comment,
                    f"customer{c}@example.com" if c % 2 else "",
                    f"c-{c}" if c % 3 else "",
                    f"order-{i}" if i % 2 else "",
                    rng.choice(["north", "south", "east", "west"]),
                    rng.choice(["web", "app", "phone"]),
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_import")
    args = parser.parse_args()
    setup(args.database_url)

    from django.core.management import call_command

    from reports import rollups
    from surveys.models import Response
    from tests.factories import make_survey

    survey = make_survey(slug="history")
    path = Path(tempfile.mkdtemp(prefix="csat-bench-import-")) / "history.csv"
    write_csv(path, args.rows, args.days, random.Random(7))
    size = path.stat().st_size
    print(f"{args.rows:,} rows, {size / 1e6:.1f} MB, {args.days} days → {args.database_url}")

    def timed_import(label: str) -> float:
        out = io.StringIO()
        started = time.perf_counter()
        call_command("import_responses", str(path), "--survey", "history", stdout=out)
        seconds = time.perf_counter() - started
        print(f"\n{label}: {seconds:.1f} s, {args.rows / seconds:,.0f} rows/s (with the rollups)")
        print("  " + out.getvalue().strip().replace("\n", "\n  "))
        return seconds

    timed_import("first import")
    timed_import("the same file again")
    assert Response.objects.filter(survey=survey).count() == args.rows

    days = sorted({r.date() for r in Response.objects.values_list("submitted_at", flat=True)})
    started = time.perf_counter()
    rollups.rebuild(survey=survey, since=days[0])
    rebuilt = time.perf_counter() - started
    sample = days[:: max(1, len(days) // 60)]
    started = time.perf_counter()
    for day in sample:
        rollups.recompute_day(survey, day)
    per_day = (time.perf_counter() - started) / len(sample)
    print(
        f"\nrollups for {len(days)} days: rebuilt from the first day {rebuilt:.1f} s; "
        f"day by day {per_day * 1000:.0f} ms a day ({per_day * len(days):.1f} s for all): "
        f"break-even near {rebuilt / per_day:.0f} days"
    )


if __name__ == "__main__":
    main()
