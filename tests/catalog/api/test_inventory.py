"""GET and POST /api/v2/inventory, as ShipStation API v2: levels per SKU and warehouse, and the four transaction
types, each leaving stock movements behind (or, refused, nothing at all)."""

import base64
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import Product, StockLevel, StockMovement
from catalog.models.stock import Reason
from catalog.services.products_api import MOVEMENT_REASON
from catalog.services.stock import stock_adjust
from orders.models import Warehouse
from shipping.accounts.services import api_key_revoke
from tests.catalog.api.conftest import ApiV2, v2_errors
from tests.catalog.conftest import ext_order, import_one, make_product

pytestmark = pytest.mark.django_db


def level(product, warehouse) -> tuple[int, int]:
    found = StockLevel.objects.filter(product=product, warehouse=warehouse).first()
    return (found.on_hand, found.allocated) if found else (0, 0)


def api_movements(product) -> list[tuple[int, int | None, str]]:
    """(on hand change, warehouse id, note) of the product's API movements, oldest first."""
    rows = StockMovement.objects.filter(product=product, note__startswith="API").order_by("pk")
    for row in rows:
        assert row.reason == MOVEMENT_REASON == Reason.API
        assert row.actor_id is None and row.allocated_change == 0
    return [(row.on_hand_change, row.warehouse_id, row.note) for row in rows]


@pytest.fixture
def phone(merchant, warehouse, backroom):
    product = make_product(merchant, "IPH13-128", on_hand=10, warehouse=warehouse, cost=Decimal("300"))
    StockMovement.objects.all().delete()  # the opening count: only the API's movements below
    return product


def post(v2, **body):
    return v2.post("/inventory", body)


# --- GET ------------------------------------------------------------------------------------------


def test_levels_per_sku_and_warehouse_in_v2s_shape(v2, merchant, store, warehouse, backroom):
    phone = make_product(merchant, "IPH13-128", on_hand=10, warehouse=warehouse, cost=Decimal("299.5"))
    stock_adjust(product=phone, on_hand=4, warehouse=backroom)
    make_product(merchant, "case-1", on_hand=3, warehouse=backroom)
    make_product(merchant, "NO-STOCK")  # no stock rows: nothing to list
    import_one(store, ext_order("1", ("IPH13-128", 2)))  # allocates at the default warehouse

    response = v2.get("/inventory")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"inventory", "total", "page", "pages", "links"}
    assert (body["total"], body["page"], body["pages"]) == (3, 1, 1)
    main, back = str(warehouse.pk), str(backroom.pk)
    assert body["inventory"] == [
        {
            "sku": "IPH13-128",
            "on_hand": 10,
            "allocated": 2,
            "available": 8,
            "average_cost": {"currency": "usd", "amount": 299.5},
            "inventory_warehouse_id": main,
            "inventory_location_id": main,
        },
        {
            "sku": "IPH13-128",
            "on_hand": 4,
            "allocated": 0,
            "available": 4,
            "average_cost": {"currency": "usd", "amount": 299.5},
            "inventory_warehouse_id": back,
            "inventory_location_id": back,
        },
        {
            "sku": "case-1",
            "on_hand": 3,
            "allocated": 0,
            "available": 3,
            "average_cost": None,  # no cost known
            "inventory_warehouse_id": back,
            "inventory_location_id": back,
        },
    ]


def test_filters(v2, merchant, warehouse, backroom):
    make_product(merchant, "IPH13-128", on_hand=10, warehouse=warehouse)
    make_product(merchant, "CASE-1", on_hand=3, warehouse=backroom)
    make_product(merchant, "MUG", on_hand=1, warehouse=backroom)

    def listed(params):
        response = v2.get("/inventory", params)
        assert response.status_code == 200, response.content
        return [(row["sku"], row["inventory_location_id"]) for row in response.json()["inventory"]]

    assert listed({"sku": "iph13-128"}) == [("IPH13-128", str(warehouse.pk))]
    assert listed({"sku": "case-1, mug,nothing"}) == [("CASE-1", str(backroom.pk)), ("MUG", str(backroom.pk))]
    in_backroom = [("CASE-1", str(backroom.pk)), ("MUG", str(backroom.pk))]
    assert listed({"inventory_warehouse_id": str(backroom.pk)}) == in_backroom
    assert listed({"inventory_location_id": warehouse.pk}) == [("IPH13-128", str(warehouse.pk))]
    both = {"inventory_warehouse_id": warehouse.pk, "inventory_location_id": backroom.pk}
    assert listed(both) == []  # a location is in one warehouse
    assert len(listed({"group_by": "warehouse"})) == len(listed({"group_by": "location"})) == 3


