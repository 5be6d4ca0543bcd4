"""Bad input is a 400 (or 404) in ShipStation's error shape, never a 500."""

import json

import pytest

from tests.api.conftest import ORDER_BODY, channel_order

pytestmark = pytest.mark.django_db

POSTS = [
    "/orders/createorder",
    "/orders/createorders",
    "/orders/markasshipped",
    "/orders/holduntil",
    "/orders/restorefromhold",
    "/orders/createlabelfororder",
    "/shipments/voidlabel",
    "/stores/refreshstore",
    "/stores/deactivate",
    "/stores/reactivate",
]
NASTY = [
    "",
    "null",
    "[]",
    "42",
    '"text"',
    "{",
    '{"orderId": "1; DROP TABLE"}',
    '{"orderId": 1e400}',
    '{"orderId": NaN}',
    '{"orderId": 99999999999999999999999999}',
    '{"orderId": -1, "carrierCode": "\\u0000"}',
    '{"orderId": 1, "carrierCode": "\\ud800"}',
    '{"storeId": true, "refreshDate": "2026-02-30"}',
    '{"shipmentId": [], "holdUntilDate": {}}',
]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("raw", NASTY)
def test_nasty_bodies_are_never_server_errors(api, store, path, raw):
    response = api.post(path, raw=raw)
    assert response.status_code < 500, (path, raw, response.content)
    if response.status_code >= 400:
        assert "Message" in response.json()


@pytest.mark.parametrize(
    "change",
    [
        {"orderNumber": "\x00"},
        {"customerNotes": "\ud800"},
        {
            "items": [
                {
                    "sku": "A",
                    "quantity": 1_000_000,
                    "unitPrice": 9_999_999_999,
                    "weight": {"value": 1_000_000, "units": "pounds"},
                }
            ]
        },
        {"weight": {"value": 10**12, "units": "pounds"}},
        {"dimensions": {"length": 10**9, "width": 1, "height": 1}},
        {"orderDate": "0001-01-01T00:00:00"},
        {"orderDate": "9999-12-31T23:59:59"},
        {"shipTo": {"country": 12}},
        {"items": "many"},
        {"items": [None]},
        {"advancedOptions": {"storeId": 10**30}},
        {"orderKey": "k" * 101},
    ],
)
def test_nasty_orders_are_client_errors(api, manual_store, change):
    response = api.post("/orders/createorder", raw=json.dumps({**ORDER_BODY, **change}, ensure_ascii=True))
    assert 400 <= response.status_code < 500, response.content


def test_nasty_labels_and_shipments_are_client_errors(api, store, warehouse):
    order = channel_order(store, "N1")
    for body in (
        {"orderId": order.pk, "carrierCode": "other", "weight": {"value": 10**15}},
        {"orderId": order.pk, "carrierCode": "other", "dimensions": {"length": 10**7, "width": 1, "height": 1}},
        {"orderId": order.pk, "carrierCode": "other", "shipDate": "0000-00-00"},
        {"orderId": order.pk, "carrierCode": "x" * 51},
    ):
        response = api.post("/orders/createlabelfororder", body)
        assert response.status_code == 400, (body, response.content)
    for params in ({"orderNumber": "%_\\"}, {"customerName": "\x00"}, {"itemKeyword": "'; --"}):
        assert api.get("/orders", params).status_code in (200, 400)
