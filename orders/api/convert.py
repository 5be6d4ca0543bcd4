"""Validated request data -> the values services take (pure functions, no database)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channels.base import Address, ExternalOrder, ExternalOrderLine

from .dates import day_start
from .presenters import GRAMS_PER_UNIT

# ShipStation carrier codes that name one of our catalogue's carriers.
CARRIER_ALIASES = {"stamps_com": "usps", "endicia": "usps", "ups_walleted": "ups", "fedex_walleted": "fedex"}


def carrier_code(value: str) -> str:
    value = (value or "").strip().lower()
    return CARRIER_ALIASES.get(value, value)


def grams(weight: Mapping[str, Any] | None) -> Decimal | None:
    if not weight or weight.get("value") in (None, 0):
        return None
    return (weight["value"] * GRAMS_PER_UNIT[weight.get("units") or "ounces"]).quantize(Decimal("0.01"))


def dimensions(data: Mapping[str, Any] | None) -> tuple[tuple[Decimal, Decimal, Decimal] | None, str]:
    if not data or any(data.get(k) in (None, 0) for k in ("length", "width", "height")):
        return None, ""
    return (data["length"], data["width"], data["height"]), data.get("units") or "inches"


def _s(value: Any) -> str:
    return value or ""


def address(data: Mapping[str, Any] | None) -> Address | None:
    if not data:
        return None
    return Address(
        name=_s(data.get("name")),
        company=_s(data.get("company")),
        street1=_s(data.get("street1")),
        street2=_s(data.get("street2")),
        street3=_s(data.get("street3")),
        city=_s(data.get("city")),
        state=_s(data.get("state")),
        postal_code=_s(data.get("postalCode")),
        country=_s(data.get("country")).upper(),
        phone=_s(data.get("phone")),
        residential=data.get("residential"),
    )


def _line(item: Mapping[str, Any]) -> ExternalOrderLine:
    return ExternalOrderLine(
        external_line_id=_s(item.get("lineItemKey")),
        sku=_s(item.get("sku")),
        name=_s(item.get("name")) or _s(item.get("sku")),
        quantity=item.get("quantity") if item.get("quantity") is not None else 1,
        unit_price=item.get("unitPrice") or Decimal("0"),
        tax_amount=item.get("taxAmount"),
        weight_grams=grams(item.get("weight")),
        options=tuple((_s(o.get("name")), _s(o.get("value"))) for o in item.get("options") or []),
        image_url=_s(item.get("imageUrl")),
        stock_location=_s(item.get("warehouseLocation")),
        upc=_s(item.get("upc")),
        is_adjustment=bool(item.get("adjustment")),
    )


def external_order(data: Mapping[str, Any]) -> ExternalOrder:
    """An order as createorder sends it, in the shape the import writes (orderKey as the external id)."""
    advanced = data.get("advancedOptions") or {}
    return ExternalOrder(
        external_id=_s(data.get("orderKey")).strip(),
        order_number=data["orderNumber"],
        external_status=data["orderStatus"],
        order_date=data["orderDate"],
        updated_at=datetime.now(UTC),
        lines=tuple(_line(item) for item in data.get("items") or []),
        ship_to=address(data.get("shipTo")),
        bill_to=address(data.get("billTo")),
        payment_date=data.get("paymentDate"),
        ship_by_date=data.get("shipByDate"),
        customer_email=_s(data.get("customerEmail")),
        customer_username=_s(data.get("customerUsername")),
        requested_shipping_service=_s(data.get("requestedShippingService")),
        payment_method=_s(data.get("paymentMethod")),
        amount_paid=data.get("amountPaid"),
        tax_amount=data.get("taxAmount"),
        shipping_amount=data.get("shippingAmount"),
        gift=bool(data.get("gift")),
        gift_message=_s(data.get("giftMessage")),
        customer_notes=_s(data.get("customerNotes")),
        custom_field_1=_s(advanced.get("customField1")),
        custom_field_2=_s(advanced.get("customField2")),
        custom_field_3=_s(advanced.get("customField3")),
        marketplace=_s(advanced.get("source")),
    )


def save_kwargs(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of orders.services.order_api.order_save_from_api for one createorder body."""
    advanced = data.get("advancedOptions") or {}
    hold = data.get("holdUntilDate")
    return {
        "external": external_order(data),
        "status": data["orderStatus"],
        "item_ids": [item.get("orderItemId") for item in data.get("items") or []],
        "order_id": data.get("orderId"),
        "store_id": advanced.get("storeId") or None,
        "hold_until": day_start(hold) if hold else None,
        "internal_notes": (data.get("internalNotes") or "") if "internalNotes" in data else None,
        "weight_grams": grams(data.get("weight")),
        # None (absent or null) leaves the tags alone; a list, [] too, is the order's tags from now on.
        "tag_ids": data.get("tagIds"),
    }
