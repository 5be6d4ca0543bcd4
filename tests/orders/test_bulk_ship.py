"""Select many orders in the grid and mark them shipped; refused ones say why; the others ship."""

import pytest

from orders.models import Order, Shipment
from tests.factories import MembershipFactory, StoreFactory
from tests.orders.test_shipments import IMEI_A, make_order

pytestmark = pytest.mark.django_db


def test_many_orders_ship_with_generated_tracking_and_a_back_market_one_without_imei_is_refused(client_owner, merchant):
    manual = StoreFactory(merchant=merchant, kind="manual")
    bm = StoreFactory(merchant=merchant, kind="back_market")
    a, b = make_order(manual, ("CASE", 2), external_id="1"), make_order(manual, ("CABLE", 1), external_id="2")
    no_imei = make_order(bm, ("IPH13", 1), external_id="3")
    with_imei = make_order(bm, ("IPH14", 1), external_id="4")
    with_imei.lines.update(imei=IMEI_A)
    response = client_owner.post(
        "/orders/bulk/",
        {"action": "ship", "carrier_code": "own_fleet", "orders": [a.pk, b.pk, no_imei.pk, with_imei.pk],
         "next": "/?status=awaiting_shipment"},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert "3 order(s) marked shipped." in page
    assert f"{no_imei.order_number}: " in page and "IPH13" in page
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "shipped", b.pk: "shipped", no_imei.pk: "awaiting_shipment", with_imei.pk: "shipped"}
    assert all(s.tracking_number for s in Shipment.objects.all())
    assert response.redirect_chain[-1][0] == "/?status=awaiting_shipment"


def test_a_carrier_that_needs_tracking_numbers_cannot_ship_in_bulk(client_owner, merchant):
    order = make_order(StoreFactory(merchant=merchant, kind="manual"), ("CASE", 1))
    response = client_owner.post("/orders/bulk/", {"action": "ship", "carrier_code": "ups", "orders": [order.pk]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "awaiting_shipment"


def test_bulk_never_touches_another_merchants_orders_nor_redirects_off_site(client, merchant):
    order = make_order(StoreFactory(merchant=merchant, kind="manual"), ("CASE", 1))
    client.force_login(MembershipFactory().user)
    response = client.post(
        "/orders/bulk/",
        {"action": "ship", "carrier_code": "other", "orders": [order.pk], "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"
    order.refresh_from_db()
    assert order.status == "awaiting_shipment" and not Shipment.objects.exists()
