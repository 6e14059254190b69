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
    shop = make_survey(
        slug="shop",
        name="Shop",
        csat_target=80,
        questions=[rating_question(key="satisfaction", primary=True), nps],
    )
    support = make_survey(
        slug="support",
        name="Support",
        touchpoint="support_contact",
        csat_target=75,
        questions=[rating_question(key="satisfaction", primary=True), nps],
    )
    return [Survey.objects.prefetch_related("questions").get(pk=s.pk) for s in (shop, support)]


def generate(first: int, last: int, surveys, contacts: int, touchpoints: float, bar) -> None:
    """Responses first..last-1 (7 in 10 to the shop survey), their answers and touchpoints."""
    from django.db import connection

    from surveys.models import Answer, Contact, Response, TouchpointEvent

    shop, support = surveys
    q = {s.pk: {x.key: x.pk for x in s.questions.all()} for s in surveys}
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
        r_cols, r_vals = constant_columns(
            Response,
            {"survey_id", "contact_id", "submitted_at", "locale", "touchpoint_type", "attributes"},
        )
        a_cols, a_vals = constant_columns(
            Answer, {"response_id", "question_id", "score", "score_norm", "satisfied"}
        )
        t_cols, t_vals = constant_columns(
            TouchpointEvent, {"type", "external_id", "occurred_at", "contact_id"}
        )
        r_const = ", ".join(["%s"] * len(r_vals))
        a_const = ", ".join(["%s"] * len(a_vals))
        t_const = ", ".join(["%s"] * len(t_vals))
        for lo in range(first, last, CHUNK):
            hi = min(lo + CHUNK, last)
            params = {
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
            }
            sql = f"""
            WITH g AS (
                SELECT i, CASE WHEN i %% 10 < 7 THEN %(shop)s ELSE %(support)s END AS survey_id,
                       floor(random() * 40)::int AS agent
                FROM generate_series(%(lo)s, %(hi)s) i
            ), r AS (
                INSERT INTO surveys_response
                    (survey_id, contact_id, submitted_at, locale, touchpoint_type, attributes
                     {"".join(", " + c for c in r_cols)})
                SELECT survey_id, 1 + floor(random() * %(contacts)s)::bigint,
                       %(t0)s::timestamptz + random() * interval '{DAYS} days',
                       (ARRAY['en', 'de', 'nl', 'pl', 'da'])[1 + floor(random() * 5)::int],
                       CASE WHEN survey_id = %(shop)s THEN %(shop_touchpoint)s
                            ELSE %(support_touchpoint)s END,
                       jsonb_build_object(
                           'channel', (ARRAY['web', 'phone', 'shop', 'app'])[1 + floor(random() * 4)::int],
                           'agent', 'agent-' || agent,
                           'product', 'product-' || floor(random() * 25)::int,
                           'region', (ARRAY['north', 'south', 'east', 'west', 'central'])[1 + floor(random() * 5)::int]
                       ){", " + r_const if r_const else ""}
                FROM g
                RETURNING id, survey_id, (attributes ->> 'agent') AS agent
            ), s AS (
                INSERT INTO surveys_answer
                    (response_id, question_id, score, score_norm, satisfied
                     {"".join(", " + c for c in a_cols)})
                SELECT id, CASE WHEN survey_id = %(shop)s THEN %(shop_sat)s ELSE %(support_sat)s END,
                       score, (score - 1) / 4.0, score >= 4{", " + a_const if a_const else ""}
                FROM (
                    SELECT id, survey_id, least(5, 1 + floor(power(random(),
                           CASE WHEN agent IN ('agent-1', 'agent-2') THEN 1.2 ELSE 0.55 END) * 5))::smallint AS score
                    FROM r
                ) x
            )
            INSERT INTO surveys_answer
                (response_id, question_id, score, score_norm, satisfied
                 {"".join(", " + c for c in a_cols)})
            SELECT id, CASE WHEN survey_id = %(shop)s THEN %(shop_nps)s ELSE %(support_nps)s END,
                   score, score / 10.0, score >= 9{", " + a_const if a_const else ""}
            FROM (SELECT id, survey_id, floor(random() * 11)::smallint AS score
                  FROM r WHERE random() < 0.25) y
            """
            # %(name)s and positional %s cannot mix: the constants go in by name too
            named = dict(params)
            for prefix, values in (("r", r_vals), ("a", a_vals)):
                for i, value in enumerate(values):
                    named[f"{prefix}{i}"] = value
            sql = _name_constants(sql, r_const, "r", len(r_vals))
            sql = _name_constants(sql, a_const, "a", len(a_vals))
            cursor.execute(sql, named)
            n_events = int((hi - lo) * touchpoints)
            if n_events:
                cursor.execute(
                    f"""
                    INSERT INTO surveys_touchpointevent
                        (type, external_id, occurred_at, contact_id{"".join(", " + c for c in t_cols)})
                    SELECT CASE WHEN i %% 10 < 7 THEN %s ELSE %s END, 'bench-' || i,
                           %s::timestamptz + random() * interval '{DAYS} days',
                           1 + floor(random() * %s)::bigint{", " + t_const if t_const else ""}
                    FROM generate_series(%s, %s) i
                    """,
                    [
                        shop.touchpoint,
                        support.touchpoint,
                        T0,
                        contacts,
                        *t_vals,
                        int(lo * touchpoints),
                        int(lo * touchpoints) + n_events - 1,
                    ],
                )
            bar.update(hi - lo)
        cursor.execute("ANALYZE")


