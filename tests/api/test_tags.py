"""Tags in the API: listtags / createtag, addtag / removetag, listbytag, tagIds on orders and createorder(s).

Shapes field for field as ShipStation's; every call scoped to the key's merchant (another merchant's
tag or order is a 400 or a 404 and changes nothing); adding and removing are idempotent.
"""

import base64
import copy
import json

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, Tag
from orders.services.shipments import shipment_create
from orders.services.tags import order_tag_add, tag_create
from tests.api.conftest import ORDER_BODY, channel_order

pytestmark = pytest.mark.django_db

TAG_FIELDS = {"tagId", "name", "color"}
SUCCESS = {"success", "message"}
ENVELOPE = {"orders", "total", "page", "pages"}


def body(**changes) -> dict:
    data = copy.deepcopy(ORDER_BODY)
    data.update(changes)
    return data


def tag_ids(order: Order) -> list[int]:
    return sorted(Order.objects.get(pk=order.pk).tags.values_list("pk", flat=True))


@pytest.fixture
def red(merchant):
    return tag_create(merchant=merchant, name="Canada", color="#ff0000")


@pytest.fixture
def yellow(merchant):
    return tag_create(merchant=merchant, name="amazon prime", color="#FFFF00")


@pytest.fixture
def foreign_tag(other_merchant):
    return tag_create(merchant=other_merchant, name="Theirs", color="#00FF00")


@pytest.fixture
def foreign_order(other_merchant):
    from tests.factories import StoreFactory

    return channel_order(StoreFactory(merchant=other_merchant), "THEIRS")


# --- /accounts/listtags and /accounts/createtag ----------------------------------------------------


def test_listtags_is_a_bare_array_of_the_merchants_tags_by_name(api, red, yellow, foreign_tag):
    response = api.get("/accounts/listtags")
    assert response.status_code == 200
    assert response.json() == [
        {"tagId": yellow.pk, "name": "amazon prime", "color": "#FFFF00"},
        {"tagId": red.pk, "name": "Canada", "color": "#FF0000"},
    ]
    assert all(set(tag) == TAG_FIELDS for tag in response.json())
    assert api.get("/Accounts/ListTags").json() == response.json()  # paths are case-insensitive


def test_listtags_of_a_merchant_without_tags_is_empty(api):
    assert api.get("/accounts/listtags").json() == []


def test_createtag_returns_the_tag_and_lists_it(api, merchant):
    response = api.post("/accounts/createtag", {"name": "  Fragile  ", "color": "#00aa55"})
    assert response.status_code == 200, response.content
    created = response.json()
    assert set(created) == TAG_FIELDS
    assert created["name"] == "Fragile" and created["color"] == "#00AA55"
    assert Tag.objects.get(pk=created["tagId"]).merchant == merchant
    assert api.get("/accounts/listtags").json() == [created]
    grey = api.post("/accounts/createtag", {"name": "No colour"}).json()
    assert grey["color"] == "#9E9E9E"


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"name": "canada", "color": "#000000"}, "name"),  # the names are unique whatever their case
        ({"name": "CANADA"}, "name"),
        ({"name": "", "color": "#000000"}, "name"),
        ({"name": "   ", "color": "#000000"}, "name"),
        ({"color": "#000000"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Blue", "color": "blue"}, "color"),
        ({"name": "Blue", "color": "#12345"}, "color"),
        ({"name": "Blue", "color": "#1234567"}, "color"),
        ({"name": "Blue", "color": "#GGGGGG"}, "color"),
        ({"name": "Blue", "color": 255}, "color"),
        ({"name": ["Blue"]}, "name"),
    ],
)
def test_createtag_refuses_duplicates_and_bad_values_with_model_state(api, red, sent, field):
    response = api.post("/accounts/createtag", sent)
    assert response.status_code == 400, response.content
    assert field in response.json()["ModelState"] and response.json()["Message"]
    assert Tag.objects.count() == 1


