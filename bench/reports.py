"""Report API latency on 10 million responses, against the raw GROUP BY, in one run.

    python bench/reports.py [--responses 10000000] [--checkpoints 1000000] [--requests 50]
    python bench/reports.py --responses 1000000 --checkpoints 100000   # a few minutes

Generates responses over two years in PostgreSQL with INSERT ... SELECT generate_series
(two surveys, four attributes, five languages, a quarter of the responses with an NPS answer,
touchpoint events for coverage), in a database of its own (default `bench_reports`, dropped and
created again). At every checkpoint (and at the full size) it rebuilds the rollups, times about
50 varied report requests through the API (Django test client, API key: ranges from 7 days to
two years, day/week/month, breakdowns, one and two filters) and the same reports computed from
the raw tables, and prints p50/p95 and the ratio. Target: p95 < 100 ms, flat as responses grow.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAYS = 730
CHUNK = 250_000
EXTRA_INVITATION_IDS = 4_000_000_000  # unanswered invitations: ids apart from the response ids
END = date(2026, 11, 30)
T0 = datetime.combine(END - timedelta(days=DAYS - 1), datetime.min.time(), tzinfo=UTC)


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
            "SECRET_KEY": "bench-reports-secret-key-0123456789abcdefghijkl",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "CSAT_VAR_DIR": tempfile.mkdtemp(prefix="csat-bench-reports-"),
            "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host is allowed
    call_command("migrate", verbosity=0)


def constant_columns(model, given: set[str]) -> tuple[list[str], list]:
    """Columns of `model` not in `given`, with their model defaults (Django sets no DB defaults)."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in given or field.attname in given:
            continue
        if field.null:
            continue
        default = field.get_default()
        columns.append(field.column)
        values.append(json.dumps(default) if isinstance(default, dict | list) else default)
    return columns, values


def make_surveys():
    from surveys.models import Survey
    from tests.factories import make_survey, rating_question

    nps = {"key": "recommend", "kind": "nps", "scale": "0-10", "text": "Recommend us?"}
    comment = {"key": "comment", "kind": "comment", "text": "Anything else?"}
    shop = make_survey(
        slug="shop",
        name="Shop",
        csat_target=80,
        questions=[rating_question(key="satisfaction", primary=True), nps, comment],
    )
    support = make_survey(
        slug="support",
        name="Support",
        touchpoint="support_contact",
        csat_target=75,
        questions=[rating_question(key="satisfaction", primary=True), nps, comment],
    )
    return [Survey.objects.prefetch_related("questions").get(pk=s.pk) for s in (shop, support)]


COMMENTS = [
    "Fast delivery, thank you!",
    "The parcel arrived damaged.",
    "Nobody answered my second email.",
    "Great product, a bit expensive.",
    "The agent was friendly and solved it at once.",
    "Waited two weeks for a refund.",
]


def _insert_columns(model, given: dict[str, str]) -> tuple[str, str, list]:
    """Column list, SELECT expressions and constant parameters for an INSERT ... SELECT."""
    columns, values = constant_columns(model, set(given))
    names = [*given, *columns]
    expressions = [*given.values(), *(["%s"] * len(values))]
    return ", ".join(names), ", ".join(expressions), values


LOADED_TABLES = (
    "surveys_contact",
    "surveys_invitation",
    "surveys_response",
    "surveys_answer",
    "surveys_touchpointevent",
)


class BulkLoad:
    """While generating: no secondary indexes and no foreign-key triggers on the loaded tables
    (the generator makes consistent rows); the indexes are built again in one pass afterwards,
    as a restore would. Cuts the generation from hours to minutes."""

    def __enter__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')",
                [list(LOADED_TABLES)],
            )
            self.indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)",
                [list(LOADED_TABLES)],
            )
            self.uniques = cursor.fetchall()
            for table, name, _definition in self.uniques:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            unique_names = {name for _t, name, _d in self.uniques}
            for name, _definition in self.indexes:
                if name not in unique_names:
                    cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
            cursor.execute("SET session_replication_role = replica")
        return self

    def __exit__(self, *exc):
        from django.db import connection
        from tqdm import tqdm

        unique_names = {name for _t, name, _d in self.uniques}
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("SET maintenance_work_mem = '1GB'")
            steps = [d for n, d in self.indexes if n not in unique_names]
            steps += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in self.uniques]
            for statement in tqdm(steps, desc="indexes", unit="index"):
                cursor.execute(statement)
            cursor.execute("RESET maintenance_work_mem")
        return False


