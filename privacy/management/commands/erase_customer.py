import getpass

from django.core.management.base import BaseCommand, CommandError

from privacy import services
from surveys.errors import DomainError


def identifier(value: str, *, external_id: bool) -> dict:
    """An argument with an @ is an email, otherwise an external id (forced by --external-id)."""
    value = value.strip()
    if external_id or "@" not in value:
        return {"external_id": value}
    return {"email": value}


class Command(BaseCommand):
    help = (
        "Erase one customer's personal data (name, email, comments, personal attributes), "
        "keeping scores so every figure stays the same. Logged without saying whose."
    )

    def add_arguments(self, parser):
        parser.add_argument("customer", help="the customer's email or external id")
        parser.add_argument(
            "--external-id", action="store_true", help="treat the argument as an external id"
        )

    def handle(self, *args, **options):
        try:
            result = services.erase_customer(
                **identifier(options["customer"], external_id=options["external_id"]),
                via=f"command ({getpass.getuser()})",
            )
        except DomainError as error:
            raise CommandError(str(error)) from None
        if result.already_erased:
            self.stdout.write("This customer's personal data was erased before; nothing left.")
            return
        counts = ", ".join(f"{k}: {v}" for k, v in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Erased. Rows changed: {counts}"))
