"""Stores, status mappings and marketplaces as ShipStation API v1 JSON (reference §2.4)."""

from __future__ import annotations

from typing import Any

from orders.api.dates import format_datetime

from ..base import BaseChannelAdapter, Capability
from ..models import Store
from ..registry import UnknownChannel, get_adapter_class
from ..services.store_api import RefreshStatus

# ShipStation numbers its marketplaces; 0 is its own manual store. The others are ours (ShipStation's
# numbers for Back Market and Listing Mirror are not public), stable and documented in the schema.
MARKETPLACE_IDS = {"manual": 0, "back_market": 1001, "listing_mirror": 1002, "custom_store": 1003, "fake": 1999}
REFRESH_RUNNING, REFRESH_IDLE = (1, "Updating orders"), (2, "Idle")


def _adapter(kind: str) -> type[BaseChannelAdapter] | None:
    try:
        return get_adapter_class(kind)
    except UnknownChannel:
        return None


def store_data(store: Store, *, with_mappings: bool) -> dict[str, Any]:
    adapter = _adapter(store.kind)
    fetches = adapter is not None and Capability.FETCH_ORDERS in adapter.capabilities
    return {
        "storeId": store.pk,
        "storeName": store.name,
        "marketplaceId": MARKETPLACE_IDS.get(store.kind),
        "marketplaceName": adapter.label if adapter else store.kind,
        "accountName": None,
        "email": None,
        # Non-secret settings only (credentials stay encrypted and unshown).
        "integrationUrl": store.config.get("url") or store.config.get("base_url") or None,
        "active": store.is_active,
        "companyName": store.company_name or None,
        "phone": None,
        "publicEmail": None,
        "website": None,
        "refreshDate": format_datetime(store.orders_synced_until),
        "lastRefreshAttempt": format_datetime(store.last_import_started_at),
        "createDate": format_datetime(store.created_at),
        "modifyDate": format_datetime(store.updated_at),
        "autoRefresh": fetches and store.is_active,
        "statusMappings": (
            [{"orderStatus": m.status, "statusKey": m.external_status} for m in store.status_mappings.all()]
            if with_mappings
            else None
        ),
    }


def marketplace_data(adapter: type[BaseChannelAdapter]) -> dict[str, Any]:
    return {
        "name": adapter.label,
        "marketplaceId": MARKETPLACE_IDS.get(adapter.kind),
        "canRefresh": Capability.FETCH_ORDERS in adapter.capabilities,
        "supportsCustomMappings": bool(adapter.default_status_map),
        "supportsCustomStatuses": adapter.status_mapping_style == "comma_lists",
        "canConfirmShipments": Capability.NOTIFY_SHIPMENT in adapter.capabilities,
    }


def refresh_status_data(status: RefreshStatus) -> dict[str, Any]:
    code, text = REFRESH_RUNNING if status.running else REFRESH_IDLE
    return {
        "storeId": status.store.pk,
        "refreshStatusId": code,
        "refreshStatus": text,
        "lastRefreshAttempt": format_datetime(status.store.last_import_started_at),
        "refreshDate": format_datetime(status.store.orders_synced_until),
    }
