"""`make demo`: migrate, seed demo data, and run the web server with a real Celery worker and beat."""

import os
import signal
import subprocess
import sys

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

    def handle(self, *args, addr: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "csat_platform",
                    "worker",
                    "-l",
                    "warning",
                    "-c",
                    "2",
                ]
            ),
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "csat_platform", "beat", "-l", "warning"]
            ),
        ]
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
            "  Ctrl-C stops the web server, worker and beat.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        try:
            call_command("runserver", addr, use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