def test_pages_and_links(v2, merchant, warehouse):
    for n in range(5):
        make_product(merchant, f"SKU-{n}", on_hand=1, warehouse=warehouse)
    body = v2.get("/inventory", {"limit": 2, "page": 2, "sku": ""}).json()
    assert [row["sku"] for row in body["inventory"]] == ["SKU-2", "SKU-3"]
    assert (body["total"], body["page"], body["pages"]) == (5, 2, 3)
    assert body["links"] == {
        "first": {"href": "http://testserver/api/v2/inventory?limit=2&page=1&sku="},
        "last": {"href": "http://testserver/api/v2/inventory?limit=2&page=3&sku="},
        "prev": {"href": "http://testserver/api/v2/inventory?limit=2&page=1&sku="},
        "next": {"href": "http://testserver/api/v2/inventory?limit=2&page=3&sku="},
    }
    last = v2.get("/inventory", {"limit": 2, "page": 3}).json()
    assert [row["sku"] for row in last["inventory"]] == ["SKU-4"] and last["links"]["next"] == {}
    first = v2.get("/inventory").json()
    assert first["links"]["prev"] == {} and first["links"]["next"] == {} and first["pages"] == 1


def test_a_list_is_a_constant_number_of_queries(v2, merchant, warehouse):
    for n in range(3):
        make_product(merchant, f"A-{n}", on_hand=1, warehouse=warehouse, cost=Decimal("1"))
    with CaptureQueriesContext(connection) as few:
        assert len(v2.get("/inventory").json()["inventory"]) == 3
    for n in range(30):
        make_product(merchant, f"B-{n}", on_hand=1, warehouse=warehouse)
    with CaptureQueriesContext(connection) as many:
        assert len(v2.get("/inventory").json()["inventory"]) == 33
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"inventory_warehouse_id": "abc"}, "inventory_warehouse_id"),
        ({"inventory_location_id": "-1"}, "inventory_location_id"),
        ({"inventory_location_id": "99999999999999999999999"}, "inventory_location_id"),
        ({"inventory_warehouse_id": "٣"}, "inventory_warehouse_id"),  # a digit, but not an ASCII one
        ({"group_by": "store"}, "group_by"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"page": 0}, "page"),
        ({"sku": "\x00"}, "sku"),
    ],
)
def test_bad_filters_are_400s_in_v2s_shape(v2, warehouse, params, field):
    response = v2.get("/inventory", params)
    assert response.status_code == 400, response.content
    [error] = v2_errors(response)
    assert (error["error_type"], error["error_code"]) == ("validation", "invalid_field_value")
    assert error["field_name"] == field


def test_another_merchants_warehouse_is_a_400_and_shows_nothing(v2, other_v2, merchant, warehouse, other_merchant):
    make_product(merchant, "IPH13-128", on_hand=10, warehouse=warehouse)
    response = other_v2.get("/inventory", {"inventory_warehouse_id": warehouse.pk})
    assert response.status_code == 400
    assert v2_errors(response)[0]["field_name"] == "inventory_warehouse_id"
    assert other_v2.get("/inventory").json()["inventory"] == []
    assert other_v2.get("/inventory", {"sku": "IPH13-128"}).json()["total"] == 0


# --- POST: the four transaction types ---------------------------------------------------------------


def test_increment_adds_to_on_hand_and_records_a_movement(v2, phone, warehouse, backroom):
    response = post(
        v2,
        transaction_type="increment",
        inventory_location_id=str(backroom.pk),
        sku="iph13-128",
        quantity=5,
        reason="received",
        notes="PO 7",
        effective_at="2026-03-01T10:00:00Z",
        condition="sellable",
        lot=None,
    )
    assert response.status_code == 204, response.content
    assert response.content == b""
    assert (level(phone, warehouse), level(phone, backroom)) == ((10, 0), (5, 0))
    assert api_movements(phone) == [
        (5, backroom.pk, "API increment: received (PO 7), effective 2026-03-01T10:00:00+00:00")
    ]
    assert StockMovement.objects.get(product=phone).on_hand_after == 5


