import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from privacy import selectors
from surveys.errors import DomainError

from .erase_customer import identifier


class Command(BaseCommand):
    help = "Everything stored about one customer as JSON (data subject access request)."

    def add_arguments(self, parser):
        parser.add_argument("customer", help="the customer's email or external id")
        parser.add_argument(
            "--external-id", action="store_true", help="treat the argument as an external id"
        )

    def handle(self, *args, **options):
        try:
            data = selectors.customer_export(
                **identifier(options["customer"], external_id=options["external_id"])
            )
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
