"""Connectors: signed webhook deliveries per second through one connector, next to the touchpoint
API's events per second in batches of one, in the same run, against the same server.

    .venv/bin/python bench/connectors.py [--deliveries 3000] [--workers 3] [--clients 4] [--rounds 2]

Creates (and finally drops) the database `bench_connectors` (or the one --database-url or
BENCH_DATABASE_URL names), publishes a purchase survey, makes the customers the events name, a
Shopify connector and an API key, starts gunicorn on PostgreSQL and posts, over keep-alive
HTTP: Shopify `orders/fulfilled` deliveries, each a new order signed as Shopify signs
(base64 HMAC-SHA256 of the body), and the same number of single events to
POST /api/v1/touchpoints/. The two alternate for `--rounds` rounds. Target: the connector
schedules at least as many surveys per second as the API does in batches of one (ratio >= 1).
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import free_port, serve  # noqa: E402

SECRET = "shpss_bench_" + secrets.token_hex(8)
CUSTOMERS = 5000  # events cycle through this many customers


def prepare(database_url: str) -> tuple[str, str]:
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
    from connectors import services
    from surveys.models import Contact
    from tests.factories import make_survey

    call_command("migrate", verbosity=0)
    # Both sides may survey the same customers: no fatigue rule, so every event schedules one.
    make_survey(
        slug="purchase",
        languages=("en", "de"),
        send_delay_minutes=60,
        min_days_between_surveys=0,
    )
    # The customers both sides send are known before the first round: whichever side ran first
    # would otherwise pay for making them, and the connector runs first in round 1.
    Contact.objects.bulk_create(
        Contact(email=f"buyer{n}@example.com", name=f"Bea Buyer {n}", locale="de")
        for n in range(CUSTOMERS)
    )
    connector = services.create_connector(provider="shopify", survey="purchase", secret=SECRET)
    _, key = ApiKey.generate(name="bench")
    connection.close()
    return key, connector.public_id


def shopify_requests(count: int, tag: str, public_id: str) -> list[tuple[str, bytes, dict]]:
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    out = []
    for n in range(count):
        body = json.dumps(
            {
                "id": f"{tag}{n}",
                "email": f"buyer{n % CUSTOMERS}@example.com",
                "name": f"#{tag}{n}",
                "total_price": "19.90",
                "currency": "EUR",
                "customer_locale": "de",
                "updated_at": when,
                "customer": {"first_name": "Bea", "last_name": f"Buyer {n % CUSTOMERS}"},
                "line_items": [{"title": "Kettle"}, {"title": "Filter"}],
            }
        ).encode()
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/fulfilled",
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Shop-Domain": "bench.myshopify.com",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        }
        out.append((f"/hooks/{public_id}/", body, headers))
    return out


def api_requests(count: int, tag: str, key: str) -> list[tuple[str, bytes, dict]]:
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return [
        (
            "/api/v1/touchpoints/",
            json.dumps(
                {
                    "type": "purchase",
                    "external_id": f"api-{tag}{n}",
                    "occurred_at": when,
                    "customer": {
                        "email": f"buyer{n % CUSTOMERS}@example.com",
                        "name": f"Bea Buyer {n % CUSTOMERS}",
                        "locale": "de",
                    },
                    "attributes": {"order": f"#{tag}{n}", "product": "Kettle, Filter"},
                }
            ).encode(),
            headers,
        )
        for n in range(count)
    ]


def post_all(port: int, requests: list, clients: int) -> tuple[float, dict]:
    queue = list(reversed(requests))
    lock = threading.Lock()
    statuses: dict[int, int] = {}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                path, body, headers = queue.pop()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status not in (200, 201):
                    print(f"  HTTP {response.status}: {data[:200]!r}", file=sys.stderr)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, statuses


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=3000, help="per side and round")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_connectors"
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
    key, public_id = prepare(args.database_url)
    port = free_port()
    server = serve(port, args.workers, env)
    rates: dict[str, list[float]] = {"connector": [], "api": []}
    try:
        post_all(port, shopify_requests(50, "warm-", public_id), args.clients)
        post_all(port, api_requests(50, "warm-", key), args.clients)
        for r in range(args.rounds):
            sides = [
                ("connector", shopify_requests(args.deliveries, f"r{r}-", public_id)),
                ("api", api_requests(args.deliveries, f"r{r}-", key)),
            ]
            for name, requests in sides if r % 2 == 0 else reversed(sides):
                seconds, statuses = post_all(port, requests, args.clients)
                rates[name].append(len(requests) / seconds)
                print(
                    f"  round {r + 1} {name:9}: {len(requests)} in {seconds:.2f} s = "
                    f"{len(requests) / seconds:,.0f}/s {statuses}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait()

    import django.db

    django.db.connections.close_all()
    from connectors.models import Delivery
    from surveys.models import Invitation

    by_connector = Invitation.objects.filter(
        touchpoint__external_id__startswith="shopify:r"
    ).count()
    by_api = Invitation.objects.filter(touchpoint__external_id__startswith="api-r").count()
    accepted = Delivery.objects.filter(outcome="accepted").count()
    django.db.connections.close_all()
    expected = args.deliveries * args.rounds
    connector_rate = sum(rates["connector"]) / len(rates["connector"])
    api_rate = sum(rates["api"]) / len(rates["api"])
    print(f"connector: {connector_rate:,.0f} signed deliveries/s (mean of {args.rounds} rounds)")
    print(f"API, batches of one: {api_rate:,.0f} events/s")
    ratios = sorted(c / a for c, a in zip(rates["connector"], rates["api"], strict=True))
    median = statistics.median(ratios)
    print(
        f"ratio connector / API: {connector_rate / api_rate:.2f} of the means, median of the "
        f"rounds' ratios {median:.2f} ({', '.join(f'{r:.2f}' for r in ratios)}; target >= 1.00)"
    )
    print(
        f"invitations scheduled: {by_connector} through the connector, {by_api} through the API "
        f"(of {expected} each); deliveries recorded as accepted: {accepted}"
    )
    if not args.keep:
        import psycopg

        base, name = args.database_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    if by_connector != expected or by_api != expected:
        sys.exit("not every event scheduled its invitation")


if __name__ == "__main__":
    main()
