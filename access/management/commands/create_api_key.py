from django.core.management.base import BaseCommand, CommandError

from access.models import ApiKey
from access.services import ApiKeyError, create_api_key


class Command(BaseCommand):
    help = "Create an API key for an integrating system. The key is printed once, stored hashed."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name for the system using the key, e.g. shop.")
        parser.add_argument(
            "--scope",
            choices=ApiKey.Scope.values,
            default=ApiKey.Scope.FULL,
            help="full (default) or reports: a read-only key for BI tools",
        )

    def handle(self, *args, name: str, scope: str, **options):
        try:
            _, raw = create_api_key(name=name, scope=scope)
        except ApiKeyError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(raw)
        self.stderr.write(
            "Keep this key now: it is not shown again. Send it as 'Authorization: Bearer <key>'."
        )
