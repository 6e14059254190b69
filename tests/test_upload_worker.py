"""A touchpoint file of 100,000 lines uploaded in the browser's form, checked and imported by a
real Celery worker on the real Redis broker and PostgreSQL: progress on the upload's row, the
result counted, the worker's memory bounded, and the same file again creating nothing.

Runs in CI (PostgreSQL + Redis); skipped on SQLite without a broker, failed there under
CSAT_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from csat_platform.celery import app as celery_app
from surveys.models import Invitation, TouchpointEvent, TouchpointUpload

from .celery_processes import CeleryProcesses, require_real_services, wait_until
from .factories import admin_user, make_survey

pytestmark = pytest.mark.slow
LINES = 100_000


@pytest.fixture
def celery(transactional_db, tmp_path, settings, smtp_server):
    require_real_services()
    settings.MEDIA_ROOT = tmp_path / "media"
    celery_app.control.purge()
    processes = CeleryProcesses(tmp_path, smtp_server.port)
    yield processes
    processes.stop_all()


def big_file(path: Path) -> bytes:
    start = timezone.now() - timedelta(hours=2)
    rows = ["external_id,occurred_at,customer_email,customer_name,attr.channel"]
    for n in range(1, LINES + 1):
        at = (start + timedelta(seconds=n // 20)).isoformat(timespec="seconds")
        email = f"customer{n}@example.com" if n % 10_000 else "broken"
        rows.append(f"o-{n},{at},{email},Customer {n},{'web' if n % 2 else 'app'}")
    data = ("\n".join(rows) + "\n").encode()
    path.write_bytes(data)
    return data


def peak_memory_mb(pid: int) -> float:
    """The highest resident size (VmHWM) of the worker's pool processes, in MB."""
    peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(pid) and "VmHWM" in fields:
            peak = max(peak, int(fields["VmHWM"].split()[0]))
    return peak / 1024


def wait_for(upload: TouchpointUpload, status: str, celery, timeout: float) -> TouchpointUpload:
    def reached():
        upload.refresh_from_db()
        if upload.status == "failed":
            raise AssertionError(upload.error + celery.logs())
        return upload.status == status

    wait_until(reached, timeout=timeout, interval=0.5, processes=celery, what=status)
    return upload


def test_a_file_of_100000_lines_is_checked_and_imported_by_the_worker(celery, tmp_path):
    survey = make_survey(slug="shop", sample_rate=1.0)
    client = Client()
    client.force_login(admin_user())
    data = big_file(tmp_path / "orders.csv")
    worker = celery.worker(concurrency=1, MEDIA_ROOT=str(tmp_path / "media"))

    began = time.monotonic()
    reply = client.post("/design/shop/send/upload/", {"file": SimpleUploadedFile("o.csv", data)})
    assert reply.status_code == 302
    upload = TouchpointUpload.objects.get()
    seen_progress = set()
    wait_until(
        lambda: (
            seen_progress.add(client.get(f"{reply['Location']}status/").json()["lines_done"])
            or TouchpointUpload.objects.get().status == "checked"
        ),
        timeout=180,
        interval=0.3,
        processes=celery,
        what="the check",
    )
    upload.refresh_from_db()
    checked = time.monotonic() - began
    assert (upload.rows_new, upload.rows_existing, upload.rejected_count) == (LINES - 10, 0, 10)
    assert upload.lines_total == LINES + 1 and not TouchpointEvent.objects.exists()

    began = time.monotonic()
    assert client.post(reply["Location"]).status_code == 302
    wait_for(upload, "done", celery, timeout=600)
    imported = time.monotonic() - began
    assert (upload.created, upload.duplicates, upload.invited) == (LINES - 10, 0, LINES - 10)
    assert upload.lines_done == upload.lines_total
    assert TouchpointEvent.objects.count() == LINES - 10
    assert Invitation.objects.filter(survey=survey).count() == LINES - 10
    peak = peak_memory_mb(worker.proc.pid)
    print(
        f"\n100,000 lines: checked in {checked:.1f} s, imported in {imported:.1f} s, "
        f"worker peak {peak:.0f} MB, progress values seen {len(seen_progress)}"
    )
    assert peak < 400

    # The same file again: its check finds every touchpoint stored already.
    reply = client.post("/design/shop/send/upload/", {"file": SimpleUploadedFile("o.csv", data)})
    again = TouchpointUpload.objects.latest("id")
    wait_for(again, "checked", celery, timeout=180)
    assert (again.rows_new, again.rows_existing) == (0, LINES - 10)
    assert client.post(reply["Location"]).status_code == 302
    wait_for(again, "done", celery, timeout=600)
    assert (again.created, again.duplicates, again.invited) == (0, LINES - 10, 0)
    assert TouchpointEvent.objects.count() == LINES - 10
