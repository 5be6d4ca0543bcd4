"""Listing Mirror, and any ShipStation-style custom store: the client side of Custom Store XML v1."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..base import (
    BaseChannelAdapter,
    Capability,
    ChannelKind,
    ExternalOrder,
    OperationResult,
    OrderPage,
    ShipmentNotice,
)
from . import mapper
from .client import CustomStoreClient
from .settings import CUSTOM_STORE_FIELDS, LISTING_MIRROR_FIELDS


class ListingMirrorAdapter(BaseChannelAdapter):
    kind = ChannelKind.LISTING_MIRROR.value
    label = "Listing Mirror"
    capabilities = frozenset({Capability.FETCH_ORDERS, Capability.NOTIFY_SHIPMENT})
    settings_fields = LISTING_MIRROR_FIELDS
    # ShipStation's custom-store form: five comma lists of case-sensitive store statuses.
    status_mapping_style = "comma_lists"
    default_status_map = {
        "Unpaid": "awaiting_payment",
        "Paid": "awaiting_shipment",
        "Shipped": "shipped",
        "Cancelled": "cancelled",
        "Hold": "on_hold",
    }
    # Seed 003: status, tracking number, carrier, service and item information; no fee, no note to buyer.
    shipment_fields_sent = frozenset({"status", "tracking_number", "carrier", "service", "items"})
    # A repeated ship notice is harmless at the store, and the protocol cannot fetch one order.
    outbound_is_idempotent = True
    credentials_help = (
        "In Listing Mirror open Integrations → Fulfillment Integrations → ShipStation, copy the generated "
        "username and password (not your Listing Mirror login) and paste them in this store's settings."
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        settings = dict(context.settings)
        self.client = CustomStoreClient(
            url=str(settings.get("url") or ""),
            username=str(settings.get("username") or ""),
            password=str(settings.get("password") or ""),
            credentials_help=self.credentials_help,
            rate_limiter=context.rate_limiter,
            call_logger=context.call_logger,
            timeout=context.http_timeout,
        )

    def test_connection(self) -> None:
        now = datetime.now(UTC)
        mapper.parse_export(self.client.export(since=now - timedelta(minutes=1), until=now, page=1))

    def fetch_orders(self, *, updated_since: datetime, updated_until: datetime, cursor: str | None = None) -> OrderPage:
        page = int(cursor or 1)
        orders, failures, pages = mapper.parse_export(
            self.client.export(since=updated_since, until=updated_until, page=page)
        )
        return OrderPage(tuple(orders), str(page + 1) if page < pages else None, tuple(failures))

    def map_raw(self, raw: Mapping[str, Any]) -> ExternalOrder:
        return mapper.map_raw(raw)

    def notify_shipment(self, notice: ShipmentNotice) -> OperationResult:
        params, body = mapper.ship_notice(notice)
        self.client.ship_notify(params=params, body=body)
        return OperationResult(ok=True, external_ref=params["tracking_number"])


class CustomStoreAdapter(ListingMirrorAdapter):
    """Any shop exposing a ShipStation custom store endpoint (WooCommerce, Magento, Craft, Solidus ...)."""

    kind = ChannelKind.CUSTOM_STORE.value
    label = "Custom Store"
    settings_fields = CUSTOM_STORE_FIELDS
    # WooCommerce's names, the most common custom store (reference §2.4); edit them per store.
    default_status_map = {
        "Pending": "awaiting_payment",
        "Processing": "awaiting_shipment",
        "Completed": "shipped",
        "Cancelled": "cancelled",
        "On-hold": "on_hold",
    }
    credentials_help = "Check the username and password your store's ShipStation plugin expects, then paste them here."
