"""Custom Store XML parsing and ship notices, from fixtures written from the reference (§1.3-1.5)."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from channels.base import (
    AdapterContext,
    ChannelAuthError,
    ChannelDataError,
    LineRef,
    OrderRef,
    ShipmentNotice,
    ShippedLine,
)
from channels.listingmirror import mapper
from channels.listingmirror.adapter import ListingMirrorAdapter
from channels.listingmirror.client import format_window

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://lm.example.com/shipstation/xml"


def every_element():
    return mapper.parse_export((FIXTURES / "export__every_element.xml").read_bytes())


def test_every_element_of_an_order_is_read():
    orders, failures, pages = every_element()
    assert (len(orders), failures, pages) == (2, [], 2)
    order = orders[0]
    assert (order.external_id, order.order_number, order.external_status) == ("LM-1001", "112-7654321-0011223", "Paid")
    assert order.order_date == datetime(2026, 3, 2, 10, 11, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 3, 2, 11, 45, tzinfo=UTC)
    assert order.requested_shipping_service == "Expedited & Tracked"
    assert (order.payment_method, order.currency) == ("Amazon Pay", "USD")
    assert (order.order_total, order.tax_amount, order.shipping_amount) == (
        Decimal("94.97"),
        Decimal("6.50"),
        Decimal("7.99"),
    )
    assert order.customer_notes == "Leave with the <concierge> & ring twice"
    assert order.internal_notes == "Check the box for damage"
    assert (order.gift, order.gift_message) == (True, "Happy birthday, Zoë!")
    assert (order.custom_field_1, order.custom_field_2, order.custom_field_3) == (
        "112-7654321-0011223",
        "Amazon US",
        "AMZ-ALT-889",
    )
    assert order.marketplace == "Amazon"
    assert (order.customer_username, order.customer_name, order.customer_email, order.customer_phone) == (
        "zoe@example.com",
        "Zoë Kowalska",
        "zoe@example.com",
        "+1 212 555 0100",
    )
    assert order.bill_to.company == "Kowalska & Co"
    ship_to = order.ship_to
    assert (ship_to.street1, ship_to.street2, ship_to.city, ship_to.state, ship_to.postal_code, ship_to.country) == (
        "350 Fifth Avenue",
        "Suite 3401",
        "New York",
        "NY",
        "10118",
        "US",
    )
    tee, mug, coupon = order.lines
    assert (tee.external_line_id, tee.sku, tee.name, tee.quantity, tee.unit_price) == (
        "LM-1001-1",
        "TEE-BLK-M",
        'T-shirt "Classic" black',
        2,
        Decimal("19.99"),
    )
    assert tee.image_url == "https://images.example.com/tee-blk.jpg?w=200&h=200"
    assert tee.weight_grams == Decimal("283.50")  # 8 oz + 2 oz gift-wrap option, per unit
    assert tee.options == (("Size", "M"), ("Gift wrap", "Yes"))
    assert (tee.upc, tee.stock_location) == ("012345678905", "A-03-2")
    assert mug.weight_grams == Decimal("544.31")  # 1.2 lbs
    assert coupon.is_adjustment and coupon.unit_price == Decimal("-10.00")
    assert order.discount_amount == Decimal("10.00")


def test_loose_dates_missing_line_ids_and_non_latin_text():
    order = every_element()[0][1]
    assert order.order_date == datetime(2026, 3, 2, 13, 5, tzinfo=UTC)  # 12-hour clock
    assert order.updated_at == datetime(2026, 3, 2, 13, 20, tzinfo=UTC)  # Y-m-d H:i:s (Magento)
    assert order.ship_to.city == "Москва"
    assert order.lines[0].external_line_id == "CARD#1"
    assert order.lines[0].weight_grams == Decimal("20.00")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("03/23/2012 21:09", datetime(2012, 3, 23, 21, 9, tzinfo=UTC)),
        ("3/23/2012 9:09 PM", datetime(2012, 3, 23, 21, 9, tzinfo=UTC)),
        ("03/23/2012 21:09:30", datetime(2012, 3, 23, 21, 9, 30, tzinfo=UTC)),
        ("2012-03-23 21:09:30", datetime(2012, 3, 23, 21, 9, 30, tzinfo=UTC)),
        ("2012-03-23T21:09:30Z", datetime(2012, 3, 23, 21, 9, 30, tzinfo=UTC)),
        ("2012-03-23T22:09:30+01:00", datetime(2012, 3, 23, 21, 9, 30, tzinfo=UTC)),
    ],
)
def test_each_date_format(value, expected):
    assert mapper.parse_date(value, field="d") == expected


def test_a_page_of_100_orders_with_one_bad_record():
    orders = "".join(
        f"<Order><OrderID>{n}</OrderID><OrderNumber>{n}</OrderNumber><OrderDate>03/02/2026 10:{n % 60:02d}</OrderDate>"
        f"<OrderStatus>Paid</OrderStatus><LastModified>{'yesterday' if n == 50 else '03/02/2026 11:00'}</LastModified>"
        "<OrderTotal>1.00</OrderTotal><Customer><ShipTo><Name>A</Name><Address1>1 St</Address1><City>X</City>"
        "<Country>US</Country></ShipTo></Customer><Items><Item><SKU>S</SKU><Name>S</Name><Quantity>1</Quantity>"
        "<UnitPrice>1.00</UnitPrice></Item></Items></Order>"
        for n in range(100)
    )
    parsed, failures, pages = mapper.parse_export(f'<Orders pages="1">{orders}</Orders>'.encode())
    assert (len(parsed), pages) == (99, 1)
    assert [(f.external_id, f.message) for f in failures] == [
        ("50", "order 50 LastModified is not a date we can read: 'yesterday'")
    ]
    assert "<OrderID>50</OrderID>" in failures[0].raw["xml"]  # the raw record is kept for the sync log


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Orders pages="1"><Order><OrderID>&lol3;</OrderID></Order></Orders>"""


