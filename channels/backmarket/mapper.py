"""Pure functions between Back Market payloads and our DTOs (reference §2-4). No I/O.

The wire has quirks the reference documents: snake_case addresses (camelCase in the OpenAPI
component), money as strings, orderline `price` that is the LINE total, dates with `Z`, offsets
or microseconds, and an order state 9 that means shipped or cancelled depending on the lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ..base import Address, ChannelDataError, ExternalOrder, ExternalOrderLine, ShipmentNotice

FINAL_LINE_STATES = {3, 4, 5, 6, 7}
SHIPPED, CANCELLED, REFUNDED = "9:shipped", "9:cancelled", "9:refunded"

# Our statuses for Back Market's order states (reference §3.1); seeded per store, editable.
DEFAULT_STATUS_MAP = {
    "10": "awaiting_payment",
    "1": "awaiting_shipment",
    "3": "awaiting_shipment",
    SHIPPED: "shipped",
    CANCELLED: "cancelled",
    REFUNDED: "cancelled",
}


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if data.get(key) not in (None, ""):
            return data[key]
    return None


def _text(data: Mapping[str, Any], *keys: str) -> str:
    value = _get(data, *keys)
    return "" if value is None else str(value).strip()


def parse_datetime(value: Any, *, field: str) -> datetime | None:
    """`2026-03-02T10:11:12Z`, `+01:00` offsets, microseconds, or naive (taken as UTC)."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ChannelDataError(f"{field} is not a date: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_money(value: Any, *, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ChannelDataError(f"{field} is not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ChannelDataError(f"{field} is not an amount: {value!r}")
    return amount


def parse_int(value: Any, *, field: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise ChannelDataError(f"{field} is not a whole number: {value!r}") from exc


def map_address(raw: Any) -> Address | None:
    """Snake_case as live payloads send it; camelCase tolerated (the OpenAPI component's spelling)."""
    if not raw or not isinstance(raw, Mapping):
        return None
    first = _text(raw, "first_name", "firstName")
    last = _text(raw, "last_name", "lastName")
    address = Address(
        name=" ".join(part for part in (first, last) if part),
        company=_text(raw, "company"),
        street1=_text(raw, "street", "street1", "address1"),
        street2=_text(raw, "street2", "address2"),
        city=_text(raw, "city"),
        state=_text(raw, "state", "state_or_province", "stateOrProvince", "region", "province"),
        postal_code=_text(raw, "postal_code", "postalCode", "zipcode"),
        country=_text(raw, "country", "countryCode", "country_code").upper()[:2],
        phone=_text(raw, "phone", "phoneNumber", "phone_number"),
        email=_text(raw, "email"),
    )
    return None if address.is_empty and not address.name else address


def order_status(raw: Mapping[str, Any], line_states: Sequence[int]) -> str:
    """The external status we map: the order state, with 9 split by what happened to the lines."""
    state = parse_int(raw.get("state"), field="state")
    if state != 9:
        return str(state)
    if any(s == 3 for s in line_states) or any(s == 6 for s in line_states):
        return SHIPPED
    if line_states and all(s == 4 for s in line_states):
        return CANCELLED
    if line_states and all(s in (4, 5, 7) for s in line_states):
        return REFUNDED
    return SHIPPED


def map_line(raw: Any, *, index: int, order_id: str) -> ExternalOrderLine:
    if not isinstance(raw, Mapping):
        raise ChannelDataError(f"order {order_id}: orderline {index} is not an object")
    quantity = parse_int(raw.get("quantity", 1), field=f"orderline {index} quantity")
    if quantity <= 0:
        raise ChannelDataError(f"order {order_id}: orderline {index} has quantity {quantity}")
    line_total = parse_money(raw.get("price"), field=f"orderline {index} price") or Decimal("0")
    # Live data: for quantity 2 the orderline price equals the order total, i.e. it is the line total.
    unit_price = (line_total / quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    line_id = _text(raw, "id")
    if not line_id:
        raise ChannelDataError(f"order {order_id}: orderline {index} has no id")
    options = tuple(
        (label, str(raw[key]))
        for key, label in (("brand", "Brand"), ("condition", "Condition"))
        if raw.get(key) not in (None, "")
    )
    return ExternalOrderLine(
        external_line_id=line_id,
        sku=_text(raw, "listing", "sku"),
        name=_text(raw, "product", "title") or _text(raw, "listing"),
        quantity=quantity,
        unit_price=unit_price,
        tax_amount=parse_money(raw.get("sales_taxes"), field=f"orderline {index} sales_taxes"),
        options=options,
        external_status=str(raw.get("state", "")),
    )


def map_order(raw: Any) -> ExternalOrder:
    """A Back Market order -> ExternalOrder; ChannelDataError names what is wrong."""
    if not isinstance(raw, Mapping):
        raise ChannelDataError("order is not an object")
    order_id = _text(raw, "order_id", "id")
    if not order_id:
        raise ChannelDataError("order has no order_id")
    raw_lines = raw.get("orderlines")
    if not isinstance(raw_lines, list):
        raise ChannelDataError(f"order {order_id}: orderlines is not a list")
    lines = tuple(map_line(line, index=i, order_id=order_id) for i, line in enumerate(raw_lines))
    line_states = [parse_int(line.external_status, field="orderline state") for line in lines]
    ship_to = map_address(raw.get("shipping_address"))
    bill_to = map_address(raw.get("billing_address"))
    created = parse_datetime(raw.get("date_creation"), field="date_creation")
    if created is None:
        raise ChannelDataError(f"order {order_id}: no date_creation")
    modified = parse_datetime(raw.get("date_modification"), field="date_modification") or created
    price = parse_money(raw.get("price"), field="price")
    shipping = parse_money(raw.get("shipping_price"), field="shipping_price")
    taxes = parse_money(raw.get("sales_taxes"), field="sales_taxes")
    total = None
    if price is not None:
        # `price` includes VAT but not shipping; US sales tax comes on top (reference §2.4).
        total = price + (shipping or 0) + (taxes or 0)
    state = parse_int(raw.get("state"), field="state")
    contact = ship_to or bill_to or Address()
    return ExternalOrder(
        external_id=order_id,
        order_number=order_id,
        external_status=order_status(raw, line_states),
        order_date=created,
        updated_at=modified,
        payment_date=parse_datetime(raw.get("date_payment"), field="date_payment"),
        ship_by_date=parse_datetime(raw.get("expected_dispatch_date"), field="expected_dispatch_date"),
        lines=lines,
        ship_to=ship_to,
        bill_to=bill_to,
        currency=_text(raw, "currency").upper(),
        customer_name=(bill_to or contact).name,
        customer_email=(ship_to.email if ship_to and ship_to.email else (bill_to.email if bill_to else "")),
        customer_phone=contact.phone or (bill_to.phone if bill_to else ""),
        requested_shipping_service=_text(raw, "shipper_display", "shipper"),
        payment_method=_text(raw, "payment_method"),
        order_total=total,
        amount_paid=total,
        tax_amount=taxes,
        shipping_amount=shipping,
        marketplace=f"Back Market {_text(raw, 'country_code')}".strip(),
        custom_field_1=_text(raw, "country_code"),
        needs_acknowledgement=state == 1 and any(s == 1 for s in line_states),
        raw=dict(raw),
    )


# --- outbound ---------------------------------------------------------------------------------------

# (our carrier code, our service code or "") -> Back Market `shipper` (its Shipper enum, reference §4.2).
# Back Market has no service field: the service is part of the carrier name.
SHIPPERS: dict[tuple[str, str], str] = {
    ("royal_mail", ""): "Royal Mail",
    ("royal_mail", "royal_mail_special_delivery"): "Royal Mail Express",
    ("dhl_express", ""): "DHL Express",
    ("dhl", ""): "DHL",
    ("dpd", ""): "DPD",
    ("ups", ""): "UPS",
    ("ups", "ups_ground"): "UPS Ground",
    ("ups", "ups_next_day_air"): "UPS next day",
    ("ups", "ups_2nd_day_air"): "UPS 2nd Day Air",
    ("ups", "ups_worldwide_express"): "UPS Express",
    ("ups", "ups_standard"): "UPS standard",
    ("fedex", ""): "FedEx",
    ("fedex", "fedex_2day"): "FedEx - 2Days",
    ("fedex", "fedex_priority_overnight"): "FedEx - Overnight",
    ("fedex", "fedex_international_priority"): "FedEx International",
    ("usps", ""): "USPS",
    ("usps", "usps_first_class_mail"): "USPS - First Class",
    ("usps", "usps_priority_mail"): "USPS - Priority Mail",
    ("usps", "usps_priority_mail_express"): "USPS - Priority Mail Express",
    ("colissimo", ""): "Colissimo",
    ("chronopost", ""): "Chronopost",
    ("gls", ""): "GLS",
    ("la_poste", ""): "Colissimo",
    ("deutsche_post", ""): "Deutsche Post",
    ("correos", ""): "Correos",
    ("postnl", ""): "Post NL",
    ("australia_post", ""): "Australia Post",
    ("australia_post", "australia_post_express_post"): "Australia Post Express",
}


def shipper_name(carrier_code: str, service_code: str = "") -> str:
    carrier, service = (carrier_code or "").lower(), (service_code or "").lower()
    return SHIPPERS.get((carrier, service)) or SHIPPERS.get((carrier, "")) or "Other"


def ship_body(notice: ShipmentNotice, *, sku: str | None = None, imei: str = "", serial: str = "") -> dict:
    body: dict[str, Any] = {
        "new_state": 3,
        "tracking_number": "".join(notice.tracking_number.split()),
        "shipper": shipper_name(notice.carrier_code, notice.service_code),
        "date_shipping": notice.shipped_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if notice.tracking_url:
        body["tracking_url"] = notice.tracking_url
    if sku:
        body["sku"] = sku
    if imei:
        body["imei"] = imei
    if serial:
        body["serial_number"] = serial
    return body


def line_states(raw_order: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """orderline id -> (sku, state) from a raw order."""
    out = {}
    for line in raw_order.get("orderlines") or []:
        if isinstance(line, Mapping) and line.get("id") is not None:
            out[str(line["id"])] = (str(line.get("listing") or ""), parse_int(line.get("state"), field="state"))
    return out