def _name_constants(sql: str, const: str, prefix: str, count: int) -> str:
    if not count:
        return sql
    named = ", ".join(f"%({prefix}{i})s" for i in range(count))
    return sql.replace(", " + const, ", " + named, 2 if prefix == "a" else 1)


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


def measure(client, plan: list[dict], raw_samples: int) -> dict:
    from reports import service
    from reports.api.views import report_arguments
    from surveys.models import Survey

    for params in plan[:5]:  # warm the connection and caches
        client.get("/api/v1/reports/csat/", params)
    api_ms = []
    for params in plan:
        t = time.perf_counter()
        response = client.get("/api/v1/reports/csat/", params)
        api_ms.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.content[:300]
        assert response.json()["source"] == "rollups", params
    t = time.perf_counter()
    overview = client.get("/api/v1/reports/overview/", {"start": "2026-09-01", "end": "2026-11-30"})
    overview_ms = (time.perf_counter() - t) * 1000
    assert overview.status_code == 200
    raw_ms = []
    checked = 0
    for params in plan[:raw_samples]:
        survey = Survey.objects.prefetch_related("questions").get(slug=params["survey"])
        arguments = report_arguments({k: v for k, v in params.items() if k != "survey"})
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
        "overview": overview_ms,
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
    parser.add_argument("--requests", type=int, default=50)
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
    setup(args.database_url)

    from django.db import connection
    from django.test import Client
    from tqdm import tqdm

    from access.models import ApiKey
    from reports import rollups

    surveys = make_surveys()
    _, key = ApiKey.generate(name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    plan = requests_plan(args.requests)
    results = []
    done = 0
    bar = tqdm(total=args.responses, unit="resp", unit_scale=True, desc="responses")
    for size in sizes:
        t = time.perf_counter()
        generate(done + 1, size + 1, surveys, contacts, args.touchpoints, bar)
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
                "SELECT (SELECT count(*) FROM reports_answerrollup), "
                "(SELECT count(*) FROM reports_answerpairrollup), "
                "(SELECT count(*) FROM reports_coveragerollup)"
            )
            rollup_rows = cursor.fetchone()
        rollup_s = time.perf_counter() - t
        figures = measure(client, plan, args.raw_samples)
        figures["raw_sql"] = raw_group_by_ms(surveys[0].pk)
        results.append((size, generated_s, rollup_s, rollup_rows, figures))
        print(
            f"\n{size:>12,} responses: generated in {generated_s:.0f} s, rollups rebuilt in "
            f"{rollup_s:.0f} s ({rollup_rows[0]:,} + {rollup_rows[1]:,} pair + "
            f"{rollup_rows[2]:,} coverage rows)",
            flush=True,
        )
    bar.close()

    print("\nReport API over rollups vs. the same report from the raw tables")
    print(
        f"{'responses':>12} | {'API p50':>8} | {'API p95':>8} | {'API max':>8} | "
        f"{'overview':>8} | {'raw p50':>9} | {'raw SQL 1y':>10} | {'raw/API p50':>11}"
    )
    for size, _g, _r, _rows, f in results:
        print(
            f"{size:>12,} | {f['api_p50']:>6.1f}ms | {f['api_p95']:>6.1f}ms | "
            f"{f['api_max']:>6.1f}ms | {f['overview']:>6.1f}ms | {f['raw_p50']:>7.0f}ms | "
            f"{f['raw_sql']:>8.0f}ms | {f['raw_p50'] / f['api_p50']:>10.0f}x"
        )
    last = results[-1][4]
    print(
        f"\n{args.requests} requests per size; {last['checked']} of them checked equal to the raw "
        f"computation. Target p95 < 100 ms: {'met' if last['api_p95'] < 100 else 'NOT met'}. "
        f"Total {time.perf_counter() - began:.0f} s."
    )


if __name__ == "__main__":
    main()