def generate(first: int, last: int, surveys, contacts: int, args, bar) -> None:
    """Responses first..last-1 (7 in 10 to the shop survey) with their invitations (one sent a
    few hours before each response, plus unanswered ones), answers (a CSAT score, a quarter an
    NPS score, a sixth a comment) and touchpoint events. Invitation ids equal response ids."""
    from django.db import connection

    from surveys.models import Answer, Contact, Invitation, Response, TouchpointEvent

    shop, support = surveys
    q = {s.pk: {x.key: x.pk for x in s.questions.all()} for s in surveys}
    which = "CASE WHEN h.survey_id = %(shop)s THEN {shop} ELSE {support} END"
    tz = "%(t0)s::timestamptz"
    inv_cols, inv_exprs, inv_vals = _insert_columns(
        Invitation,
        {
            "id": "h.i",
            "survey_id": "h.survey_id",
            "contact_id": "h.contact_id",
            "salt": "'b' || h.i",
            "token_hash": "'bench-' || h.i",
            "locale": "h.locale",
            "attributes": "h.attributes",
            "status": "'sent'",
            "due_at": "h.at - interval '3 hours'",
            "created_at": "h.at - interval '3 hours'",
            "sent_at": "h.at - interval '3 hours'",
            "clicked_at": "h.at - interval '2 minutes'",
            "answered_at": "h.at",
            "expires_at": "h.at + interval '11 days'",
        },
    )
    extra_cols, extra_exprs, extra_vals = _insert_columns(
        Invitation,
        {
            "id": f"{EXTRA_INVITATION_IDS} + h.i",
            "survey_id": "h.survey_id",
            "contact_id": "h.contact_id",
            "salt": "'x' || h.i",
            "token_hash": "'bench-x' || h.i",
            "locale": "h.locale",
            "attributes": "h.attributes",
            "status": "'expired'",
            "due_at": "h.at",
            "created_at": "h.at",
            "sent_at": "h.at",
            "clicked_at": "CASE WHEN random() < 0.2 THEN h.at + interval '1 hour' END",
            "expires_at": "h.at + interval '14 days'",
        },
    )
    r_cols, r_exprs, r_vals = _insert_columns(
        Response,
        {
            "survey_id": "h.survey_id",
            "invitation_id": "h.i",
            "contact_id": "h.contact_id",
            "submitted_at": "h.at",
            "locale": "h.locale",
            "touchpoint_type": which.format(
                shop="%(shop_touchpoint)s", support="%(support_touchpoint)s"
            ),
            "attributes": "h.attributes",
        },
    )
    scored = {"response_id": "x.id", "question_id": "", "score": "x.score"}
    a_cols, _a_exprs, a_vals = _insert_columns(
        Answer, {**scored, "score_norm": "", "satisfied": "", "text": ""}
    )
    t_cols, t_exprs, t_vals = _insert_columns(
        TouchpointEvent,
        {
            "type": "CASE WHEN i %% 10 < 7 THEN %(shop_touchpoint)s ELSE %(support_touchpoint)s END",
            "external_id": "'bench-' || i",
            "occurred_at": f"{tz} + random() * interval '{DAYS} days'",
            "contact_id": "1 + floor(random() * %(contacts)s)::bigint",
        },
    )
    constants: dict = {}

    def named(prefix: str, values: list) -> str:
        keys = []
        for i, value in enumerate(values):
            constants[f"{prefix}{i}"] = value
            keys.append(f"%({prefix}{i})s")
        return ", ".join(keys)

    def with_constants(exprs: str, prefix: str, values: list) -> str:
        return (
            exprs.replace(", ".join(["%s"] * len(values)), named(prefix, values))
            if values
            else exprs
        )

    inv_exprs = with_constants(inv_exprs, "const_i", inv_vals)
    extra_exprs = with_constants(extra_exprs, "const_x", extra_vals)
    r_exprs = with_constants(r_exprs, "const_r", r_vals)
    t_exprs = with_constants(t_exprs, "const_t", t_vals)
    a_const = named("const_a", a_vals)
    answer = (
        f"INSERT INTO surveys_answer ({a_cols}) SELECT x.id, {{question}}, x.score, {{norm}}, "
        f"{{satisfied}}, {{text}}{', ' + a_const if a_const else ''} FROM {{source}}"
    )
    sql = f"""
    WITH g AS (
        SELECT i, CASE WHEN i %% 10 < 7 THEN %(shop)s ELSE %(support)s END AS survey_id,
               1 + floor(random() * %(contacts)s)::bigint AS contact_id,
               {tz} + random() * interval '{DAYS} days' AS at,
               (ARRAY['en', 'de', 'nl', 'pl', 'da'])[1 + floor(random() * 5)::int] AS locale,
               floor(random() * 40)::int AS agent
        FROM generate_series(%(lo)s, %(hi)s) i
    ), h AS (
        SELECT g.*, jsonb_build_object(
            'channel', (ARRAY['web', 'phone', 'shop', 'app'])[1 + floor(random() * 4)::int],
            'agent', 'agent-' || agent,
            'product', 'product-' || floor(random() * 25)::int,
            'region', (ARRAY['north', 'south', 'east', 'west', 'central'])[1 + floor(random() * 5)::int]
        ) AS attributes FROM g
    ), inv AS (
        INSERT INTO surveys_invitation ({inv_cols}) SELECT {inv_exprs} FROM h
    ), extra AS (
        INSERT INTO surveys_invitation ({extra_cols}) SELECT {extra_exprs} FROM h
        WHERE random() < %(unanswered)s
    ), r AS (
        INSERT INTO surveys_response ({r_cols}) SELECT {r_exprs} FROM h
        RETURNING id, survey_id, (attributes ->> 'agent') AS agent
    ), satisfaction AS (
        {
        answer.format(
            question=which.replace("h.", "x.").format(
                shop="%(shop_sat)s", support="%(support_sat)s"
            ),
            norm="(x.score - 1) / 4.0",
            satisfied="x.score >= 4",
            text="''",
            source="(SELECT id, survey_id, least(5, 1 + floor(power(random(), CASE WHEN agent IN "
            "('agent-1', 'agent-2') THEN 1.2 ELSE 0.55 END) * 5))::smallint AS score FROM r) x",
        )
    }
    ), comments AS (
        {
        answer.format(
            question=which.replace("h.", "x.").format(
                shop="%(shop_comment)s", support="%(support_comment)s"
            ),
            norm="NULL",
            satisfied="NULL",
            text="(%(comments)s::text[])[1 + floor(random() * %(comment_count)s)::int]",
            source="(SELECT id, survey_id, NULL::smallint AS score FROM r WHERE random() < 0.16) x",
        )
    }
    )
    {
        answer.format(
            question=which.replace("h.", "x.").format(
                shop="%(shop_nps)s", support="%(support_nps)s"
            ),
            norm="x.score / 10.0",
            satisfied="x.score >= 9",
            text="''",
            source="(SELECT id, survey_id, floor(random() * 11)::smallint AS score FROM r "
            "WHERE random() < 0.25) x",
        )
    }
    """
    events_sql = (
        f"INSERT INTO surveys_touchpointevent ({t_cols}) SELECT {t_exprs} "
        "FROM generate_series(%(first_event)s, %(last_event)s) i"
    )
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SELECT coalesce(max(id), 0) FROM surveys_contact")
        have = cursor.fetchone()[0]
        if have < contacts:
            cols, vals = constant_columns(Contact, {"email"})
            cursor.execute(
                f"INSERT INTO surveys_contact (email, {', '.join(cols)}) "
                f"SELECT 'customer' || i || '@bench.example', {', '.join(['%s'] * len(vals))} "
                "FROM generate_series(%s, %s) i",
                [*vals, have + 1, contacts],
            )
        for lo in range(first, last, CHUNK):
            hi = min(lo + CHUNK, last)
            params = {
                **constants,
                "lo": lo,
                "hi": hi - 1,
                "t0": T0,
                "contacts": contacts,
                "shop": shop.pk,
                "support": support.pk,
                "shop_touchpoint": shop.touchpoint,
                "support_touchpoint": support.touchpoint,
                "shop_sat": q[shop.pk]["satisfaction"],
                "support_sat": q[support.pk]["satisfaction"],
                "shop_nps": q[shop.pk]["recommend"],
                "support_nps": q[support.pk]["recommend"],
                "shop_comment": q[shop.pk]["comment"],
                "support_comment": q[support.pk]["comment"],
                "comments": COMMENTS,
                "comment_count": len(COMMENTS),
                "unanswered": max(0.0, min(1.0, args.invitations - 1)),
            }
            cursor.execute(sql, params)
            n_events = int((hi - lo) * args.touchpoints)
            if n_events:
                first_event = int(lo * args.touchpoints)
                cursor.execute(
                    events_sql,
                    {
                        **params,
                        "first_event": first_event,
                        "last_event": first_event + n_events - 1,
                    },
                )
            bar.update(hi - lo)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('surveys_invitation', 'id'), "
            "(SELECT max(id) FROM surveys_invitation))"
        )
        cursor.execute("ANALYZE")


