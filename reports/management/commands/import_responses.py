import csv
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reports.imports import (
    BATCH_SIZE,
    CsvFile,
    ImportFileError,
    ImportResult,
    Reject,
    find_survey,
    import_rows,
    plan_import,
    update_rollups,
)

LISTED_REJECTS = 20


class Command(BaseCommand):
    help = (
        "Import past answers from a CSV file into a published survey: columns submitted_at, "
        "score, and optionally comment, customer_email, customer_id, touchpoint_type, "
        "touchpoint_id, locale and attr.<name>. Importing a file again adds nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8; ',', ';' or tab between fields)")
        parser.add_argument("--survey", required=True, help="the survey's slug")
        parser.add_argument(
            "--question", help="the key of the question the scores answer (default: primary)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check every line, write nothing"
        )
        parser.add_argument("--rejects", metavar="OUT.csv", help="write every rejected line here")
        parser.add_argument("--encoding", default="utf-8", help="default utf-8 (a BOM is fine)")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            survey = find_survey(options["survey"])
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        dry_run = options["dry_run"]
        listed: list[Reject] = []
        result = ImportResult()
        started = time.monotonic()
        with path.open("rb") as stream:
            bar = tqdm(
                total=path.stat().st_size,
                unit="B",
                unit_scale=True,
                desc="import",
                file=self.stderr._out,
                disable=None,  # no bar when stderr is not a terminal (cron, CI)
            )
            rejects_file = writer = None
            try:
                source = CsvFile(stream, encoding=options["encoding"], on_bytes=bar.update)
                spec = plan_import(survey, source.header, question_key=options["question"])
                if options["rejects"]:
                    rejects_file = open(options["rejects"], "w", newline="", encoding="utf-8")  # noqa: SIM115
                    writer = csv.writer(rejects_file)
                    writer.writerow(["line", "reason", *source.header])

                def on_reject(reject: Reject) -> None:
                    if len(listed) < LISTED_REJECTS:
                        listed.append(reject)
                    if writer is not None:
                        writer.writerow([reject.line, reject.reason, *reject.values])

                import_rows(
                    spec,
                    source.records(),
                    dry_run=dry_run,
                    batch_size=options["batch_size"],
                    on_reject=on_reject,
                    result=result,
                )
            except ImportFileError as error:
                bar.close()
                if result.lines == 0 and not result.days:
                    raise CommandError(str(error)) from None
                self._summary(survey, result, listed, options, dry_run, time.monotonic() - started)
                self._rollups(survey, result, dry_run)
                raise CommandError(
                    f"stopped: {error}. The lines before it were imported in whole batches; "
                    "fix the file and import it again: what is stored is recognised."
                ) from None
            finally:
                bar.close()
                if rejects_file is not None:
                    rejects_file.close()
        self._summary(survey, result, listed, options, dry_run, time.monotonic() - started)
        self._rollups(survey, result, dry_run)

    def _summary(self, survey, result, listed, options, dry_run, seconds) -> None:
        out = self.stdout
        verb = "Would import" if dry_run else "Imported"
        rate = f", {result.lines / seconds:,.0f} lines/s" if seconds > 0 and result.lines else ""
        out.write(
            self.style.SUCCESS(
                f"{verb} {result.imported:,} response{'' if result.imported == 1 else 's'} "
                f"into {survey.name!r} ({survey.slug}) "
                f"from {result.lines:,} lines in {seconds:.1f} s{rate}."
            )
        )
        out.write(f"Already imported: {result.already:,} (recognised by touchpoint_id or content).")
        if result.contacts_created:
            out.write(f"Customers created: {result.contacts_created:,}.")
        if not result.rejected:
            out.write("Rejected: none.")
        else:
            noun = "line" if result.rejected == 1 else "lines"
            out.write(self.style.WARNING(f"Rejected: {result.rejected:,} {noun}."))
            for reject in listed:
                out.write(f"  line {reject.line}: {reject.reason}")
            more = result.rejected - len(listed)
            if options["rejects"]:
                out.write(f"  Every rejected line, with its reason: {options['rejects']}")
            elif more:
                out.write(f"  … and {more:,} more: list them all with --rejects OUT.csv")
        if dry_run:
            out.write("Dry run: nothing was written.")

    def _rollups(self, survey, result, dry_run) -> None:
        if dry_run or not result.days:
            return
        started = time.monotonic()
        how = update_rollups(
            survey,
            result.days,
            progress=lambda total: tqdm(
                total=total, unit="step", desc="rollups", file=self.stderr._out, disable=None
            ),
        )
        first, last = min(result.days), max(result.days)
        self.stdout.write(
            f"Reports up to date for {first} – {last}: {how} in {time.monotonic() - started:.1f} s."
        )
