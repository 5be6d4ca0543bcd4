import time

from django.core.management.base import BaseCommand, CommandError

from catalog.models import ListingEvent, ListingTask
from channels.services.listing_create import listing_task_poll, listings_create
from shipping.core.errors import RemoteError, RemoteRateLimited, RemoteUnavailable

from ._listing_common import back_market_store


class Command(BaseCommand):
    help = "Submit the listing creation task of a Back Market store now; with --wait, poll it until it ends."

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, required=True, help="store id")
        parser.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="poll the task up to this long")

    def handle(self, *args, store: int, wait: float, **options):
        target = back_market_store(store)
        try:
            counts = listings_create(store_id=target.pk, trigger="manual")
        except RemoteError as exc:
            raise CommandError(f"Listing creation failed: {exc}") from exc
        if counts.message:
            self.stderr.write(counts.message)
        task = counts.task
        if task is not None:
            self.stdout.write(f"task {task.task_id}: {counts.submitted} listing(s) submitted")
            deadline = time.monotonic() + max(0.0, wait)
            pause = 1.0
            while wait > 0 and task.status == ListingTask.Status.PENDING:
                try:
                    task = listing_task_poll(task_pk=task.pk)
                except (RemoteRateLimited, RemoteUnavailable) as exc:
                    self.stderr.write(f"polling: {exc}")
                if task.status != ListingTask.Status.PENDING or time.monotonic() + pause > deadline:
                    break
                time.sleep(pause)
                pause = min(pause * 1.5, 15.0)
            if task.status == ListingTask.Status.FAILED and task.error:
                self.stderr.write(f"task {task.task_id} failed: {task.error}")
            refused = ListingEvent.objects.filter(
                store=target, kind=ListingEvent.Kind.CREATE_FAILED, created_at__gte=task.submitted_at, sku__in=task.skus
            )
            for sku, message in refused.values_list("sku", "message"):
                self.stderr.write(f"{sku}: {message}")
            if task.status != ListingTask.Status.PENDING:
                counts.created, counts.failed = task.created, task.failed
                counts.pending -= task.created + task.failed
        self.stdout.write(counts.line())