def test_the_same_tag_name_is_fine_for_another_merchant(api, other_api, red):
    response = other_api.post("/accounts/createtag", {"name": "Canada", "color": "#FF0000"})
    assert response.status_code == 200
    assert other_api.get("/accounts/listtags").json() == [response.json()]
    assert [t["tagId"] for t in api.get("/accounts/listtags").json()] == [red.pk]


# --- /orders/addtag and /orders/removetag ----------------------------------------------------------


def test_addtag_and_removetag_answer_as_shipstation_and_are_idempotent(api, store, red, yellow):
    order = channel_order(store, "T1")
    modified = api.get(f"/orders/{order.pk}").json()["modifyDate"]

    for _ in range(2):  # the second time changes nothing and still succeeds
        response = api.post("/orders/addtag", {"orderId": order.pk, "tagId": red.pk})
        assert response.status_code == 200, response.content
        assert response.json() == {"success": True, "message": "Tag added successfully."}
    assert api.post("/Orders/AddTag", {"orderId": order.pk, "tagId": yellow.pk}).status_code == 200
    assert tag_ids(order) == sorted([red.pk, yellow.pk])
    read = api.get(f"/orders/{order.pk}").json()
    assert read["tagIds"] == sorted([red.pk, yellow.pk])
    assert read["modifyDate"] > modified  # a tag is a change clients syncing on modifyDate see

    for _ in range(2):
        response = api.post("/orders/removetag", {"orderId": order.pk, "tagId": red.pk})
        assert response.status_code == 200, response.content
        assert response.json() == {"success": True, "message": "Tag removed successfully."}
    assert tag_ids(order) == [yellow.pk]
    api.post("/orders/removetag", {"orderId": order.pk, "tagId": yellow.pk})
    assert api.get(f"/orders/{order.pk}").json()["tagIds"] is None  # none: null, as ShipStation


def test_tags_go_on_orders_in_any_status(api, store, red, warehouse):
    order = channel_order(store, "S1")
    shipment_create(order=order, carrier_code="ups", tracking_number="1Z1", notify_channel=False)
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert api.post("/orders/addtag", {"orderId": order.pk, "tagId": red.pk}).status_code == 200
    assert tag_ids(order) == [red.pk]


def test_permission_matrix_nothing_crosses_merchants(api, other_api, store, red, foreign_tag, foreign_order):
    mine = channel_order(store, "MINE")
    order_tag_add(merchant=foreign_tag.merchant, order_id=foreign_order.pk, tag_id=foreign_tag.pk)

    for path in ("/orders/addtag", "/orders/removetag"):
        # My order, their tag: 400 naming tagId.
        response = api.post(path, {"orderId": mine.pk, "tagId": foreign_tag.pk})
        assert response.status_code == 400, response.content
        assert "tagId" in response.json()["ModelState"]
        # Their order, my tag or theirs: their order is not found.
        assert api.post(path, {"orderId": foreign_order.pk, "tagId": red.pk}).status_code == 404
        assert api.post(path, {"orderId": foreign_order.pk, "tagId": foreign_tag.pk}).status_code == 404
        # Their key on my order with my tag: not found either.
        assert other_api.post(path, {"orderId": mine.pk, "tagId": red.pk}).status_code == 404
        # Unknown ids.
        assert api.post(path, {"orderId": 987654, "tagId": red.pk}).status_code == 404
        response = api.post(path, {"orderId": mine.pk, "tagId": 987654})
        assert response.status_code == 400 and "tagId" in response.json()["ModelState"]

    assert tag_ids(mine) == [] and tag_ids(foreign_order) == [foreign_tag.pk]
    assert [t["name"] for t in other_api.get("/accounts/listtags").json()] == ["Theirs"]
    # Their key does not see my tag's orders, nor may it list by my tag.
    assert other_api.get("/orders/listbytag", {"tagId": red.pk}).status_code == 400
    assert api.get("/orders/listbytag", {"tagId": foreign_tag.pk}).status_code == 400
    assert api.get("/orders", {"tagId": foreign_tag.pk}).status_code == 400


