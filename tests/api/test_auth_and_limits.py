"""Who may call the API: no key, a wrong secret, another merchant's key; the per-key quota; paths and CSRF."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from orders.models import Order, OrderStatusChange, Shipment
from orders.services.shipments import shipment_create
from shipping.accounts.services import api_key_revoke
from tests.api.conftest import Api, channel_order

pytestmark = pytest.mark.django_db

READS = [
    "/orders",
    "/shipments",
    "/stores",
    "/stores/marketplaces",
    "/carriers",
    "/carriers/listservices?carrierCode=ups",
]


@pytest.fixture
def order(store):
    return channel_order(store, "A1")


@pytest.mark.parametrize("path", READS)
def test_no_key_is_401_with_a_basic_challenge(client, path):
    response = client.get(f"/api/v1{path}")
    assert response.status_code == 401
    assert response.json() == {"Message": "Authorization has been denied for this request."}
    assert response["WWW-Authenticate"].startswith("Basic")
    assert "X-Rate-Limit-Limit" not in response


def test_wrong_secret_unknown_key_revoked_key_and_garbage_are_401(client, merchant, api_credentials, order):
    key, secret = api_credentials
    for k, s in [(key, secret + "x"), ("nope", secret), (key, "")]:
        assert Api(client, k, s).get("/orders").status_code == 401
    response = client.get("/api/v1/orders", HTTP_AUTHORIZATION="Basic !!!not-base64")
    assert response.status_code == 401
    response = client.get("/api/v1/orders", HTTP_AUTHORIZATION="Bearer abc")
    assert response.status_code == 401
    api_key_revoke(merchant=merchant, key_id=merchant.api_keys.get().pk)
    assert Api(client, key, secret).get("/orders").status_code == 401


def test_a_wrong_secret_changes_nothing(client, api_credentials, order):
    key, _ = api_credentials
    intruder = Api(client, key, "guess")
    assert intruder.post("/orders/holduntil", {"orderId": order.pk, "holdUntilDate": "2099-01-01"}).status_code == 401
    assert intruder.delete(f"/orders/{order.pk}").status_code == 401
    order.refresh_from_db()
    assert order.status == "awaiting_shipment"


def test_another_merchants_key_sees_nothing_and_changes_nothing(other_api, store, order, warehouse):
    shipped = channel_order(store, "A2")
    shipment = shipment_create(order=shipped, carrier_code="ups", tracking_number="1Z1", notify_channel=False)
    before = (Order.objects.count(), OrderStatusChange.objects.count(), Shipment.objects.count())

    assert other_api.get("/orders").json() == {"orders": [], "total": 0, "page": 1, "pages": 0}
    assert other_api.get("/shipments").json()["total"] == 0
    assert other_api.get("/stores", {"showInactive": "true"}).json() == []
    assert other_api.get(f"/orders?storeId={store.pk}").json()["total"] == 0
    for path in [f"/orders/{order.pk}", f"/stores/{store.pk}", f"/stores/getrefreshstatus?storeId={store.pk}"]:
        response = other_api.get(path)
        assert response.status_code == 404, path
        assert set(response.json()) == {"Message"}
    writes = [
        ("/orders/holduntil", {"orderId": order.pk, "holdUntilDate": "2099-01-01"}),
        ("/orders/restorefromhold", {"orderId": order.pk}),
        ("/orders/markasshipped", {"orderId": order.pk, "carrierCode": "ups", "trackingNumber": "X"}),
        ("/orders/createlabelfororder", {"orderId": order.pk, "carrierCode": "other", "shipDate": "2026-03-02"}),
        ("/shipments/voidlabel", {"shipmentId": shipment.pk}),
        ("/stores/deactivate", {"storeId": store.pk}),
        ("/stores/refreshstore", {"storeId": store.pk}),
        (
            "/orders/createorder",
            {
                "orderId": order.pk,
                "orderNumber": "X",
                "orderDate": "2026-01-01",
                "orderStatus": "on_hold",
                "shipTo": {"name": "x"},
            },
        ),
    ]
    for path, body in writes:
        assert other_api.post(path, body).status_code == 404, path
    assert other_api.delete(f"/orders/{order.pk}").status_code == 404
    # The same orderKey from another merchant is their own order (there is none: no manual store).
    response = other_api.post(
        "/orders/createorder",
        {
            "orderKey": order.external_id,
            "orderNumber": "X",
            "orderDate": "2026-01-01",
            "orderStatus": "on_hold",
            "shipTo": {"name": "x"},
        },
    )
    assert response.status_code == 400
    assert (Order.objects.count(), OrderStatusChange.objects.count(), Shipment.objects.count()) == before
    order.refresh_from_db()
    store.refresh_from_db()
    assert order.status == "awaiting_shipment" and store.is_active
    assert Shipment.objects.get(pk=shipment.pk).voided_at is None


def test_paths_are_case_insensitive_and_take_a_trailing_slash(api, order):
    assert api.get("/Orders").status_code == 200
    assert api.get(f"/Orders/{order.pk}/").json()["orderId"] == order.pk
    response = api.post("/Orders/HoldUntil", {"orderId": order.pk, "holdUntilDate": "2099-01-01"})
    assert response.status_code == 200, response.content
    assert api.post("/orders/RestoreFromHold", {"orderId": order.pk}).json()["success"] is True


def test_basic_auth_needs_no_csrf_token(api_credentials, order):
    api = Api(Client(enforce_csrf_checks=True), *api_credentials)
    response = api.post("/orders/holduntil", {"orderId": order.pk, "holdUntilDate": "2099-01-01"})
    assert response.status_code == 200


def test_rate_limit_headers_on_every_response_and_429_past_the_limit(api, settings, order):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    with time_machine.travel(datetime(2026, 5, 1, 12, 0, 15, tzinfo=UTC), tick=False):
        first = api.get("/orders")
        assert (first["X-Rate-Limit-Limit"], first["X-Rate-Limit-Remaining"], first["X-Rate-Limit-Reset"]) == (
            "3",
            "2",
            "45",
        )
        error = api.get("/orders/999999")  # errors count and carry the headers too
        assert error.status_code == 404 and error["X-Rate-Limit-Remaining"] == "1"
        assert api.post("/orders/holduntil", raw="{not json").status_code == 400
        refused = api.get("/orders")
        assert refused.status_code == 429
        assert refused["X-Rate-Limit-Remaining"] == "0" and refused["X-Rate-Limit-Reset"] == "45"
        assert refused["Retry-After"] == "45"
        assert "Message" in refused.json()
        assert api.post("/orders/holduntil", {"orderId": order.pk, "holdUntilDate": "2099-01-01"}).status_code == 429
    order.refresh_from_db()
    assert order.status == "awaiting_shipment"  # a refused request does nothing
    with time_machine.travel(datetime(2026, 5, 1, 12, 1, 0, tzinfo=UTC), tick=False):
        again = api.get("/orders")
        assert again.status_code == 200 and again["X-Rate-Limit-Remaining"] == "2"


def test_the_quota_is_per_key_and_shared_by_clients_of_the_same_key(api, api_credentials, other_api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    with time_machine.travel(datetime(2026, 5, 1, 12, 0, 1, tzinfo=UTC), tick=False):
        twin = Api(Client(), *api_credentials)  # another process, same key
        assert api.get("/carriers").status_code == 200
        assert twin.get("/carriers").status_code == 200
        assert api.get("/carriers").status_code == 429
        assert other_api.get("/carriers").status_code == 200


def test_bad_json_is_a_400_in_shipstation_shape(api):
    response = api.post("/orders/markasshipped", raw="{")
    assert response.status_code == 400
    body = response.json()
    assert body["Message"] == "The request is invalid." and "request" in body["ModelState"]
    response = api.post("/orders/markasshipped", raw=json.dumps([1, 2]))
    assert response.status_code == 400


def test_last_used_is_recorded(api, merchant):
    api.get("/carriers")
    assert merchant.api_keys.get().last_used_at <= timezone.now()


def test_unknown_paths_and_methods_answer_json(api, client):
    response = client.post("/api/v1/orders/nosuchthing", "{}", content_type="application/json")
    assert response.status_code == 404 and "No HTTP resource" in response.json()["Message"]
    assert api.get("/orders/-5").status_code == 404
    response = api.post("/orders", {})
    assert response.status_code == 405 and "Message" in response.json()
