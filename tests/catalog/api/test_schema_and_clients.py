"""The schema documents both endpoint families (v2 with its own auth scheme and errors), the presenters return
exactly what it says, a fuzzer finds no 5xx, and an independent ShipStation v1 client from PyPI works against it."""

import base64
import os
from decimal import Decimal

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from shipstation_api_wrapper.api import ShipStationClient

from catalog.api import serializers as s
from catalog.api.presenters import inventory_level_data, product_data
from catalog.models import Product, StockLevel
from tests.catalog.conftest import make_product

pytestmark = pytest.mark.django_db

V1_PATHS = {"/api/v1/products": {"get"}, "/api/v1/products/{product_id}": {"get", "put"}}
V2_PATHS = {"/api/v2/inventory": {"get", "post"}}


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_has_the_paths_the_v2_auth_scheme_and_v2_errors(schema):
    for path, methods in {**V1_PATHS, **V2_PATHS}.items():
        assert set(schema["paths"][path]) == methods, path
    assert schema["components"]["securitySchemes"]["api_keys"]["type"] == "apiKey"
    assert schema["components"]["securitySchemes"]["api_keys"]["in"] == "header"
    assert schema["components"]["securitySchemes"]["api_keys"]["name"] == "API-Key"
    for path, methods in V1_PATHS.items():
        for method in methods:
            operation = schema["paths"][path][method]
            assert operation["security"] == [{"basicAuth": []}]
            assert operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    inventory = schema["paths"]["/api/v2/inventory"]
    for method, success in (("get", "200"), ("post", "204")):
        operation = inventory[method]
        assert operation["security"] == [{"api_keys": []}]
        assert "one location" in operation["description"]  # warehouses are locations: said so
        for code in ("400", "401", "404", "429"):
            ref = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/V2ErrorResponse"), (method, code)
        assert "X-Rate-Limit-Remaining" in operation["responses"][success]["headers"]
        assert "X-Rate-Limit-Reset" in operation["responses"]["429"]["headers"]
    names = {p["name"] for p in inventory["get"]["parameters"] if p["in"] == "query"}
    assert names == {"sku", "inventory_warehouse_id", "inventory_location_id", "group_by", "limit", "page"}
    names = {p["name"] for p in schema["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert {"sku", "name", "productCategoryId", "productTypeId", "tagId", "startDate", "endDate"} <= names
    assert {"showInactive", "sortBy", "sortDir", "page", "pageSize"} <= names
    body = schema["components"]["schemas"]["InventoryUpdateRequest"]
    assert set(body["required"]) == {"transaction_type", "inventory_location_id", "sku", "quantity"}


def test_the_presenters_return_exactly_the_documented_fields(merchant, warehouse):
    product = make_product(merchant, "MUG", on_hand=2, warehouse=warehouse, cost=Decimal("3"))
    assert set(product_data(product)) == set(s.Product().fields)
    assert set(s.Product().fields) - {"aliases", "productId"} <= set(s.ProductUpdate().fields)
    level = StockLevel.objects.select_related("product").get(product=product)
    assert set(inventory_level_data(level)) == set(s.InventoryLevel().fields)


@pytest.fixture
def fuzz_target(merchant, warehouse, api_credentials, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000  # the fuzzer is not what the quota is for
    make_product(merchant, "MUG", on_hand=5, warehouse=warehouse, cost=Decimal("3"))
    make_product(merchant, "CASE", on_hand=1, warehouse=warehouse)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_the_fuzzer_finds_no_server_errors_and_nothing_off_schema(fuzz_target, api_credentials):
    key, secret = api_credentials
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
        "API-Key": f"{key}:{secret}",
    }
    operations = [
        result.ok()
        for result in fuzz_target.get_all_operations()
        if result.ok().path.startswith(("/api/v1/products", "/api/v2/"))
    ]
    assert len(operations) == 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")),
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        )
        def run(case):
            # Well-formed requests may rightly be refused (an unknown SKU, a product id that is not ours).
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        run()


@pytest.mark.django_db(transaction=True)
def test_a_shipstation_client_from_pypi_lists_finds_and_writes_products_back(live_server, api_credentials, merchant):
    key, secret = api_credentials
    make_product(merchant, "MUG-2", cost=Decimal("3.5"), weight_grams=Decimal("340.19"))  # 11.9998 oz
    case = make_product(merchant, "CASE-1")
    ss = ShipStationClient(base64.b64encode(f"{key}:{secret}".encode()).decode(), base_url=f"{live_server.url}/api/v1")

    listed = ss.products.list_products()
    assert listed.status_code == 200 and int(listed.headers["X-Rate-Limit-Limit"]) == 40
    assert [p["sku"] for p in listed.json()["products"]] == ["CASE-1", "MUG-2"]

    found = ss.products.get_product_by_sku("mug-2").json()
    assert found["total"] == 1 and found["products"][0]["weightOz"] == 11.9998

    # The client's update GETs the product and PUTs it back whole, with its tags replaced.
    updated = ss.products.update_tag("CASE-1", [])
    assert updated.status_code == 200, updated.text
    assert updated.json() == {"success": True, "message": "The requested product has been updated"}
    assert Product.objects.get(pk=case.pk).sku == "CASE-1"