def requests_plan(count: int, seed: int = 7) -> list[dict]:
    """Varied report requests a dashboard makes: ranges, intervals, breakdowns, filters."""
    rng = random.Random(seed)
    lengths = [7, 30, 90, 91, 365, DAYS]
    groups = [None, "channel", "agent", "product", "region", "language"]
    filters = [
        {},
        {},
        {"attr.channel": "web"},
        {"attr.agent": "agent-3"},
        {"language": "de"},
        {"attr.region": "north", "attr.channel": "app"},
    ]
    plan = []
    for i in range(count):
        length = lengths[i % len(lengths)]
        end = END - timedelta(days=rng.randrange(0, DAYS - length + 1)) if length < DAYS else END
        start = end - timedelta(days=length - 1)
        interval = rng.choice(["day", "week", "month"] if length <= 366 else ["week", "month"])
        flt = dict(rng.choice(filters))
        group = rng.choice(groups)
        if len(flt) == 2:
            group = None  # two filters with a breakdown read the raw tables (shown apart)
        params = {
            "survey": rng.choice(["shop", "shop", "support"]),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "interval": interval,
            **flt,
        }
        if group:
            params["group_by"] = group
        plan.append(params)
    return plan


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def page_params(params: dict) -> dict | None:
    """The dashboard URL for an API request (the page has no language filter)."""
    if "language" in params:
        return None
    page = {k: v for k, v in params.items() if k != "survey"}
    page["range"] = "custom"
    return page


