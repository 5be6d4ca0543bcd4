"""createorder(s) upserts, markasshipped with the IMEI gate, holds, labels, delete; each scoped and validated."""

import base64
import copy

import pytest

from orders.models import Order, OutboxMessage, Shipment
from tests.api.conftest import ORDER_BODY, channel_order

pytestmark = pytest.mark.django_db

IMEI = "490154203237518"


def body(**changes) -> dict:
    data = copy.deepcopy(ORDER_BODY)
    data.update(changes)
    return data


def test_createorder_upserts_by_order_key(api, manual_store):
    first = api.post("/orders/createorder", body()).json()
    changed = body(
        orderNumber="RENAMED",
        internalNotes="call first",
        items=[
            {"lineItemKey": "vd08-MSLbtx", "sku": "ABC123", "name": "Test item #1", "quantity": 3, "unitPrice": 10},
            {"lineItemKey": "new", "sku": "NEW", "name": "New thing", "quantity": 1, "unitPrice": 5},
        ],
    )
    second = api.post("/Orders/CreateOrder", changed).json()
    assert second["orderId"] == first["orderId"] and Order.objects.count() == 1
    assert second["orderNumber"] == "RENAMED" and second["internalNotes"] == "call first"
    assert [(i["sku"], i["quantity"]) for i in second["items"]] == [("ABC123", 3), ("NEW", 1)]
    assert second["items"][0]["orderItemId"] == first["items"][0]["orderItemId"]
    assert second["orderTotal"] == 50.0  # 30 + 5 + 10 shipping + 5 tax


def test_createorder_round_trips_what_get_returns(api, manual_store):
    created = api.post("/orders/createorder", body()).json()
    again = api.post("/orders/createorder", created)
    assert again.status_code == 200, again.content

    def stable(order: dict) -> dict:  # modifyDate moves with every save, the items' too
        items = [{k: v for k, v in item.items() if k != "modifyDate"} for item in order["items"]]
        return {**{k: v for k, v in order.items() if k != "modifyDate"}, "items": items}

    assert stable(again.json()) == stable(created)


def test_createorder_without_key_generates_one_and_status_and_holds_apply(api, manual_store):
    held = api.post(
        "/orders/createorder", body(orderKey=None, orderStatus="on_hold", holdUntilDate="2099-12-24")
    ).json()
    assert len(held["orderKey"]) == 32 and held["orderStatus"] == "on_hold" and held["holdUntilDate"] == "2099-12-24"
    paid = api.post("/orders/createorder", body(orderKey=None, orderStatus="awaiting_payment")).json()
    assert paid["orderStatus"] == "awaiting_payment" and paid["orderKey"] != held["orderKey"]
    moved = api.post("/orders/createorder", {**paid, "orderStatus": "awaiting_shipment"}).json()
    assert moved["orderStatus"] == "awaiting_shipment"
    assert Order.objects.get(pk=paid["orderId"]).status_changes.last().source == "api"


def test_createorder_refuses_a_channel_store_and_needs_a_manual_store(api, merchant, store):
    response = api.post("/orders/createorder", body(advancedOptions={"storeId": store.pk}))
    assert response.status_code == 400
    assert "storeId" in str(response.json()["ModelState"]) and "manual store" in response.json()["Message"]
    response = api.post("/orders/createorder", body())
    assert response.status_code == 400 and "connect" in response.json()["Message"]
    assert Order.objects.count() == 0


def test_a_channel_order_takes_only_what_the_app_owns(api, bm_store):
    order = channel_order(bm_store, "BM1")
    sent = api.get(f"/orders/{order.pk}").json()
    sent.update(
        orderNumber="HACKED",
        internalNotes=f"IMEI {IMEI}",
        orderStatus="on_hold",
        holdUntilDate="2099-01-02",
        customerEmail="x@example.com",
    )
    sent["shipTo"]["street1"] = "Elsewhere"
    sent["items"][0]["quantity"] = 9
    got = api.post("/orders/createorder", sent).json()
    assert (got["orderNumber"], got["shipTo"]["street1"], got["items"][0]["quantity"]) == ("NBM1", "1 Rue", 1)
    assert got["customerEmail"] is None
    assert got["internalNotes"] == f"IMEI {IMEI}"
    assert (got["orderStatus"], got["holdUntilDate"]) == ("on_hold", "2099-01-02")
    released = api.post("/orders/createorder", {**got, "orderStatus": "awaiting_shipment"}).json()
    assert released["orderStatus"] == "awaiting_shipment"
    cancelled = api.post("/orders/createorder", {**released, "orderStatus": "cancelled"}).json()
    assert cancelled["orderStatus"] == "awaiting_shipment"  # a marketplace order is cancelled at the marketplace


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"orderNumber": None}, "orderNumber"),
        ({"orderDate": "not a date"}, "orderDate"),
        ({"orderStatus": "lost"}, "orderStatus"),
        ({"orderStatus": "pending_fulfillment"}, "orderStatus"),
        ({"shipTo": {"name": "A", "country": "USA"}}, "shipTo.country"),
        ({"items": [{"sku": "A", "quantity": -1}]}, "items[0].quantity"),
        ({"items": [{"sku": "A", "unitPrice": "lots"}]}, "items[0].unitPrice"),
        ({"amountPaid": 1e20}, "amountPaid"),
        ({"weight": {"value": 1, "units": "stone"}}, "weight.units"),
        ({"holdUntilDate": "someday"}, "holdUntilDate"),
        ({"advancedOptions": {"storeId": "x"}}, "advancedOptions.storeId"),
    ],
)
def test_createorder_validation_errors(api, manual_store, change, field):
    response = api.post("/orders/createorder", body(**change))
    assert response.status_code == 400, response.content
    assert field in response.json()["ModelState"], response.json()
    assert Order.objects.count() == 0


