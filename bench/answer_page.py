"""Answer-page submissions per second through gunicorn against PostgreSQL, next to a baseline.

    python bench/answer_page.py [--rounds 5] [--seconds 5] [--workers 3] [--connections 16] [--brand]

Both servers run the product's settings (DEBUG=0, static files collected) under the same
gunicorn, side by side; the baseline is a bare Django view doing one SELECT and one INSERT.
wrk posts one answer per fresh invitation link, to each server in turn, `--rounds` times.
Target: the answer page reaches at least 50 % of the baseline (the median of the runs' ratios).
`--brand` gives the site a brand (name, colour, logo) first, as a branded site runs.
"""

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LUA = r"""
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local counter = 0
local threads = %(threads)d
local id = 0
function setup(thread) thread:set("tid", id); id = id + 1 end
function init(args) counter = tonumber(tid) or 0 end
request = function()
  counter = counter + threads
  local token = tokens[(counter %% #tokens) + 1]
  return wrk.format("POST", "%(prefix)s" .. token .. "/", {["Content-Type"] = "application/x-www-form-urlencoded"}, "satisfaction=4&comment=Fast+and+friendly")
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(database_url: str, invitations: int, brand: bool) -> tuple[list[str], list[str]]:
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from surveys import tokens as links
    from surveys.invitations import InvitationBatch
    from surveys.models import Contact
    from tests.factories import make_survey

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_baseline_hit (id bigserial PRIMARY KEY, invitation_id bigint, "
            "score text, created_at timestamptz DEFAULT now())"
        )
    survey = make_survey(slug="bench", min_days_between_surveys=0)  # one customer, many links
    if brand:
        from branding.logos import clean_logo
        from branding.services import save_brand
        from tests.test_branding import image_bytes

        logo = clean_logo(image_bytes(), max_bytes=1 << 20)
        save_brand(company_name="Bench", sender_name="", accent_color="#0b5d3b", logo=logo)
    contact = Contact.objects.create(email="bench@example.com")
    tokens, hashes = [], []
    for start in range(0, invitations, 5000):
        batch = InvitationBatch(surveys=[survey], contacts=[contact])
        made = [batch.add(survey, contact) for _ in range(min(5000, invitations - start))]
        batch.save()
        tokens += [links.token_for(invitation) for invitation in made]
        hashes += [invitation.token_hash for invitation in made]
    connection.close()
    return tokens, hashes


def serve(wsgi_settings: str, port: int, workers: int, env: dict) -> subprocess.Popen:
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
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": wsgi_settings},
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def run_wrk(
    port: int, prefix: str, tokens_file: str, seconds: int, connections: int
) -> tuple[float, int]:
    threads = 2
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"tokens": tokens_file, "threads": threads, "prefix": prefix})
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            script.name,
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, int(bad.group(1)) if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5, help="per measured run")
    parser.add_argument("--rounds", type=int, default=5, help="measured runs of each server")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--invitations", type=int, default=60000)
    parser.add_argument("--brand", action="store_true", help="give the site a brand first")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_answer"
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
    }
    os.environ.update({k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"})
    os.environ["DJANGO_SETTINGS_MODULE"] = "csat_platform.settings"
    print(f"preparing {args.invitations} invitations in {args.database_url} ...", flush=True)
    tokens, hashes = prepare(args.database_url, args.invitations, args.brand)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )

    # Both servers run side by side; the measured runs alternate (baseline, answer page, then
    # answer page, baseline, ...), so a machine whose load drifts weighs on both alike.
    targets = []
    for label, settings_module, prefix, keys in (
        ("baseline", "bench.baseline_settings", "/b/", hashes),
        ("answer page", "csat_platform.settings", "/s/", tokens),
    ):
        # Fresh links for the warm-up and for each run: every POST answers a new invitation.
        size = len(keys) // (args.rounds + 1)
        files = []
        for start in range(0, size * (args.rounds + 1), size):
            with tempfile.NamedTemporaryFile("w", delete=False) as f:
                f.write("\n".join(keys[start : start + size]))
            files.append(f.name)
        port = free_port()
        targets.append(
            (label, port, prefix, files, serve(settings_module, port, args.workers, env))
        )
    ratios, rates = [], {label: [] for label, *_ in targets}
    try:
        for _, port, prefix, files, _ in targets:
            run_wrk(port, prefix, files[0], 2, args.connections)  # warm-up
        for run in range(1, args.rounds + 1):
            figures = {}
            for label, port, prefix, files, _ in targets if run % 2 else targets[::-1]:
                figures[label] = run_wrk(port, prefix, files[run], args.seconds, args.connections)
                rates[label].append(figures[label][0])
            (base, base_bad), (ours, ours_bad) = figures["baseline"], figures["answer page"]
            if not base:
                sys.exit(
                    f"run {run}: the baseline answered nothing ({base_bad} non-2xx/3xx): is "
                    f"another benchmark using {args.database_url}?"
                )
            ratios.append(ours / base)
            print(
                f"run {run}: baseline (SELECT + INSERT view) {base:6.0f} req/s, answer page POST "
                f"/s/<token>/ {ours:6.0f} req/s ({base_bad + ours_bad} non-2xx/3xx): "
                f"{ours / base:.0%}   load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    finally:
        for *_, server in targets:
            server.terminate()
            server.wait()

    import django.db

    django.db.connections.close_all()
    from surveys.models import Response

    answered = Response.objects.count()
    print(f"responses stored: {answered} (one per link; repeated links answer 'already answered')")
    for label, values in rates.items():
        print(f"{label:12s} req/s: min {min(values):.0f}, median {statistics.median(values):.0f}")
    print(
        f"ratio answer page / baseline: min {min(ratios):.0%}, median "
        f"{statistics.median(ratios):.0%}  (target >= 50 %)"
    )


if __name__ == "__main__":
    main()