@pytest.mark.parametrize("path", ["/orders/addtag", "/orders/removetag", "/accounts/createtag"])
@pytest.mark.parametrize(
    "raw",
    [
        "",
        "null",
        "[]",
        "{",
        '{"orderId": "1; DROP TABLE", "tagId": 1}',
        '{"orderId": 1e400, "tagId": 1}',
        '{"orderId": 1, "tagId": 99999999999999999999999999}',
        '{"orderId": -1, "tagId": -1}',
        '{"orderId": 1, "tagId": [1]}',
        '{"name": "\\u0000", "color": "#000000"}',
        '{"name": "\\ud800"}',
        '{"name": {}, "color": null}',
    ],
)
def test_nasty_tag_bodies_are_never_server_errors(api, path, raw):
    response = api.post(path, raw=raw)
    assert 400 <= response.status_code < 500, (path, raw, response.content)
    assert "Message" in response.json()


def test_without_a_key_the_tag_calls_are_401(client):
    from tests.api.conftest import Api

    anonymous = Api(client, None, None)
    assert anonymous.get("/accounts/listtags").status_code == 401
    assert anonymous.post("/accounts/createtag", {"name": "x"}).status_code == 401
    assert anonymous.post("/orders/addtag", {"orderId": 1, "tagId": 1}).status_code == 401
    assert anonymous.get("/orders/listbytag", {"tagId": 1}).status_code == 401
    assert Tag.objects.count() == 0


# --- /orders/listbytag and GET /orders?tagId= ------------------------------------------------------


@pytest.fixture
def tagged(store, red, yellow):
    """Seven orders: five red (one of them on hold), two yellow, one red and yellow."""
    orders = [channel_order(store, f"L{n}") for n in range(7)]
    for order in orders[:5]:
        order_tag_add(merchant=red.merchant, order_id=order.pk, tag_id=red.pk)
    for order in orders[4:]:
        order_tag_add(merchant=red.merchant, order_id=order.pk, tag_id=yellow.pk)
    Order.objects.filter(pk=orders[1].pk).update(status="on_hold")
    return orders


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [o["orderId"] for o in response.json()["orders"]]


def test_listbytag_filters_by_tag_and_status_in_the_orders_envelope(api, tagged, red, yellow):
    everything = api.get("/orders/listbytag", {"tagId": red.pk})
    assert set(everything.json()) == ENVELOPE
    assert ids(everything) == [o.pk for o in tagged[:5]]
    listed = api.get("/orders", {"pageSize": 500}).json()["orders"]
    assert everything.json()["orders"][0] == next(o for o in listed if o["orderId"] == tagged[0].pk)
    assert ids(api.get("/orders/listbytag", {"tagId": yellow.pk})) == [o.pk for o in tagged[4:]]
    assert ids(api.get("/orders/listbytag", {"tagId": red.pk, "orderStatus": "on_hold"})) == [tagged[1].pk]
    waiting = api.get("/orders/listbytag", {"tagId": red.pk, "orderStatus": "awaiting_shipment"})
    assert ids(waiting) == [o.pk for o in tagged[:5] if o != tagged[1]]
    assert ids(api.get("/orders/listbytag", {"tagId": red.pk, "orderStatus": "shipped"})) == []
    assert ids(api.get("/orders/listbytag", {"tagId": red.pk, "orderStatus": "pending_fulfillment"})) == []
    both = next(o for o in api.get("/orders/listbytag", {"tagId": yellow.pk}).json()["orders"])
    assert both["tagIds"] == sorted([red.pk, yellow.pk])


