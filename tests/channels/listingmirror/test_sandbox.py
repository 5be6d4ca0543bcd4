"""The ShipStation Custom Store (Listing Mirror) sandbox, driven over real HTTP on 127.0.0.1 with plain ``requests``.

No database: these tests only talk to the sandbox.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from channels.listingmirror.sandbox import AUTH_FAILED, CustomStoreSandbox
from channels.listingmirror.sandbox_data import CUSTOM_STATUSES, ELEMENT_PATHS, STATUSES, parse_window_date

USER, PASSWORD = "lm-user", "s3cret:with-colon"
ROOT = Path(__file__).resolve().parents[3]
WHOLE = {"start_date": "01/01/2000 00:00", "end_date": "12/31/2099 23:59"}
FAR = datetime(2035, 1, 2, 10, 15, 42, tzinfo=UTC)  # far from the generated orders (last three days)


@pytest.fixture
def sandbox():
    with CustomStoreSandbox(username=USER, password=PASSWORD, seed=7, orders=20, timeout_seconds=0.6) as sb:
        yield sb


@pytest.fixture
def http():
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    yield session
    session.close()


def export(http, sandbox, **params):
    return http.get(sandbox.endpoint_url, params={"action": "export", **params}, timeout=5)


def parse(response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Orders"
    return root


def ids(root):
    return [o.findtext("OrderID") for o in root.findall("Order")]


def ship_notice(order, items=(), tracking="9400100000000000000001", carrier="USPS", service="USPS Priority Mail"):
    """A ShipNotice as ShipStation sends it; items: (LineItemID or None, SKU, quantity)."""
    lines = "".join(
        "<Item>"
        + (f"<LineItemID>{line_id}</LineItemID>" if line_id else "")
        + f"<SKU>{sku}</SKU><Name>x</Name><Quantity>{quantity}</Quantity></Item>"
        for line_id, sku, quantity in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<ShipNotice>'
        f"<OrderNumber>{order['order_number']}</OrderNumber><OrderID>{order['order_id']}</OrderID>"
        f"<CustomerCode>{order['customer_code']}</CustomerCode><LabelCreateDate>03/05/2035 14:11</LabelCreateDate>"
        f"<ShipDate>03/05/2035</ShipDate><Carrier>{carrier}</Carrier><Service>{service}</Service>"
        f"<TrackingNumber>{tracking}</TrackingNumber><ShippingCost>4.25</ShippingCost>"
        f"<NotifyCustomer>false</NotifyCustomer><Items>{lines}</Items></ShipNotice>"
    )


def notify(http, sandbox, order, body, tracking="9400100000000000000001", carrier="USPS", service="Priority"):
    params = {"action": "shipnotify", "order_number": order["order_number"], "carrier": carrier, "service": service,
              "tracking_number": tracking}  # fmt: skip
    headers = {"Content-Type": "application/xml; charset=utf-8"}
    return http.post(sandbox.endpoint_url, params=params, data=body, headers=headers, timeout=5)


def two_line_order(sandbox, **overrides):
    return sandbox.add_order(items=[{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}],
                             adjustment=True, last_modified=datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
                             **overrides)  # fmt: skip


# ------------------------------------------------------------------------------------------------ auth
def test_missing_or_wrong_credentials_are_401(sandbox, http):
    assert export(http, sandbox, **WHOLE).status_code == 200
    for auth in (None, (USER, "wrong"), ("other", PASSWORD), (USER, PASSWORD.upper())):
        response = requests.get(sandbox.endpoint_url, params={"action": "export", **WHOLE}, auth=auth, timeout=5)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="Listing Mirror"'
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.text.strip() == AUTH_FAILED
    garbage = requests.get(sandbox.endpoint_url, params={"action": "export", **WHOLE},
                           headers={"Authorization": "Basic !!!not-base64"}, timeout=5)  # fmt: skip
    assert garbage.status_code == 401
    # ShipStation's SS-UserName/SS-Password query parameters are refused unless allowed
    query_auth = {"action": "export", **WHOLE, "SS-UserName": USER, "SS-Password": PASSWORD}
    assert requests.get(sandbox.endpoint_url, params=query_auth, timeout=5).status_code == 401
    sandbox.allow_query_auth = True
    assert requests.get(sandbox.endpoint_url, params=query_auth, timeout=5).status_code == 200


def test_generated_credentials_are_stable_per_seed():
    one, two = CustomStoreSandbox(seed=3, orders=0), CustomStoreSandbox(seed=3, orders=0)
    assert (one.username, one.password) == (two.username, two.password)
    assert one.username.startswith("lm-ss-") and len(one.password) == 24
    assert CustomStoreSandbox(seed=3, orders=0, token="tok").password == "tok"


def test_unknown_action_and_path(sandbox, http):
    response = http.get(sandbox.endpoint_url, params={"action": "list"}, timeout=5)
    assert response.status_code == 400 and "action" in response.text
    assert http.get(sandbox.endpoint_url, timeout=5).status_code == 400
    assert http.get(sandbox.base_url + "/other", timeout=5).status_code == 404
    assert export(http, sandbox, **WHOLE).status_code == 200
    assert http.get(sandbox.endpoint_url + "/", params={"action": "EXPORT", **WHOLE}, timeout=5).status_code == 200


# ------------------------------------------------------------------------------------------- export window / paging
def test_export_returns_every_status_in_the_window(sandbox, http):
    root = parse(export(http, sandbox, **WHOLE))
    assert root.attrib == {"pages": "1"}
    statuses = {o.findtext("OrderStatus") for o in root.findall("Order")}
    assert set(STATUSES) <= statuses
    assert len(statuses - set(STATUSES)) == 1 and (statuses - set(STATUSES)) <= set(CUSTOM_STATUSES)
    assert len(ids(root)) == 20
    modified = [parse_window_date(o.findtext("LastModified"))[0].replace(second=0) for o in root.findall("Order")]
    assert modified == sorted(modified)  # oldest change first


def test_paging_page_two_and_beyond_range(http):
    with CustomStoreSandbox(username=USER, password=PASSWORD, seed=2, orders=12, page_size=5) as sandbox:
        pages = [parse(export(http, sandbox, **WHOLE, page=n)) for n in (1, 2, 3)]
        assert [p.attrib["pages"] for p in pages] == ["3", "3", "3"]
        assert [len(ids(p)) for p in pages] == [5, 5, 2]
        everything = [i for p in pages for i in ids(p)]
        assert len(set(everything)) == 12
        assert everything == [o["order_id"] for o in sandbox.orders()]
        assert ids(parse(export(http, sandbox, **WHOLE))) == ids(pages[0])  # page defaults to 1
        beyond = export(http, sandbox, **WHOLE, page=4)
        assert parse(beyond).attrib == {"pages": "3"} and len(parse(beyond)) == 0
        assert re.search(rb'<Orders pages="3"\s*/>', beyond.content)
        for bad in ("0", "-1", "two", "1.5"):
            response = export(http, sandbox, **WHOLE, page=bad)
            assert response.status_code == 400 and "page" in response.text
        empty = parse(export(http, sandbox, start_date="01/01/2001 00:00", end_date="01/01/2001 23:59"))
        assert empty.attrib == {"pages": "0"} and len(empty) == 0


def test_end_minute_is_inclusive(sandbox, http):
    order = sandbox.add_order(last_modified=FAR)  # 10:15:42

    def found(start, end):
        return order["order_id"] in ids(parse(export(http, sandbox, start_date=start, end_date=end)))

    assert found("01/02/2035 10:00", "01/02/2035 10:15")
    assert not found("01/02/2035 10:00", "01/02/2035 10:14")
    assert found("01/02/2035 10:15", "01/02/2035 10:15")
    assert not found("01/02/2035 10:16", "01/02/2035 10:30")
    assert found("01/02/2035 10:00", "01/02/2035 10:15:42")  # with seconds: that second is inclusive
    assert not found("01/02/2035 10:00", "01/02/2035 10:15:41")
    assert not found("01/02/2035 10:20", "01/02/2035 10:00")  # reversed window: empty, not an error


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("01/02/2035 22:15", "01/02/2035 22:16"),
        ("1/2/2035 22:15", "1/2/2035 22:16"),
        ("01/02/2035 22:15:00", "01/02/2035 22:16:59"),
        ("01/02/2035 10:15 PM", "01/02/2035 10:16 PM"),
        ("01/02/2035 10:15PM", "01/02/2035 10:16pm"),
        ("01/02/2035  22:15", "01/02/2035T22:16"),
        ("2035-01-02 22:15:00", "2035-01-02 22:16:00"),
        ("2035-01-02T22:15:00Z", "2035-01-02T22:16:00+00:00"),
        ("01/02/2035 22:15 UTC", "01/02/2035 23:16 +01:00"),
        ("01022035 2215", "01022035-2216"),
        ("01/02/2035", "01/02/2035"),
    ],
)
def test_date_format_variants(sandbox, http, start, end):
    order = sandbox.add_order(last_modified=FAR + timedelta(hours=12))  # 22:15:42
    assert order["order_id"] in ids(parse(export(http, sandbox, start_date=start, end_date=end)))


def test_url_encoded_windows(sandbox, http):
    order = sandbox.add_order(last_modified=FAR)
    for query in ("start_date=01%2F02%2F2035%2010%3A15&end_date=01%2F02%2F2035%2010%3A15",
                  "start_date=01/02/2035+10:15&end_date=01/02/2035+10:15",
                  "start_date=01/02/2035%2010:15&end_date=01/02/2035%2010:15&page=1"):  # fmt: skip
        response = http.get(f"{sandbox.endpoint_url}?action=export&{query}", timeout=5)
        assert ids(parse(response)) == [order["order_id"]]
    recorded = sandbox.requests[-1]
    assert recorded.query["start_date"] == "01/02/2035 10:15"
    assert recorded.raw_query.endswith("page=1")


@pytest.mark.parametrize("bad", ["yesterday", "13/45/2035 10:00", "01/02/2035 13:00 PM", "01/02/2035 25:00",
                                 "2035-01-02 10", "01/02/35 10:00", "%s", " "])  # fmt: skip
def test_garbage_dates_are_400(sandbox, http, bad):
    response = export(http, sandbox, start_date=bad, end_date="01/02/2035 10:00")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "start_date" in response.text
    missing = http.get(sandbox.endpoint_url, params={"action": "export", "start_date": "01/02/2035 10:00"}, timeout=5)
    assert missing.status_code == 400 and missing.text.strip() == "Missing required param: end_date"


# ------------------------------------------------------------------------------------------------ order content
def _paths(element, prefix=""):
    found = set()
    for child in element:
        path = f"{prefix}{child.tag}"
        found.add(path)
        found |= _paths(child, path + "/")
    return found


def test_full_order_carries_every_element_of_the_reference_table(sandbox, http):
    order = sandbox.add_order(full=True, last_modified=FAR)
    root = parse(export(http, sandbox, start_date="01/02/2035 10:15", end_date="01/02/2035 10:15"))
    (element,) = root.findall("Order")
    paths = _paths(element)
    missing = [p for p in ELEMENT_PATHS if p not in paths]
    assert not missing
    assert element.findtext("OrderID") == order["order_id"]
    assert element.findtext("CustomField2") == order["custom_field2"] == order["custom_field2"].strip()
    assert element.findtext("Gift") == "true" and element.findtext("GiftMessage")
    items = element.findall("Items/Item")
    adjustments = [i for i in items if i.findtext("Adjustment") == "true"]
    assert len(adjustments) == 1 and adjustments[0].findtext("UnitPrice").startswith("-")
    assert any(i.find("Options/Option") is not None for i in items)
    assert any(i.find("Options") is None and i.findtext("Adjustment") != "true" for i in items)
    assert element.find("StoreCode") is not None and element.find("Items/Item/CostOfGoods") is not None


def test_generated_batch_has_real_world_variety(sandbox, http):
    root = parse(export(http, sandbox, **WHOLE))
    orders = root.findall("Order")
    union = set().union(*(_paths(o) for o in orders))
    assert not [p for p in ELEMENT_PATHS if p not in union]
    no_ship_to = [o for o in orders if o.find("Customer/ShipTo") is None]
    assert len(no_ship_to) == 1 and no_ship_to[0].findtext("OrderStatus") == "Paid"  # ShipTo omitted entirely
    names = " ".join(o.findtext("Customer/BillTo/Name") or "" for o in orders)
    names += " ".join(o.findtext("Customer/ShipTo/Name") or "" for o in orders)
    for pattern in ("[ĄĆĘŁŃÓŚŹŻąćęłńóśźż]", "[äöüßÄÖÜ]", "[\u3040-\u30ff\u4e00-\u9fff]", "[\u0400-\u04ff]",
                    "[\u0370-\u03ff]"):  # fmt: skip
        assert re.search(pattern, names), pattern
    countries = {o.findtext("Customer/ShipTo/Country") for o in orders} - {None}
    assert "US" in countries and len(countries) >= 4
    assert all(len(c) == 2 for c in countries)
    assert len({o.findtext("CustomField2") for o in orders}) >= 5  # channel integrations
    assert "Amazon" in {o.findtext("Source") for o in orders}
    units = {u.text for u in root.iter("WeightUnits")}
    assert units & {"Pounds", "Ounces", "Grams"} and len(units) >= 3
    assert any(int(q.text) > 1 for q in root.iter("Quantity"))
    assert any(len(o.findall("Items/Item")) > 1 for o in orders)
    assert any(len(o.findall("Items/Item")) == 1 for o in orders)
    styles = {("M" in (o.findtext("OrderDate") or "")[-2:]) for o in orders}
    assert styles == {True, False}  # some 12-hour AM/PM dates among the 24-hour ones
    for o in orders:  # totals add up
        lines = sum(float(i.findtext("UnitPrice")) * int(i.findtext("Quantity")) for i in o.findall("Items/Item"))
        total = lines + float(o.findtext("ShippingAmount")) + float(o.findtext("TaxAmount"))
        assert abs(total - float(o.findtext("OrderTotal"))) < 0.011
    twin = CustomStoreSandbox(seed=7, orders=20).orders()
    assert [(o["order_id"], o["status"]) for o in twin] == [(o["order_id"], o["status"]) for o in sandbox.orders()]


def test_cdata_where_needed(sandbox, http):
    name = "Anker 65W USB-C Charger <2-Port> & Cable"
    note = "Gate <B> & a literal ]]> inside"
    order = sandbox.add_order(items=[{"name": name, "sku": "CHG-65W-2C"}], customer_notes=note, last_modified=FAR,
                              text_style="minimal", ship_to={"company": "Smith & Sons"})  # fmt: skip
    response = export(http, sandbox, start_date="01/02/2035 10:15", end_date="01/02/2035 10:15")
    text = response.text
    assert f"<Name><![CDATA[{name}]]></Name>" in text
    assert "<CustomerNotes><![CDATA[Gate <B> & a literal ]]]]><![CDATA[>" in text
    assert "<Company><![CDATA[Smith & Sons]]></Company>" in text
    assert f"<OrderID>{order['order_id']}</OrderID>" in text  # minimal style: no CDATA where not needed
    element = parse(response).find("Order")
    assert element.findtext("Items/Item/Name") == name
    assert element.findtext("CustomerNotes") == note
    assert element.findtext("Customer/ShipTo/Company") == "Smith & Sons"


# ------------------------------------------------------------------------------------------------ shipnotify
def test_partial_then_complete_shipment_keeps_both_tracking_numbers(sandbox, http):
    order = two_line_order(sandbox)
    line_a, line_b = (i for i in order["items"] if not i["adjustment"])
    first = ship_notice(order, [(line_a["line_item_id"], "SKU-A", 1)], tracking="1Z999AA10000000001")
    response = notify(http, sandbox, order, first.encode(), tracking="1Z999AA10000000001", carrier="UPS")
    assert response.status_code == 200, response.text
    state = sandbox.order(order["order_id"])
    assert state["status"] == "Paid"
    assert [i["shipped_quantity"] for i in state["items"] if not i["adjustment"]] == [1, 0]
    assert state["tracking_numbers"] == ["1Z999AA10000000001"]
    assert state["last_modified"] > order["last_modified"]

    # the rest: one line by SKU only (no LineItemID), the other by LineItemID
    second = ship_notice(order, [(None, "SKU-A", 1), (line_b["line_item_id"], "SKU-B", 1)], tracking="940011")
    assert notify(http, sandbox, order, second.encode(), tracking="940011").status_code == 200
    state = sandbox.order(order["order_id"])
    assert state["status"] == "Shipped"
    assert [i["shipped_quantity"] for i in state["items"] if not i["adjustment"]] == [2, 1]
    assert state["tracking_numbers"] == ["1Z999AA10000000001", "940011"]
    assert [s["carrier"] for s in state["shipments"]] == ["UPS", "USPS"]
    assert state["shipments"][0]["ship_date"] == "03/05/2035" and state["shipments"][0]["shipping_cost"] == "4.25"
    exported = parse(export(http, sandbox, **WHOLE))
    (element,) = [o for o in exported.findall("Order") if o.findtext("OrderID") == order["order_id"]]
    assert element.findtext("OrderStatus") == "Shipped"


def test_duplicate_notice_changes_nothing(sandbox, http):
    order = two_line_order(sandbox)
    line_a = order["items"][0]
    body = ship_notice(order, [(line_a["line_item_id"], "SKU-A", 1)], tracking="DUP1").encode()
    assert notify(http, sandbox, order, body, tracking="DUP1").status_code == 200
    before = sandbox.order(order["order_id"])
    again = notify(http, sandbox, order, body, tracking="DUP1")
    assert again.status_code == 200 and "Duplicate" in again.text
    assert notify(http, sandbox, order, b"", tracking="DUP1").status_code == 200  # a retry that lost its body
    assert sandbox.order(order["order_id"]) == before


def test_missing_or_empty_body_ships_the_whole_order(sandbox, http):
    order = two_line_order(sandbox)
    response = http.post(sandbox.endpoint_url, params={"action": "shipnotify", "order_number": order["order_number"],
                                                       "carrier": "FedEx", "service": "", "tracking_number": "7946"},
                         timeout=5)  # fmt: skip
    assert response.status_code == 200
    state = sandbox.order(order["order_id"])
    assert state["status"] == "Shipped" and state["tracking_numbers"] == ["7946"]
    assert all(i["shipped_quantity"] == i["quantity"] for i in state["items"] if not i["adjustment"])
    assert state["shipments"][-1]["ship_all"] and not state["shipments"][-1]["body_present"]
    other = two_line_order(sandbox)
    empty_items = ship_notice(other, [], tracking="T-EMPTY").encode()  # <Items/>: also the whole order
    assert notify(http, sandbox, other, empty_items, tracking="T-EMPTY").status_code == 200
    assert sandbox.order(other["order_id"])["status"] == "Shipped"


def test_shipnotify_refusals(sandbox, http):
    order = two_line_order(sandbox)
    unknown = dict(order, order_number="LM-000000", order_id="0")
    response = notify(http, sandbox, unknown, b"")
    assert response.status_code == 404 and response.text.strip() == "Order not found: LM-000000"
    bomb = b'<?xml version="1.0"?><!DOCTYPE ShipNotice [<!ENTITY a "aaaa">]><ShipNotice>&a;</ShipNotice>'
    assert notify(http, sandbox, order, bomb).status_code == 400
    assert notify(http, sandbox, order, b"<ShipNotice><Items>").status_code == 400
    assert notify(http, sandbox, order, b"<Orders/>").status_code == 400
    wrong_id = ship_notice(dict(order, order_id="123"), []).encode()
    assert notify(http, sandbox, order, wrong_id).status_code == 400
    no_match = ship_notice(order, [("999", "NOPE", 1)]).encode()
    assert notify(http, sandbox, order, no_match).status_code == 400
    fraction = ship_notice(order, [(None, "SKU-A", "1.5")]).encode()
    assert notify(http, sandbox, order, fraction).status_code == 400
    no_carrier = http.post(sandbox.endpoint_url, params={"action": "shipnotify", "order_number": order["order_number"]},
                           timeout=5)  # fmt: skip
    assert no_carrier.status_code == 400 and "carrier" in no_carrier.text
    as_get = http.get(sandbox.endpoint_url, params={"action": "shipnotify", "order_number": order["order_number"]},
                      timeout=5)  # fmt: skip
    assert as_get.status_code == 405
    cancelled = sandbox.set_status(order["order_id"], "Cancelled")
    assert notify(http, sandbox, cancelled, b"").status_code == 400
    state = sandbox.order(order["order_id"])
    assert state["shipments"] == [] and state["status"] == "Cancelled"


def test_excess_quantity_is_capped_and_reshipment_keeps_new_tracking(sandbox, http):
    order = two_line_order(sandbox)
    line_b = order["items"][1]
    too_many = ship_notice(order, [(line_b["line_item_id"], "SKU-B", 3)], tracking="T1").encode()
    assert notify(http, sandbox, order, too_many, tracking="T1").status_code == 200
    state = sandbox.order(order["order_id"])
    assert state["items"][1]["shipped_quantity"] == 1
    assert state["shipments"][0]["excess"] == [{"line_item_id": line_b["line_item_id"], "sku": "SKU-B", "quantity": 2}]
    assert notify(http, sandbox, order, b"", tracking="T2").status_code == 200  # rest of the order
    assert notify(http, sandbox, order, b"", tracking="T3").status_code == 200  # void + reprint: new label
    state = sandbox.order(order["order_id"])
    assert state["status"] == "Shipped" and state["tracking_numbers"] == ["T1", "T2", "T3"]


# ------------------------------------------------------------------------------------------------ status changes
def test_status_change_bumps_last_modified_into_the_next_window(sandbox, http):
    now = datetime.now(UTC)
    window = {"start_date": (now - timedelta(minutes=2)).strftime("%m/%d/%Y %H:%M"),
              "end_date": (now + timedelta(minutes=2)).strftime("%m/%d/%Y %H:%M")}  # fmt: skip
    order = sandbox.add_order(status="Unpaid", last_modified=now - timedelta(days=5))
    assert order["order_id"] not in ids(parse(export(http, sandbox, **window)))
    changed = sandbox.set_status(order["order_id"], "Paid")
    assert changed["last_modified"] > order["last_modified"]
    root = parse(export(http, sandbox, **window))
    (element,) = [o for o in root.findall("Order") if o.findtext("OrderID") == order["order_id"]]
    assert element.findtext("OrderStatus") == "Paid"
    # over HTTP, by OrderNumber
    other = sandbox.add_order(status="Paid", last_modified=now - timedelta(days=5))
    response = requests.post(f"{sandbox.base_url}/_sandbox/orders/{other['order_number']}/status",
                             json={"status": "Hold"}, timeout=5)  # fmt: skip
    assert response.status_code == 200 and response.json()["status"] == "Hold"
    assert other["order_id"] in ids(parse(export(http, sandbox, **window)))


def test_new_orders_arrive_over_time(http):
    with CustomStoreSandbox(username=USER, password=PASSWORD, seed=4, orders=3, new_order_every=0.1) as sandbox:
        deadline = time.monotonic() + 5
        while len(sandbox.orders()) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(sandbox.orders()) >= 6


# ------------------------------------------------------------------------------------------------ faults
def test_status_401_and_500_faults(sandbox, http):
    sandbox.inject(status_401=1, status_500=1)
    assert export(http, sandbox, **WHOLE).status_code == 401
    failed = export(http, sandbox, **WHOLE)
    assert failed.status_code == 500 and "Internal Server Error" in failed.text
    assert export(http, sandbox, **WHOLE).status_code == 200
    assert [r.faults for r in sandbox.requests[-3:]] == [["status_401"], ["status_500"], []]


def test_timeout_fault_holds_longer_than_the_client_waits(sandbox, http):
    sandbox.inject(timeout=1, timeout_seconds=0.8)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(sandbox.endpoint_url, params={"action": "export", **WHOLE}, timeout=0.3)
    assert export(http, sandbox, **WHOLE).status_code == 200
    assert sandbox.faults["timeout"] == 0


@pytest.mark.parametrize("kind", ["truncated", "bare_ampersand", "unclosed_tag"])
def test_malformed_xml_fault(sandbox, http, kind):
    sandbox.inject(malformed_xml=1, malformed_kind=kind)
    broken = export(http, sandbox, **WHOLE)
    assert broken.status_code == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(broken.content)
    parse(export(http, sandbox, **WHOLE))  # only the next page
    sandbox.inject(malformed_xml=1, malformed_kind=kind)
    empty = export(http, sandbox, start_date="01/01/2001 00:00", end_date="01/01/2001 00:00")
    with pytest.raises(ET.ParseError):
        ET.fromstring(empty.content)


def test_malformed_xml_kinds_take_turns(sandbox, http):
    sandbox.inject(malformed_xml=3)
    for _ in range(3):
        export(http, sandbox, **WHOLE)
    assert [r.faults[0] for r in sandbox.requests[-3:]] == [
        "malformed_xml:truncated", "malformed_xml:bare_ampersand", "malformed_xml:unclosed_tag"]  # fmt: skip


def test_xml_bomb_fault(sandbox, http):
    sandbox.inject(xml_bomb=1)
    bomb = export(http, sandbox, **WHOLE)
    assert bomb.status_code == 200
    text = bomb.text
    assert "<!DOCTYPE Orders [" in text and '<!ENTITY lol "lol">' in text
    assert text.count("<!ENTITY lol") == 10 and "&lol8;" * 10 in text
    assert "<CustomerNotes>&lol9;</CustomerNotes>" in text
    sandbox.inject(xml_bomb=1, xml_bomb_kind="external_entity")
    xxe = export(http, sandbox, **WHOLE).text
    assert 'SYSTEM "file:///etc/passwd"' in xxe and "&xxe;" in xxe
    assert "<!DOCTYPE" not in export(http, sandbox, **WHOLE).text


def test_no_ship_to_and_custom_status_faults(sandbox, http):
    sandbox.inject(no_ship_to=1)
    response = requests.post(f"{sandbox.base_url}/_sandbox/faults", json={"custom_status": 1, "no_ship_to": 0},
                             timeout=5)  # fmt: skip
    (custom_id,) = response.json()["added"]
    root = parse(export(http, sandbox, **WHOLE))
    orders = {o.findtext("OrderID"): o for o in root.findall("Order")}
    assert sum(1 for o in orders.values() if o.find("Customer/ShipTo") is None) == 2  # the batch's one + the new one
    assert orders[custom_id].findtext("OrderStatus") in CUSTOM_STATUSES
    empty = sandbox.no_ship_to(empty=True, last_modified=FAR)
    assert "<ShipTo/>" in export(http, sandbox, start_date="01/02/2035 10:15", end_date="01/02/2035 10:15").text
    assert sandbox.order(empty["order_id"])["ship_to"] == "empty"


def test_faults_over_http_control(sandbox, http):
    control = f"{sandbox.base_url}/_sandbox/faults"
    body = {"status_500": 1, "timeout": 1, "timeout_seconds": 0.05, "malformed_xml": 1, "malformed_kind": "truncated"}
    assert requests.post(control, json=body, timeout=5).json()["faults"]["malformed_xml"] == 1
    assert export(http, sandbox, **WHOLE).status_code == 500
    with pytest.raises(ET.ParseError):
        ET.fromstring(export(http, sandbox, **WHOLE).content)  # held 0.05 s, then the malformed page
    assert requests.post(control, json={"status_401": 2}, timeout=5).json()["faults"]["status_401"] == 2
    assert requests.post(control, json={"clear": True}, timeout=5).json()["faults"]["status_401"] == 0
    assert requests.post(control, json={"bogus": 1}, timeout=5).status_code == 400
    assert requests.post(control, json={"malformed_xml": 1, "malformed_kind": "odd"}, timeout=5).status_code == 400


# ------------------------------------------------------------------------------------------------ control API
def test_control_api(sandbox, http):
    base = f"{sandbox.base_url}/_sandbox"
    summary = requests.get(base, timeout=5).json()
    assert summary["endpoint_url"] == sandbox.endpoint_url and summary["username"] == USER
    assert summary["orders"] == 20 and any(line.startswith("POST /_sandbox/faults") for line in summary["endpoints"])
    created = requests.post(f"{base}/orders", json={"order": {"status": "Unpaid", "channel": "Walmart", "items": 2}},
                            timeout=5).json()  # fmt: skip
    (order_id,) = created["created"]
    raw = requests.get(f"{base}/orders/{order_id}", timeout=5).json()
    assert raw["status"] == "Unpaid" and raw["custom_field2"] == "Walmart" and raw["source"] == "Walmart"
    assert len([i for i in raw["items"] if not i["adjustment"]]) == 2
    assert all(i["shipped_quantity"] == 0 for i in raw["items"]) and raw["tracking_numbers"] == []
    assert requests.post(f"{base}/orders", json={"count": 2}, timeout=5).status_code == 201
    rows = requests.get(f"{base}/orders", timeout=5).json()
    assert len(rows) == 23 and {"order_id", "status", "items", "tracking_numbers"} <= set(rows[0])
    assert requests.get(f"{base}/orders/nope", timeout=5).status_code == 404
    assert requests.post(f"{base}/config", json={"page_size": 10}, timeout=5).json()["page_size"] == 10
    assert parse(export(http, sandbox, **WHOLE)).attrib["pages"] == "3"
    assert requests.get(f"{base}/unknown", timeout=5).status_code == 404


def test_requests_are_recorded(sandbox, http):
    order = two_line_order(sandbox)
    body = ship_notice(order, [(None, "SKU-B", 1)], tracking="REC1")
    notify(http, sandbox, order, body.encode(), tracking="REC1")
    rows = requests.get(f"{sandbox.base_url}/_sandbox/requests", timeout=5).json()
    last = rows[-1]
    assert last["method"] == "POST" and last["query"]["action"] == "shipnotify"
    assert last["query"]["tracking_number"] == "REC1" and last["status"] == 200
    assert last["headers"]["authorization"].startswith("Basic ")
    assert last["headers"]["content-type"].startswith("application/xml")
    assert last["body"] == body
    requests.post(f"{sandbox.base_url}/_sandbox/requests", json={"clear": True}, timeout=5)
    assert sandbox.requests == []


# ------------------------------------------------------------------------------------------------ the command
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_sandbox_command_starts_and_answers():
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shipping.settings.test", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "manage.py", "run_sandbox", "listingmirror", "--port", str(port), "--orders", "12",
               "--seed", "5", "--token", "cli-password"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(60, proc.kill)
    killer.start()
    try:
        line = proc.stdout.readline()
        match = re.search(r"at (http://\S+) endpoint=(http://\S+) username=(\S+) password=(\S+)", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        base, endpoint, username, password = match.groups()
        assert base == f"http://127.0.0.1:{port}" and endpoint == base + "/shipstation"
        assert password == "cli-password" and username.startswith("lm-ss-")
        response = requests.get(endpoint, params={"action": "export", **WHOLE}, auth=(username, password), timeout=5)
        assert len(parse(response).findall("Order")) == 12
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        finally:
            killer.cancel()
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            proc.stderr.close()
    assert proc.returncode == 0
