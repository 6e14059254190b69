"""Touchpoint ingest: events per second through POST /api/v1/touchpoints/ into PostgreSQL.

    .venv/bin/python bench/ingest.py [--events 30000] [--workers 3] [--clients 4]

Creates (and finally drops) the database `bench_ingest`, publishes two surveys with sending
rules (filters, sampling, fatigue, delay, reminder, quiet hours), starts gunicorn and posts
batches of 1,000 events over real HTTP with an API key; customers repeat, so contacts are both
created and updated. The baseline, measured in the same run against the same server: a bare
psycopg `executemany` of the same rows into a plain table, one transaction per batch.
Target: at least 3,000 events/s.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BATCH = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_events(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=6)
    customers = max(count // 3, 1)
    events = []
    for n in range(count):
        c = rng.randrange(customers)
        kind = "purchase" if n % 3 else "support_contact"
        events.append(
            {
                "type": kind,
                "external_id": f"{kind[:3]}-{n}",
                "occurred_at": (start + timedelta(seconds=n * 0.5)).isoformat(),
                "customer": {
                    "email": f"customer{c}@example.com",
                    "name": f"Customer {c}",
                    "external_id": f"cust-{c}" if c % 2 else "",
                    "locale": ["en", "de-DE", "nl", "fr"][c % 4],
                    "time_zone": ["Europe/Berlin", "America/New_York", ""][c % 3],
                },
                "attributes": {
                    "channel": rng.choice(["web", "phone", "email", "chat"]),
                    "agent": f"agent-{rng.randrange(40)}",
                    "product": f"sku-{rng.randrange(500)}",
                    "region": rng.choice(["north", "south", "east", "west"]),
                },
            }
        )
    return events


def prepare(database_url: str) -> str:
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from access.models import ApiKey
    from tests.factories import make_survey

    call_command("migrate", verbosity=0)
    make_survey(
        slug="purchase",
        languages=("en", "de"),
        send_delay_minutes=120,
        reminder_after_days=3,
        min_days_between_surveys=30,
        sample_rate=0.5,
        quiet_hours_start="21:00",
        quiet_hours_end="08:00",
    )
    make_survey(
        slug="support",
        touchpoint="support_contact",
        filters={"channel": ["web", "phone", "chat"]},
    )
    _, key = ApiKey.generate(name="bench")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_baseline_event (id bigserial PRIMARY KEY, type text, "
            "external_id text, occurred_at timestamptz, email text, name text, attributes jsonb)"
        )
    connection.close()
    return key


def serve(port: int, workers: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "csat_platform.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def post_batches(port: int, key: str, bodies: list[bytes], clients: int) -> tuple[float, dict]:
    """Post every body (one batch each) from `clients` keep-alive connections; seconds taken."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    totals = {"created": 0, "duplicates": 0, "rejected": 0, "errors": 0}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            conn.request("POST", "/api/v1/touchpoints/", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            with lock:
                if response.status != 200:
                    totals["errors"] += 1
                    print(f"  HTTP {response.status}: {data[:300]!r}", file=sys.stderr)
                    continue
                result = json.loads(data)
                for k in ("created", "duplicates", "rejected"):
                    totals[k] += result[k]
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, totals


def baseline(database_url: str, events: list[dict]) -> float:
    """Seconds for a bare psycopg executemany of the same rows, one transaction per batch."""
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(database_url) as conn:
        started = time.perf_counter()
        for i in range(0, len(events), BATCH):
            rows = [
                (
                    e["type"],
                    e["external_id"],
                    datetime.fromisoformat(e["occurred_at"]),
                    e["customer"]["email"],
                    e["customer"]["name"],
                    Jsonb(e["attributes"]),
                )
                for e in events[i : i + BATCH]
            ]
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO bench_baseline_event "
                    "(type, external_id, occurred_at, email, name, attributes) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    rows,
                )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_ingest"
        ),
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "CSAT_VAR_DIR": tempfile.mkdtemp(prefix="csat-bench-"),
        "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
    }
    os.environ.update(env)
    print(f"preparing {args.database_url} ...", flush=True)
    key = prepare(args.database_url)
    warmup = make_events(2 * BATCH, seed=1)
    for e in warmup:
        e["external_id"] = "warm-" + e["external_id"]
    events = make_events(args.events)
    bodies = [json.dumps(events[i : i + BATCH]).encode() for i in range(0, len(events), BATCH)]

    port = free_port()
    server = serve(port, args.workers, env)
    try:
        post_batches(port, key, [json.dumps(warmup[i : i + BATCH]).encode() for i in (0, BATCH)], 2)
        seconds, totals = post_batches(port, key, bodies, args.clients)
        # Posting the same batches again must create nothing (idempotency at full speed).
        repeat_seconds, repeat = post_batches(port, key, bodies[:5], args.clients)
    finally:
        server.terminate()
        server.wait()
    base_seconds = baseline(args.database_url, events)

    import django.db

    django.db.connections.close_all()
    from surveys.models import Invitation, TouchpointEvent, TouchpointSkip

    stored = TouchpointEvent.objects.exclude(external_id__startswith="warm-").count()
    invitations = Invitation.objects.exclude(touchpoint__external_id__startswith="warm-").count()
    skipped = TouchpointSkip.objects.exclude(touchpoint__external_id__startswith="warm-").count()
    django.db.connections.close_all()

    rate = len(events) / seconds
    base_rate = len(events) / base_seconds
    print(
        f"ingest API ({args.workers} gunicorn workers, {args.clients} clients, batches of {BATCH}):"
        f" {len(events)} events in {seconds:.1f} s = {rate:,.0f} events/s"
    )
    print(
        f"  created {totals['created']}, duplicates {totals['duplicates']}, "
        f"rejected {totals['rejected']}, failed requests {totals['errors']}; "
        f"stored {stored} events, {invitations} invitations, {skipped} skips"
    )
    print(
        f"  repeat of {5 * BATCH} events: {repeat['duplicates']} duplicates, "
        f"{repeat['created']} created, {5 * BATCH / repeat_seconds:,.0f} events/s"
    )
    print(f"baseline (bare psycopg executemany, plain table): {base_rate:,.0f} events/s")
    print(f"ratio ingest / baseline: {rate / base_rate:.0%}")
    print(f"target >= 3,000 events/s: {'met' if rate >= 3000 else 'NOT met'}")
    if not args.keep:
        import psycopg

        base, name = args.database_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
