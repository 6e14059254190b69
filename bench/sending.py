"""Emails per second from one Celery worker to a local SMTP server, next to a bare smtplib loop.

    python bench/sending.py [--emails 2000] [--rounds 3] [--broker redis://127.0.0.1:6379/2]

Both send the same rendered messages to the same aiosmtpd sink (its own process) in the same
run: the baseline opens one SMTP connection and calls sendmail() in a loop; the product claims
due invitations from PostgreSQL, queues batches on the broker, and one worker process
(prefork, concurrency 1) renders each message, records its handover and outcome, and sends it
over one connection per batch. The two alternate, `--rounds` times each. Target: the worker
reaches at least 50 % of the bare loop (the median of the runs' ratios).
"""

import argparse
import os
import secrets
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    code = (
        "import asyncio, sys\n"
        "from aiosmtpd.controller import Controller\n"
        "class Count:\n"
        "    n = 0\n"
        "    async def handle_DATA(self, server, session, envelope):\n"
        "        Count.n += 1\n"
        "        return '250 OK'\n"
        f"c = Controller(Count(), hostname='127.0.0.1', port={port}); c.start()\n"
        "import signal; signal.pause()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the SMTP sink did not start")


def prepare(database_url: str, emails: int):
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from surveys import tokens
    from surveys.emails import build_invitation_email
    from surveys.invitations import InvitationBatch
    from surveys.models import Contact, Invitation
    from tests.factories import make_survey

    call_command("migrate", verbosity=0)
    survey = make_survey(slug="bench", languages=("en", "de"))
    contacts = Contact.objects.bulk_create(
        [
            Contact(email=f"c{i}@example.com", name=f"Customer {i}", locale=("en", "de")[i % 2])
            for i in range(emails)
        ]
    )
    now = timezone.now()
    batch = InvitationBatch(surveys=[survey], contacts=contacts, now=now)
    for contact in contacts:
        batch.add(
            survey,
            contact,
            locale=contact.locale,
            attributes={"order_id": f"A-{contact.pk}"},
            send_at=now + timedelta_days(1),  # not due until the measured run starts
        )
    batch.save()
    # The same messages the worker will send, rendered once for the bare loop (not timed).
    invitations = Invitation.objects.select_related("survey", "contact", "touchpoint")
    cache: dict = {}
    messages = []
    for invitation in invitations.order_by("id"):
        message = build_invitation_email(invitation, tokens.token_for(invitation), cache=cache)
        messages.append(
            (message.from_email, message.to, message.message().as_bytes(linesep="\r\n"))
        )
    return messages


def timedelta_days(days: int):
    from datetime import timedelta

    return timedelta(days=days)


def bare_loop(port: int, messages) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        for sender, to, data in messages:
            smtp.sendmail(sender, to, data)
    return len(messages) / (time.perf_counter() - started)


def start_worker(env: dict) -> subprocess.Popen:
    from csat_platform.celery import app

    app.control.purge()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the worker writes to it while it runs
        prefix="bench-worker-", suffix=".log", delete=False
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "csat_platform", "worker", "-c", "1", "-l"]
        + ["warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(200):
        if app.control.ping(timeout=0.2):
            return worker
    os.killpg(worker.pid, 15)
    raise RuntimeError(f"the worker did not start; see {log.name}")


def worker_run(emails: int) -> tuple[float, dict]:
    from django.db import connection
    from django.utils import timezone

    from surveys import tasks
    from surveys.models import Invitation

    # Every invitation due again, as new (a run after the first sends them all once more).
    Invitation.objects.update(
        status="scheduled",
        due_at=timezone.now(),
        handover_at=None,
        terminator_at=None,
        lease_expires_at=None,
        sent_at=None,
        message_id="",
        attempts=0,
    )
    connection.close()
    started = time.perf_counter()
    # What beat does every few seconds; called here until everything is claimed.
    while Invitation.objects.filter(status="scheduled").exists():
        tasks.dispatch_due_invitations()
    while Invitation.objects.filter(status__in=["scheduled", "sending"]).exists():
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    states = dict(Counter(Invitation.objects.values_list("status", flat=True)))
    return emails / elapsed, states


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="measured runs of each")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_sending"
        ),
    )
    parser.add_argument(
        "--broker", default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.broker,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "0",
        "SITE_URL": "https://csat.example.com",
        "LOG_LEVEL": "WARNING",
        "CSAT_VAR_DIR": tempfile.mkdtemp(prefix="csat-bench-"),
    }
    os.environ.update(env)
    sink = start_sink(port)
    try:
        print(f"preparing {args.emails} invitations in {args.database_url} ...", flush=True)
        messages = prepare(args.database_url, args.emails)
        bare_loop(port, messages[:100])  # warm-up
        worker = start_worker(env)
        ratios, bare_rates, worker_rates = [], [], []
        try:
            # The runs alternate (bare loop first, then the worker first, ...), so a machine
            # whose load drifts weighs on both alike.
            for run in range(1, args.rounds + 1):
                if run % 2:
                    baseline = bare_loop(port, messages)
                    rate, states = worker_run(args.emails)
                else:
                    rate, states = worker_run(args.emails)
                    baseline = bare_loop(port, messages)
                bare_rates.append(baseline)
                worker_rates.append(rate)
                ratios.append(rate / baseline)
                print(
                    f"run {run}: bare smtplib loop (one connection) {baseline:5.0f} emails/s, one "
                    f"Celery worker (claim → send) {rate:5.0f} emails/s {states}: "
                    f"{rate / baseline:.0%}   load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
        finally:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=20)
        median = statistics.median
        print(f"bare loop  emails/s: min {min(bare_rates):.0f}, median {median(bare_rates):.0f}")
        print(
            f"worker     emails/s: min {min(worker_rates):.0f}, median {median(worker_rates):.0f}"
        )
        print(
            f"ratio: min {min(ratios):.0%}, median {median(ratios):.0%} of the bare loop "
            "(target ≥ 50 %)"
        )
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
