"""Asking for listing pushes: the catalog's side of the listing outbox.

Whatever changes a product's available quantity, or the settings that decide what its listing should
show, calls ``listing_push_request`` inside its own transaction. That writes (or refreshes) one
``ListingPush`` row per store that syncs listings and schedules, on commit, the delivery task by name
(catalog never imports channels). The row is the durable part: a lost task is picked up by the sweep.
"""

from __future__ import annotations

from collections.abc import Iterable

from celery import current_app
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import ListingBinding, ListingPush, ListingSettings, ListingSync

PUSH_TASK = "channels.tasks.push_listings"


def listing_push_request(*, product_ids: Iterable[int], store_id: int | None = None) -> int:
    """Make these products' listings due for a push in every store that syncs listings and where they have
    settings or a listing (or in one store). Call inside the transaction that made the change. Returns the
    number of rows written."""
    ids = sorted(set(product_ids))
    if not ids:
        return 0
    # (store, product) pairs in one query: the syncing stores where the product has settings or a listing (a
    # product with neither has nothing on Back Market to move; the reconcile binds a listing found later).
    syncing = Q(store__is_active=True) & ~Q(store__listing_sync__mode=ListingSync.Mode.OFF)
    syncing &= Q(store__listing_sync__isnull=False, product_id__in=ids)
    if store_id is not None:
        syncing &= Q(store_id=store_id)
    pairs = (
        ListingSettings.objects.filter(syncing)
        .order_by()
        .values_list("store_id", "product_id")
        .union(ListingBinding.objects.filter(syncing).order_by().values_list("store_id", "product_id"))
    )
    now = timezone.now()
    rows = [
        ListingPush(store_id=store, product_id=product, requested_at=now, next_attempt_at=now)
        for store, product in pairs
    ]
    if not rows:
        return 0
    # One row per store and product: a newer change refreshes requested_at, which tells a delivery that is
    # running right now that it must not delete the row when it is done. A row backing off keeps its time.
    ListingPush.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["store", "product"], update_fields=["requested_at"]
    )
    for store in sorted({row.store_id for row in rows}):
        transaction.on_commit(lambda store=store: current_app.send_task(PUSH_TASK, args=[store]))
    return len(rows)