def test_decrement_takes_from_on_hand_but_never_below_zero(v2, phone, warehouse, backroom):
    ok = post(v2, transaction_type="decrement", inventory_location_id=str(warehouse.pk), sku="IPH13-128", quantity=4)
    assert ok.status_code == 204, ok.content
    assert level(phone, warehouse) == (6, 0)

    for location, quantity in ((warehouse, 7), (backroom, 1)):  # more than there is; nothing at all there
        refused = post(
            v2, transaction_type="decrement", inventory_location_id=str(location.pk), sku="IPH13-128", quantity=quantity
        )
        assert refused.status_code == 400, refused.content
        [error] = v2_errors(refused)
        assert (error["error_type"], error["error_code"], error["field_name"]) == (
            "business_rules",
            "invalid_field_value",
            "quantity",
        )
    assert (level(phone, warehouse), level(phone, backroom)) == ((6, 0), (0, 0))
    assert api_movements(phone) == [(-4, warehouse.pk, "API decrement")]


def test_adjust_sets_on_hand_to_the_quantity(v2, phone, warehouse, backroom):
    for location, quantity in ((warehouse, 3), (backroom, 2), (warehouse, 3), (warehouse, 0)):
        response = post(
            v2, transaction_type="adjust", inventory_location_id=str(location.pk), sku="IPH13-128", quantity=quantity
        )
        assert response.status_code == 204, response.content
    assert (level(phone, warehouse), level(phone, backroom)) == ((0, 0), (2, 0))
    # Setting the count it already has records nothing.
    assert api_movements(phone) == [
        (-7, warehouse.pk, "API adjust"),
        (2, backroom.pk, "API adjust"),
        (-3, warehouse.pk, "API adjust"),
    ]
    shed = Warehouse.objects.create(merchant=phone.merchant, name="Shed")
    assert (
        post(v2, transaction_type="adjust", inventory_location_id=str(shed.pk), sku="IPH13-128", quantity=0).status_code
        == 204
    )
    assert not StockLevel.objects.filter(warehouse=shed).exists()  # nothing there, nothing to list


def test_modify_changes_the_cost_or_moves_units_without_changing_the_total(v2, phone, warehouse, backroom):
    response = post(
        v2,
        transaction_type="modify",
        inventory_location_id=str(warehouse.pk),
        sku="IPH13-128",
        quantity=0,
        new_cost={"amount": 310.25, "currency": "USD"},
        new_condition="sellable",
    )
    assert response.status_code == 204, response.content
    assert Product.objects.get(pk=phone.pk).cost == Decimal("310.25")
    assert api_movements(phone) == []  # a cost is no movement of stock

    moved = post(
        v2,
        transaction_type="modify",
        inventory_location_id=str(warehouse.pk),
        sku="IPH13-128",
        quantity=4,
        new_inventory_location_id=str(backroom.pk),
    )
    assert moved.status_code == 204, moved.content
    assert (level(phone, warehouse), level(phone, backroom)) == ((6, 0), (4, 0))
    note = f"API modify: moved 4 from location {warehouse.pk} to location {backroom.pk}"
    assert api_movements(phone) == [(-4, warehouse.pk, note), (4, backroom.pk, note)]

    too_many = post(
        v2,
        transaction_type="modify",
        inventory_location_id=str(backroom.pk),
        sku="IPH13-128",
        quantity=5,
        new_inventory_location_id=str(warehouse.pk),
    )
    assert too_many.status_code == 400 and v2_errors(too_many)[0]["field_name"] == "quantity"
    assert (level(phone, warehouse), level(phone, backroom)) == ((6, 0), (4, 0))


def test_the_cost_of_units_added_is_averaged_into_the_skus_cost(v2, phone, warehouse, backroom):
    # 10 on hand at 300, then 10 more at 200: 250 each.
    body = {"inventory_location_id": str(backroom.pk), "sku": "IPH13-128", "cost": {"amount": 200}}
    assert post(v2, transaction_type="increment", quantity=10, **body).status_code == 204
    assert Product.objects.get(pk=phone.pk).cost == Decimal("250")
    # adjust: the units it adds (10 -> 20 at the backroom: 10) at 100 -> (20 x 250 + 10 x 100) / 30.
    assert post(v2, transaction_type="adjust", quantity=20, **{**body, "cost": {"amount": 100}}).status_code == 204
    assert Product.objects.get(pk=phone.pk).cost == Decimal("200")
    # A product without a cost takes the first one given.
    mug = make_product(phone.merchant, "MUG")
    assert post(v2, transaction_type="increment", quantity=2, **{**body, "sku": "MUG"}).status_code == 204
    assert Product.objects.get(pk=mug.pk).cost == Decimal("200")


