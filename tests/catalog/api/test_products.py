"""GET /api/v1/products (filters, paging, sorting), GET and PUT /api/v1/products/{id}, as ShipStation API v1."""

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from tests.api.conftest import Api
from tests.catalog.conftest import ext_order, import_one, make_product, stock

pytestmark = pytest.mark.django_db

PRODUCT_KEYS = {
    "aliases",
    "productId",
    "sku",
    "name",
    "price",
    "defaultCost",
    "length",
    "width",
    "height",
    "weightOz",
    "internalNotes",
    "fulfillmentSku",
    "createDate",
    "modifyDate",
    "active",
    "productCategory",
    "productType",
    "warehouseLocation",
    "defaultCarrierCode",
    "defaultServiceCode",
    "defaultPackageCode",
    "defaultIntlCarrierCode",
    "defaultIntlServiceCode",
    "defaultIntlPackageCode",
    "defaultConfirmation",
    "defaultIntlConfirmation",
    "customsDescription",
    "customsValue",
    "customsTariffNo",
    "customsCountryCode",
    "noCustoms",
    "tags",
}


def created(merchant, sku: str, when: datetime, **fields) -> Product:
    with time_machine.travel(when, tick=False):
        return make_product(merchant, sku, **fields)


@pytest.fixture
def catalog(merchant):
    """Three products created a day apart (Pacific noon), in an order that is not their SKUs' order."""
    return [
        created(merchant, "MUG-2", datetime(2026, 3, 1, 20, tzinfo=UTC), name="Blue mug", cost=Decimal("3.5")),
        created(merchant, "iph13-128", datetime(2026, 3, 2, 20, tzinfo=UTC), name="iPhone 13 128 GB"),
        created(
            merchant,
            "CASE-1",
            datetime(2026, 3, 3, 20, tzinfo=UTC),
            name="Phone case",
            weight_grams=Decimal("28.35"),
            cost=Decimal("1.25"),
        ),
    ]


def skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["sku"] for p in response.json()["products"]]


def test_a_product_has_shipstations_fields_with_what_we_do_not_keep_as_null(api, catalog):
    case = catalog[2]
    body = api.get(f"/products/{case.pk}").json()
    assert set(body) == PRODUCT_KEYS
    assert body["productId"] == case.pk and isinstance(body["productId"], int)
    assert (body["sku"], body["name"], body["defaultCost"], body["weightOz"]) == ("CASE-1", "Phone case", 1.25, 1)
    assert body["createDate"] == "2026-03-03T12:00:00.0000000"  # Pacific wall-clock time, as ShipStation writes it
    assert body["active"] is True
    assert body["tags"] is None and body["productCategory"] is None and body["price"] is None
    assert api.get(f"/products/{catalog[1].pk}").json()["weightOz"] is None  # no weight kept


def test_the_list_pages_with_shipstations_envelope(api, catalog):
    first = api.get("/products", {"pageSize": 2})
    assert first.json()["total"] == 3 and first.json()["pages"] == 2 and first.json()["page"] == 1
    assert skus(first) == ["CASE-1", "MUG-2"]  # by SKU unless asked otherwise
    assert skus(api.get("/products", {"pageSize": 2, "page": 2})) == ["iph13-128"]
    assert api.get("/products", {"page": 9}).json() == {"products": [], "total": 3, "page": 9, "pages": 1}
    assert set(api.get("/products").json()) == {"products", "total", "page", "pages"}


def test_filters(api, catalog):
    assert skus(api.get("/products", {"sku": "IPH13-128"})) == ["iph13-128"]  # SKUs match in any case
    assert skus(api.get("/products", {"sku": "IPH13"})) == []  # a SKU, not a part of one
    assert skus(api.get("/products", {"name": "phone"})) == ["CASE-1", "iph13-128"]
    assert skus(api.get("/products", {"startDate": "2026-03-02 00:00:00"})) == ["CASE-1", "iph13-128"]
    assert skus(api.get("/products", {"endDate": "2026-03-02"})) == ["MUG-2"]  # a bare date: midnight, Pacific
    assert skus(api.get("/products", {"startDate": "2026-03-02", "endDate": "2026-03-02 23:59:59"})) == ["iph13-128"]
    assert skus(api.get("/products", {"showInactive": "true"})) == ["CASE-1", "MUG-2", "iph13-128"]
    for name in ("productCategoryId", "productTypeId", "tagId"):  # kept by ShipStation, not by us
        assert skus(api.get("/products", {name: 1})) == []
    assert skus(api.get("/products", {"sku": "", "name": ""})) == ["CASE-1", "MUG-2", "iph13-128"]  # empty: not given


