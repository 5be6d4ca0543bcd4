"""GET /orders and /orders/{id}: ShipStation's shapes field for field, filters, sorting, paging, bad input."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.base import Address
from orders.api import serializers as schema
from orders.api.presenters import order_data, shipment_data
from orders.models import Order
from orders.services.shipments import shipment_create
from tests.api.conftest import ORDER_BODY, channel_order
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

# Reference §2.3, field for field.
ORDER_FIELDS = {
    "orderId",
    "orderNumber",
    "orderKey",
    "orderDate",
    "createDate",
    "modifyDate",
    "paymentDate",
    "shipByDate",
    "orderStatus",
    "customerId",
    "customerUsername",
    "customerEmail",
    "billTo",
    "shipTo",
    "items",
    "orderTotal",
    "amountPaid",
    "taxAmount",
    "shippingAmount",
    "customerNotes",
    "internalNotes",
    "gift",
    "giftMessage",
    "paymentMethod",
    "requestedShippingService",
    "carrierCode",
    "serviceCode",
    "packageCode",
    "confirmation",
    "shipDate",
    "holdUntilDate",
    "weight",
    "dimensions",
    "insuranceOptions",
    "internationalOptions",
    "advancedOptions",
    "tagIds",
    "userId",
    "externallyFulfilled",
    "externallyFulfilledBy",
    "labelMessages",
}
ADDRESS_FIELDS = {
    "name",
    "company",
    "street1",
    "street2",
    "street3",
    "city",
    "state",
    "postalCode",
    "country",
    "phone",
    "residential",
    "addressVerified",
}
ITEM_FIELDS = {
    "orderItemId",
    "lineItemKey",
    "sku",
    "name",
    "imageUrl",
    "weight",
    "quantity",
    "unitPrice",
    "taxAmount",
    "shippingAmount",
    "warehouseLocation",
    "options",
    "productId",
    "fulfillmentSku",
    "adjustment",
    "upc",
    "createDate",
    "modifyDate",
}
ADVANCED_FIELDS = {
    "warehouseId",
    "nonMachinable",
    "saturdayDelivery",
    "containsAlcohol",
    "storeId",
    "customField1",
    "customField2",
    "customField3",
    "source",
    "mergedOrSplit",
    "mergedIds",
    "parentId",
    "billToParty",
    "billToAccount",
    "billToPostalCode",
    "billToCountryCode",
    "billToMyOtherAccount",
}
SHIPSTATION_DATE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$"


@pytest.fixture
def created(api, manual_store):
    response = api.post("/orders/createorder", ORDER_BODY)
    assert response.status_code == 200, response.content
    return response.json()


def test_order_shape_field_for_field(api, created):
    order = api.get(f"/orders/{created['orderId']}").json()
    assert set(order) == ORDER_FIELDS
    assert set(order["shipTo"]) == set(order["billTo"]) == ADDRESS_FIELDS
    assert set(order["advancedOptions"]) == ADVANCED_FIELDS
    assert set(order["weight"]) == {"value", "units", "WeightUnits"}
    assert set(order["insuranceOptions"]) == {"provider", "insureShipment", "insuredValue"}
    assert set(order["internationalOptions"]) == {"contents", "customsItems", "nonDelivery"}
    for item in order["items"]:
        assert set(item) == ITEM_FIELDS
    import re

    for field in ("orderDate", "createDate", "modifyDate", "paymentDate", "shipByDate"):
        assert re.match(SHIPSTATION_DATE, order[field]), field
    # What was sent comes back, in ShipStation's formats and the API's (Pacific) time zone.
    assert order["orderDate"] == "2015-06-29T08:46:27.0000000"
    assert order["orderKey"] == ORDER_BODY["orderKey"] and order["orderStatus"] == "awaiting_shipment"
    assert order["shipTo"] == {**ORDER_BODY["shipTo"], "addressVerified": None}
    assert order["orderTotal"] == 194.43  # 2 x 99.99 - 20.55 + 10 shipping + 5 tax
    item = order["items"][0]
    assert item["lineItemKey"] == "vd08-MSLbtx" and item["options"] == [{"name": "Size", "value": "Large"}]
    assert item["weight"] == {"value": 680.39, "units": "grams", "WeightUnits": 2}  # 24 oz
    assert item["unitPrice"] == 99.99 and item["quantity"] == 2 and item["warehouseLocation"] == "Aisle 1, Bin 7"
    assert order["items"][1]["adjustment"] is True
    assert order["advancedOptions"]["storeId"] == Order.objects.get().store_id
    assert (
        order["advancedOptions"]["customField1"] == "Custom data" and order["advancedOptions"]["source"] == "Webstore"
    )
    assert order["weight"]["units"] == "grams" and order["weight"]["value"] == pytest.approx(708.74)
    assert order["tagIds"] is None  # no tags: null, as ShipStation (tests/api/test_tags.py has them)


def _keys(declared) -> dict:
    from rest_framework import serializers

    if isinstance(declared, serializers.ListSerializer):
        declared = declared.child
    return {
        name: _keys(field) if isinstance(field, serializers.BaseSerializer) else None
        for name, field in declared.fields.items()
    }


def _shape(value, declared: dict):
    assert set(value) == set(declared)
    for name, sub in declared.items():
        inner = value[name]
        if sub is not None and inner is not None:
            for element in inner if isinstance(inner, list) else [inner]:
                _shape(element, sub)


def test_presenters_return_exactly_what_the_schema_declares(created, warehouse):
    order = Order.objects.get()
    shipment_create(
        order=order,
        carrier_code="ups",
        tracking_number="1Z",
        dimensions=(1, 2, 3),
        dimension_units="inches",
        weight_grams=Decimal(500),
    )
    order = Order.objects.get()
    _shape(order_data(order), _keys(schema.Order()))
    _shape(shipment_data(order.shipments.get(), include_items=True), _keys(schema.Shipment()))


def test_read_an_order_and_404_for_unknown(api, store):
    order = channel_order(store, "R1")
    assert api.get(f"/orders/{order.pk}").json()["orderNumber"] == "NR1"
    assert api.get("/orders/987654").status_code == 404
    assert api.get("/orders/99999999999999999999999").status_code == 404  # not an int route: Django's 404


@pytest.fixture
def grid(store, merchant):
    other_store = StoreFactory(merchant=merchant, kind="manual")
    a = channel_order(
        store,
        "1",
        ("IPH13", 1, "300"),
        order_number="SO-100",
        order_date=datetime(2026, 3, 1, tzinfo=UTC),
        customer_name="Zofia Wójcik",
        payment_date=datetime(2026, 3, 1, 9, tzinfo=UTC),
    )
    b = channel_order(
        store,
        "2",
        ("PXL7", 2, "200"),
        order_number="SO-200",
        order_date=datetime(2026, 3, 5, tzinfo=UTC),
        ship_to=Address(name="Jan Kowalski", country="PL"),
    )
    c = channel_order(
        other_store, "3", ("MBA-M1", 1, "900"), order_number="XO-300", order_date=datetime(2026, 3, 3, tzinfo=UTC)
    )
    Order.objects.filter(pk=c.pk).update(status="on_hold")
    return a, b, c


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [o["orderNumber"] for o in response.json()["orders"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["SO-100", "SO-200", "XO-300"]),
        ({"customerName": "zofia"}, ["SO-100"]),
        ({"customerName": "kowalski"}, ["SO-200"]),  # the ship-to name counts too
        ({"itemKeyword": "pxl"}, ["SO-200"]),
        ({"itemKeyword": "MBA-M1 name"}, ["XO-300"]),
        ({"itemKeyword": "blue"}, ["SO-100", "SO-200", "XO-300"]),  # option values
        ({"orderNumber": "SO-"}, ["SO-100", "SO-200"]),  # starts with
        ({"orderNumber": "100"}, []),
        ({"orderStatus": "on_hold"}, ["XO-300"]),
        ({"orderStatus": "AWAITING_SHIPMENT"}, ["SO-100", "SO-200"]),
        ({"orderStatus": "pending_fulfillment"}, []),
        ({"orderDateStart": "2026-03-02", "orderDateEnd": "2026-03-04 00:00:00"}, ["XO-300"]),
        ({"orderDateStart": "2026-03-04T16:00:00Z"}, ["SO-200"]),
        ({"paymentDateStart": "2026-03-01 00:00:00"}, ["SO-100"]),
        ({"createDateStart": "2000-01-01", "modifyDateEnd": "2999-01-01"}, ["SO-100", "SO-200", "XO-300"]),
        ({"createDateEnd": "2000-01-01"}, []),
        ({"sortBy": "OrderDate"}, ["SO-100", "XO-300", "SO-200"]),
        ({"sortBy": "orderdate", "sortDir": "DESC"}, ["SO-200", "XO-300", "SO-100"]),
        ({"storeId": "", "customerName": ""}, ["SO-100", "SO-200", "XO-300"]),  # empty means not given
    ],
)
def test_filters_and_sorting(api, grid, params, expected):
    assert numbers(api.get("/orders", params)) == expected


def test_store_filter(api, grid, store):
    assert numbers(api.get("/orders", {"storeId": store.pk})) == ["SO-100", "SO-200"]


def test_order_dates_are_pacific_wall_clock_by_default(api, store):
    # 2026-03-05 07:30 UTC is 2026-03-04 23:30 in Los Angeles.
    order = channel_order(store, "tz", order_date=datetime(2026, 3, 5, 7, 30, tzinfo=UTC))
    assert api.get(f"/orders/{order.pk}").json()["orderDate"] == "2026-03-04T23:30:00.0000000"
    assert numbers(
        api.get("/orders", {"orderDateStart": "2026-03-04 23:00:00", "orderDateEnd": "2026-03-04 23:59:59"})
    ) == ["Ntz"]


def test_paging_envelope(api, store):
    for n in range(7):
        channel_order(store, f"P{n}")
    body = api.get("/orders", {"pageSize": 3, "page": 3}).json()
    assert (body["total"], body["page"], body["pages"], len(body["orders"])) == (7, 3, 3, 1)
    body = api.get("/orders", {"pageSize": 3, "page": 9}).json()
    assert body["orders"] == [] and body["total"] == 7
    assert api.get("/orders", {"pageSize": 500}).json()["pages"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
        ({"pageSize": "501"}, "pageSize"),
        ({"pageSize": "-1"}, "pageSize"),
        ({"storeId": "x"}, "storeId"),
        ({"storeId": "99999999999999999999999999"}, "storeId"),
        ({"orderDateStart": "yesterday"}, "orderDateStart"),
        ({"createDateEnd": "2026-13-45"}, "createDateEnd"),
        ({"modifyDateStart": "0001-01-01"}, "modifyDateStart"),
        ({"orderStatus": "lost"}, "orderStatus"),
        ({"sortBy": "Price"}, "sortBy"),
        ({"sortDir": "sideways"}, "sortDir"),
    ],
)
def test_bad_query_parameters_are_400_with_model_state(api, params, field):
    response = api.get("/orders", params)
    assert response.status_code == 400
    body = response.json()
    assert body["Message"] == "The request is invalid." and field in body["ModelState"]


def test_the_list_is_a_constant_number_of_queries(api, store, warehouse):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/orders", {"pageSize": 500}).status_code == 200
        return len(ctx.captured_queries)

    channel_order(store, "Q0")
    before = count()
    for n in range(1, 21):
        order = channel_order(store, f"Q{n}", ("A", 1, "1"), ("B", 2, "2"))
        if n % 2:
            shipment_create(order=order, carrier_code="ups", tracking_number=f"1Z{n}", notify_channel=False)
    assert count() == before
