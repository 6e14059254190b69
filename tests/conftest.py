"""Shared fixtures: users per role, API clients, a real SMTP server on loopback, a Celery worker."""

import os
import shutil
import socket
import threading
import time
from email import message_from_bytes, policy

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from rest_framework.test import APIClient

from access.models import ApiKey

from . import factories

REQUIRE_BROWSER = os.environ.get("CSAT_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The live test server takes bursts of parallel connections (socketserver's default backlog is 5).
ThreadedWSGIServer.request_queue_size = 128


def on_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def require_postgres(reason: str) -> None:
    """Skip on another database, except in CI (CSAT_REQUIRE_POSTGRES=1), where it fails."""
    if on_postgres():
        return
    if os.environ.get("CSAT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason}: this test must run on PostgreSQL (CSAT_REQUIRE_POSTGRES=1)")
    pytest.skip(f"{reason} (set DATABASE_URL=postgres://...)")


@pytest.fixture(autouse=True)
def fresh_brand():
    """Each test reads the brand its own database holds, not a copy an earlier test cached."""
    from branding.selectors import forget_brand

    forget_brand()
    yield
    forget_brand()


@pytest.fixture
def rollups_engine(db):
    """The test reads or writes rollups: PostgreSQL only (elsewhere reports read raw rows)."""
    require_postgres("the rollups are PostgreSQL's")


@pytest.fixture
def admin(db):
    return factories.admin_user()


@pytest.fixture
def manager(db):
    return factories.manager_user()


@pytest.fixture
def admin_client(admin):
    client = APIClient()
    client.force_login(admin)
    return client


@pytest.fixture
def manager_client(manager):
    client = APIClient()
    client.force_login(manager)
    return client


@pytest.fixture
def api_key(db):
    _, raw = ApiKey.generate(name="shop")
    return raw


@pytest.fixture
def key_client(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def survey(db):
    return factories.make_survey()


# --- a real SMTP server on loopback --------------------------------------------------------------


class SmtpSink:
    """An aiosmtpd server that keeps every message it receives, parsed."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink._lock:
                    sink.messages.append(
                        {
                            "from": envelope.mail_from,
                            "to": list(envelope.rcpt_tos),
                            "message": message_from_bytes(envelope.content, policy=policy.default),
                        }
                    )
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")


@pytest.fixture
def smtp_server(settings):
    """Mail really leaves through Django's SMTP backend to a server on loopback."""
    server = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def scripted_smtp(settings):
    """Starts SMTP servers that refuse or hang up as scripted (tests.mail_servers.ScriptedSmtp)."""
    from .mail_servers import ScriptedSmtp

    servers = []

    def start(replies, **options):
        server = ScriptedSmtp(replies, **options).start()
        servers.append(server)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = False
        return server

    yield start
    for server in servers:
        server.stop()


# --- a real browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium is required (CSAT_REQUIRE_BROWSER=1) but {CHROMIUM} is missing")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by tests
    # between browser steps are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def pytest_terminal_summary(terminalreporter):
    """The figures of the schemathesis run (tests/test_api_schema.py), when it ran."""
    import sys

    module = sys.modules.get("tests.test_api_schema")
    if module is None or not module.CASES:
        return
    terminalreporter.write_line(
        f"schemathesis: {len(module.CASES)} operations, {sum(module.CASES.values())} cases, "
        f"{sum(module.FAILURES.values())} failures"
    )
