"""An API client with Basic credentials, keys for two merchants, and orders to read and write."""

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client

from channels.base import Address, ExternalOrder, ExternalOrderLine
from orders.models import Order
from orders.services.order_import import ImportItem, orders_upsert_from_channel
from shipping.accounts.services import api_key_create
from tests.factories import MerchantFactory, StoreFactory


class Api:
    """Speaks to /api/v1 as a ShipStation client does: Basic auth, JSON bodies."""

    def __init__(self, client: Client, key: str | None, secret: str | None) -> None:
        self.client = client
        self.headers = {}
        if key is not None:
            token = base64.b64encode(f"{key}:{secret}".encode()).decode()
            self.headers["HTTP_AUTHORIZATION"] = f"Basic {token}"

    def get(self, path: str, params: dict | None = None):
        return self.client.get(f"/api/v1{path}", params or {}, **self.headers)

    def post(self, path: str, body=None, raw: str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(f"/api/v1{path}", data, content_type="application/json", **self.headers)

    def delete(self, path: str):
        return self.client.delete(f"/api/v1{path}", **self.headers)


@pytest.fixture
def api_credentials(merchant):
    api_key, secret = api_key_create(merchant=merchant, name="tests")
    return api_key.key, secret


@pytest.fixture
def api(client, api_credentials):
    return Api(client, *api_credentials)


@pytest.fixture
def other_merchant(db):
    return MerchantFactory()


@pytest.fixture
def other_api(other_merchant):
    api_key, secret = api_key_create(merchant=other_merchant)
    return Api(Client(), api_key.key, secret)


@pytest.fixture
def manual_store(merchant):
    return StoreFactory(merchant=merchant, kind="manual", name="Manual orders")


@pytest.fixture
def bm_store(merchant):
    return StoreFactory(merchant=merchant, kind="back_market", name="Back Market")


def channel_order(store, external_id: str, *lines, **fields) -> Order:
    """An order as the import writes it (lines: (sku, quantity, unit price))."""
    ext = ExternalOrder(
        external_id=external_id,
        order_number=fields.pop("order_number", f"N{external_id}"),
        external_status="1",
        order_date=fields.pop("order_date", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        updated_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
        ship_to=fields.pop("ship_to", Address(name="Ana Lima", street1="1 Rue", city="Paris", country="FR")),
        lines=tuple(
            ExternalOrderLine(
                external_line_id=f"{external_id}-{i}",
                sku=sku,
                name=f"{sku} name",
                quantity=qty,
                unit_price=Decimal(price),
                weight_grams=Decimal("174"),
                options=(("Colour", "Blue"),),
            )
            for i, (sku, qty, price) in enumerate(lines or [("IPH13", 1, "329.00")], 1)
        ),
        **fields,
    )
    with transaction.atomic():
        [result] = orders_upsert_from_channel(store=store, items=[ImportItem(ext, "awaiting_shipment")])
    return Order.objects.get(pk=result.order_id)


ORDER_BODY = {
    "orderNumber": "TEST-ORDER-API-DOCS",
    "orderKey": "0f6bec18-3e89-4771-83aa-f392d84f4c74",
    "orderDate": "2015-06-29T08:46:27.0000000",
    "paymentDate": "2015-06-29T08:46:27.0000000",
    "shipByDate": "2015-07-05T00:00:00.0000000",
    "orderStatus": "awaiting_shipment",
    "customerId": 37701499,
    "customerUsername": "headhoncho@whitehouse.gov",
    "customerEmail": "headhoncho@whitehouse.gov",
    "billTo": {
        "name": "The President",
        "company": None,
        "street1": None,
        "street2": None,
        "street3": None,
        "city": None,
        "state": None,
        "postalCode": None,
        "country": None,
        "phone": None,
        "residential": None,
    },
    "shipTo": {
        "name": "The President",
        "company": "US Govt",
        "street1": "1600 Pennsylvania Ave",
        "street2": "Oval Office",
        "street3": None,
        "city": "Washington",
        "state": "DC",
        "postalCode": "20500",
        "country": "US",
        "phone": "555-555-5555",
        "residential": True,
    },
    "items": [
        {
            "lineItemKey": "vd08-MSLbtx",
            "sku": "ABC123",
            "name": "Test item #1",
            "imageUrl": "http://www.example.com/image.png",
            "weight": {"value": 24, "units": "ounces"},
            "quantity": 2,
            "unitPrice": 99.99,
            "taxAmount": 2.5,
            "shippingAmount": 5,
            "warehouseLocation": "Aisle 1, Bin 7",
            "options": [{"name": "Size", "value": "Large"}],
            "productId": 123456,
            "fulfillmentSku": None,
            "adjustment": False,
            "upc": "32-65-98",
        },
        {
            "lineItemKey": None,
            "sku": "DISCOUNT CODE",
            "name": "10% OFF",
            "imageUrl": None,
            "weight": {"value": 0, "units": "ounces"},
            "quantity": 1,
            "unitPrice": -20.55,
            "taxAmount": None,
            "shippingAmount": None,
            "warehouseLocation": None,
            "options": [],
            "productId": 123456,
            "fulfillmentSku": "SKU-Discount",
            "adjustment": True,
            "upc": None,
        },
    ],
    "amountPaid": 218.73,
    "taxAmount": 5,
    "shippingAmount": 10,
    "customerNotes": "Please ship as soon as possible!",
    "internalNotes": "Customer called and would like to upgrade shipping",
    "gift": True,
    "giftMessage": "Thank you!",
    "paymentMethod": "Credit Card",
    "requestedShippingService": "Priority Mail",
    "carrierCode": "fedex",
    "serviceCode": "fedex_2day",
    "packageCode": "package",
    "confirmation": "delivery",
    "shipDate": "2015-07-02",
    "weight": {"value": 25, "units": "ounces"},
    "dimensions": {"units": "inches", "length": 7, "width": 5, "height": 6},
    "insuranceOptions": {"provider": "carrier", "insureShipment": True, "insuredValue": 200},
    "internationalOptions": {"contents": None, "customsItems": None},
    "advancedOptions": {
        "warehouseId": None,
        "nonMachinable": False,
        "saturdayDelivery": False,
        "containsAlcohol": False,
        "mergedOrSplit": False,
        "mergedIds": [],
        "parentId": None,
        "storeId": None,
        "customField1": "Custom data",
        "customField2": "Per UI settings",
        "customField3": None,
        "source": "Webstore",
        "billToParty": None,
    },
    "tagIds": None,  # the docs' example names tag 53974, which no merchant here has: unknown tags are a 400
}
