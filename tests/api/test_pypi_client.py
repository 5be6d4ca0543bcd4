"""An independently written ShipStation API v1 client from PyPI (shipstation-api-wrapper), pointed at a live server.

The client builds its own requests (Basic header, JSON bodies, query names) and round-trips whole
orders through createorder, as scripts written for ShipStation do.
"""

import base64

import pytest
from shipstation_api_wrapper.api import ShipStationClient
from shipstation_api_wrapper.filter import ShipStationOrderFilter

from orders.models import Order
from tests.api.conftest import channel_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ss(live_server, api_credentials):
    key, secret = api_credentials
    return ShipStationClient(
        base64.b64encode(f"{key}:{secret}".encode()).decode(), base_url=f"{live_server.url}/api/v1"
    )


def test_the_client_reads_filters_and_updates_orders(ss, manual_store, bm_store):
    manual = channel_order(manual_store, "M1", ("MUG", 2, "12.50"), customer_name="Ana Lima")
    market = channel_order(bm_store, "B1", ("IPH13", 1, "329.00"), customer_name="Jan Kowalski")

    listed = ss.orders.list()
    assert listed.status_code == 200 and int(listed.headers["X-Rate-Limit-Limit"]) == 40
    assert {o["orderId"] for o in listed.json()["orders"]} == {manual.pk, market.pk}

    found = ss.orders.get_by_number("NM1").json()
    assert [o["orderKey"] for o in found["orders"]] == ["M1"] and found["total"] == 1

    wanted = ShipStationOrderFilter()
    wanted.add_customer_name_filter("kowalski")
    wanted.add_order_status_filter("awaiting_shipment")
    wanted.add_date_filter("2026-01-01 00:00:00", "2026-12-31 23:59:59", date_type="order")
    assert [o["orderId"] for o in ss.orders.list_with_filter(wanted).json()["orders"]] == [market.pk]

    order = ss.orders.get_by_id(market.pk).json()
    order["internalNotes"] = ""
    noted = ss.orders.add_note("IMEI 490154203237518", order)
    assert noted.status_code == 200, noted.text
    assert "490154203237518" in Order.objects.get(pk=market.pk).internal_notes

    manual_order = ss.orders.get_by_id(manual.pk).json()
    saturday = ss.orders.activate_saturday_delivery(manual_order, True)
    assert saturday.status_code == 200, saturday.text
    assert saturday.json()["orderId"] == manual.pk and Order.objects.count() == 2  # an update, not a new order

    held = ss.orders.hold(market.pk, "2099-01-01")
    assert held.json() == {"success": True, "message": "Order held successfully."}
    assert Order.objects.get(pk=market.pk).status == "on_hold"


def test_the_client_with_a_wrong_secret_gets_401(live_server, api_credentials):
    key, _ = api_credentials
    bad = ShipStationClient(base64.b64encode(f"{key}:wrong".encode()).decode(), base_url=f"{live_server.url}/api/v1")
    response = bad.orders.list()
    assert response.status_code == 401 and response.json()["Message"]
