"""`make demo`: migrate, seed demo data, and run the web server with a real Celery worker and beat."""

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from .seed_demo import DEMO_USERS


class Command(BaseCommand):
    help = (
        "Run the product with demo data: web server, Celery worker and beat, on embedded defaults."
    )

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("DEMO_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--days", type=int, default=120, help="days of demo answers")
        parser.add_argument("--per-day", type=int, default=25, help="demo answers per day")

    def handle(self, *args, addr: str, days: int, per_day: int, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", days=days, per_day=per_day)
        celery = [sys.executable, "-m", "celery", "-A", "csat_platform"]
        children: list[subprocess.Popen] = []
        # kill, systemd and `docker stop` send SIGTERM: it stops the demo as Ctrl-C does, worker
        # and beat included (by default it would end this process alone and leave them running).
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            for role in (["worker", "-c", "2"], ["beat"]):
                # A process group of its own: a signal to the demo's group (Ctrl-C, `kill --
                # -PGID`) reaches the worker's pool only through the worker's own shutdown, and
                # whatever of it outlives that is ended with the group.
                children.append(
                    subprocess.Popen([*celery, *role, "-l", "warning"], start_new_session=True)
                )
            self.serve(addr)
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C or SIGTERM must not cut this short and leave a child behind.
            interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _stop(children)
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, interrupt)

    def serve(self, addr: str) -> None:
        broker = settings.CELERY_BROKER_URL.split("://")[0]
        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        url = f"http://{addr}/"
        lines = [
            "",
            f"  CSAT platform running at {url}",
            *(f"  log in as {u} / {p}  ({role})" for u, p, role, _ in DEMO_USERS),
            f"  database: {db} · broker: {broker} · mail: "
            + (
                f"kept in {settings.MAILBOX_DIR} (read it at {url}mailbox/)"
                if settings.MAILBOX_DIR
                else settings.EMAIL_BACKEND
            ),
            "  Ctrl-C (or SIGTERM) stops the web server, worker and beat.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        call_command("runserver", addr, use_reloader=False)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop(children: list[subprocess.Popen], *, grace: float = 10) -> None:
    """Warm shutdown (SIGTERM) of each child; a group still there after `grace` is killed."""
    for child in children:
        child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
