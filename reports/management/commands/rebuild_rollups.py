from datetime import date

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from reports import rollups
from surveys.models import Survey


class Command(BaseCommand):
    help = "Recompute the report rollups from the raw responses, invitations and touchpoints."

    def add_arguments(self, parser):
        parser.add_argument("--survey", help="only this survey (slug)")
        parser.add_argument("--since", help="only days from this date on (YYYY-MM-DD)")

    def handle(self, *args, survey=None, since=None, **options):
        if not rollups.enabled():
            self.stdout.write("No rollups on this database: its reports read the raw rows.")
            return
        chosen = None
        if survey:
            chosen = Survey.objects.filter(slug=survey).first()
            if chosen is None:
                raise CommandError(f"no survey with the slug {survey!r}")
        since_day = None
        if since:
            try:
                since_day = date.fromisoformat(since)
            except ValueError:
                raise CommandError(f"--since: {since!r} is not a date (YYYY-MM-DD)") from None
        days = rollups.rebuild(
            survey=chosen,
            since=since_day,
            progress=lambda total: tqdm(total=total, unit="step", desc="rollups"),
        )
        # The planner's statistics of the rewritten tables, before the first report reads them.
        with connection.cursor() as cursor:
            for model in apps.get_app_config("reports").get_models():
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write(self.style.SUCCESS(f"Rollups rebuilt: {days} survey days."))
