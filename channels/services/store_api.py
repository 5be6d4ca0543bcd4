"""Store operations of the ShipStation-compatible API: refresh (queue an import) and its status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from ..base import Capability
from ..models import Store
from ..registry import UnknownChannel, get_adapter_class
from ..tasks import import_orders_for_store


def store_can_refresh(store: Store) -> bool:
    try:
        return Capability.FETCH_ORDERS in get_adapter_class(store.kind).capabilities
    except UnknownChannel:
        return False


def stores_refresh(*, merchant: Merchant, store_id: int | None = None, since: datetime | None = None) -> list[int]:
    """Queue an import (after commit) of one store, or of every active store that imports orders.

    ``since`` re-imports from that instant, as the store's "re-sync" does (a backfill never moves
    the watermark backwards).
    """
    if store_id is not None:
        store = Store.objects.get(merchant=merchant, pk=store_id)  # DoesNotExist for anyone else's
        if not store.is_active:
            raise ApplicationError(f"{store.name} is deactivated; reactivate it first.")
        if not store_can_refresh(store):
            raise ApplicationError(f"{store.name} has no marketplace to import from.")
        stores = [store]
    else:
        stores = [s for s in Store.objects.filter(merchant=merchant, is_active=True) if store_can_refresh(s)]
    for store in stores:
        if since is None:
            import_orders_for_store.delay_on_commit(store.pk, trigger="manual")
        else:
            import_orders_for_store.delay_on_commit(store.pk, trigger="backfill", since=since.isoformat())
    return [store.pk for store in stores]


@dataclass(frozen=True, slots=True)
class RefreshStatus:
    store: Store
    running: bool


def store_refresh_status(*, store: Store) -> RefreshStatus:
    """Running while an import holds the store's lease."""
    running = bool(store.lease_token) and store.lease_expires_at is not None and store.lease_expires_at > timezone.now()
    return RefreshStatus(store=store, running=running)