def test_listbytag_pages(api, tagged, red):
    first = api.get("/orders/listbytag", {"tagId": red.pk, "pageSize": 2}).json()
    assert (first["total"], first["page"], first["pages"], len(first["orders"])) == (5, 1, 3, 2)
    last = api.get("/orders/listbytag", {"tagId": red.pk, "pageSize": 2, "page": 3}).json()
    assert (last["page"], [o["orderId"] for o in last["orders"]]) == (3, [tagged[4].pk])
    beyond = api.get("/orders/listbytag", {"tagId": red.pk, "pageSize": 2, "page": 9}).json()
    assert beyond["orders"] == [] and beyond["total"] == 5


def test_get_orders_takes_tag_id_too(api, tagged, yellow):
    assert ids(api.get("/orders", {"tagId": yellow.pk})) == [o.pk for o in tagged[4:]]
    assert len(ids(api.get("/orders", {"tagId": ""}))) == 7  # empty means not given


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "tagId"),
        ({"tagId": ""}, "tagId"),
        ({"tagId": "red"}, "tagId"),
        ({"tagId": "0"}, "tagId"),
        ({"tagId": "987654"}, "tagId"),
        ({"tagId": "99999999999999999999999"}, "tagId"),
        ({"tagId": "1", "orderStatus": "lost"}, "orderStatus"),
        ({"tagId": "1", "pageSize": "501"}, "pageSize"),
        ({"tagId": "1", "page": "0"}, "page"),
    ],
)
def test_listbytag_bad_queries_are_400_with_model_state(api, params, field):
    response = api.get("/orders/listbytag", params)
    assert response.status_code == 400, response.content
    assert field in response.json()["ModelState"]


def test_the_tag_lists_are_a_constant_number_of_queries(api, store, red, yellow, warehouse):
    def count(path: str, params: dict) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(path, params).status_code == 200
        return len(ctx.captured_queries)

    def tag(order, *tags):
        for t in tags:
            order_tag_add(merchant=red.merchant, order_id=order.pk, tag_id=t.pk)

    tag(channel_order(store, "Q0"), red)
    before = {
        "list": count("/orders", {"pageSize": 500}),
        "bytag": count("/orders/listbytag", {"tagId": red.pk, "pageSize": 500}),
        "tags": count("/accounts/listtags", {}),
    }
    for n in range(1, 21):
        order = channel_order(store, f"Q{n}", ("A", 1, "1"), ("B", 2, "2"))
        tag(order, red, yellow)
        if n % 2:
            shipment_create(order=order, carrier_code="ups", tracking_number=f"1Z{n}", notify_channel=False)
    for n in range(10):
        tag_create(merchant=red.merchant, name=f"Tag {n}", color="#123456")
    assert count("/orders", {"pageSize": 500}) == before["list"]
    assert count("/orders/listbytag", {"tagId": red.pk, "pageSize": 500}) == before["bytag"]
    assert count("/accounts/listtags", {}) == before["tags"]


# --- tagIds on createorder / createorders ----------------------------------------------------------


def test_createorder_sets_the_tags_and_round_trips_them(api, manual_store, red, yellow):
    created = api.post("/orders/createorder", body(tagIds=[yellow.pk, red.pk, red.pk]))
    assert created.status_code == 200, created.content
    order = Order.objects.get(pk=created.json()["orderId"])
    assert created.json()["tagIds"] == sorted([red.pk, yellow.pk]) == tag_ids(order)

    again = api.post("/orders/createorder", created.json())  # what GET returns, sent back
    assert again.status_code == 200 and again.json()["tagIds"] == created.json()["tagIds"]

    for absent in (body(tagIds=None), {k: v for k, v in body().items() if k != "tagIds"}):
        kept = api.post("/orders/createorder", absent).json()  # null or absent: the tags stay
        assert kept["tagIds"] == sorted([red.pk, yellow.pk])

    assert api.post("/orders/createorder", body(tagIds=[red.pk])).json()["tagIds"] == [red.pk]
    assert api.post("/orders/createorder", body(tagIds=[])).json()["tagIds"] is None  # [] clears
    assert Order.objects.count() == 1


