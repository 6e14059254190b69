"""Test support for follow-ups: a real webhook receiver on loopback, and an eager Celery."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from csat_platform.celery import app as celery_app


class WebhookReceiver:
    """An HTTP server thread that verifies signatures the way docs/webhooks.md tells receivers."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.requests: list[dict] = []
        self.replies: list[int] = []  # status codes to answer with, in order; then 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                timestamp = self.headers.get("X-CSAT-Timestamp", "")
                expected = (
                    "sha256="
                    + hmac.new(
                        receiver.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
                verified = fresh and hmac.compare_digest(
                    expected, self.headers.get("X-CSAT-Signature", "")
                )
                with receiver._lock:
                    status = receiver.replies.pop(0) if receiver.replies else 200
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": self.headers,  # case-insensitive
                            "body": body,
                            "json": json.loads(body),
                            "verified": verified,
                            "status": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return self.requests
            time.sleep(0.05)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def eager_celery(settings):
    """Tasks run in-process when queued; retries run at once (backoff is tested separately)."""
    # Not propagating: an eager retry is an exception that Celery's apply() turns into a re-run.
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    settings.FOLLOWUPS_WEBHOOK_RETRY_BASE_SECONDS = 0
    yield
    celery_app.conf.task_always_eager = previous