def test_an_xml_bomb_is_refused():
    with pytest.raises(ChannelDataError, match="DTD or entities"):
        mapper.parse_export(BOMB)


def test_malformed_xml_is_a_clear_error():
    with pytest.raises(ChannelDataError, match="not well-formed XML"):
        mapper.parse_export(b"<Orders><Order></Orders>")


def test_map_raw_reads_a_kept_record_back():
    order = every_element()[0][0]
    assert mapper.map_raw(order.raw).external_id == "LM-1001"


def test_window_end_minute_is_inclusive():
    since, until = datetime(2026, 3, 2, 10, 0, 30, tzinfo=UTC), datetime(2026, 3, 2, 11, 45, 10, tzinfo=UTC)
    assert format_window(since, until) == ("03/02/2026 10:00", "03/02/2026 11:46")


def adapter() -> ListingMirrorAdapter:
    return ListingMirrorAdapter(
        AdapterContext(settings={"url": URL, "username": "lm-gen-user", "password": "lm-gen-pass"}, store_key="s")
    )


@responses.activate
def test_export_request_and_paging():
    body = (FIXTURES / "export__every_element.xml").read_bytes()
    responses.get(URL, body=body, content_type="text/xml")
    since, until = datetime(2026, 3, 2, 10, 0, tzinfo=UTC), datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    page = adapter().fetch_orders(updated_since=since, updated_until=until)

    query = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert query == {
        "action": ["export"],
        "start_date": ["03/02/2026 10:00"],
        "end_date": ["03/02/2026 12:00"],
        "page": ["1"],
    }
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert page.next_cursor == "2" and len(page.orders) == 2


@responses.activate
def test_401_says_where_listing_mirror_generates_credentials():
    responses.get(URL, status=401, body="Unauthorized")
    with pytest.raises(ChannelAuthError, match="Integrations → Fulfillment Integrations → ShipStation"):
        adapter().test_connection()


@responses.activate
def test_ship_notice_query_and_body():
    responses.post(URL, body="")
    notice = ShipmentNotice(
        order=OrderRef("LM-1001", "112-7654321-0011223", ()),
        lines=(ShippedLine(LineRef("LM-1001-1", "TEE-BLK-M", 2), 1),),
        carrier_code="usps",
        service_code="usps_priority_mail",
        tracking_number="9400 1000 0000 0000 0000 00",
        shipped_at=datetime(2026, 3, 3, 9, 30, tzinfo=UTC),
        carrier_fee=Decimal("7.10"),
        note_to_buyer="Thanks!",
    )

    adapter().notify_shipment(notice)

    request = responses.calls[0].request
    assert parse_qs(urlsplit(request.url).query) == {
        "action": ["shipnotify"],
        "order_number": ["112-7654321-0011223"],
        "carrier": ["USPS"],
        "service": ["usps_priority_mail"],
        "tracking_number": ["9400100000000000000000"],
    }
    assert request.body == (
        b'<?xml version="1.0" encoding="utf-8"?><ShipNotice><OrderID>LM-1001</OrderID>'
        b"<OrderNumber>112-7654321-0011223</OrderNumber><LabelCreateDate>03/03/2026 09:30</LabelCreateDate>"
        b"<ShipDate>03/03/2026</ShipDate><Carrier>USPS</Carrier><Service>usps_priority_mail</Service>"
        b"<TrackingNumber>9400100000000000000000</TrackingNumber><Items><Item><LineItemID>LM-1001-1</LineItemID>"
        b"<SKU>TEE-BLK-M</SKU><Quantity>1</Quantity></Item></Items></ShipNotice>"
    )
    assert b"7.10" not in request.body and b"Thanks" not in request.body  # fee and note are not sent


@responses.activate
def test_an_oversized_export_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setattr("channels.listingmirror.client.MAX_EXPORT_BYTES", 1024)
    responses.get(URL, body=b"<Orders>" + b" " * 2048 + b"</Orders>", content_type="text/xml")
    with pytest.raises(ChannelDataError, match="lower the page size at the store"):
        adapter().fetch_orders(
            updated_since=datetime(2026, 3, 2, tzinfo=UTC), updated_until=datetime(2026, 3, 3, tzinfo=UTC)
        )
