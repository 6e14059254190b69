"""python manage.py import_touchpoints FILE.csv [--dry-run]: a backlog of touchpoint events.

Each row goes through the same validation and service as POST /api/v1/touchpoints/
(surveys.touchpoints), a batch at a time; a bad row is reported with its line and never stops
the valid ones; importing the same file again finds every row a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from surveys.touchpoint_files import FileProblem, check_events, count_lines, describe, open_rows
from surveys.touchpoints import MAX_BATCH, record_touchpoints


@dataclass
class Summary:
    created: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.duplicates


class Command(BaseCommand):
    help = (
        "Import touchpoint events from a CSV file (columns type, external_id, occurred_at, "
        "customer_email, customer_name, customer_external_id, customer_locale, "
        "customer_time_zone, attr.<name>), with the API's validation."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a UTF-8 CSV file with a header row")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, store nothing"
        )
        parser.add_argument(
            "--batch-size", type=int, default=MAX_BATCH, help=f"rows per batch (≤ {MAX_BATCH})"
        )
        parser.add_argument(
            "--delimiter", default="", help="the column separator (default: detected, , or ;)"
        )

    def handle(self, *args, file: str, dry_run: bool, batch_size: int, delimiter: str, **options):
        if not 1 <= batch_size <= MAX_BATCH:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH}.")
        path = Path(file)
        try:
            lines = count_lines(path)
            with path.open(encoding="utf-8-sig", newline="") as handle:
                columns, rows = open_rows(handle, delimiter=delimiter)
                summary = self.import_rows(
                    rows, lines=lines, dry_run=dry_run, batch_size=batch_size
                )
        except FileProblem as problem:
            raise CommandError(str(problem)) from None
        self.report(summary, dry_run=dry_run)

    def import_rows(self, rows, *, lines, dry_run, batch_size) -> Summary:
        summary = Summary()
        batch: list[tuple[int, dict]] = []
        seen: set[tuple[str, str]] = set()
        done = 1  # the header
        progress = tqdm(total=lines, initial=1, unit=" lines", desc="Importing", leave=True)
        try:
            for row in rows:
                progress.update(row.lines_read - done)
                done = row.lines_read
                if row.event is None:
                    summary.rejected.append((row.line, row.rejected))
                    continue
                batch.append((row.line, row.event))
                if len(batch) >= batch_size:
                    self.flush(batch, summary, seen, dry_run=dry_run)
                    batch = []
            if batch:
                self.flush(batch, summary, seen, dry_run=dry_run)
        finally:
            progress.close()
        return summary

    def flush(self, batch, summary: Summary, seen: set, *, dry_run: bool) -> None:
        if dry_run:
            self.validate_only(batch, summary, seen)
            return
        result = record_touchpoints(items=[event for _line, event in batch])
        for (line, _event), item in zip(batch, result.items, strict=True):
            if item.status == "created":
                summary.created += 1
            elif item.status == "duplicate":
                summary.duplicates += 1
            else:
                summary.rejected.append((line, describe(item.errors)))

    def validate_only(self, batch, summary: Summary, seen: set) -> None:
        """What an import would do, without writing."""
        new, duplicates, rejected = check_events(batch, seen)
        summary.created += len(new)
        summary.duplicates += duplicates
        summary.rejected.extend(rejected)

    def report(self, summary: Summary, *, dry_run: bool) -> None:
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{summary.accepted:,} rows accepted ({summary.created:,} {verb} created, "
            f"{summary.duplicates:,} {verb} already there), {len(summary.rejected):,} rejected."
        )
        for line, reason in summary.rejected:
            self.stdout.write(f"  line {line}: {reason}")
        if dry_run:
            self.stdout.write("Dry run: nothing was stored.")
