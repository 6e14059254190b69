from django.core.management.base import BaseCommand, CommandError

from access.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for an integrating system. The key is printed once, stored hashed."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name for the system using the key, e.g. shop.")

    def handle(self, *args, name: str, **options):
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"An API key named {name!r} exists already.")
        _, raw = ApiKey.generate(name=name)
        self.stdout.write(raw)
        self.stderr.write(
            "Keep this key now: it is not shown again. Send it as 'Authorization: Bearer <key>'."
        )
