"""Stores (with status mappings, refresh, (de)activation, marketplaces), carriers, shipments and voids."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from channels.models import Store
from orders.models import Shipment
from orders.services.shipments import shipment_create
from tests.api.conftest import channel_order
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

STORE_FIELDS = {
    "storeId",
    "storeName",
    "marketplaceId",
    "marketplaceName",
    "accountName",
    "email",
    "integrationUrl",
    "active",
    "companyName",
    "phone",
    "publicEmail",
    "website",
    "refreshDate",
    "lastRefreshAttempt",
    "createDate",
    "modifyDate",
    "autoRefresh",
    "statusMappings",
}
SHIPMENT_FIELDS = {
    "shipmentId",
    "orderId",
    "orderKey",
    "userId",
    "customerEmail",
    "orderNumber",
    "createDate",
    "shipDate",
    "shipmentCost",
    "insuranceCost",
    "trackingNumber",
    "isReturnLabel",
    "batchNumber",
    "carrierCode",
    "serviceCode",
    "packageCode",
    "confirmation",
    "warehouseId",
    "voided",
    "voidDate",
    "marketplaceNotified",
    "notifyErrorMessage",
    "shipTo",
    "weight",
    "dimensions",
    "insuranceOptions",
    "advancedOptions",
    "shipmentItems",
    "labelData",
    "formData",
}


def test_store_list_and_detail_with_status_mappings(api, store, manual_store):
    Store.objects.filter(pk=store.pk).update(orders_synced_until=datetime(2026, 3, 1, 20, tzinfo=UTC))
    inactive = StoreFactory(merchant=store.merchant, kind="manual", name="Old", is_active=False)
    stores = api.get("/stores").json()
    assert [s["storeId"] for s in stores] == [store.pk, manual_store.pk]
    assert all(set(s) == STORE_FIELDS for s in stores)
    assert stores[0]["refreshDate"] == "2026-03-01T12:00:00.0000000"  # Pacific
    assert stores[0]["statusMappings"] is None
    assert (stores[1]["marketplaceId"], stores[1]["marketplaceName"], stores[1]["autoRefresh"]) == (
        0,
        "Manual orders",
        False,
    )
    assert inactive.pk in [s["storeId"] for s in api.get("/stores", {"showInactive": "true"}).json()]
    assert [s["storeId"] for s in api.get("/stores", {"marketplaceId": 0, "showInactive": "True"}).json()] == [
        manual_store.pk,
        inactive.pk,
    ]
    detail = api.get(f"/stores/{store.pk}").json()
    assert set(detail) == STORE_FIELDS and detail["active"] is True and detail["autoRefresh"] is True
    mappings = {(m["statusKey"], m["orderStatus"]) for m in detail["statusMappings"]}
    assert mappings == set(store.status_mappings.values_list("external_status", "status"))
    assert mappings and all(set(m) == {"orderStatus", "statusKey"} for m in detail["statusMappings"])
    assert api.get("/stores/987654").status_code == 404
    assert api.get("/stores", {"showInactive": "maybe"}).status_code == 400


def test_refreshstore_queues_an_import_after_commit(api, store, manual_store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/stores/refreshstore", {"storeId": store.pk, "refreshDate": "2026-03-01 00:00:00"})
    assert response.json() == {"success": True, "message": "A store refresh has been initiated."}
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert api.post("/stores/refreshstore", {}).status_code == 200
    assert len(callbacks) == 1  # every store that imports: not the manual one
    response = api.post("/stores/refreshstore", {"storeId": manual_store.pk})
    assert response.status_code == 400
    assert api.post("/stores/refreshstore", {"refreshDate": "whenever"}).status_code == 400


def test_refreshstore_sends_the_backfill_to_the_task(api, store, mocker_free_task):
    api.post("/stores/refreshstore", {"storeId": store.pk, "refreshDate": "2026-03-01"})
    [(args, kwargs)] = mocker_free_task
    assert args == (store.pk,) and kwargs["trigger"] == "backfill"
    assert kwargs["since"] == "2026-03-01T00:00:00-08:00"  # midnight Pacific, as ShipStation reads it


@pytest.fixture
def mocker_free_task(monkeypatch):
    from channels import tasks

    calls = []
    monkeypatch.setattr(tasks.import_orders_for_store, "delay_on_commit", lambda *a, **k: calls.append((a, k)))
    return calls


def test_refresh_status_deactivate_and_reactivate(api, store):
    status = api.get("/stores/getrefreshstatus", {"storeId": store.pk}).json()
    assert status == {
        "storeId": store.pk,
        "refreshStatusId": 2,
        "refreshStatus": "Idle",
        "lastRefreshAttempt": None,
        "refreshDate": None,
    }
    Store.objects.filter(pk=store.pk).update(lease_token="t", lease_expires_at=timezone.now() + timedelta(minutes=5))
    assert api.get("/stores/getrefreshstatus", {"storeId": store.pk}).json()["refreshStatusId"] == 1
    assert api.get("/stores/getrefreshstatus").status_code == 400
    assert api.post("/stores/deactivate", {"storeId": store.pk}).json()["message"] == "The store has been deactivated."
    store.refresh_from_db()
    assert not store.is_active
    assert api.get("/stores").json() == []
    assert api.post("/stores/refreshstore", {"storeId": store.pk}).status_code == 400
    assert api.post("/stores/reactivate", {"storeId": store.pk}).json()["success"] is True
    store.refresh_from_db()
    assert store.is_active
    assert api.post("/stores/deactivate", {}).status_code == 400


def test_marketplaces(api):
    marketplaces = {m["name"]: m for m in api.get("/stores/marketplaces").json()}
    assert marketplaces["Back Market"] == {
        "name": "Back Market",
        "marketplaceId": 1001,
        "canRefresh": True,
        "supportsCustomMappings": True,
        "supportsCustomStatuses": False,
        "canConfirmShipments": True,
    }
    assert marketplaces["Manual orders"]["marketplaceId"] == 0 and not marketplaces["Manual orders"]["canRefresh"]


def test_carriers_and_services(api):
    carriers = api.get("/carriers").json()
    ups = next(c for c in carriers if c["code"] == "ups")
    assert set(ups) == {
        "name",
        "code",
        "accountNumber",
        "requiresFundedAccount",
        "balance",
        "nickname",
        "shippingProviderId",
        "primary",
    }
    services = api.get("/carriers/listservices", {"carrierCode": "UPS"}).json()
    assert {
        "carrierCode": "ups",
        "code": "ups_ground",
        "name": "UPS Ground",
        "domestic": True,
        "international": False,
    } in services
    assert api.get("/carriers/getcarrier", {"carrierCode": "stamps_com"}).json()["code"] == "usps"
    assert api.get("/carriers/listpackages", {"carrierCode": "fedex"}).json()[0]["code"] == "package"
    for params in ({}, {"carrierCode": "pigeon"}):
        response = api.get("/carriers/listservices", params)
        assert response.status_code == 400 and "carrierCode" in response.json()["ModelState"]


@pytest.fixture
def shipments(store, warehouse):
    a = channel_order(store, "S1", ("IPH13", 2, "300"))
    b = channel_order(store, "S2", ("PXL7", 1, "200"))
    first = shipment_create(
        order=a,
        carrier_code="ups",
        service_code="ups_ground",
        tracking_number="1ZA",
        quantities={a.lines.get().pk: 1},
        notify_channel=False,
    )
    second = shipment_create(order=b, carrier_code="royal_mail", tracking_number="RM1", notify_channel=False)
    Shipment.objects.filter(pk=second.pk).update(ship_date="2026-03-05")
    return first, second


def test_shipment_list_shape_and_filters(api, shipments):
    first, second = shipments
    body = api.get("/shipments").json()
    assert (body["total"], body["page"], body["pages"]) == (2, 1, 1)
    row = body["shipments"][0]
    assert set(row) == SHIPMENT_FIELDS and row["shipmentItems"] is None and row["labelData"] is None
    assert (row["shipmentId"], row["trackingNumber"], row["serviceCode"], row["voided"]) == (
        first.pk,
        "1ZA",
        "ups_ground",
        False,
    )
    assert row["shipTo"]["name"] == "Ana Lima" and row["advancedOptions"]["storeId"] == first.order.store_id

    def ids(**params):
        response = api.get("/shipments", params)
        assert response.status_code == 200, response.content
        return [s["shipmentId"] for s in response.json()["shipments"]]

    assert ids(carrierCode="royal_mail") == [second.pk]
    assert ids(trackingNumber="1za") == [first.pk]
    assert ids(orderNumber="NS2") == [second.pk]
    assert ids(orderId=first.order_id) == [first.pk]
    assert ids(recipientCountryCode="fr") == [first.pk, second.pk]
    assert ids(recipientName="nobody") == []
    assert ids(shipDateStart="2026-03-04", shipDateEnd="2026-03-06") == [second.pk]
    assert ids(sortBy="ShipDate", sortDir="DESC") == [first.pk, second.pk]  # today, then 2026-03-05
    assert ids(sortBy="shipdate") == [second.pk, first.pk]
    assert ids(serviceCode="ups_ground") == [first.pk]
    assert ids(pageSize=1, page=2) == [second.pk]
    items = api.get("/shipments", {"includeShipmentItems": "true", "orderId": first.order_id}).json()
    [item] = items["shipments"][0]["shipmentItems"]
    assert (item["sku"], item["quantity"]) == ("IPH13", 1)  # what this shipment carried, not the line's 2
    for bad in ({"page": "x"}, {"shipDateStart": "nope"}, {"includeShipmentItems": "perhaps"}, {"pageSize": 0}):
        assert api.get("/shipments", bad).status_code == 400


def test_voidlabel(api, shipments):
    first, _ = shipments
    assert api.post("/shipments/voidlabel", {"shipmentId": first.pk}).json() == {
        "approved": True,
        "message": "Label voided successfully.",
    }
    row = api.get("/shipments", {"orderId": first.order_id}).json()["shipments"][0]
    assert row["voided"] is True and row["voidDate"]
    again = api.post("/shipments/voidlabel", {"shipmentId": first.pk}).json()
    assert again["approved"] is False
    assert api.get("/shipments", {"voidDateStart": "2000-01-01"}).json()["total"] == 1
    assert api.post("/shipments/voidlabel", {"shipmentId": 999999}).status_code == 404
    assert api.post("/shipments/voidlabel", {}).status_code == 400
