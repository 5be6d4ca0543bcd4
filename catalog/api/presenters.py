"""Products as ShipStation API v1 JSON and stock levels as API v2 JSON, field for field.

Fields ShipStation has and we do not keep come back as null. v1's Product model:
docs.shipstation.com/apis/shipstation-v1/docs/models/product; v2's inventory level:
docs.shipstation.com/openapi/inventory (getInventoryLevels).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orders.api.dates import format_datetime
from orders.api.presenters import GRAMS_PER_UNIT

from ..models import Product, StockLevel

# Costs are kept without a currency; ShipStation's amounts are US dollars, and so are ours.
COST_CURRENCY = "usd"
OUNCE_PLACES = Decimal("0.0001")  # fine enough that grams -> ounces -> grams comes back to the same 0.01 g
NULL_FIELDS = (
    "price",
    "length",
    "width",
    "height",
    "internalNotes",
    "fulfillmentSku",
)
NULL_SHIPPING_FIELDS = (
    "productType",
    "warehouseLocation",
    "defaultCarrierCode",
    "defaultServiceCode",
    "defaultPackageCode",
    "defaultIntlCarrierCode",
    "defaultIntlServiceCode",
    "defaultIntlPackageCode",
    "defaultConfirmation",
    "defaultIntlConfirmation",
    "customsDescription",
    "customsValue",
    "customsTariffNo",
    "customsCountryCode",
    "noCustoms",
)


def ounces(grams: Decimal | None) -> Decimal | None:
    if grams is None:
        return None
    return (grams / GRAMS_PER_UNIT["ounces"]).quantize(OUNCE_PLACES).normalize()


def product_data(product: Product) -> dict[str, Any]:
    data: dict[str, Any] = {
        "aliases": None,
        "productId": product.pk,
        "sku": product.sku,
        "name": product.name,
        "defaultCost": product.cost,
        "weightOz": ounces(product.weight_grams),
        "createDate": format_datetime(product.created_at),
        "modifyDate": format_datetime(product.updated_at),
        "active": True,  # products are never deactivated here
        "productCategory": None,
        "tags": None,
    }
    data.update(dict.fromkeys(NULL_FIELDS))
    data.update(dict.fromkeys(NULL_SHIPPING_FIELDS))
    return data


def money_data(amount: Decimal | None) -> dict[str, Any] | None:
    return None if amount is None else {"currency": COST_CURRENCY, "amount": amount}


def inventory_level_data(level: StockLevel) -> dict[str, Any]:
    """One SKU at one warehouse: a warehouse is one inventory location, both named by the warehouse's id."""
    place = None if level.warehouse_id is None else str(level.warehouse_id)
    return {
        "sku": level.product.sku,
        "on_hand": level.on_hand,
        "allocated": level.allocated,
        "available": level.available,
        "average_cost": money_data(level.product.cost),
        "inventory_warehouse_id": place,
        "inventory_location_id": place,
    }
