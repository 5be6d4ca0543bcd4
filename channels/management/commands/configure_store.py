from django.core.management.base import BaseCommand, CommandError

from catalog.models import ListingSync
from catalog.services.listing_settings import listing_sync_configure
from channels.models import Store
from channels.services.stores import store_update_settings
from shipping.core.errors import ApplicationError

ON_OFF = {"on": True, "off": False}


class Command(BaseCommand):
    help = "Change a store's switches: listing sync mode, repricer, auto-accept, import interval."

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, required=True, help="store id")
        parser.add_argument("--listing-sync", choices=ListingSync.Mode.values, help="what follows the catalog")
        parser.add_argument("--repricer", choices=ON_OFF, help="hourly repricer (Back Market)")
        parser.add_argument("--auto-accept", choices=ON_OFF, help="accept new Back Market orders on import")
        parser.add_argument("--import-interval", type=int, metavar="MINUTES", help="minutes between order imports")

    def handle(self, *args, store: int, listing_sync, repricer, auto_accept, import_interval, **options):
        target = Store.objects.filter(pk=store).first()
        if target is None:
            raise CommandError(f"No store with id {store}.")
        if (listing_sync is not None or repricer is not None) and target.kind != "back_market":
            raise CommandError("Listing sync and the repricer are for Back Market stores.")
        if import_interval is not None and not 1 <= import_interval <= 24 * 60:
            raise CommandError("--import-interval must be 1 to 1440 minutes.")
        values = {}
        if auto_accept is not None:
            values["auto_accept"] = ON_OFF[auto_accept]
        if import_interval is not None:
            values["import_interval_minutes"] = import_interval
        try:
            if values:
                store_update_settings(store=target, values=values)
            sync = None
            if listing_sync is not None or repricer is not None:
                sync = listing_sync_configure(
                    store=target, mode=listing_sync, repricer=None if repricer is None else ON_OFF[repricer]
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        target.refresh_from_db()
        sync = sync or ListingSync.objects.filter(store=target).first()
        self.stdout.write(
            f"store {target.pk} ({target.name}): listing-sync {sync.mode if sync else 'off'} "
            f"repricer {'on' if sync and sync.repricer else 'off'} auto-accept {'on' if target.auto_accept else 'off'} "
            f"import-interval {target.import_interval_minutes}"
        )
