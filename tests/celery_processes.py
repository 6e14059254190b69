"""Real Celery worker and beat processes for tests, on the test's own database and broker.

The processes run the production settings module with the test's SECRET_KEY (so tokens match),
the test database (so they see rows written under `transactional_db`) and mail going to an SMTP
server on loopback. Each runs in its own process group, killed by its id, never by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
REQUIRE = os.environ.get("CSAT_REQUIRE_POSTGRES") == "1"


def on_real_services() -> bool:
    return connection.vendor == "postgresql" and settings.CELERY_BROKER_URL.startswith("redis")


def require_real_services() -> None:
    """Worker tests need a database and a broker another process can share: PostgreSQL, Redis."""
    reason = ""
    if connection.vendor != "postgresql":
        reason = "worker tests need PostgreSQL (set DATABASE_URL=postgres://...)"
    elif not settings.CELERY_BROKER_URL.startswith("redis"):
        reason = "worker tests need Redis (set CELERY_BROKER_URL=redis://...)"
    if reason:
        if REQUIRE:
            pytest.fail(f"{reason}; CSAT_REQUIRE_POSTGRES=1")
        pytest.skip(reason)


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryProcess:
    def __init__(self, role: str, env: dict[str, str], log: Path, extra: list[str]):
        self.role = role
        self.log = log
        self.name = f"{role}-{uuid.uuid4().hex[:6]}@test"
        args = [sys.executable, "-m", "celery", "-A", "csat_platform", role, "-l", "info"]
        if role == "worker":
            args += ["-n", self.name, "--without-gossip", "--without-mingle", "--without-heartbeat"]
        self.args = args + extra
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> CeleryProcess:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool's children die with it
        )
        out.close()
        return self

    def _signal_group(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process and its pool: a crash, with no chance to clean up."""
        self._signal_group(signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class CeleryProcesses:
    """Starts workers and beat for one test and stops every one of them afterwards."""

    def __init__(self, tmp_path: Path, smtp_port: int):
        self.tmp_path = tmp_path
        self.smtp_port = smtp_port
        self.started: list[CeleryProcess] = []
        self.broker_url = settings.CELERY_BROKER_URL

    def env(self, **overrides) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "csat_platform.settings",
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "EMAIL_TIMEOUT": "5",
            "SITE_URL": settings.SITE_URL,
            "CSAT_VAR_DIR": str(self.tmp_path / "var"),
            "CSAT_SEND_INTERVAL_SECONDS": "0.5",
            "CSAT_SEND_LEASE_SECONDS": "6",
            "CSAT_SEND_RETRY_SECONDS": "1",
            "SECURE_SSL_REDIRECT": "0",
            "PYTHONUNBUFFERED": "1",
        }
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    def worker(self, concurrency: int = 2, **env) -> CeleryProcess:
        log = self.tmp_path / f"worker-{len(self.started)}.log"
        process = CeleryProcess("worker", self.env(**env), log, ["-c", str(concurrency)])
        self.started.append(process.start())
        return process

    def beat(self, **env) -> CeleryProcess:
        schedule = self.tmp_path / f"beat-{len(self.started)}-schedule"
        log = self.tmp_path / f"beat-{len(self.started)}.log"
        process = CeleryProcess("beat", self.env(**env), log, ["-s", str(schedule)])
        self.started.append(process.start())
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.role} {p.name}\n{p.tail()}" for p in self.started)


def wait_until(check, *, timeout: float, interval: float = 0.1, processes=None, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    logs = processes.logs() if processes else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
