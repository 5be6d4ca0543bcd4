from django.core.management.base import BaseCommand, CommandError

from shipping.accounts.services import merchant_create_or_update
from shipping.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a merchant and its owner login (idempotent). Last line: the merchant id."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="")

    def handle(self, *args, slug: str, email: str, password: str, name: str, **options):
        try:
            merchant = merchant_create_or_update(slug=slug, email=email, password=password, name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Merchant {merchant.slug!r} ready; owner login {email}")
        self.stdout.write(str(merchant.pk))
