"""Helpers for the catalog tests: orders go in through the import service, as a marketplace's do."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from catalog.models import Product, StockLevel
from catalog.services.products import product_create
from catalog.services.stock import stock_adjust
from channels.base import Address, ExternalOrder, ExternalOrderLine
from orders.models import Order
from orders.services.order_import import ImportItem, orders_upsert_from_channel

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ext_order(external_id: str, *lines, status: str = "paid", minute: int = 0, **overrides) -> ExternalOrder:
    """An order as an adapter returns it; lines are (sku, quantity) or (line id, sku, quantity)."""
    built = []
    for index, line in enumerate(lines, 1):
        line_id, sku, qty = line if len(line) == 3 else (str(index), *line)
        built.append(
            ExternalOrderLine(
                external_line_id=line_id, sku=sku, name=sku or "item", quantity=qty, unit_price=Decimal("100")
            )
        )
    values = {
        "external_id": external_id,
        "order_number": f"N{external_id}",
        "external_status": status,
        "order_date": T0,
        "updated_at": T0 + timedelta(minutes=minute),
        "ship_to": Address(name="Ana", street1="1 Rue", city="Paris", country="FR"),
        "lines": tuple(built),
    }
    values.update(overrides)
    return ExternalOrder(**values)


def import_page(store, *orders: ExternalOrder, status: str = "awaiting_shipment"):
    """One page through the import service, in one transaction as the import run does."""
    with transaction.atomic():
        return orders_upsert_from_channel(store=store, items=[ImportItem(ext, status) for ext in orders])


def import_one(store, ext: ExternalOrder, status: str = "awaiting_shipment") -> Order:
    [result] = import_page(store, ext, status=status)
    assert result.order_id, result
    return Order.objects.get(pk=result.order_id)


def make_product(merchant, sku: str, on_hand: int = 0, warehouse=None, **fields) -> Product:
    product = product_create(merchant=merchant, sku=sku, name=fields.pop("name", sku), **fields)
    if on_hand:
        stock_adjust(product=product, on_hand=on_hand, warehouse=warehouse, note="opening count")
    return product


def stock(product) -> tuple[int, int, int]:
    """(on hand, allocated, available) over every warehouse."""
    totals = StockLevel.objects.filter(product=product).aggregate(on_hand=Sum("on_hand"), allocated=Sum("allocated"))
    on_hand, allocated = totals["on_hand"] or 0, totals["allocated"] or 0
    return on_hand, allocated, on_hand - allocated


@pytest.fixture
def bm_store(merchant):
    from tests.factories import StoreFactory

    return StoreFactory(merchant=merchant, kind="back_market", name="Back Market US")