def test_a_null_location_is_the_default_warehouse(v2, phone, warehouse):
    response = post(v2, transaction_type="increment", inventory_location_id=None, sku="IPH13-128", quantity=1)
    assert response.status_code == 204, response.content
    assert level(phone, warehouse) == (11, 0)


def test_a_merchant_without_warehouses_keeps_stock_without_one(v2, merchant):
    mug = make_product(merchant, "MUG")
    assert post(v2, transaction_type="increment", inventory_location_id=None, sku="MUG", quantity=2).status_code == 204
    assert level(mug, None) == (2, 0)
    [row] = v2.get("/inventory").json()["inventory"]
    assert (row["on_hand"], row["inventory_warehouse_id"], row["inventory_location_id"]) == (2, None, None)


# --- POST: refused ------------------------------------------------------------------------------------


def test_an_unknown_sku_is_a_400_naming_the_field(v2, phone, warehouse, other_merchant):
    theirs = make_product(other_merchant, "THEIRS", on_hand=5)
    for sku in ("NOPE", "THEIRS"):
        response = post(v2, transaction_type="increment", inventory_location_id=str(warehouse.pk), sku=sku, quantity=1)
        assert response.status_code == 400, response.content
        [error] = v2_errors(response)
        assert error["field_name"] == "sku" and sku in error["message"]
    assert api_movements(phone) == api_movements(theirs) == []


def test_another_merchants_location_is_a_400_and_changes_nothing(other_v2, phone, warehouse, other_merchant):
    theirs = make_product(other_merchant, "IPH13-128")
    response = post(
        other_v2, transaction_type="increment", inventory_location_id=str(warehouse.pk), sku="IPH13-128", quantity=3
    )
    assert response.status_code == 400
    assert v2_errors(response)[0]["field_name"] == "inventory_location_id"
    assert level(phone, warehouse) == (10, 0) and not StockLevel.objects.filter(product=theirs).exists()
    assert StockMovement.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"transaction_type": "steal"}, "transaction_type"),
        ({"transaction_type": None}, "transaction_type"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": "lots"}, "quantity"),
        ({"quantity": 10**7}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"sku": ""}, "sku"),
        ({"sku": None}, "sku"),
        ({"sku": "x" * 101}, "sku"),
        ({"sku": ["A"]}, "sku"),
        ({"inventory_location_id": "main"}, "inventory_location_id"),
        ({"inventory_location_id": "999999"}, "inventory_location_id"),
        ({"inventory_location_id": {}}, "inventory_location_id"),
        ({"condition": "damaged"}, "condition"),
        ({"condition": "broken"}, "condition"),
        ({"cost": {"amount": -1}}, "cost.amount"),
        ({"cost": {"amount": 10**12}}, "cost.amount"),
        ({"cost": {"amount": 5, "currency": "EUR"}}, "cost.currency"),
        ({"cost": 5}, "cost"),
        ({"effective_at": "yesterday"}, "effective_at"),
        ({"effective_at": "0000-01-01T00:00:00Z"}, "effective_at"),
        ({"notes": "n" * 301}, "notes"),
        ({"reason": "\x00"}, "reason"),
        ({"new_cost": {"amount": 1}}, "new_cost"),
        ({"new_inventory_location_id": "1"}, "new_inventory_location_id"),
    ],
)
def test_bad_input_is_a_400_with_the_field_at_fault(v2, phone, warehouse, change, field):
    body = {"transaction_type": "increment", "inventory_location_id": str(warehouse.pk), "sku": "IPH13-128"}
    response = v2.post("/inventory", {**body, "quantity": 1, **change})
    assert response.status_code == 400, response.content
    assert field in {error.get("field_name") for error in v2_errors(response)}, response.json()
    assert level(phone, warehouse) == (10, 0) and StockMovement.objects.count() == 0


def test_missing_fields_are_field_value_required(v2, warehouse):
    response = v2.post("/inventory", {})
    assert response.status_code == 400
    errors = v2_errors(response)
    assert {e["field_name"] for e in errors} == {"transaction_type", "inventory_location_id", "sku", "quantity"}
    assert {e["error_code"] for e in errors} == {"field_value_required"}


