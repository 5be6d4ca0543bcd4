"""Models as ShipStation API v1 JSON, field for field (reference §2.3), camelCase.

Plain functions rather than serializers: GET /orders?pageSize=500 shapes tens of thousands of
values. serializers.py declares the same shapes for the schema, and a test keeps the two equal.
Fields ShipStation has and we do not store come back as null or ShipStation's default.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..models import Order, OrderLine, Shipment, ShipmentLine, Tag, Webhook, WebhookDelivery
from .dates import format_date, format_datetime

# ShipStation's read-only WeightUnits code beside each unit name (grams = 2 as in ShipStation's own
# responses; ounces = 1 in its documentation; pounds = 3 is our inference).
WEIGHT_UNITS = {"ounces": 1, "grams": 2, "pounds": 3}
GRAMS_PER_UNIT = {"grams": Decimal("1"), "ounces": Decimal("28.349523125"), "pounds": Decimal("453.59237")}
ADDRESS_KEYS = (
    ("name", "name"),
    ("company", "company"),
    ("street1", "street1"),
    ("street2", "street2"),
    ("street3", "street3"),
    ("city", "city"),
    ("state", "state"),
    ("postalCode", "postal_code"),
    ("country", "country"),
    ("phone", "phone"),
)


def _text(value: str | None) -> str | None:
    return value or None


def weight_data(grams: Decimal | None) -> dict[str, Any]:
    return {"value": grams.normalize() if grams else 0, "units": "grams", "WeightUnits": WEIGHT_UNITS["grams"]}


def address_data(obj: Any, prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = {key: _text(getattr(obj, f"{prefix}_{field}")) for key, field in ADDRESS_KEYS}
    data["residential"] = getattr(obj, f"{prefix}_residential")
    data["addressVerified"] = None  # we do not validate addresses
    return data


def item_data(line: OrderLine, order: Order, *, quantity: int | None = None) -> dict[str, Any]:
    return {
        "orderItemId": line.pk,
        "lineItemKey": line.external_line_id,
        "sku": _text(line.sku),
        "name": line.name,
        "imageUrl": _text(line.image_url),
        "weight": weight_data(line.weight_grams) if line.weight_grams else None,
        "quantity": line.quantity if quantity is None else quantity,
        "unitPrice": line.unit_price,
        "taxAmount": line.tax_amount,
        "shippingAmount": None,
        "warehouseLocation": _text(line.stock_location),
        "options": [{"name": o.get("name"), "value": o.get("value")} for o in line.options or []],
        "productId": None,
        "fulfillmentSku": None,
        "adjustment": line.is_adjustment,
        "upc": _text(line.upc),
        # Lines carry no timestamps of their own: the order's.
        "createDate": format_datetime(order.created_at),
        "modifyDate": format_datetime(order.updated_at),
    }


def live_lines(order: Order) -> list[OrderLine]:
    return [line for line in order.lines.all() if line.removed_at is None and line.cancelled_at is None]


def live_shipments(order: Order) -> list[Shipment]:
    return sorted(
        (s for s in order.shipments.all() if s.voided_at is None), key=lambda s: (s.created_at, s.pk), reverse=True
    )


def _dimensions(shipment: Shipment | None) -> dict[str, Any] | None:
    if shipment is None or shipment.length is None:
        return None
    return {
        "length": shipment.length,
        "width": shipment.width,
        "height": shipment.height,
        "units": shipment.dimension_units or "inches",
    }


def advanced_options_data(order: Order, *, warehouse_id: int | None) -> dict[str, Any]:
    return {
        "warehouseId": warehouse_id,
        "nonMachinable": False,
        "saturdayDelivery": False,
        "containsAlcohol": False,
        "storeId": order.store_id,
        "customField1": _text(order.custom_field_1),
        "customField2": _text(order.custom_field_2),
        "customField3": _text(order.custom_field_3),
        "source": _text(order.marketplace),
        "mergedOrSplit": False,
        "mergedIds": [],
        "parentId": None,
        "billToParty": None,
        "billToAccount": None,
        "billToPostalCode": None,
        "billToCountryCode": None,
        "billToMyOtherAccount": None,
    }


def order_data(order: Order) -> dict[str, Any]:
    shipment = next(iter(live_shipments(order)), None)
    return {
        "orderId": order.pk,
        "orderNumber": order.order_number,
        "orderKey": order.external_id,
        "orderDate": format_datetime(order.order_date),
        "createDate": format_datetime(order.created_at),
        "modifyDate": format_datetime(order.updated_at),
        "paymentDate": format_datetime(order.payment_date),
        "shipByDate": format_datetime(order.ship_by_date),
        "orderStatus": order.status,
        "customerId": None,
        "customerUsername": _text(order.customer_username),
        "customerEmail": _text(order.customer_email),
        "billTo": address_data(order, "bill_to"),
        "shipTo": address_data(order, "ship_to"),
        "items": [item_data(line, order) for line in live_lines(order)],
        "orderTotal": order.order_total,
        "amountPaid": order.amount_paid,
        "taxAmount": order.tax_amount,
        "shippingAmount": order.shipping_amount,
        "customerNotes": _text(order.customer_notes),
        "internalNotes": _text(order.internal_notes),
        "gift": order.gift,
        "giftMessage": _text(order.gift_message),
        "paymentMethod": _text(order.payment_method),
        "requestedShippingService": _text(order.requested_shipping_service),
        # What it shipped with, once it has a shipment (we keep no "planned" carrier on the order).
        "carrierCode": shipment.carrier_code if shipment else None,
        "serviceCode": _text(shipment.service_code) if shipment else None,
        "packageCode": _text(shipment.package_code) if shipment else None,
        "confirmation": None,
        "shipDate": format_date(shipment.ship_date) if shipment else None,
        "holdUntilDate": format_date(order.hold_until),
        "weight": weight_data(order.total_weight_grams),
        "dimensions": _dimensions(shipment),
        "insuranceOptions": {"provider": None, "insureShipment": False, "insuredValue": 0},
        "internationalOptions": {"contents": None, "customsItems": None, "nonDelivery": None},
        "advancedOptions": advanced_options_data(order, warehouse_id=shipment.warehouse_id if shipment else None),
        "tagIds": sorted(tag.pk for tag in order.tags.all()) or None,  # null when none, as ShipStation
        "userId": None,
        "externallyFulfilled": False,
        "externallyFulfilledBy": None,
        "labelMessages": None,
    }


def tag_data(tag: Tag) -> dict[str, Any]:
    return {"tagId": tag.pk, "name": tag.name, "color": tag.color}


def _notification(shipment: Shipment) -> tuple[bool, str | None]:
    if shipment.pk is None:  # a test label's draft
        return False, None
    messages = [m for m in shipment.outbox_messages.all() if m.kind == "notify_shipment"]
    last = messages[-1] if messages else None
    notified = shipment.channel_notified_at is not None or (last is not None and last.status == "done")
    return notified, (last.last_error or None) if last is not None and last.status == "failed" else None


def shipment_item_data(shipment_line: ShipmentLine, order: Order) -> dict[str, Any]:
    return item_data(shipment_line.order_line, order, quantity=shipment_line.quantity)


def shipment_data(shipment: Shipment, *, include_items: bool = False, label_data: str | None = None) -> dict[str, Any]:
    order = shipment.order
    notified, notify_error = _notification(shipment)
    return {
        "shipmentId": shipment.pk,
        "orderId": order.pk,
        "orderKey": order.external_id,
        "userId": None,
        "customerEmail": _text(order.customer_email),
        "orderNumber": order.order_number,
        "createDate": format_datetime(shipment.created_at),
        "shipDate": format_date(shipment.ship_date),
        "shipmentCost": shipment.carrier_fee if shipment.carrier_fee is not None else 0,
        "insuranceCost": 0,
        "trackingNumber": _text(shipment.tracking_number),
        "isReturnLabel": False,
        "batchNumber": None,
        "carrierCode": shipment.carrier_code,
        "serviceCode": _text(shipment.service_code),
        "packageCode": _text(shipment.package_code),
        "confirmation": None,
        "warehouseId": shipment.warehouse_id,
        "voided": shipment.voided_at is not None,
        "voidDate": format_datetime(shipment.voided_at),
        "marketplaceNotified": notified,
        "notifyErrorMessage": notify_error,
        "shipTo": address_data(order, "ship_to"),
        "weight": weight_data(shipment.weight_grams) if shipment.weight_grams else None,
        "dimensions": _dimensions(shipment),
        "insuranceOptions": {"provider": None, "insureShipment": False, "insuredValue": 0},
        "advancedOptions": advanced_options_data(order, warehouse_id=shipment.warehouse_id),
        "shipmentItems": [shipment_item_data(sl, order) for sl in shipment.lines.all()] if include_items else None,
        "labelData": label_data,
        "formData": None,
    }


def webhook_log_data(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "batchId": delivery.batch_id,
        "resourceUrl": delivery.resource_url,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "lastStatusCode": delivery.last_status_code,
        "lastError": _text(delivery.last_error),
        "createDate": format_datetime(delivery.created_at),
        "deliveredDate": format_datetime(delivery.delivered_at),
    }


def webhook_data(webhook: Webhook) -> dict[str, Any]:
    return {
        "IsLabelAPIHook": False,
        "WebHookID": webhook.pk,
        "SellerID": webhook.merchant_id,
        "StoreID": webhook.store_id,
        "HookType": webhook.event,
        "MessageFormat": "Json",
        "Url": webhook.target_url,
        "Name": _text(webhook.friendly_name),
        "BulkCopyBatchID": None,
        "BulkCopyRecordID": None,
        "Active": webhook.active,
        "WebhookLogs": [webhook_log_data(d) for d in getattr(webhook, "recent_deliveries", [])],
        "Seller": None,
        "Store": None,
    }