def test_sorting(api, catalog):
    assert skus(api.get("/products", {"sortBy": "CreateDate", "sortDir": "DESC"})) == ["CASE-1", "iph13-128", "MUG-2"]
    assert skus(api.get("/products", {"sortBy": "createdate"})) == ["MUG-2", "iph13-128", "CASE-1"]
    assert skus(api.get("/products", {"sortBy": "SKU", "sortDir": "desc"})) == ["iph13-128", "MUG-2", "CASE-1"]
    Product.objects.filter(pk=catalog[0].pk).update(updated_at=datetime(2026, 5, 1, tzinfo=UTC))
    assert skus(api.get("/products", {"sortBy": "ModifyDate", "sortDir": "DESC"}))[0] == "MUG-2"


def test_a_list_is_a_constant_number_of_queries(api, merchant):
    for n in range(3):
        make_product(merchant, f"A-{n}")
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/products").json()["products"]) == 3
    for n in range(30):
        make_product(merchant, f"B-{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/products").json()["products"]) == 33
    assert len(many) == len(few)


def put(api: Api, path: str, body=None, raw: str | None = None):
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    return api.client.put(f"/api/v1{path}", data, content_type="application/json", **api.headers)


def test_put_takes_the_whole_product_back_and_updates_what_we_keep(api, catalog):
    mug = catalog[0]
    body = api.get(f"/products/{mug.pk}").json()
    body.update({"sku": "MUG-3", "name": "Green mug", "defaultCost": 4.1, "weightOz": 12.5, "price": 9.99})
    body.update({"tags": [{"tagId": 1, "name": "Sale"}], "productCategory": {"categoryId": 2, "name": "Mugs"}})
    response = put(api, f"/products/{mug.pk}", body)
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "message": "The requested product has been updated"}
    mug.refresh_from_db()
    assert (mug.sku, mug.name, mug.cost, mug.weight_grams) == ("MUG-3", "Green mug", Decimal("4.1"), Decimal("354.37"))
    again = api.get(f"/products/{mug.pk}").json()
    assert (again["weightOz"], again["defaultCost"], again["price"]) == (12.5, 4.1, None)  # price is not kept

    # What a client reads it can write back unchanged: nothing drifts (ounces to grams and back).
    assert put(api, f"/products/{mug.pk}", again).status_code == 200
    mug.refresh_from_db()
    assert mug.weight_grams == Decimal("354.37") and api.get(f"/products/{mug.pk}").json() == again


def test_put_keeps_what_is_left_out_and_clears_what_is_null(api, catalog):
    case = catalog[2]
    assert put(api, f"/products/{case.pk}", {"name": "Clear case"}).status_code == 200
    case.refresh_from_db()
    kept = (case.sku, case.name, case.cost, case.weight_grams)
    assert kept == ("CASE-1", "Clear case", Decimal("1.25"), Decimal("28.35"))
    assert put(api, f"/products/{case.pk}", {"defaultCost": None, "weightOz": None, "name": None}).status_code == 200
    case.refresh_from_db()
    assert (case.sku, case.name, case.cost, case.weight_grams) == ("CASE-1", "", None, None)


def test_a_new_sku_rematches_open_orders(api, merchant, store, warehouse):
    phone = make_product(merchant, "IPH-OLD", on_hand=5)
    import_one(store, ext_order("1", ("IPH-OLD", 2)))
    import_one(store, ext_order("2", ("iph-new", 1)))  # not in the catalog yet
    assert stock(phone) == (5, 2, 3)

    assert put(api, f"/products/{phone.pk}", {"sku": "IPH-NEW"}).status_code == 200
    assert stock(phone) == (5, 1, 4)  # order 1's line names a SKU we no longer have; order 2's takes its unit

    assert put(api, f"/products/{phone.pk}", {"sku": "iph-new"}).status_code == 200  # a change of case only
    assert stock(phone) == (5, 1, 4)


