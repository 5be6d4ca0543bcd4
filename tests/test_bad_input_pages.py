"""No page answers 500 to bad input: junk in every query string and every form field gives a page, a
redirect or a 4xx, and changes nothing it should not."""

import pytest
from django.test import Client

from catalog.models import Product
from channels.models import SyncIssue
from orders.models import Order, PrintBatch
from tests.factories import StoreFactory
from tests.orders.test_shipments import make_order

pytestmark = pytest.mark.django_db

LISTING = ["enabled", "safety_quantity", "price", "min_price", "backmarket_id", "grade", "warranty_months"]
JUNK = ["", "x", "-1", "0", "99999999999999999999", "1e309", "nan", "2026-13-45", "' OR 1=1 --", "\x00", "é" * 500]


@pytest.fixture
def world(merchant, owner):
    store = StoreFactory(merchant=merchant, kind="back_market", credentials={"token": "t"}, config={"region": "eu"})
    order = make_order(store, ("IPH13", 2))
    issue = SyncIssue.objects.create(store=store, kind="quarantined", external_id="9", message="bad", payload={})
    batch = PrintBatch.objects.create(merchant=merchant, kind="labels", total=1)
    return store, order, issue, batch


def pages(store, order, issue, batch) -> list[tuple[str, list[str]]]:
    """(url, the POST fields it reads)."""
    product = Product.objects.create(merchant=store.merchant, sku="IPH13", name="iPhone 13")  # the catalog's pages
    return [
        ("/", []),
        ("/dashboard/", []),
        ("/orders/identifier-check/", []),
        (
            f"/orders/{order.pk}/",
            [
                "action",
                "line",
                "identifier",
                "internal_notes",
                "carrier_code",
                "service_code",
                "tracking_number",
                "weight_grams",
                "carrier_fee",
                "shipment",
                "reason",
                f"qty_{order.lines.first().pk}",
            ],
        ),
        ("/orders/bulk/", ["action", "orders", "carrier_code", "next"]),
        (f"/orders/{order.pk}/label.pdf", []),
        (f"/orders/{order.pk}/nothing.pdf", []),
        (f"/batches/{batch.pk}/", []),
        ("/stores/", []),
        ("/stores/connect/", []),
        ("/stores/connect/back_market/", ["name", "region", "base_url", "market", "token"]),
        ("/stores/connect/no_such_channel/", ["name"]),
        (f"/stores/{store.pk}/", []),
        (
            f"/stores/{store.pk}/settings/",
            [
                "action",
                "name",
                "company_name",
                "import_interval_minutes",
                "region",
                "token",
                "awaiting_payment",
                "shipped",
            ],
        ),
        (f"/stores/{store.pk}/sync/", []),
        (f"/stores/issues/{issue.pk}/retry/", []),
        ("/warehouses/", ["name", "address_country", "address_street1", "is_default"]),
        ("/team/", ["action", "email", "role", "password", "name", "key"]),
        ("/products/", []),
        ("/products/new/", ["sku", "name", "image_url", "weight_grams", "cost"]),
        (
            f"/products/{product.pk}/",
            ["action", "mode", "quantity", "warehouse", "note", "store", *(f"store-{store.pk}-{f}" for f in LISTING)],
        ),
        ("/products/import/", ["file", "store"]),
        ("/products/export.csv", []),
        ("/products/listings-log/", []),
        ("/products/listings-log/run/", ["store", "action"]),
    ]


def test_junk_never_gives_a_server_error(world, owner):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    before = Order.objects.values_list("status", flat=True).get()
    for url, fields in pages(*world):
        for junk in JUNK:
            query = {
                name: junk
                for name in (
                    "status",
                    "sort",
                    "cursor",
                    "page",
                    "q",
                    "store",
                    "carrier",
                    "date_from",
                    "date_to",
                    "identifier",
                    "line",
                    "download",
                    "listing",
                    "stock",
                    "kind",
                    "before",
                    "names",
                )
            }
            response = client.get(url, query)
            assert response.status_code < 500, (url, "GET", junk, response.status_code)
            if fields:
                response = client.post(url, {name: junk for name in fields})
                assert response.status_code < 500, (url, "POST", junk, response.status_code)
    assert Order.objects.values_list("status", flat=True).get() == before
