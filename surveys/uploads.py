"""Touchpoint files a survey admin uploads for a survey, in three steps:

1. `store_upload` streams the file to MEDIA_ROOT/uploads/ (never whole in memory) and queues
   its check.
2. `check_upload` (a task) reads it with the import's reader (surveys.touchpoint_files) and
   writes nothing but the upload's row: the first rows as read, how many are new or stored
   already, every rejected line with its reason.
3. Once confirmed (`confirm_upload`), `run_upload` (a task) imports it a batch at a time through
   surveys.touchpoints, the API's path: each new touchpoint gets its invitation or skip reason
   from the one invitation constructor under the survey's rules. A touchpoint stored already
   (same type and external id) is left alone, so the same file twice creates nothing.
   Each batch commits with the progress that counts it, under the run that owns the import.
4. An import that stopped moving (its worker died: no committed batch for
   CSAT_UPLOAD_STALL_MINUTES) can be resumed (`resume_upload`): a new run goes on after the last
   committed batch, and the run it replaces can no longer commit.

Rows whose type is not the survey's touchpoint are rejected: a file uploaded on a survey only
brings that survey's touchpoints (a missing `type` column means the survey's).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import DomainError
from .invitations import check_takes_invitations
from .models import Survey, TouchpointUpload
from .touchpoint_files import FileProblem, Row, check_events, count_lines, describe, open_rows
from .touchpoints import MAX_BATCH, record_touchpoints

log = logging.getLogger(__name__)
Status = TouchpointUpload.Status
PREVIEW_ROWS = 10
MAX_REJECTED_KEPT = 1000


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads"


def path_of(upload: TouchpointUpload) -> Path:
    return Path(settings.MEDIA_ROOT) / upload.stored_as


@transaction.atomic
def store_upload(*, survey: Survey, file: UploadedFile, user=None) -> TouchpointUpload:
    """Keep the file for its check (the caller queues the task). Raises DomainError (400 too
    large or empty, 409 for a survey that is not active); nothing is kept then."""
    check_takes_invitations(survey)
    limit = settings.CSAT_UPLOAD_MAX_MB * 1024 * 1024
    if file.size is not None and file.size > limit:
        raise DomainError(
            _("The file is larger than %(mb)d MB.") % {"mb": settings.CSAT_UPLOAD_MAX_MB},
            field="file",
        )
    if not file.size:
        raise DomainError(_("The file is empty."), field="file")
    upload_dir().mkdir(parents=True, exist_ok=True)
    relative = f"uploads/{uuid.uuid4().hex}.csv"
    with (Path(settings.MEDIA_ROOT) / relative).open("wb") as out:
        for chunk in file.chunks():
            out.write(chunk)
    upload = TouchpointUpload.objects.create(
        survey=survey,
        uploaded_by=user,
        file_name=(file.name or "upload.csv")[:255],
        stored_as=relative,
        size=file.size,
    )
    return upload


def _rows(upload: TouchpointUpload, handle) -> tuple[list[str], object]:
    return open_rows(handle, defaults={"type": upload.survey.touchpoint})


def _type_problem(upload: TouchpointUpload, row: Row) -> str:
    wanted = upload.survey.touchpoint
    given = row.event.get("type", "")
    if given != wanted:
        return f"type: this survey takes {wanted} touchpoints, not {given[:40]!r}"
    return ""


class Superseded(Exception):
    """A resume gave the import to a new run: this one stops without writing."""


class _Progress:
    """Rejected lines and progress of one pass over the file, saved a batch at a time: for an
    import, only while `attempt` still owns it (else Superseded, and the batch rolls back)."""

    def __init__(self, upload: TouchpointUpload, *, attempt: int | None = None):
        self.upload = upload
        self.attempt = attempt
        # A resumed import goes on from what its committed batches saved (reset on confirm).
        self.rejected: list[list] = list(upload.rejected) if attempt is not None else []
        self.rejected_count = upload.rejected_count if attempt is not None else 0

    def reject(self, line: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REJECTED_KEPT:
            self.rejected.append([line, reason])

    def save(self, lines_done: int, **fields) -> None:
        rows = TouchpointUpload.objects.filter(pk=self.upload.pk)
        if self.attempt is not None:
            rows = rows.filter(attempt=self.attempt, status=Status.RUNNING)
            fields["heartbeat_at"] = timezone.now()
        saved = rows.update(
            lines_done=lines_done,
            rejected=sorted(self.rejected),
            rejected_count=self.rejected_count,
            **fields,
        )
        if not saved:
            raise Superseded


def _batches(upload: TouchpointUpload, progress: _Progress, *, after: int = 0):
    """The file's valid rows of the survey's type, a batch at a time, with the lines read;
    rows within the first `after` lines (imported by an earlier run) are passed over."""
    path = path_of(upload)
    total = count_lines(path)
    TouchpointUpload.objects.filter(pk=upload.pk).update(lines_total=total)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        _columns, rows = _rows(upload, handle)
        batch: list[tuple[int, dict]] = []
        read = 1
        for row in rows:
            read = row.lines_read
            if read <= after:
                continue
            problem = row.rejected or _type_problem(upload, row)
            if problem:
                progress.reject(row.line, problem)
                continue
            batch.append((row.line, row.event))
            if len(batch) >= MAX_BATCH:
                yield batch, read
                batch = []
        yield batch, total


def _fail(upload: TouchpointUpload, message: str, *, attempt: int | None = None) -> None:
    rows = TouchpointUpload.objects.filter(pk=upload.pk)
    if attempt is not None:
        rows = rows.filter(attempt=attempt)
    rows.update(status=Status.FAILED, error=message[:2000], finished_at=timezone.now())


def check_upload(*, upload_id: int) -> TouchpointUpload | None:
    """The preview of a stored file (step 2); writes only the upload's row."""
    upload = (
        TouchpointUpload.objects.select_related("survey")
        .filter(pk=upload_id, status=Status.CHECKING)
        .first()
    )
    if upload is None:
        return None
    progress = _Progress(upload)
    preview: list[dict] = []
    seen: set[tuple[str, str]] = set()
    new = existing = 0
    try:
        for batch, read in _batches(upload, progress):
            created, duplicates, rejected = check_events(batch, seen)
            for line, reason in rejected:
                progress.reject(line, reason)
            new += len(created)
            existing += duplicates
            for line, event in created[: PREVIEW_ROWS - len(preview)]:
                preview.append(
                    {
                        "line": line,
                        "type": event.type,
                        "external_id": event.external_id,
                        "occurred_at": event.occurred_at.isoformat(),
                        "email": event.customer.email,
                        "name": event.customer.name,
                        "customer_id": event.customer.external_id or "",
                        "locale": event.customer.locale,
                        "attributes": event.attributes,
                    }
                )
            progress.save(read, rows_new=new, rows_existing=existing, preview=preview)
    except FileProblem as problem:
        _fail(upload, str(problem))
        return None
    except Exception as error:  # a row left "checking" would wait forever on the page
        _fail(upload, f"The check stopped: {error}")
        raise
    TouchpointUpload.objects.filter(pk=upload.pk, status=Status.CHECKING).update(
        status=Status.CHECKED, checked_at=timezone.now()
    )
    upload.refresh_from_db()
    return upload