def timed(get, path: str, params: dict) -> float:
    t = time.perf_counter()
    response = get(path, params)
    elapsed = (time.perf_counter() - t) * 1000
    assert response.status_code == 200, (path, params, response.content[:300])
    return elapsed


def measure(client, manager, plan: list[dict], raw_samples: int) -> dict:
    from reports import service
    from reports.query import parse_query
    from surveys.models import Survey

    for params in plan[:5]:  # warm the connection and caches
        client.get("/api/v1/reports/csat/", params)
    api_ms = []
    for params in plan:
        api_ms.append(timed(client.get, "/api/v1/reports/csat/", params))
        assert client.get("/api/v1/reports/csat/", params).json()["source"] == "rollups", params
    page_ms = []
    comments_ms = []
    for params in plan:
        page = page_params(params)
        if page is not None:
            page_ms.append(timed(manager.get, f"/dashboard/{params['survey']}/", page))
            comments_ms.append(timed(manager.get, f"/dashboard/{params['survey']}/comments/", page))
    recent = {"start": (END - timedelta(days=89)).isoformat(), "end": END.isoformat()}
    overview_ms = [timed(client.get, "/api/v1/reports/overview/", recent) for _ in range(5)]
    overview_page_ms = [
        timed(manager.get, "/dashboard/", {**recent, "range": "custom"}) for _ in range(5)
    ]
    raw_ms = []
    checked = 0
    for params in plan[:raw_samples]:
        survey = Survey.objects.prefetch_related("questions").get(slug=params["survey"])
        arguments = parse_query(params, own=("survey",)).report_arguments()
        t = time.perf_counter()
        raw = service.csat_report(survey, source="raw", **arguments)
        raw_ms.append((time.perf_counter() - t) * 1000)
        fast = client.get("/api/v1/reports/csat/", params).json()
        raw.pop("source"), fast.pop("source")
        assert json.loads(json.dumps(raw)) == fast, f"rollups differ from raw for {params}"
        checked += 1
    return {
        "api_p50": percentile(api_ms, 50),
        "api_p95": percentile(api_ms, 95),
        "api_max": max(api_ms),
        "page_p50": percentile(page_ms, 50),
        "page_p95": percentile(page_ms, 95),
        "comments_p50": percentile(comments_ms, 50),
        "comments_p95": percentile(comments_ms, 95),
        "overview": percentile(overview_ms, 50),
        "overview_page": percentile(overview_page_ms, 50),
        "raw_p50": statistics.median(raw_ms) if raw_ms else float("nan"),
        "raw_max": max(raw_ms) if raw_ms else float("nan"),
        "checked": checked,
    }


