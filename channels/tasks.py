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


# --- listings (catalog) -------------------------------------------------------------------------------

LISTING_LOCK_SECONDS = 15 * 60


def _store_lock(name: str, store_id: int):
    """One run of a kind per store at a time, across workers (the Django cache: Redis when configured)."""
    from django.core.cache import cache

    key = f"listing-run:{name}:{store_id}"
    return key if cache.add(key, 1, timeout=LISTING_LOCK_SECONDS) else None


def _unlock(key: str) -> None:
    from django.core.cache import cache

    cache.delete(key)


@shared_task(name="channels.tasks.push_listings", soft_time_limit=10 * 60, time_limit=11 * 60)
def push_listings(store_id: int) -> str:
    """Deliver a store's due listing pushes (scheduled on commit by catalog.services.listing_push)."""
    from .services.listing_sync import listing_pushes_deliver

    try:
        counts = listing_pushes_deliver(store_id=store_id)
    except RemoteError as exc:
        logger.warning("listing pushes of store %s stopped: %s", store_id, exc)
        return "failed"
    if counts.next_due_in is not None:  # held back or backing off: come back when the next one is due
        push_listings.apply_async(args=[store_id], countdown=counts.next_due_in + random.uniform(0, 1))  # noqa: S311
    return counts.line()


@shared_task(name="channels.tasks.sweep_listing_pushes")
def sweep_listing_pushes() -> int:
    from .services.listing_sync import stores_with_due_pushes

    store_ids = stores_with_due_pushes()
    for store_id in store_ids:
        push_listings.delay(store_id)
    return len(store_ids)


@shared_task(name="channels.tasks.dispatch_listing_runs")
def dispatch_listing_runs() -> dict:
    from .services.listing_sync import stores_due_for_listing_runs

    due = stores_due_for_listing_runs()
    for store_id in due["reconcile"]:
        reconcile_listings.apply_async(args=[store_id], expires=4 * 60)
    for store_id in due["create"]:
        create_listings.apply_async(args=[store_id], expires=30 * 60)
    for store_id in due["reprice"]:
        reprice_listings.apply_async(args=[store_id], expires=30 * 60)
    return {name: len(ids) for name, ids in due.items()}


@shared_task(name="channels.tasks.reconcile_listings", soft_time_limit=30 * 60, time_limit=31 * 60)
def reconcile_listings(store_id: int, trigger: str = "schedule") -> str:
    from .services.listing_sync import listings_reconcile

    lock = _store_lock("reconcile", store_id)
    if lock is None:
        return "skipped: running"
    try:
        return listings_reconcile(store_id=store_id, trigger=trigger).line()
    except RemoteError as exc:
        logger.warning("listing reconcile of store %s stopped: %s", store_id, exc)
        return "failed"
    finally:
        _unlock(lock)


@shared_task(name="channels.tasks.create_listings", soft_time_limit=10 * 60, time_limit=11 * 60)
def create_listings(store_id: int, trigger: str = "schedule") -> str:
    from .services.listing_create import listings_create

    lock = _store_lock("create", store_id)
    if lock is None:
        return "skipped: running"
    try:
        counts = listings_create(store_id=store_id, trigger=trigger)
    except RemoteError as exc:
        logger.warning("listing creation of store %s stopped: %s", store_id, exc)
        return "failed"
    finally:
        _unlock(lock)
    if counts.task is not None:
        poll_listing_task.apply_async(args=[counts.task.pk], countdown=30)
    return counts.line()


@shared_task(bind=True, name="channels.tasks.poll_listing_task", max_retries=None)
def poll_listing_task(self, task_pk: int) -> str:
    """Back Market says a task takes about 5 minutes: look every 30 s, then every 2 minutes, for a day."""
    from .services.listing_create import listing_task_poll

    try:
        task = listing_task_poll(task_pk=task_pk)
    except (RemoteRateLimited, RemoteUnavailable) as exc:
        task = None
        logger.info("listing task %s: %s", task_pk, exc)
    if task is not None and task.status != "pending":
        return task.status
    if self.request.retries >= 24 * 30:
        return "gave up"
    raise self.retry(countdown=30 if self.request.retries < 20 else 120)


@shared_task(name="channels.tasks.reprice_listings", soft_time_limit=55 * 60, time_limit=56 * 60)
def reprice_listings(store_id: int, trigger: str = "schedule") -> str:
    from .services.listing_reprice import listings_reprice

    lock = _store_lock("reprice", store_id)
    if lock is None:
        return "skipped: running"
    try:
        return listings_reprice(store_id=store_id).line()
    except RemoteError as exc:
        logger.warning("repricer of store %s stopped: %s", store_id, exc)
        return "failed"
    finally:
        _unlock(lock)
