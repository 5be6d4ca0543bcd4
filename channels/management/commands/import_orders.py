from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from channels.models import Store, SyncRun
from channels.services.order_import_run import order_import_run
from shipping.core.errors import ApplicationError, RemoteError


def _when(value: str | None, option: str):
    if value is None:
        return None
    parsed = parse_datetime(value) if "T" in value or " " in value else parse_datetime(f"{value}T00:00:00")
    if parsed is None:
        raise CommandError(f"{option} must be an ISO 8601 date or date-time, not {value!r}.")
    return make_aware(parsed) if is_naive(parsed) else parsed


class Command(BaseCommand):
    help = "Run one order import for a store now (a backfill with --since); never moves the watermark back."

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, required=True, help="store id")
        parser.add_argument("--since", help="ISO 8601; default: the store's watermark minus the overlap")
        parser.add_argument("--until", help="ISO 8601; default: now minus the settle delay")

    def handle(self, *args, store: int, since: str | None, until: str | None, **options):
        since_at, until_at = _when(since, "--since"), _when(until, "--until")
        if until_at and not since_at:
            raise CommandError("--until needs --since.")
        if since_at and until_at and until_at <= since_at:
            raise CommandError("--until must be after --since.")
        if not Store.objects.filter(pk=store).exists():
            raise CommandError(f"No store with id {store}.")
        trigger = SyncRun.Trigger.BACKFILL if since_at else SyncRun.Trigger.MANUAL
        try:
            run = order_import_run(store_id=store, trigger=trigger, since=since_at, until=until_at)
        except (ApplicationError, RemoteError) as exc:
            raise CommandError(f"Import failed: {getattr(exc, 'message', exc)}") from exc
        if run.status == SyncRun.Status.SKIPPED:
            raise CommandError("Another import of this store is running; try again when it has finished.")
        self.stdout.write(
            f"Imported {run.window_start:%Y-%m-%d %H:%M:%S} .. {run.window_end:%Y-%m-%d %H:%M:%S} UTC "
            f"in {run.pages} page(s): {run.status}"
        )
        if run.error:
            self.stdout.write(run.error)
        self.stdout.write(
            f"created={run.created_count} updated={run.updated_count} "
            f"unchanged={run.unchanged_count} quarantined={run.quarantined_count}"
        )
        if run.status == SyncRun.Status.FAILED:
            raise CommandError("The import did not finish; the watermark was not moved.")
