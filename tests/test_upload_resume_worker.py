"""Resuming a stalled import with real Celery workers on Redis and PostgreSQL: a worker killed
with SIGKILL mid-file leaves the upload "running"; once stalled, a resume from the page makes a
new worker import the rest, every line exactly once. Two resumes at once start one import, and
a resume of a worker that was only slow stops it before its next batch commits.

Runs in CI (PostgreSQL + Redis); skipped on SQLite without a broker, failed there under
CSAT_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from csat_platform.celery import app as celery_app
from surveys.models import Invitation, TouchpointEvent, TouchpointUpload

from .celery_processes import CeleryProcesses, require_real_services, wait_until
from .factories import admin_user, make_survey

pytestmark = pytest.mark.slow
LINES = 8_000  # eight batches


@pytest.fixture
def celery(transactional_db, tmp_path, settings, smtp_server):
    require_real_services()
    settings.MEDIA_ROOT = tmp_path / "media"
    celery_app.control.purge()
    processes = CeleryProcesses(tmp_path, smtp_server.port)
    yield processes
    processes.stop_all()


def orders(path: Path) -> bytes:
    at = (timezone.now() - timedelta(hours=1)).isoformat(timespec="seconds")
    rows = ["external_id,occurred_at,customer_email,customer_name"]
    rows += [f"o-{n},{at},c{n}@example.com,Customer {n}" for n in range(1, LINES + 1)]
    data = ("\n".join(rows) + "\n").encode()
    path.write_bytes(data)
    return data


def admin() -> Client:
    client = Client()
    client.force_login(admin_user())
    return client


def state() -> TouchpointUpload:
    return TouchpointUpload.objects.get()


def importing(celery, tmp_path, client: Client, *, concurrency: int = 1):
    """A confirmed upload being imported by a worker."""
    make_survey(slug="shop", sample_rate=1.0)
    media = str(tmp_path / "media")
    worker = celery.worker(concurrency=concurrency, MEDIA_ROOT=media)
    data = orders(tmp_path / "orders.csv")
    reply = client.post("/design/shop/send/upload/", {"file": SimpleUploadedFile("o.csv", data)})
    page = reply["Location"]
    wait_until(lambda: state().status == "checked", timeout=120, processes=celery, what="check")
    assert client.post(page).status_code == 302
    return page, worker, media


def age_heartbeat() -> None:
    """What CSAT_UPLOAD_STALL_MINUTES of silence leaves: the last sign of life long ago."""
    TouchpointUpload.objects.update(heartbeat_at=timezone.now() - timedelta(hours=1))


def assert_every_line_once(upload: TouchpointUpload) -> None:
    assert upload.status == "done", upload.error
    assert (upload.created, upload.duplicates, upload.invited) == (LINES, 0, LINES)
    assert upload.lines_done == upload.lines_total == LINES + 1
    assert TouchpointEvent.objects.count() == LINES
    assert Invitation.objects.count() == LINES
    assert TouchpointEvent.objects.values("external_id").distinct().count() == LINES


def test_a_killed_worker_s_import_is_resumed_and_every_line_imported_once(celery, tmp_path):
    client = admin()
    page, worker, media = importing(celery, tmp_path, client)
    wait_until(
        lambda: state().status == "running" and state().lines_done >= 2_000,
        timeout=180,
        interval=0.05,
        processes=celery,
        what="two committed batches",
    )
    worker.kill()
    killed = state()
    assert killed.status == "running" and killed.lines_done < killed.lines_total
    assert TouchpointEvent.objects.count() == killed.created  # the batch in flight rolled back

    assert client.post(f"{page}resume/").status_code == 409  # not stalled yet: it may be busy
    age_heartbeat()
    assert "The import has stalled" in client.get(page).content.decode()
    celery.worker(concurrency=1, MEDIA_ROOT=media)
    assert client.post(f"{page}resume/").status_code == 302
    wait_until(lambda: state().status == "done", timeout=300, processes=celery, what="import")
    upload = state()
    assert upload.attempt == 1
    assert_every_line_once(upload)


def test_two_resumes_at_once_start_one_import(celery, tmp_path):
    client = admin()
    page, worker, media = importing(celery, tmp_path, client)
    wait_until(
        lambda: state().lines_done >= 1_000,
        timeout=180,
        interval=0.05,
        processes=celery,
        what="a committed batch",
    )
    worker.kill()
    age_heartbeat()
    celery.worker(concurrency=2, MEDIA_ROOT=media)  # room for two imports, were there two
    statuses: list[int] = []
    go = threading.Barrier(2)

    def resume() -> None:
        other = admin()
        go.wait()
        statuses.append(other.post(f"{page}resume/").status_code)
        connection.close()

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302, 409]
    wait_until(lambda: state().status == "done", timeout=300, processes=celery, what="import")
    upload = state()
    assert upload.attempt == 1
    assert_every_line_once(upload)


def test_a_resume_stops_a_slow_worker_before_its_next_batch(celery, tmp_path):
    """The worker is alive but silent past the stall time (here: its heartbeat aged by hand).
    The resume hands the import to the second pool process; the first stops at its next
    batch, which rolls back: no line is counted or stored twice."""
    client = admin()
    page, worker, _media = importing(celery, tmp_path, client, concurrency=2)
    wait_until(
        lambda: state().status == "running" and state().lines_done >= 1_000,
        timeout=180,
        interval=0.05,
        processes=celery,
        what="a committed batch",
    )
    # While the first run goes on, its heartbeat is aged and the import resumed: a race with
    # its next batch, which refreshes the heartbeat, so this may take a few tries.
    for _ in range(50):
        age_heartbeat()
        reply = client.post(f"{page}resume/")
        if reply.status_code == 302 or state().status == "done":
            break
    assert reply.status_code == 302, "the first run finished before it could be resumed"
    wait_until(lambda: state().status == "done", timeout=300, processes=celery, what="import")
    upload = state()
    assert upload.attempt == 1
    assert_every_line_once(upload)
    wait_until(
        lambda: "run 0 was replaced by a resume" in worker.log.read_text(errors="replace"),
        timeout=30,
        processes=celery,
        what="the first run to stop",
    )