@transaction.atomic
def confirm_upload(*, upload: TouchpointUpload) -> None:
    """Mark a checked file for import (step 3; the caller queues the task). 409 when it was
    confirmed already."""
    check_takes_invitations(upload.survey)
    claimed = TouchpointUpload.objects.filter(pk=upload.pk, status=Status.CHECKED).update(
        status=Status.QUEUED,
        heartbeat_at=timezone.now(),
        # The import's own count of lines and rejections replaces the check's.
        lines_done=0,
        rejected=[],
        rejected_count=0,
    )
    if not claimed:
        raise DomainError(_("This file is imported already or still being checked."), status=409)


def stalled(now: datetime) -> Q:
    """The one rule of a stalled import: queued or running, and no sign of life (queued, or a
    batch committed) for CSAT_UPLOAD_STALL_MINUTES; a row from before heartbeats had none."""
    cutoff = now - timedelta(minutes=settings.CSAT_UPLOAD_STALL_MINUTES)
    return Q(status__in=[Status.QUEUED, Status.RUNNING]) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )


def is_stalled(upload: TouchpointUpload, *, now: datetime | None = None) -> bool:
    return TouchpointUpload.objects.filter(stalled(now or timezone.now()), pk=upload.pk).exists()


@transaction.atomic
def resume_upload(*, upload: TouchpointUpload, now: datetime | None = None) -> None:
    """Give a stalled import to a new run (the caller queues the task), which goes on after the
    last committed batch. 409 when it is not stalled: still moving, resumed already, or ended.

    The claim is one conditional update, so of two resumes one wins; a worker that was only
    slow finds its row owned by the new run at its next batch and stops before committing."""
    now = now or timezone.now()
    claimed = TouchpointUpload.objects.filter(stalled(now), pk=upload.pk).update(
        status=Status.QUEUED, attempt=F("attempt") + 1, heartbeat_at=now
    )
    if not claimed:
        raise DomainError(
            _("This import is not stalled: it is moving, was resumed already, or has ended."),
            status=409,
        )


