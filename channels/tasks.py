"""Thin Celery tasks: load by id, call one service, map typed errors to retry or give up."""

import logging
import random

from celery import shared_task
from django.db import transaction

from shipping.core.errors import ApplicationError, RemoteError, RemoteRateLimited, RemoteUnavailable

logger = logging.getLogger(__name__)


def _backoff(retries: int, at_least: float = 0) -> float:
    """Exponential with jitter, capped well under the Redis visibility timeout."""
    return max(at_least, min(30 * 2**retries, 30 * 60)) + random.uniform(0, 5)  # noqa: S311


@shared_task(name="channels.tasks.dispatch_order_imports")
def dispatch_order_imports() -> int:
    from .services.dispatch import stores_due_for_import

    store_ids = stores_due_for_import()
    for store_id in store_ids:
        transaction.on_commit(
            lambda store_id=store_id: import_orders_for_store.apply_async(args=[store_id], expires=5 * 60)
        )
    return len(store_ids)


@shared_task(
    bind=True, name="channels.tasks.import_orders_for_store", max_retries=6, soft_time_limit=15 * 60, time_limit=16 * 60
)
def import_orders_for_store(self, store_id: int, trigger: str = "schedule", since: str | None = None) -> str:
    from django.utils.dateparse import parse_datetime

    from .services.order_import_run import order_import_run

    try:
        run = order_import_run(
            store_id=store_id,
            trigger=trigger,
            task_id=self.request.id or "",
            since=parse_datetime(since) if since else None,
        )
    except RemoteRateLimited as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries, exc.retry_after or 10)) from exc
    except RemoteUnavailable as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    except (RemoteError, ApplicationError) as exc:
        # Recorded on the SyncRun / the store for a person; retrying cannot help.
        logger.warning("import of store %s stopped: %s", store_id, exc)
        return "failed"
    return run.status


@shared_task(name="channels.tasks.deliver_outbox_message", soft_time_limit=120, time_limit=180)
def deliver_outbox_message(message_id: int) -> str:
    from .services.outbox_delivery import outbox_deliver

    return outbox_deliver(message_id=message_id)


@shared_task(name="channels.tasks.sweep_outbox")
def sweep_outbox() -> int:
    from .services.outbox_delivery import outbox_sweep

    ids = outbox_sweep()
    for message_id in ids:
        deliver_outbox_message.delay(message_id)
    return len(ids)


@shared_task(name="channels.tasks.purge_sync_logs")
def purge_sync_logs() -> dict:
    from .services.purge import sync_logs_purge

    return sync_logs_purge()