def test_a_sku_another_product_has_is_a_400(api, catalog):
    response = put(api, f"/products/{catalog[0].pk}", {"sku": "case-1"})
    assert response.status_code == 400
    assert response.json()["ModelState"] == {"sku": ["Taken by another product."]}
    assert Product.objects.get(pk=catalog[0].pk).sku == "MUG-2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"productId": 10**9}, "productId"),
        ({"active": False}, "active"),
        ({"sku": ""}, "sku"),
        ({"sku": "   "}, "sku"),
        ({"sku": None}, "sku"),
        ({"sku": "x" * 101}, "sku"),
        ({"weightOz": -1}, "weightOz"),
        ({"weightOz": "heavy"}, "weightOz"),
        ({"weightOz": 10**12}, "weightOz"),
        ({"defaultCost": -0.01}, "defaultCost"),
        ({"defaultCost": 10**15}, "defaultCost"),
        ({"name": "n" * 501}, "name"),
        ({"name": "\x00"}, "name"),
        ({"tags": "sale"}, "tags"),
        ({"productCategory": 3}, "productCategory"),
        ({"price": []}, "price"),
        ({"customsCountryCode": "USA"}, "customsCountryCode"),
    ],
)
def test_bad_fields_are_400s_naming_the_field(api, catalog, body, field):
    response = put(api, f"/products/{catalog[0].pk}", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["ModelState"]
    assert Product.objects.get(pk=catalog[0].pk).sku == "MUG-2"


@pytest.mark.parametrize(
    "raw", ["", "null", "[]", "42", '"text"', "{", '{"sku": NaN}', '{"weightOz": 1e400}', '{"name": "\\ud800"}']
)
def test_nasty_bodies_are_never_server_errors(api, catalog, raw):
    response = put(api, f"/products/{catalog[0].pk}", raw=raw)
    assert 200 <= response.status_code < 500, response.content
    if response.status_code >= 400:
        assert "Message" in response.json()


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0},
        {"pageSize": 501},
        {"sortBy": "Price"},
        {"sortDir": "UP"},
        {"startDate": "yesterday"},
        {"endDate": "2026-02-30"},
        {"tagId": "x"},
        {"sku": "\x00"},
        {"name": "n" * 501},
        {"showInactive": "maybe"},
    ],
)
def test_bad_filters_are_400s(api, catalog, params):
    response = api.get("/products", params)
    assert response.status_code == 400, response.content
    assert set(response.json()["ModelState"]) == set(params)


def test_another_merchants_products_are_404s_and_stay_as_they_are(api, other_api, catalog, other_merchant):
    theirs = make_product(other_merchant, "THEIRS", cost=Decimal("2"))
    assert other_api.get("/products").json()["total"] == 1
    for path in (f"/products/{catalog[0].pk}", "/products/999999999"):
        response = other_api.get(path)
        assert response.status_code == 404 and set(response.json()) == {"Message"}
    assert put(other_api, f"/products/{catalog[0].pk}", {"name": "Mine now"}).status_code == 404
    assert put(other_api, f"/products/{catalog[0].pk}", {"sku": ""}).status_code == 404  # 404 before validation
    assert Product.objects.get(pk=catalog[0].pk).name == "Blue mug"
    assert api.get(f"/products/{theirs.pk}").status_code == 404
    assert api.get("/products", {"sku": "THEIRS"}).json()["total"] == 0


def test_paths_are_case_insensitive_and_unknown_ones_are_json_404s(api, catalog):
    assert api.client.get(f"/api/v1/Products/{catalog[0].pk}", **api.headers).status_code == 200
    assert api.get("/products/nope").status_code == 404
    assert api.post("/products", {}).status_code == 405


def test_who_may_call(client, api_credentials, catalog):
    key, secret = api_credentials
    for caller in (Api(client, None, None), Api(client, key, "wrong"), Api(client, "nobody", secret)):
        response = caller.get("/products")
        assert response.status_code == 401
        assert response.json() == {"Message": "Authorization has been denied for this request."}
    nul = base64.b64encode(f"{key}\x00:{secret}".encode()).decode()  # PostgreSQL takes no NUL: never a 500
    assert client.get("/api/v1/products", HTTP_AUTHORIZATION=f"Basic {nul}").status_code == 401
    # The v2 header is not v1's way in.
    assert client.get("/api/v1/products", HTTP_API_KEY=f"{key}:{secret}").status_code == 401
    assert put(Api(client, key, "wrong"), f"/products/{catalog[0].pk}", {"name": "x"}).status_code == 401
    assert Product.objects.get(pk=catalog[0].pk).name == "Blue mug"