def test_shipped_orders_cannot_be_replaced(api, manual_store, warehouse):
    created = api.post("/orders/createorder", body()).json()
    api.post("/orders/markasshipped", {"orderId": created["orderId"], "carrierCode": "ups", "trackingNumber": "1Z"})
    response = api.post("/orders/createorder", created)
    assert response.status_code == 400 and "Shipped" in response.json()["Message"]


def test_createorders_reports_each_order(api, manual_store):
    bad = body(orderKey="k2", orderNumber="B")
    del bad["shipTo"]
    response = api.post("/orders/createorders", [body(orderKey="k1", orderNumber="A"), bad, "junk"])
    assert response.status_code == 200
    result = response.json()
    assert result["hasErrors"] is True
    ok, missing, junk = result["results"]
    assert ok["success"] and ok["orderKey"] == "k1" and ok["orderNumber"] == "A" and ok["orderId"]
    assert not missing["success"] and "shipTo" in missing["errorMessage"] and missing["orderKey"] == "k2"
    assert not junk["success"] and junk["orderId"] is None
    assert Order.objects.count() == 1
    assert api.post("/orders/createorders", [body()] * 101).status_code == 400
    assert api.post("/orders/createorders", body()).status_code == 400


def test_markasshipped_honours_the_flags(api, store, mailoutbox, django_capture_on_commit_callbacks):
    order = channel_order(store, "S1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(
            "/orders/markasshipped",
            {"orderId": order.pk, "carrierCode": "ups", "trackingNumber": "1Z9", "shipDate": "2026-03-02"},
        )
    assert response.json() == {"orderId": order.pk, "orderNumber": "NS1"}
    shipment = Shipment.objects.get()
    assert (shipment.notify_channel, shipment.notify_customer, str(shipment.ship_date)) == (False, False, "2026-03-02")
    assert not OutboxMessage.objects.exists() and not callbacks  # ShipStation's defaults: tell nobody
    order.refresh_from_db()
    assert order.status == "shipped" and order.status_changes.last().source == "api"

    other = channel_order(store, "S2")
    api.post(
        "/orders/markasshipped",
        {"orderId": other.pk, "carrierCode": "stamps_com", "notifySalesChannel": True, "notifyCustomer": True},
    )
    shipment = Shipment.objects.get(order=other)
    assert shipment.carrier_code == "usps" and shipment.notify_customer and shipment.notify_channel
    assert OutboxMessage.objects.filter(kind="notify_shipment", shipment=shipment).exists()


def test_markasshipped_applies_the_imei_gate(api, bm_store):
    order = channel_order(bm_store, "G1")
    response = api.post("/orders/markasshipped", {"orderId": order.pk, "carrierCode": "ups", "trackingNumber": "1Z"})
    assert response.status_code == 400
    assert "IMEI" in response.json()["ModelState"]["serials"][0]
    assert not Shipment.objects.exists()
    Order.objects.filter(pk=order.pk).update(internal_notes=IMEI)
    response = api.post("/orders/markasshipped", {"orderId": order.pk, "carrierCode": "ups", "trackingNumber": "1Z"})
    assert response.status_code == 200
    assert Shipment.objects.get().lines.get().serials == [IMEI]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"carrierCode": "ups"}, "orderId"),
        ({"orderId": "x", "carrierCode": "ups"}, "orderId"),
        ({"orderId": 1}, "carrierCode"),
        ({"orderId": 1, "carrierCode": "ups", "shipDate": "soon"}, "shipDate"),
        ({"orderId": 1, "carrierCode": "ups", "notifyCustomer": "perhaps"}, "notifyCustomer"),
    ],
)
def test_markasshipped_validation(api, payload, field):
    response = api.post("/orders/markasshipped", payload)
    assert response.status_code == 400 and field in response.json()["ModelState"]


