from django.core.management.base import BaseCommand, CommandError

from catalog.models import ListingSync
from channels.services.listing_sync import listings_reconcile
from shipping.core.errors import RemoteError

from ._listing_common import back_market_store


class Command(BaseCommand):
    help = "One full listing reconcile of a Back Market store, now: read every listing, write what differs."

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, required=True, help="store id")

    def handle(self, *args, store: int, **options):
        target = back_market_store(store)
        sync = ListingSync.objects.filter(store=target).first()
        if sync is None or sync.mode == ListingSync.Mode.OFF:
            self.stderr.write("Listing sync is off for this store (configure_store --listing-sync quantities).")
        try:
            counts = listings_reconcile(store_id=target.pk, trigger="manual")
        except RemoteError as exc:
            raise CommandError(f"The reconcile stopped: {exc}") from exc
        for error in counts.errors:
            self.stderr.write(error)
        self.stdout.write(f"read {counts.read} listings, sent {counts.requests} requests ({counts.writes} writes)")
        self.stdout.write(counts.line())