def run_upload(*, upload_id: int) -> TouchpointUpload | None:
    """Import a confirmed or resumed file (step 3), claiming it first: a second delivery does
    nothing. Goes on after the lines its earlier runs committed; each batch commits with its
    progress, or not at all."""
    now = timezone.now()
    if not TouchpointUpload.objects.filter(pk=upload_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=Coalesce(F("started_at"), now), heartbeat_at=now
    ):
        return None
    upload = TouchpointUpload.objects.select_related("survey").get(pk=upload_id)
    attempt = upload.attempt
    slug = upload.survey.slug
    progress = _Progress(upload, attempt=attempt)
    skipped: Counter[str] = Counter(upload.skipped)
    try:
        for batch, read in _batches(upload, progress, after=upload.lines_done):
            if not batch:
                with transaction.atomic():
                    progress.save(read)
                continue
            with transaction.atomic():
                result = record_touchpoints(
                    items=[event for _line, event in batch], savepoint=False
                )
                counts: Counter[str] = Counter()
                for (line, _event), item in zip(batch, result.items, strict=True):
                    counts[item.status] += 1
                    if item.status == "rejected":
                        progress.reject(line, describe(item.errors))
                        continue
                    if item.status != "created":
                        continue
                    for decision in item.surveys:
                        if decision["survey"] != slug:
                            continue
                        if decision["decision"] == "invited":
                            counts["invited"] += 1
                        else:
                            skipped[decision["reason"]] += 1
                progress.save(
                    read,
                    created=F("created") + counts["created"],
                    duplicates=F("duplicates") + counts["duplicate"],
                    invited=F("invited") + counts["invited"],
                    skipped=dict(skipped),
                )
    except Superseded:
        log.info(
            "upload %s: run %s was replaced by a resume; its batch rolled back", upload.pk, attempt
        )
        return None
    except FileProblem as problem:
        _fail(upload, str(problem), attempt=attempt)
        return None
    except (
        Exception
    ) as error:  # the committed batches stay; a resume or the file again adds the rest
        _fail(upload, f"The import stopped: {error}", attempt=attempt)
        raise
    TouchpointUpload.objects.filter(pk=upload.pk, attempt=attempt, status=Status.RUNNING).update(
        status=Status.DONE, finished_at=timezone.now()
    )
    upload.refresh_from_db()
    return upload
