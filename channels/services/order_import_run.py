"""One import of a store's orders: lease, window, pages, counts, watermark.

HTTP happens outside any transaction; each page is written in one transaction. The watermark
moves only when every page succeeded, and never backwards.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders.services.order_import import ImportItem, Outcome, orders_upsert_from_channel
from shipping.core.errors import ApplicationError

from ..base import BaseChannelAdapter, Capability, ChannelAuthError, ChannelError, ExternalOrder, OrderPage
from ..models import Store, SyncIssue, SyncRun
from .adapters import adapter_for_store
from .stores import store_mark_needs_credentials
from .sync_issues import sync_issue_record, sync_issues_resolve

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Lease:
    store_id: int
    token: str


def store_lease_claim(*, store_id: int, seconds: int | None = None) -> Lease | None:
    """Claim the store for one import (conditional UPDATE): one worker wins, the others skip."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        Store.objects.filter(pk=store_id)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=seconds or settings.IMPORT_LEASE_SECONDS),
        )
    )
    return Lease(store_id, token) if claimed else None


def store_lease_release(*, lease: Lease) -> None:
    Store.objects.filter(pk=lease.store_id, lease_token=lease.token).update(lease_token="", lease_expires_at=None)


def import_window(*, store: Store, now: datetime) -> tuple[datetime, datetime]:
    """[watermark - overlap, now - settle]: overlapping reads are harmless, late writers are caught."""
    start = store.orders_synced_until or now - timedelta(days=settings.IMPORT_INITIAL_LOOKBACK_DAYS)
    start -= timedelta(minutes=settings.IMPORT_OVERLAP_MINUTES)
    end = now - timedelta(seconds=settings.IMPORT_SETTLE_SECONDS)
    return start, max(end, start)


def store_status_map(*, store: Store) -> dict[str, str]:
    return dict(store.status_mappings.values_list("external_status", "status"))


def _quarantine(run: SyncRun, *, external_id: str, message: str, raw) -> None:
    sync_issue_record(
        store=run.store, kind=SyncIssue.Kind.QUARANTINED, external_id=external_id, message=message, payload=raw, run=run
    )
    run.quarantined_count += 1


def _has_ship_to(ext: ExternalOrder) -> bool:
    return ext.ship_to is not None and not ext.ship_to.is_empty


def import_page_write(
    *,
    run: SyncRun,
    adapter_cls: type[BaseChannelAdapter],
    page: OrderPage,
    status_map: dict[str, str],
    force: bool = False,
) -> None:
    """Write one page in one transaction; bad records become SyncIssues, the rest import."""
    store = run.store
    acknowledge = store.auto_accept and Capability.ACKNOWLEDGE in adapter_cls.capabilities
    with transaction.atomic():
        for failure in page.failures:
            _quarantine(run, external_id=failure.external_id, message=failure.message, raw=failure.raw)
        items = []
        for ext in page.orders:
            if not _has_ship_to(ext):
                _quarantine(
                    run,
                    external_id=ext.external_id,
                    raw=ext.raw,
                    message=f"Order {ext.order_number} has no ship-to address, so it was not imported.",
                )
                continue
            items.append(ImportItem(ext, status_map.get(ext.external_status), acknowledge=acknowledge))
        raw_by_id = {item.external.external_id: item.external.raw for item in items}
        imported, mapped = [], []
        for result in orders_upsert_from_channel(store=store, items=items, force=force):
            if result.outcome == Outcome.FAILED:
                _quarantine(
                    run, external_id=result.external_id, raw=raw_by_id[result.external_id], message=result.error
                )
                continue
            setattr(run, f"{result.outcome.value}_count", getattr(run, f"{result.outcome.value}_count") + 1)
            imported.append(result.external_id)
            if result.unmapped_status:
                ext = next(i.external for i in items if i.external.external_id == result.external_id)
                sync_issue_record(
                    store=store,
                    kind=SyncIssue.Kind.UNMAPPED_STATUS,
                    external_id=result.external_id,
                    run=run,
                    order_id=result.order_id,
                    payload=ext.raw,
                    message=f"Status {ext.external_status!r} is not mapped; order {ext.order_number} is on hold. "
                    "Map the status in the store settings, then retry.",
                )
            else:
                mapped.append(result.external_id)
        sync_issues_resolve(store=store, kinds=[SyncIssue.Kind.QUARANTINED], external_ids=imported)
        sync_issues_resolve(store=store, kinds=[SyncIssue.Kind.UNMAPPED_STATUS], external_ids=mapped)
        run.pages += 1
        run.save()


