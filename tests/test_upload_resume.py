"""Resuming a stalled touchpoint import: an import whose worker died mid-file stays "running"
without progress; after CSAT_UPLOAD_STALL_MINUTES its page calls it stalled and a survey admin
resumes it, after the last committed batch. Here the worker's death is simulated in-process
(an exception no handler catches, as SIGKILL leaves the row); tests/test_upload_resume_worker.py
kills a real Celery worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from surveys import send_page, uploads
from surveys.errors import DomainError
from surveys.models import Invitation, TouchpointEvent, TouchpointUpload

from .factories import UserFactory, admin_user, make_survey, manager_user

pytestmark = pytest.mark.django_db
LINES = 2_600  # three batches of 1,000 (the last one short)


class WorkerKilled(BaseException):
    """What SIGKILL leaves: no `except Exception` runs, the row stays as it was."""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def shop(db):
    return make_survey(slug="shop", sample_rate=1.0)


def csv_text(lines: int = LINES) -> str:
    at = (timezone.now() - timedelta(hours=1)).isoformat(timespec="seconds")
    rows = ["external_id,occurred_at,customer_email,customer_name"]
    rows += [f"o-{n},{at},c{n}@example.com,Customer {n}" for n in range(1, lines + 1)]
    rows.append(f"o-bad,{at},not-an-email,Nobody")  # one line the import rejects
    return "\n".join(rows) + "\n"


def confirmed_upload(survey) -> TouchpointUpload:
    file = SimpleUploadedFile("orders.csv", csv_text().encode(), content_type="text/csv")
    upload = uploads.store_upload(survey=survey, file=file)
    uploads.check_upload(upload_id=upload.pk)
    upload.refresh_from_db()
    uploads.confirm_upload(upload=upload)
    return upload


def killed_after(batches: int, monkeypatch) -> None:
    """The worker dies while importing batch `batches + 1`."""
    calls = {"n": 0}
    real = uploads.record_touchpoints

    def recording(**kwargs):
        calls["n"] += 1
        if calls["n"] > batches:
            raise WorkerKilled
        return real(**kwargs)

    monkeypatch.setattr(uploads, "record_touchpoints", recording)


def later() -> timezone.datetime:
    return timezone.now() + timedelta(minutes=11)  # past the default 10 minutes


def admin_client(user=None) -> Client:
    client = Client()
    client.force_login(user or admin_user(username="alex"))
    return client


def test_an_import_killed_mid_file_resumes_after_its_last_batch(shop, monkeypatch):
    upload = confirmed_upload(shop)
    killed_after(2, monkeypatch)
    with pytest.raises(WorkerKilled):
        uploads.run_upload(upload_id=upload.pk)
    monkeypatch.undo()
    upload.refresh_from_db()
    assert upload.status == "running" and upload.created == 2000
    assert TouchpointEvent.objects.count() == 2000  # two batches committed, the third not
    assert not uploads.is_stalled(upload)  # its heartbeat is fresh: the worker may be busy
    with pytest.raises(DomainError) as refused:
        uploads.resume_upload(upload=upload)
    assert refused.value.status == 409

    assert uploads.is_stalled(upload, now=later())
    uploads.resume_upload(upload=upload, now=later())
    done = uploads.run_upload(upload_id=upload.pk)
    assert done.status == "done" and done.attempt == 1
    # Every line once: the resumed run went on after line 2001, it did not count them again.
    assert (done.created, done.duplicates, done.invited) == (LINES, 0, LINES)
    assert done.rejected_count == 1 and done.lines_done == done.lines_total == LINES + 2
    assert TouchpointEvent.objects.count() == LINES
    assert Invitation.objects.filter(survey=shop).count() == LINES


def test_a_second_resume_of_the_same_stall_is_refused(shop, monkeypatch):
    upload = confirmed_upload(shop)
    killed_after(1, monkeypatch)
    with pytest.raises(WorkerKilled):
        uploads.run_upload(upload_id=upload.pk)
    monkeypatch.undo()
    uploads.resume_upload(upload=upload, now=later())
    with pytest.raises(DomainError) as refused:
        uploads.resume_upload(upload=upload, now=later())
    assert refused.value.status == 409
    upload.refresh_from_db()
    assert (upload.status, upload.attempt) == ("queued", 1)
    assert uploads.run_upload(upload_id=upload.pk).created == LINES
    assert uploads.run_upload(upload_id=upload.pk) is None  # a second message finds it claimed


def test_a_run_a_resume_replaced_commits_no_batch(shop, monkeypatch):
    """A worker that was only slow: its next batch finds the import owned by the new run."""
    upload = confirmed_upload(shop)
    killed_after(1, monkeypatch)
    with pytest.raises(WorkerKilled):
        uploads.run_upload(upload_id=upload.pk)
    monkeypatch.undo()
    upload.refresh_from_db()
    old_run = uploads._Progress(upload, attempt=upload.attempt)
    uploads.resume_upload(upload=upload, now=later())
    with pytest.raises(uploads.Superseded):
        old_run.save(2001, created=999)
    upload.refresh_from_db()
    assert (upload.lines_done, upload.created) == (1001, 1000)


def test_a_failed_or_finished_import_is_not_resumed(shop):
    upload = confirmed_upload(shop)
    uploads.run_upload(upload_id=upload.pk)
    upload.refresh_from_db()
    assert not uploads.is_stalled(upload, now=later())
    with pytest.raises(DomainError):
        uploads.resume_upload(upload=upload, now=later())


def test_the_page_shows_a_stalled_import_and_resumes_it(
    shop, monkeypatch, django_capture_on_commit_callbacks
):
    upload = confirmed_upload(shop)
    killed_after(1, monkeypatch)
    with pytest.raises(WorkerKilled):
        uploads.run_upload(upload_id=upload.pk)
    monkeypatch.undo()
    client = admin_client()
    page = f"/design/shop/uploads/{upload.pk}/"
    moving = client.get(page).content.decode()
    assert 'data-stalled="0"' in moving and "Resume the import" not in moving
    assert client.post(f"{page}resume/").status_code == 409  # not stalled yet

    TouchpointUpload.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=11))
    stalled = client.get(page).content.decode()
    assert 'data-stalled="1"' in stalled and "The import has stalled" in stalled
    assert "Resume the import" in stalled and 'http-equiv="refresh"' not in stalled
    assert client.get(f"{page}status/").json()["stalled"] is True
    assert "Stalled" in client.get("/design/shop/send/").content.decode()

    queued: list[int] = []
    monkeypatch.setattr(send_page.run_touchpoint_upload, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(f"{page}resume/")
    assert reply.status_code == 302 and reply["Location"] == page
    assert queued == [upload.pk]
    upload.refresh_from_db()
    assert (upload.status, upload.attempt) == ("queued", 1)
    assert client.post(f"{page}resume/").status_code == 409  # the second click


def test_only_survey_admins_resume_and_only_with_csrf(shop, monkeypatch):
    upload = confirmed_upload(shop)
    TouchpointUpload.objects.update(
        status="running", heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    page = f"/design/shop/uploads/{upload.pk}/resume/"
    assert Client().post(page).status_code == 302  # to the login page
    for user in (manager_user(), UserFactory()):
        assert admin_client(user).post(page).status_code == 403
    admin = admin_user(username="alex")
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(admin)
    assert forged.post(page).status_code == 403
    assert admin_client(admin).get(page).status_code == 405
    upload.refresh_from_db()
    assert (upload.status, upload.attempt) == ("running", 0)


@pytest.mark.django_db(transaction=True)
def test_a_file_confirmed_before_the_upgrade_is_imported_from_its_first_line():
    """Migration 0012: a queued upload still held its check's counts; imports now go on after
    lines_done, so the migration resets them as confirming now does."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        [("surveys", "0011_invitation_channel")],
        [("surveys", "0012_upload_heartbeat")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    survey = make_survey(slug="legacy")
    Upload = old.get_model("surveys", "TouchpointUpload")
    queued = Upload.objects.create(
        survey_id=survey.pk,
        file_name="o.csv",
        stored_as="uploads/o.csv",
        status="queued",
        lines_total=9,
        lines_done=9,
        rejected=[[3, "bad"]],
        rejected_count=1,
    )
    done = Upload.objects.create(
        survey_id=survey.pk,
        file_name="p.csv",
        stored_as="uploads/p.csv",
        status="done",
        lines_total=9,
        lines_done=9,
        rejected=[[3, "bad"]],
        rejected_count=1,
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    queued, done = (TouchpointUpload.objects.get(pk=u.pk) for u in (queued, done))
    assert (queued.lines_done, queued.rejected, queued.rejected_count) == (0, [], 0)
    assert (done.lines_done, done.rejected_count) == (9, 1)