def raw_group_by_ms(survey_id: int) -> float:
    """The plain SQL a dashboard would run without rollups: one year, per day and score."""
    from django.db import connection

    with connection.cursor() as cursor:
        t = time.perf_counter()
        cursor.execute(
            """
            SELECT (r.submitted_at AT TIME ZONE 'UTC')::date, a.score, count(*),
                   count(*) FILTER (WHERE a.satisfied)
            FROM surveys_response r JOIN surveys_answer a ON a.response_id = r.id
            WHERE r.survey_id = %s AND NOT r.is_test AND r.submitted_at >= %s
              AND r.submitted_at < %s
            GROUP BY 1, 2
            """,
            [survey_id, T0 + timedelta(days=DAYS - 365), T0 + timedelta(days=DAYS)],
        )
        cursor.fetchall()
        return (time.perf_counter() - t) * 1000


def measure_again(args) -> None:
    """The timings alone, on the data and rollups a previous run generated."""
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "DEBUG": "1",
            "SECRET_KEY": "bench-reports-secret-key-0123456789abcdefghijkl",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "CSAT_VAR_DIR": tempfile.mkdtemp(prefix="csat-bench-reports-"),
            "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
        }
    )
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment

    from access.models import ApiKey
    from surveys.models import Response, Survey

    setup_test_environment()
    ApiKey.objects.filter(name="bench-again").delete()  # a previous --measure-only's key
    _, key = ApiKey.generate(name="bench-again")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    manager = Client()
    manager.force_login(User.objects.get(username="bench-manager"))
    size = Response.objects.count()
    figures = measure(client, manager, requests_plan(args.requests), args.raw_samples)
    figures["raw_sql"] = raw_group_by_ms(Survey.objects.get(slug="shop").pk)
    report([(size, 0, 0, None, figures)], args)


