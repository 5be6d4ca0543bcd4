from django.core.management.base import BaseCommand, CommandError

from catalog.services.products_csv import products_export_csv

from ._common import merchant_and_store


class _Out:
    """csv.writer -> the command's stdout, without the line ending it adds."""

    def __init__(self, stdout):
        self.stdout = stdout

    def write(self, text: str) -> None:
        self.stdout.write(text, ending="")


class Command(BaseCommand):
    help = "Write the merchant's products as CSV to standard output, in the format import_products reads."

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", help="merchant slug")
        parser.add_argument("--merchant", help="merchant slug (the same as SLUG)")
        parser.add_argument("--store", type=int, help="add the listing columns (enabled, price ...) of this store")
        parser.add_argument(
            "--sellercloud", action="store_true", help="SellerCloud's column names (ProductID, BACKMARKET_...)"
        )

    def handle(self, *args, slug: str | None, merchant: str | None, store: int | None, sellercloud: bool, **options):
        if not (slug or merchant):
            raise CommandError("Give the merchant's slug.")
        found_merchant, found_store = merchant_and_store(slug or merchant, store)
        products_export_csv(
            merchant=found_merchant, out=_Out(self.stdout), store=found_store, sellercloud_names=sellercloud
        )
