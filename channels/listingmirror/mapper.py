"""Custom Store XML v1 <-> DTOs (reference shipstation.md §1.3-1.5). Pure functions, hardened parsing.

Real endpoints stray from the spec: unknown elements, CDATA, loose dates (`M/d/yyyy h:mm tt`,
`Y-m-d H:i:s`, ISO 8601), weight units in any case. We tolerate all of that, but never a DTD or
entity expansion (an XML bomb), and one record that cannot be read fails alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring, tostring

from ..base import Address, ChannelDataError, ExternalOrder, ExternalOrderLine, RecordFailure, ShipmentNotice

GRAMS_PER = {"pounds": Decimal("453.59237"), "ounces": Decimal("28.349523125"), "grams": Decimal("1")}
UNIT_ALIASES = {
    "pound": "pounds",
    "pounds": "pounds",
    "lb": "pounds",
    "lbs": "pounds",
    "ounce": "ounces",
    "ounces": "ounces",
    "oz": "ounces",
    "gram": "grams",
    "grams": "grams",
    "gm": "grams",
    "g": "grams",
    "gms": "grams",
}
DATE_FORMATS = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y",
)
# Our carrier codes -> ShipStation's carrier names for shipnotify (reference §1.5).
CARRIER_NAMES = {
    "usps": "USPS",
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhl_express": "DHL",
    "dhl_global_mail": "DHLGlobalMail",
    "royal_mail": "RoyalMail",
    "canada_post": "CanadaPost",
    "ontrac": "OnTrac",
    "asendia": "Asendia",
}


def parse_document(body: bytes) -> Element:
    """Parse an export page, refusing DTDs and entities (no XXE, no billion laughs)."""
    try:
        return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ChannelDataError(f"The store sent XML with a DTD or entities, which we refuse ({exc}).") from exc
    except ParseError as exc:
        raise ChannelDataError(f"The store's export is not well-formed XML: {exc}.") from exc


def _text(element: Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _bool(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes", "y")


def parse_date(value: str, *, field: str) -> datetime | None:
    value = " ".join((value or "").split())
    if not value:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)  # the protocol's dates are UTC
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ChannelDataError(f"{field} is not a date we can read: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_decimal(value: str, *, field: str) -> Decimal | None:
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ChannelDataError(f"{field} is not a number: {value!r}") from exc
    if not amount.is_finite():
        raise ChannelDataError(f"{field} is not a number: {value!r}")
    return amount


def to_grams(weight: Decimal | None, units: str, *, field: str) -> Decimal | None:
    if weight is None:
        return None
    unit = UNIT_ALIASES.get((units or "pounds").strip().lower())
    if unit is None:
        raise ChannelDataError(f"{field} has unknown weight units {units!r}")
    return (weight * GRAMS_PER[unit]).quantize(Decimal("0.01"))


def _address(element: Element | None) -> Address | None:
    if element is None:
        return None
    address = Address(
        name=_text(element, "Name"),
        company=_text(element, "Company"),
        street1=_text(element, "Address1"),
        street2=_text(element, "Address2"),
        city=_text(element, "City"),
        state=_text(element, "State"),
        postal_code=_text(element, "PostalCode"),
        country=_text(element, "Country").upper()[:2],
        phone=_text(element, "Phone"),
        email=_text(element, "Email"),
    )
    return None if address.is_empty and not (address.name or address.company or address.email) else address


def _line(item: Element, index: int, order_id: str) -> ExternalOrderLine:
    where = f"order {order_id} item {index + 1}"
    quantity_text = _text(item, "Quantity") or "1"
    try:
        quantity = int(Decimal(quantity_text))
    except (InvalidOperation, ValueError) as exc:
        raise ChannelDataError(f"{where}: Quantity is not a number: {quantity_text!r}") from exc
    if quantity != Decimal(quantity_text) or quantity < 0:
        raise ChannelDataError(f"{where}: Quantity must be a whole number, not {quantity_text!r}")
    units = _text(item, "WeightUnits")
    weight = to_grams(parse_decimal(_text(item, "Weight"), field=f"{where} Weight"), units, field=where)
    options = []
    for option in item.findall("Options/Option"):
        options.append((_text(option, "Name"), _text(option, "Value")))
        extra = to_grams(parse_decimal(_text(option, "Weight"), field=f"{where} option Weight"), units, field=where)
        if extra is not None:
            weight = (weight or Decimal("0")) + extra
    sku = _text(item, "SKU")
    adjustment = _bool(_text(item, "Adjustment"))
    return ExternalOrderLine(
        # Endpoints without LineItemID still need a stable key per line: SKU and position.
        external_line_id=_text(item, "LineItemID") or f"{sku or 'item'}#{index + 1}",
        sku=sku,
        name=_text(item, "Name") or sku or ("Adjustment" if adjustment else "Item"),
        quantity=quantity,
        unit_price=parse_decimal(_text(item, "UnitPrice"), field=f"{where} UnitPrice") or Decimal("0"),
        weight_grams=weight,
        options=tuple(options),
        image_url=_text(item, "ImageUrl"),
        stock_location=_text(item, "Location"),
        upc=_text(item, "UPC"),
        is_adjustment=adjustment,
    )


def map_order(element: Element) -> ExternalOrder:
    order_id = _text(element, "OrderID") or _text(element, "OrderNumber")
    if not order_id:
        raise ChannelDataError("order has neither OrderID nor OrderNumber")
    order_date = parse_date(_text(element, "OrderDate"), field=f"order {order_id} OrderDate")
    if order_date is None:
        raise ChannelDataError(f"order {order_id} has no OrderDate")
    modified = parse_date(_text(element, "LastModified"), field=f"order {order_id} LastModified") or order_date
    customer = element.find("Customer")
    bill_to = _address(customer.find("BillTo") if customer is not None else None)
    ship_to = _address(customer.find("ShipTo") if customer is not None else None)
    lines = tuple(_line(item, i, order_id) for i, item in enumerate(element.findall("Items/Item")))
    adjustments = sum((-line.unit_price * line.quantity for line in lines if line.is_adjustment), Decimal("0"))
    bill_name = _text(customer, "BillTo/Name")
    return ExternalOrder(
        external_id=order_id,
        order_number=_text(element, "OrderNumber") or order_id,
        external_status=_text(element, "OrderStatus"),
        order_date=order_date,
        updated_at=modified,
        lines=lines,
        ship_to=ship_to,
        bill_to=bill_to,
        currency=_text(element, "CurrencyCode").upper(),
        customer_name=bill_name or (ship_to.name if ship_to else ""),
        customer_email=_text(customer, "BillTo/Email"),
        customer_phone=_text(customer, "BillTo/Phone") or _text(customer, "ShipTo/Phone"),
        customer_username=_text(customer, "CustomerCode"),
        requested_shipping_service=_text(element, "ShippingMethod"),
        payment_method=_text(element, "PaymentMethod"),
        order_total=parse_decimal(_text(element, "OrderTotal"), field=f"order {order_id} OrderTotal"),
        tax_amount=parse_decimal(_text(element, "TaxAmount"), field=f"order {order_id} TaxAmount"),
        shipping_amount=parse_decimal(_text(element, "ShippingAmount"), field=f"order {order_id} ShippingAmount"),
        discount_amount=adjustments or None,
        gift=_bool(_text(element, "Gift")),
        gift_message=_text(element, "GiftMessage"),
        customer_notes=_text(element, "CustomerNotes"),
        internal_notes=_text(element, "InternalNotes"),
        custom_field_1=_text(element, "CustomField1"),
        custom_field_2=_text(element, "CustomField2"),
        custom_field_3=_text(element, "CustomField3"),
        marketplace=_text(element, "Source") or _text(element, "CustomField2"),
        raw={"xml": tostring(element, encoding="unicode")},
    )


def parse_export(body: bytes) -> tuple[list[ExternalOrder], list[RecordFailure], int]:
    """An export page -> (orders, records that failed, total pages)."""
    root = parse_document(body)
    if root.tag != "Orders":
        raise ChannelDataError(f"The store's export starts with <{root.tag}>, not <Orders>.")
    try:
        pages = int(root.get("pages") or 1)
    except ValueError:
        pages = 1
    orders, failures = [], []
    for element in root.findall("Order"):
        try:
            orders.append(map_order(element))
        except ChannelDataError as exc:
            failures.append(
                RecordFailure(
                    _text(element, "OrderID") or _text(element, "OrderNumber"),
                    exc.message,
                    {"xml": tostring(element, encoding="unicode")},
                )
            )
    return orders, failures, max(pages, 1)


def map_raw(raw: Mapping) -> ExternalOrder:
    """Re-read a record kept in a SyncIssue (the protocol has no "get one order")."""
    xml = raw.get("xml") if isinstance(raw, Mapping) else None
    if not xml:
        raise ChannelDataError("No XML kept for this record.")
    return map_order(parse_document(xml.encode()))


# --- outbound ---------------------------------------------------------------------------------------


def carrier_name(carrier_code: str) -> str:
    return CARRIER_NAMES.get((carrier_code or "").lower(), "Other")


def ship_notice(notice: ShipmentNotice) -> tuple[dict[str, str], bytes]:
    """Query parameters and ShipNotice body. Sent: status, tracking, carrier, service and items;
    not sent: carrier fee and note to buyer (seed 003, Listing Mirror's table)."""
    carrier = carrier_name(notice.carrier_code)
    tracking = "".join(notice.tracking_number.split())
    params = {
        "order_number": notice.order.order_number,
        "carrier": carrier,
        "service": notice.service_code,
        "tracking_number": tracking,
    }
    shipped = notice.shipped_at.astimezone(UTC)
    items = "".join(
        "<Item>"
        f"<LineItemID>{escape(line.line.external_line_id)}</LineItemID>"
        f"<SKU>{escape(line.line.sku)}</SKU>"
        f"<Quantity>{line.quantity}</Quantity>"
        "</Item>"
        for line in notice.lines
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        "<ShipNotice>"
        f"<OrderID>{escape(notice.order.external_id)}</OrderID>"
        f"<OrderNumber>{escape(notice.order.order_number)}</OrderNumber>"
        f"<LabelCreateDate>{shipped:%m/%d/%Y %H:%M}</LabelCreateDate>"
        f"<ShipDate>{shipped:%m/%d/%Y}</ShipDate>"
        f"<Carrier>{escape(carrier)}</Carrier>"
        f"<Service>{escape(notice.service_code)}</Service>"
        f"<TrackingNumber>{escape(tracking)}</TrackingNumber>"
        f"<Items>{items}</Items>"
        "</ShipNotice>"
    )
    return params, body.encode()