def test_modify_needs_something_to_modify(v2, phone, warehouse):
    body = {"transaction_type": "modify", "inventory_location_id": str(warehouse.pk), "sku": "IPH13-128", "quantity": 1}
    assert v2_errors(v2.post("/inventory", body))[0]["field_name"] == "transaction_type"
    same = v2.post("/inventory", {**body, "new_inventory_location_id": str(warehouse.pk)})
    assert same.status_code == 400 and v2_errors(same)[0]["field_name"] == "new_inventory_location_id"
    damaged = v2.post("/inventory", {**body, "new_cost": {"amount": 1}, "new_condition": "damaged"})
    assert damaged.status_code == 400 and v2_errors(damaged)[0]["field_name"] == "new_condition"
    assert Product.objects.get(pk=phone.pk).cost == Decimal("300")


def test_on_hand_has_a_ceiling(v2, phone, warehouse):
    body = {"inventory_location_id": str(warehouse.pk), "sku": "IPH13-128"}
    assert post(v2, transaction_type="adjust", quantity=1_000_000, **body).status_code == 204
    StockLevel.objects.filter(product=phone).update(on_hand=999_999_999)  # as if counted up over years
    refused = post(v2, transaction_type="increment", quantity=2, **body)
    assert refused.status_code == 400 and v2_errors(refused)[0]["field_name"] == "quantity"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "null",
        "[]",
        "42",
        '"text"',
        "{",
        '{"quantity": NaN}',
        '{"quantity": 1e400}',
        '{"sku": "\\ud800"}',
        '{"transaction_type": "increment", "sku": "IPH13-128", "quantity": 99999999999999999999999, '
        '"inventory_location_id": "1"}',
        '[{"transaction_type": "increment"}]',
    ],
)
def test_nasty_bodies_are_never_server_errors(v2, phone, raw):
    response = v2.post("/inventory", raw=raw)
    assert 400 <= response.status_code < 500, response.content
    v2_errors(response)


# --- who may call ---------------------------------------------------------------------------------


def test_no_header_or_a_wrong_one_is_a_401_in_v2s_shape(client, api_credentials, merchant, phone, warehouse):
    key, secret = api_credentials
    missing = client.get("/api/v2/inventory")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("API-Key")
    [error] = v2_errors(missing)
    assert (error["error_type"], error["error_code"]) == ("security", "unauthorized")
    assert "X-Rate-Limit-Limit" not in missing
    for value in (f"{key}:wrong", f"nobody:{secret}", key, f"{key}:", f":{secret}", "", f"{key}\x00:{secret}", "é:è"):
        response = client.get("/api/v2/inventory", HTTP_API_KEY=value)
        assert response.status_code == 401, value
        v2_errors(response)
    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    assert client.get("/api/v2/inventory", HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 401  # v1's way in
    wrong = ApiV2(Client(), key, "wrong")
    body = {"transaction_type": "adjust", "sku": "IPH13-128", "quantity": 0, "inventory_location_id": None}
    assert wrong.post("/inventory", body).status_code == 401
    api_key_revoke(merchant=merchant, key_id=merchant.api_keys.get().pk)
    assert ApiV2(Client(), key, secret).get("/inventory").status_code == 401
    assert level(phone, warehouse) == (10, 0)


def test_the_header_name_is_any_case_and_the_quota_is_v1s(v2, api, settings, merchant, warehouse):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    key, secret = v2.headers["HTTP_API_KEY"].split(":")
    with time_machine.travel(datetime(2026, 5, 1, 12, 0, 15, tzinfo=UTC), tick=False):
        assert api.get("/products").status_code == 200  # v1 and v2 draw from one quota per key
        first = v2.get("/inventory")
        assert first.status_code == 200 and first["X-Rate-Limit-Remaining"] == "1"
        lower = Client().get("/api/v2/inventory", headers={"api-key": f"{key}:{secret}"})
        assert lower.status_code == 200 and lower["X-Rate-Limit-Remaining"] == "0"
        refused = v2.post("/inventory", {"transaction_type": "increment"})
        assert refused.status_code == 429 and refused["Retry-After"] == "45"
        assert refused["X-Rate-Limit-Reset"] == "45"
        [error] = v2_errors(refused)
        assert (error["error_type"], error["error_code"]) == ("system", "rate_limit_exceeded")
        assert api.get("/products").status_code == 429


def test_unknown_paths_and_methods_answer_v2_json(v2, client):
    assert v2_errors(client.get("/api/v2/nothing"))[0]["error_code"] == "invalid_identifier"
    assert client.get("/api/v2/inventory_warehouses").status_code == 404
    response = v2.client.put("/api/v2/inventory", "{}", content_type="application/json", **v2.headers)
    assert response.status_code == 405
    v2_errors(response)