@pytest.mark.parametrize("which", ["unknown", "foreign", "bad"])
def test_createorder_with_tags_not_the_merchants_is_400_and_saves_nothing(api, manual_store, red, foreign_tag, which):
    sent = {"unknown": [red.pk, 987654], "foreign": [foreign_tag.pk], "bad": [red.pk, "red"]}[which]
    response = api.post("/orders/createorder", body(tagIds=sent))
    assert response.status_code == 400, response.content
    assert any(key.startswith("tagIds") for key in response.json()["ModelState"])
    assert Order.objects.count() == 0


def test_createorder_on_a_channel_order_takes_tags_as_the_app_owns_them(api, bm_store, red, foreign_tag):
    order = channel_order(bm_store, "BM1")
    sent = api.get(f"/orders/{order.pk}").json()
    sent.update(orderNumber="HACKED", tagIds=[red.pk])
    response = api.post("/orders/createorder", sent)
    assert response.status_code == 200, response.content
    assert response.json()["tagIds"] == [red.pk] and response.json()["orderNumber"] == "NBM1"

    refused = api.post("/orders/createorder", {**sent, "tagIds": [foreign_tag.pk]})
    assert refused.status_code == 400 and "tagIds" in refused.json()["ModelState"]
    assert tag_ids(order) == [red.pk]


def test_createorders_reports_unknown_tags_per_order(api, manual_store, red, foreign_tag):
    response = api.post(
        "/orders/createorders",
        [
            body(orderKey="good", orderNumber="GOOD", tagIds=[red.pk]),
            body(orderKey="bad", orderNumber="BAD", tagIds=[foreign_tag.pk]),
        ],
    )
    assert response.status_code == 200, response.content
    good, bad = response.json()["results"]
    assert response.json()["hasErrors"] is True
    assert good["success"] is True and tag_ids(Order.objects.get(pk=good["orderId"])) == [red.pk]
    assert bad["success"] is False and bad["orderId"] is None and "tag" in bad["errorMessage"].lower()
    assert list(Order.objects.values_list("order_number", flat=True)) == ["GOOD"]


# --- the schema ------------------------------------------------------------------------------------


def test_every_tag_endpoint_is_in_the_schema(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    assert set(paths["/api/v1/accounts/listtags"]) == {"get"}
    assert set(paths["/api/v1/accounts/createtag"]) == {"post"}
    assert set(paths["/api/v1/orders/addtag"]) == set(paths["/api/v1/orders/removetag"]) == {"post"}
    listing = paths["/api/v1/orders/listbytag"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"orderStatus", "tagId", "page", "pageSize"}
    assert "Ours" in paths["/api/v1/accounts/createtag"]["post"]["description"]
    assert set(schema["components"]["schemas"]["Tag"]["properties"]) == TAG_FIELDS
    assert "tagId" in {p["name"] for p in paths["/api/v1/orders"]["get"]["parameters"]}


# --- an independently written client (PyPI) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_pypi_client_lists_tags_tags_orders_and_filters_by_tag(live_server, api_credentials, store, merchant):
    from shipstation_api_wrapper.api import ShipStationClient
    from shipstation_api_wrapper.filter import ShipStationOrderFilter

    key, secret = api_credentials
    ss = ShipStationClient(base64.b64encode(f"{key}:{secret}".encode()).decode(), base_url=f"{live_server.url}/api/v1")
    tag = tag_create(merchant=merchant, name="VIP", color="#800080")
    order, other = channel_order(store, "C1"), channel_order(store, "C2")

    assert ss.tags.list().json() == [{"tagId": tag.pk, "name": "VIP", "color": "#800080"}]
    tagged = ss.orders.tag(order.pk, tag.pk)
    assert tagged.status_code == 200 and tagged.json()["success"] is True
    wanted = ShipStationOrderFilter()
    wanted.add_tag_filter(tag.pk)  # it sends tagId to GET /orders
    assert [o["orderId"] for o in ss.orders.list_with_filter(wanted).json()["orders"]] == [order.pk]
    assert json.loads(ss.orders.get_by_id(other.pk).text)["tagIds"] is None
