from django.core.management.base import BaseCommand, CommandError

from catalog.models import ListingSync
from channels.services.listing_reprice import listings_reprice
from shipping.core.errors import RemoteError

from ._listing_common import back_market_store


class Command(BaseCommand):
    help = "One repricer pass over a Back Market store's listings, now."

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, required=True, help="store id")

    def handle(self, *args, store: int, **options):
        target = back_market_store(store)
        sync = ListingSync.objects.filter(store=target).first()
        if sync is None or not sync.repricer:
            self.stderr.write("The repricer is off for this store (configure_store --repricer on).")
        try:
            counts = listings_reprice(store_id=target.pk)
        except RemoteError as exc:
            raise CommandError(f"The repricer stopped: {exc}") from exc
        self.stdout.write(counts.line())