def test_markasshipped_unknown_carrier_is_400(api, store):
    order = channel_order(store, "U1")
    response = api.post("/orders/markasshipped", {"orderId": order.pk, "carrierCode": "pigeon"})
    assert response.status_code == 400 and "carrierCode" in response.json()["ModelState"]


def test_holduntil_and_restorefromhold(api, store):
    order = channel_order(store, "H1")
    response = api.post("/orders/holduntil", {"orderId": order.pk, "holdUntilDate": "2099-06-30"})
    assert response.json() == {"success": True, "message": "Order held successfully."}
    got = api.get(f"/orders/{order.pk}").json()
    assert (got["orderStatus"], got["holdUntilDate"]) == ("on_hold", "2099-06-30")
    assert api.post("/orders/restorefromhold", {"orderId": order.pk}).json()["success"] is True
    assert api.get(f"/orders/{order.pk}").json()["orderStatus"] == "awaiting_shipment"
    response = api.post("/orders/restorefromhold", {"orderId": order.pk})
    assert response.status_code == 400 and "not on hold" in response.json()["Message"]
    response = api.post("/orders/holduntil", {"orderId": order.pk, "holdUntilDate": "2001-01-01"})
    assert response.status_code == 400 and "holdUntil" in str(response.json()["ModelState"])


def test_createlabelfororder_for_a_self_labelled_carrier(api, store, warehouse):
    order = channel_order(store, "L1")
    response = api.post(
        "/orders/createlabelfororder",
        {
            "orderId": order.pk,
            "carrierCode": "own_fleet",
            "serviceCode": "own_fleet_standard",
            "packageCode": "package",
            "confirmation": "none",
            "shipDate": "2026-03-02",
            "weight": {"value": 2, "units": "pounds"},
            "dimensions": {"length": 10, "width": 5, "height": 2, "units": "inches"},
            "testLabel": False,
        },
    )
    assert response.status_code == 200, response.content
    label = response.json()
    assert base64.b64decode(label["labelData"]).startswith(b"%PDF")
    shipment = Shipment.objects.get()
    assert label["trackingNumber"] == shipment.tracking_number and shipment.tracking_number.startswith("SH")
    assert (label["shipmentId"], label["orderId"], label["carrierCode"]) == (shipment.pk, order.pk, "own_fleet")
    assert label["shipDate"] == "2026-03-02" and label["weight"]["value"] == pytest.approx(907.18)
    assert shipment.labels.count() == 1
    order.refresh_from_db()
    assert order.status == "shipped"


def test_test_labels_ship_nothing(api, store, warehouse):
    order = channel_order(store, "L2")
    label = api.post("/orders/createlabelfororder", {"orderId": order.pk, "carrierCode": "other", "testLabel": True})
    assert label.status_code == 200, label.content
    assert base64.b64decode(label.json()["labelData"]).startswith(b"%PDF") and label.json()["shipmentId"] is None
    assert not Shipment.objects.exists()


def test_createlabelfororder_for_a_carrier_without_an_account_here_is_400(api, store, warehouse):
    order = channel_order(store, "L3")
    response = api.post(
        "/orders/createlabelfororder", {"orderId": order.pk, "carrierCode": "ups", "shipDate": "2026-03-02"}
    )
    assert response.status_code == 400
    assert "carrier account, which is not connected here" in response.json()["Message"]
    assert "carrierCode" in response.json()["ModelState"]
    assert not Shipment.objects.exists()


def test_createlabelfororder_without_a_warehouse_is_400_and_ships_nothing(api, store):
    order = channel_order(store, "L4")
    response = api.post("/orders/createlabelfororder", {"orderId": order.pk, "carrierCode": "other"})
    assert response.status_code == 400 and "warehouse" in response.json()["Message"]
    assert not Shipment.objects.exists()


def test_delete_manual_orders_only(api, manual_store, store, warehouse):
    created = api.post("/orders/createorder", body()).json()
    assert api.delete(f"/orders/{created['orderId']}").json() == {
        "success": True,
        "message": "The requested order has been deleted.",
    }
    assert not Order.objects.filter(pk=created["orderId"]).exists()
    channel = channel_order(store, "D1")
    response = api.delete(f"/orders/{channel.pk}")
    assert response.status_code == 400 and "manual store" in response.json()["Message"]
    shipped = api.post("/orders/createorder", body(orderKey="k9")).json()
    api.post("/orders/markasshipped", {"orderId": shipped["orderId"], "carrierCode": "ups"})
    assert api.delete(f"/orders/{shipped['orderId']}").status_code == 400
    assert api.delete("/orders/123456").status_code == 404
