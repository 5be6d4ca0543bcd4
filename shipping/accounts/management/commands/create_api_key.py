from django.core.management.base import BaseCommand, CommandError

from shipping.accounts.models import Merchant
from shipping.accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create a REST API key for a merchant. Last line: KEY SECRET (the secret is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="")

    def handle(self, *args, slug: str, name: str, **options):
        merchant = Merchant.objects.filter(slug=slug).first()
        if merchant is None:
            raise CommandError(f"No merchant with slug {slug!r}.")
        api_key, secret = api_key_create(merchant=merchant, name=name)
        self.stdout.write(f"API key for {merchant.slug}: use the key as username and the secret as password")
        self.stdout.write(f"{api_key.key} {secret}")
