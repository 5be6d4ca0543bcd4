import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from channels.backmarket import mapper
from channels.base import ChannelDataError, LineRef, OrderRef, ShipmentNotice, ShippedLine

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_single_line_order_maps_every_field_the_seeds_list():
    order = mapper.map_order(load("orders__single_line_state1"))

    assert (order.external_id, order.order_number) == ("41234567", "41234567")
    assert order.external_status == "1" and order.needs_acknowledgement
    assert order.order_date == datetime(2026, 3, 2, 10, 11, 12, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # +01:00 offset honoured
    assert order.payment_date == datetime(2026, 3, 2, 10, 12, 40, 123456, tzinfo=UTC)
    assert order.ship_by_date == datetime(2026, 3, 4, tzinfo=UTC)  # naive: taken as UTC
    assert order.ship_to.name == "Zofia Wójcik"
    assert (order.ship_to.street1, order.ship_to.street2, order.ship_to.city) == ("ul. Piotrkowska 104", "m. 7", "Łódź")
    assert (order.ship_to.postal_code, order.ship_to.country) == ("90-006", "PL")
    assert (order.customer_email, order.customer_phone) == ("zofia.w@example.com", "+48 600 100 200")
    assert order.requested_shipping_service == "Colissimo Expert"
    assert order.payment_method == "KLARNA_PAY_LATER"
    assert (order.currency, order.order_total, order.shipping_amount) == ("EUR", Decimal("338.90"), Decimal("9.90"))
    line = order.lines[0]
    assert (line.external_line_id, line.sku, line.quantity, line.unit_price) == (
        "87654321",
        "IPH13-128-BLU-A",
        1,
        Decimal("329.00"),
    )
    assert line.name == "iPhone 13 128GB - Blue - Unlocked"
    assert line.external_status == "1"


def test_orderline_price_is_the_line_total_and_camelcase_addresses_are_tolerated():
    order = mapper.map_order(load("orders__quantity_two_camelcase"))

    line = order.lines[0]
    assert (line.quantity, line.unit_price) == (2, Decimal("239.0000"))
    assert order.ship_to.name == "James Carter"
    assert (order.ship_to.postal_code, order.ship_to.state, order.ship_to.phone) == ("94043", "CA", "650-555-0100")
    assert order.order_total == Decimal("516.24")  # price + shipping + US sales tax
    assert order.order_date == datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 3, 5, 20, 30, 0, 250000, tzinfo=UTC)
    assert order.external_status == "3" and not order.needs_acknowledgement


def test_state_9_with_every_line_cancelled_is_cancelled_not_shipped():
    order = mapper.map_order(load("orders__state9_all_cancelled"))
    assert order.external_status == mapper.CANCELLED
    assert mapper.DEFAULT_STATUS_MAP[order.external_status] == "cancelled"


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([3, 3], mapper.SHIPPED),
        ([3, 4], mapper.SHIPPED),
        ([5, 5], mapper.REFUNDED),
        ([4, 5], mapper.REFUNDED),
        ([6], mapper.SHIPPED),
    ],
)
def test_state_9_follows_the_lines(states, expected):
    raw = load("orders__state9_all_cancelled")
    raw["orderlines"] = [{**raw["orderlines"][0], "id": i, "state": s} for i, s in enumerate(states)]
    assert mapper.map_order(raw).external_status == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"order_id": None}, "no order_id"),
        ({"orderlines": "oops"}, "orderlines is not a list"),
        ({"price": "12,50"}, "price is not an amount"),
        ({"date_creation": "yesterday"}, "date_creation is not a date"),
    ],
)
def test_malformed_orders_raise_a_data_error_naming_the_field(change, message):
    raw = {**load("orders__single_line_state1"), **change}
    with pytest.raises(ChannelDataError, match=message):
        mapper.map_order(raw)


def test_missing_shipping_address_maps_to_none():
    raw = {**load("orders__single_line_state1"), "shipping_address": None}
    assert mapper.map_order(raw).ship_to is None
    raw["shipping_address"] = {}
    assert mapper.map_order(raw).ship_to is None


@pytest.mark.parametrize(
    ("carrier", "service", "shipper"),
    [
        ("royal_mail", "", "Royal Mail"),
        ("royal_mail", "royal_mail_special_delivery", "Royal Mail Express"),
        ("ups", "ups_ground", "UPS Ground"),
        ("ups", "unknown_service", "UPS"),
        ("own_fleet", "", "Other"),
    ],
)
def test_shipper_names_come_from_back_markets_list(carrier, service, shipper):
    assert mapper.shipper_name(carrier, service) == shipper


def test_ship_body_strips_spaces_and_formats_the_date():
    notice = ShipmentNotice(
        order=OrderRef("1", "1", (LineRef("9", "SKU", 1),)),
        lines=(ShippedLine(LineRef("9", "SKU", 1), 1, ("490154203237518",)),),
        carrier_code="royal_mail",
        service_code="",
        tracking_number=" AB 1234 5678 9GB ",
        tracking_url="https://track.example/AB123456789GB",
        shipped_at=datetime(2026, 3, 3, 10, 0, tzinfo=timezone(timedelta(hours=1))),
    )
    assert mapper.ship_body(notice, imei="490154203237518") == {
        "new_state": 3,
        "tracking_number": "AB123456789GB",
        "shipper": "Royal Mail",
        "date_shipping": "2026-03-03T09:00:00Z",
        "tracking_url": "https://track.example/AB123456789GB",
        "imei": "490154203237518",
    }