def _finish(run: SyncRun, status: str, error: str = "") -> None:
    run.status = status
    run.error = error[:10000]
    run.finished_at = timezone.now()
    run.save()
    Store.objects.filter(pk=run.store_id).update(last_import_finished_at=run.finished_at)


def order_import_run(
    *,
    store_id: int,
    trigger: str = SyncRun.Trigger.SCHEDULE,
    since: datetime | None = None,
    until: datetime | None = None,
    task_id: str = "",
) -> SyncRun:
    """Import one store's orders for the scheduled window, or for [since, until] (a backfill)."""
    store = Store.objects.select_related("merchant").get(pk=store_id)
    if not store.is_active:
        raise ApplicationError(f"Store {store.name!r} is deactivated.")
    if store.needs_new_credentials:
        raise ApplicationError(f"Store {store.name!r} needs new credentials: {store.credentials_message}")
    adapter = adapter_for_store(store)
    if Capability.FETCH_ORDERS not in adapter.capabilities:
        raise ApplicationError(f"{adapter.label} stores do not import orders.")

    now = timezone.now()
    if since is not None:
        window = (since, until or now - timedelta(seconds=settings.IMPORT_SETTLE_SECONDS))
    else:
        window = import_window(store=store, now=now)
    lease = store_lease_claim(store_id=store.pk)
    run = SyncRun(store=store, trigger=trigger, window_start=window[0], window_end=window[1], task_id=task_id)
    if lease is None:
        run.status = SyncRun.Status.SKIPPED
        run.finished_at = now
        run.save()
        return run
    try:
        run.save()
        Store.objects.filter(pk=store.pk).update(last_import_started_at=now)
        _import_pages(run=run, adapter=adapter, store=store, window=window, backfill=since is not None)
    except ChannelAuthError as exc:
        store_mark_needs_credentials(store_id=store.pk, message=exc.message)
        _finish(run, SyncRun.Status.FAILED, exc.message)
        raise
    except ChannelError as exc:
        _finish(run, SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc.message}")
        raise
    except Exception as exc:
        logger.exception("import of store %s failed", store.pk)
        _finish(run, SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        store_lease_release(lease=lease)
    return run


def _import_pages(
    *, run: SyncRun, adapter: BaseChannelAdapter, store: Store, window: tuple[datetime, datetime], backfill: bool
) -> None:
    status_map = store_status_map(store=store)
    cursor: str | None = None
    for _ in range(settings.IMPORT_MAX_PAGES):
        page = adapter.fetch_orders(updated_since=window[0], updated_until=window[1], cursor=cursor)
        import_page_write(run=run, adapter_cls=type(adapter), page=page, status_map=status_map)
        cursor = page.next_cursor
        if cursor is None:
            break
    else:
        _finish(
            run,
            SyncRun.Status.FAILED,
            f"Stopped after {settings.IMPORT_MAX_PAGES} pages; the next run continues from the same point.",
        )
        return
    _advance_watermark(store=store, window=window, backfill=backfill)
    _finish(run, SyncRun.Status.SUCCEEDED)


def _advance_watermark(*, store: Store, window: tuple[datetime, datetime], backfill: bool) -> None:
    """Forward only; a backfill moves it only when it joins up with what was already imported."""
    start, end = window
    current = store.orders_synced_until
    if backfill and (current is None or start > current):
        return
    if current is None or end > current:
        Store.objects.filter(pk=store.pk).update(orders_synced_until=end)