def report(results, args) -> None:
    print("\nReport API and dashboard pages over rollups vs. the same report from the raw tables")
    print(
        f"{'responses':>12} | {'API p50':>8} | {'API p95':>8} | {'API max':>8} | "
        f"{'page p50':>8} | {'page p95':>8} | {'comm. p50':>9} | {'comm. p95':>9} | "
        f"{'overview':>8} | {'ov. page':>8} | "
        f"{'raw p50':>9} | {'raw SQL 1y':>10} | {'raw/API p50':>11}"
    )
    for size, _g, _r, _rows, f in results:
        print(
            f"{size:>12,} | {f['api_p50']:>6.1f}ms | {f['api_p95']:>6.1f}ms | "
            f"{f['api_max']:>6.1f}ms | {f['page_p50']:>6.1f}ms | {f['page_p95']:>6.1f}ms | "
            f"{f['comments_p50']:>7.1f}ms | {f['comments_p95']:>7.1f}ms | "
            f"{f['overview']:>6.1f}ms | {f['overview_page']:>6.1f}ms | {f['raw_p50']:>7.0f}ms | "
            f"{f['raw_sql']:>8.0f}ms | {f['raw_p50'] / f['api_p50']:>10.0f}x"
        )
    last = results[-1][4]
    worst = max(
        last["api_p95"],
        last["page_p95"],
        last["comments_p95"],
        last["overview"],
        last["overview_page"],
    )
    print(
        f"\n{args.requests} requests per size; {last['checked']} of them checked equal to the raw "
        f"computation. Target p95 < 100 ms for every report and dashboard request: "
        f"{'met' if worst < 100 else 'NOT met'} (worst {worst:.1f} ms)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--responses", type=int, default=10_000_000)
    parser.add_argument(
        "--checkpoints",
        type=int,
        nargs="*",
        default=None,
        help="smaller sizes measured on the way (default: a tenth of --responses)",
    )
    parser.add_argument("--contacts", type=int, default=None, help="default: responses / 8")
    parser.add_argument("--touchpoints", type=float, default=1.2, help="events per response")
    parser.add_argument(
        "--invitations", type=float, default=2.0, help="invitations per response (1 to 2)"
    )
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="time the requests on the database a previous run left (no generation)",
    )
    parser.add_argument("--raw-samples", type=int, default=6)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_reports"
        ),
    )
    args = parser.parse_args()
    sizes = sorted(
        {
            *(args.checkpoints if args.checkpoints is not None else [args.responses // 10]),
            args.responses,
        }
        - {0}
    )
    contacts = args.contacts or max(1000, args.responses // 8)
    began = time.perf_counter()
    print(f"database {args.database_url}: {args.responses:,} responses, {contacts:,} customers")
    if args.measure_only:
        return measure_again(args)
    setup(args.database_url)

    from django.db import connection
    from django.test import Client
    from tqdm import tqdm

    from access.models import ApiKey
    from reports import rollups
    from tests.factories import manager_user

    surveys = make_surveys()
    _, key = ApiKey.generate(name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    manager = Client()
    manager.force_login(manager_user(username="bench-manager"))
    plan = requests_plan(args.requests)
    results = []
    done = 0
    bar = tqdm(total=args.responses, unit="resp", unit_scale=True, desc="responses")
    for size in sizes:
        t = time.perf_counter()
        with BulkLoad():
            generate(done + 1, size + 1, surveys, contacts, args, bar)
        generated_s = time.perf_counter() - t
        done = size
        bar.clear()
        with connection.cursor() as cursor:
            cursor.execute("SET work_mem = '256MB'")
        t = time.perf_counter()
        rollups.rebuild(
            progress=lambda total, size=size: tqdm(total=total, desc=f"rollups at {size:,}")
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("RESET work_mem")
            cursor.execute(
                "SELECT (SELECT count(*) FROM reports_answercube WHERE grain = 'd'), "
                "(SELECT count(*) FROM reports_answercube WHERE grain = 'm'), "
                "(SELECT count(*) FROM reports_invitationcube), "
                "(SELECT count(*) FROM reports_coveragerollup), "
                "pg_total_relation_size('reports_answercube'), "
                "pg_total_relation_size('surveys_response') + pg_total_relation_size('surveys_answer')"
            )
            rollup_rows = cursor.fetchone()
        rollup_s = time.perf_counter() - t
        figures = measure(client, manager, plan, args.raw_samples)
        figures["raw_sql"] = raw_group_by_ms(surveys[0].pk)
        results.append((size, generated_s, rollup_s, rollup_rows, figures))
        print(
            f"\n{size:>12,} responses: generated in {generated_s:.0f} s, rollups rebuilt in "
            f"{rollup_s:.0f} s: answer cube {rollup_rows[0]:,} day + {rollup_rows[1]:,} month "
            f"rows ({rollup_rows[4] / 2**20:,.0f} MiB with indexes, responses and answers "
            f"{rollup_rows[5] / 2**20:,.0f} MiB), {rollup_rows[2]:,} invitation cube rows, "
            f"{rollup_rows[3]:,} coverage rows",
            flush=True,
        )
    bar.close()
    report(results, args)
    print(f"Total {time.perf_counter() - began:.0f} s.")


if __name__ == "__main__":
    main()
