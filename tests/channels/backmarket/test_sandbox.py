"""The Back Market sandbox, driven over real HTTP on 127.0.0.1 with plain ``requests``."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from channels.backmarket.sandbox import EXAMPLE_USER_AGENT, BackMarketSandbox
from channels.backmarket.sandbox_data import MARKETS, PAYMENT_METHODS, PRODUCTS, OrderGenerator, is_valid_imei, parse_ts

TOKEN = "dGVzdC10b2tlbjpzZWNyZXQ="
UA = "BM-Acme-Shipping;ops@acme.example"
VALID_IMEI = "356938035643809"
OTHER_IMEI = "490154203237518"
BAD_LUHN_IMEI = "356938035643808"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def sandbox():
    with BackMarketSandbox(token=TOKEN, seed=7, orders=20, timeout_seconds=0.6) as sb:
        yield sb


@pytest.fixture
def http(sandbox):
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Basic {TOKEN}", "User-Agent": UA, "Accept": "application/json", "Accept-Language": "fr-fr"}
    )
    yield session
    session.close()


def url(sandbox, path):
    return sandbox.base_url + path


def post(http, sandbox, order_id, **body):
    return http.post(url(sandbox, f"/ws/orders/{order_id}"), json={"order_id": order_id, **body}, timeout=5)


def visible(sandbox, **where):
    return [o for o in sandbox.orders() if o["state"] not in (0, 8) and all(o.get(k) == v for k, v in where.items())]


# ------------------------------------------------------------------------------------------------ auth and headers
def test_missing_wrong_or_reencoded_token_is_401(sandbox, http):
    assert http.get(url(sandbox, "/ws/orders"), timeout=5).status_code == 200
    for authorization in (None, "Basic nope", f"Bearer {TOKEN}", "Basic ZHRWemRDMTBiMnRsYmpwelpXTnlaWFE9"):
        response = http.get(url(sandbox, "/ws/orders"), headers={"Authorization": authorization}, timeout=5)
        assert response.status_code == 401, authorization
        assert response.json()["error"]["code"] == "Unauthorized"
        assert response.json()["requestId"]


def test_user_agent_is_required_like_the_waf(sandbox, http):
    for agent in (None, "python-requests/2.32", "BM-Acme-Shipping", "Acme;ops@acme.example", "BM-Acme;no-email"):
        response = http.get(url(sandbox, "/ws/orders"), headers={"User-Agent": agent}, timeout=5)
        assert response.status_code == 403, agent
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["errors"][0]["code"] == "bot-need-challenge"
        assert response.json()["errors"][0]["message"] == "Forbidden"
    ok = http.get(url(sandbox, "/ws/orders"), headers={"User-Agent": "BM-Shop-Ship;a@b.example"}, timeout=5)
    assert ok.status_code == 200
    assert EXAMPLE_USER_AGENT == UA


def test_requests_are_recorded_with_market_and_headers(sandbox, http):
    http.get(url(sandbox, "/ws/orders"), params={"page-size": 3}, headers={"Accept-Language": "en-GB"}, timeout=5)
    record = sandbox.requests[-1]
    assert (record.method, record.path, record.query, record.market, record.status) == (
        "GET", "/ws/orders", {"page-size": "3"}, "en-gb", 200,
    )  # fmt: skip
    assert record.headers["user-agent"] == UA
    assert record.headers["authorization"] == f"Basic {TOKEN}"
    assert all(not r.path.startswith("/_sandbox") for r in sandbox.requests)


def test_every_ws_response_looks_like_it_came_through_cloudflare(sandbox, http):
    response = http.get(url(sandbox, "/ws/orders"), timeout=5)
    assert response.headers["Server"] == "cloudflare"
    assert re.fullmatch(r"[0-9a-f]{16}-[A-Z]{3}", response.headers["cf-ray"])
    assert "Retry-After" not in response.headers


# ------------------------------------------------------------------------------------------------ list and paging
def test_page_size_is_hyphenated_and_page_size_or_limit_are_ignored(sandbox, http):
    sandbox.generate(40)
    count = len(visible(sandbox))
    assert count > 50

    def size(**params):
        body = http.get(url(sandbox, "/ws/orders"), params=params, timeout=5).json()
        assert body["count"] == count
        return len(body["results"])

    assert size() == 10
    assert size(**{"page-size": 7}) == 7
    assert size(page_size=7) == 10
    assert size(limit=3) == 10
    assert size(**{"page-size": 500}) == 50
    assert size(**{"page-size": 0}) == 10


def test_pagination_follows_next_and_previous_keeping_the_other_parameters(sandbox, http):
    sandbox.generate(15)
    expected = visible(sandbox, state=1)
    seen, pages = [], []
    link = url(sandbox, "/ws/orders") + "?state=1&page-size=4"
    while link:
        body = http.get(link, timeout=5).json()
        pages.append(body)
        seen += body["results"]
        link = body["next"]
    assert [o["order_id"] for o in seen] == [o["order_id"] for o in expected]
    assert all(o["state"] == 1 for o in seen)
    keys = [(parse_ts(o["date_modification"]), o["order_id"]) for o in seen]
    assert keys == sorted(keys)
    assert len(pages) == -(-len(expected) // 4) > 2
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    second_next = urlsplit(pages[1]["next"])
    assert f"{second_next.scheme}://{second_next.netloc}" == sandbox.base_url
    assert parse_qs(second_next.query) == {"state": ["1"], "page-size": ["4"], "page": ["3"]}
    assert parse_qs(urlsplit(pages[1]["previous"]).query) == {"state": ["1"], "page-size": ["4"]}
    assert parse_qs(urlsplit(pages[2]["previous"]).query)["page"] == ["2"]


def test_links_use_the_host_the_client_used(sandbox, http):
    body = http.get(url(sandbox, "/ws/orders"), headers={"Host": "bm.example:8443"}, timeout=5).json()
    assert body["next"].startswith("http://bm.example:8443/ws/orders?")
    assert body["results"][0]["delivery_note"].startswith("http://bm.example:8443/_sandbox/delivery-notes/")


def test_a_page_past_the_end_is_404(sandbox, http):
    response = http.get(url(sandbox, "/ws/orders"), params={"page": 99}, timeout=5)
    assert response.status_code == 404
    assert http.get(url(sandbox, "/ws/orders"), params={"state": 5}, timeout=5).json() == {
        "count": 0, "next": None, "previous": None, "results": [],
    }  # fmt: skip


def test_date_modification_is_an_inclusive_lower_bound(sandbox, http):
    at = datetime(2031, 5, 4, 12, 0, 0, tzinfo=UTC)
    exact = sandbox.add_order(date_modification="2031-05-04T12:00:00+00:00")
    later = sandbox.add_order(date_modification="2031-05-04T13:00:00.250000Z")
    sandbox.add_order(date_modification="2031-05-04T12:59:59+01:00")  # 11:59:59 UTC: before the bound
    for value in ("2031-05-04T12:00:00Z", "2031-05-04T12:00:00+00:00", "2031-05-04T14:00:00+02:00", at.isoformat()):
        body = http.get(url(sandbox, "/ws/orders"), params={"date_modification": value}, timeout=5).json()
        assert [o["order_id"] for o in body["results"]] == [exact["order_id"], later["order_id"]], value
    bad = http.get(url(sandbox, "/ws/orders"), params={"date_modification": "yesterday"}, timeout=5)
    assert bad.status_code == 400
    assert "date_modification" in bad.json()


def test_date_creation_and_country_code_filters(sandbox, http):
    new = sandbox.add_order(market="it-it", date_creation="2031-01-01T00:00:00Z")
    body = http.get(url(sandbox, "/ws/orders"), params={"date_creation": "2030-12-31T23:00:00Z"}, timeout=5).json()
    assert [o["order_id"] for o in body["results"]] == [new["order_id"]]
    body = http.get(url(sandbox, "/ws/orders"), params={"country_code": "it-it", "page-size": 50}, timeout=5).json()
    assert body["count"] == len(visible(sandbox, country_code="it-it")) >= 1
    assert {o["country_code"] for o in body["results"]} == {"it-it"}
    assert {o["currency"] for o in body["results"]} == {"EUR"}


def test_orders_in_state_0_and_8_are_never_listed(sandbox, http):
    fresh = sandbox.add_order(state=0)
    unpaid = sandbox.add_order(state=8)
    pending = sandbox.add_order(state=10)
    listed = http.get(url(sandbox, "/ws/orders"), params={"page-size": 50}, timeout=5).json()
    ids = {o["order_id"] for o in listed["results"]}
    assert fresh["order_id"] not in ids and unpaid["order_id"] not in ids
    assert pending["order_id"] in ids
    assert listed["count"] == len(visible(sandbox)) == len(sandbox.orders()) - 4  # one 0 and one 8 were generated
    for state in (0, 8):
        assert http.get(url(sandbox, "/ws/orders"), params={"state": state}, timeout=5).json()["count"] == 0
    assert http.get(url(sandbox, f"/ws/orders/{unpaid['order_id']}"), timeout=5).json()["state"] == 8


def test_get_one_order_or_404(sandbox, http):
    order = sandbox.add_order()
    assert http.get(url(sandbox, f"/ws/orders/{order['order_id']}"), timeout=5).json() == sandbox.order(
        order["order_id"]
    )
    assert http.get(url(sandbox, "/ws/orders/1"), timeout=5).status_code == 404
    assert http.get(url(sandbox, "/ws/orders/abc"), timeout=5).status_code == 404


# ------------------------------------------------------------------------------------------------ state changes
def test_accept_per_sku_moves_the_order_to_3_once_every_line_is_accepted(sandbox, http):
    order = sandbox.add_order(lines=[{"listing": "SKU-A"}, {"listing": "SKU-B"}])
    oid = order["order_id"]
    first = post(http, sandbox, oid, new_state=2, sku="SKU-A")
    assert first.status_code == 200
    assert first.json()["state"] == 1
    assert [li["state"] for li in first.json()["orderlines"]] == [2, 1]
    assert first.json()["date_modification"] != order["date_modification"]
    second = post(http, sandbox, oid, new_state=2, sku="SKU-B")
    assert second.json()["state"] == 3
    assert [li["state"] for li in second.json()["orderlines"]] == [2, 2]
    again = post(http, sandbox, oid, new_state=2, sku="SKU-A")
    assert again.status_code == 400
    assert "already accepted" in again.json()
    assert sandbox.order(oid)["state"] == 3


def test_accept_needs_a_known_sku(sandbox, http):
    order = sandbox.add_order(lines=[{"listing": "SKU-A"}])
    for body in ({}, {"sku": ""}, {"sku": "NOPE"}):
        response = post(http, sandbox, order["order_id"], new_state=2, **body)
        assert response.status_code == 400
        assert response.json() == "sku not found"
    assert sandbox.order(order["order_id"])["orderlines"][0]["state"] == 1


@pytest.mark.parametrize("new_state", [0, 1, 7, 8, 9, 10])
def test_new_state_outside_2_to_6_is_refused(sandbox, http, new_state):
    order = sandbox.add_order(state=3)
    response = post(http, sandbox, order["order_id"], new_state=new_state, tracking_number="X1")
    assert response.status_code == 400
    assert response.json() == f"new_state {new_state} must be in 2,3,4,5,6"


def test_body_order_id_must_match_the_url(sandbox, http):
    order = sandbox.add_order(lines=[{"listing": "SKU-A"}])
    response = http.post(url(sandbox, f"/ws/orders/{order['order_id']}"),
                         json={"order_id": 1, "new_state": 2, "sku": "SKU-A"}, timeout=5)  # fmt: skip
    assert response.status_code == 400


def test_ship_with_tracking_then_ship_again(sandbox, http):
    order = sandbox.add_order(state=3, lines=[{"listing": "SKU-A"}, {"listing": "SKU-B"}])
    oid = order["order_id"]
    assert post(http, sandbox, oid, new_state=3).status_code == 400  # tracking_number is required
    assert "tracking_number" in post(http, sandbox, oid, new_state=3, tracking_number="  ").json()
    shipment = {"tracking_number": "AB123456789GB", "shipper": "Royal Mail", "date_shipping": "2031-03-03T09:00:00Z",
                "tracking_url": "https://track.example/AB123456789GB"}  # fmt: skip
    shipped = post(http, sandbox, oid, new_state=3, **shipment)
    assert shipped.status_code == 200
    body = shipped.json()
    assert body["state"] == 9
    assert [li["state"] for li in body["orderlines"]] == [3, 3]
    assert (body["tracking_number"], body["tracking_url"], body["shipper"]) == (
        "AB123456789GB", "https://track.example/AB123456789GB", "Royal Mail",
    )  # fmt: skip
    assert parse_ts(body["date_shipping"]) == datetime(2031, 3, 3, 9, tzinfo=UTC)
    assert body["expected_dispatch_date"] is None
    assert http.get(url(sandbox, f"/ws/orders/{oid}"), timeout=5).json()["tracking_number"] == "AB123456789GB"
    again = post(http, sandbox, oid, new_state=3, tracking_number="AB123456789GB")
    assert again.status_code == 400
    assert "already shipped" in again.json()


def test_shipping_needs_accepted_lines(sandbox, http):
    order = sandbox.add_order(state=1, lines=1)
    response = post(http, sandbox, order["order_id"], new_state=3, tracking_number="T1")
    assert response.status_code == 400
    assert "needs state 2" in response.json()


def test_ship_one_sku_of_a_multi_line_order(sandbox, http):
    order = sandbox.add_order(state=3, lines=[{"listing": "SKU-A"}, {"listing": "SKU-B"}])
    body = post(http, sandbox, order["order_id"], new_state=3, sku="SKU-B", tracking_number="T2").json()
    assert [li["state"] for li in body["orderlines"]] == [2, 3]
    assert body["state"] == 3


def test_inline_imei_only_for_a_single_line_of_quantity_1(sandbox, http):
    multi = sandbox.add_order(state=3, lines=2)
    response = post(http, sandbox, multi["order_id"], new_state=3, tracking_number="T", imei=VALID_IMEI)
    assert response.status_code == 400
    assert "exactly one orderline" in response.json()
    assert sandbox.order(multi["order_id"])["state"] == 3  # nothing changed
    double = sandbox.add_order(state=3, lines=[{"quantity": 2}])
    assert post(http, sandbox, double["order_id"], new_state=3, tracking_number="T",
                serial_number="C02XYZ").status_code == 400  # fmt: skip
    single = sandbox.add_order(state=3, lines=[{"quantity": 1}])
    bad = post(http, sandbox, single["order_id"], new_state=3, tracking_number="T", imei=BAD_LUHN_IMEI)
    assert bad.status_code == 400
    assert "not a valid IMEI" in bad.json()
    ok = post(http, sandbox, single["order_id"], new_state=3, tracking_number="T", imei=VALID_IMEI)
    assert ok.status_code == 200
    assert ok.json()["orderlines"][0]["imei"] == VALID_IMEI


def test_patch_orderline_imei_is_luhn_checked_and_write_once(sandbox, http):
    order = sandbox.add_order(state=3, lines=2)  # accepted, two lines
    line_id = order["orderlines"][0]["id"]
    path = url(sandbox, f"/ws/orderlines/{line_id}")
    assert http.patch(url(sandbox, "/ws/orderlines/1"), json={"imei": VALID_IMEI}, timeout=5).status_code == 404
    assert http.patch(path, json={}, timeout=5).status_code == 422
    assert http.patch(path, json={"imei": ""}, timeout=5).status_code == 422
    for wrong in (BAD_LUHN_IMEI, VALID_IMEI[:14], VALID_IMEI + "0", "35693803564380X", int(VALID_IMEI)):
        response = http.patch(path, json={"imei": wrong}, timeout=5)
        assert response.status_code == 422, wrong
        assert response.json()["error"]["target"] == "imei"
    response = http.patch(path, json={"imei": VALID_IMEI}, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"id": line_id, "imei": VALID_IMEI, "serial_number": ""}
    assert http.patch(path, json={"imei": VALID_IMEI}, timeout=5).status_code == 200  # same value again
    corrected = http.patch(path, json={"imei": OTHER_IMEI}, timeout=5)
    assert corrected.status_code == 422
    assert "cannot be corrected" in corrected.json()["error"]["message"]
    serial = http.patch(path, json={"serial_number": "F2LXK1ABCD"}, timeout=5)
    assert serial.json() == {"id": line_id, "imei": VALID_IMEI, "serial_number": "F2LXK1ABCD"}
    assert http.patch(path, json={"serial_number": "OTHER"}, timeout=5).status_code == 422
    assert sandbox.order(order["order_id"])["orderlines"][0]["imei"] == VALID_IMEI
    assert sandbox.order(order["order_id"])["orderlines"][1]["imei"] == ""


def test_cancel_refund_before_and_after_shipping(sandbox, http):
    order = sandbox.add_order(lines=[{"listing": "SKU-A"}, {"listing": "SKU-B"}, {"listing": "SKU-C"}])
    oid = order["order_id"]
    assert post(http, sandbox, oid, new_state=4, sku="SKU-A").json()["orderlines"][0]["state"] == 4
    assert post(http, sandbox, oid, new_state=5, sku="SKU-B").status_code == 400  # 5 needs an accepted line
    assert post(http, sandbox, oid, new_state=2, sku="SKU-B").json()["state"] == 1  # SKU-C still waits
    assert post(http, sandbox, oid, new_state=4, sku="SKU-B").status_code == 400  # 4 needs state 1
    assert post(http, sandbox, oid, new_state=2, sku="SKU-C").json()["state"] == 3
    refunded = post(http, sandbox, oid, new_state=5, sku="SKU-B").json()
    assert [li["state"] for li in refunded["orderlines"]] == [4, 5, 2]
    assert refunded["state"] == 3
    assert post(http, sandbox, oid, new_state=6, sku="SKU-C").status_code == 400  # 6 needs a shipped line
    shipped = post(http, sandbox, oid, new_state=3, tracking_number="T9").json()  # no sku: ships what is left
    assert [li["state"] for li in shipped["orderlines"]] == [4, 5, 3]
    assert shipped["state"] == 9
    after = post(http, sandbox, oid, new_state=6, sku="SKU-C", return_reason=21, return_message="Faulty")
    assert after.status_code == 200
    assert (after.json()["orderlines"][2]["state"], after.json()["orderlines"][2]["return_reason"]) == (6, 21)
    assert after.json()["state"] == 9


def test_cancelling_every_line_processes_the_order(sandbox, http):
    order = sandbox.add_order(lines=[{"listing": "SKU-A"}])
    body = post(http, sandbox, order["order_id"], new_state=4, sku="sku-a").json()  # SKUs are case-insensitive
    assert (body["state"], body["orderlines"][0]["state"]) == (9, 4)


# ------------------------------------------------------------------------------------------------ rate limit
def test_more_than_200_requests_in_10_seconds_is_429(sandbox, http):
    for i in range(200):
        assert http.get(url(sandbox, "/ws/orders/1"), timeout=5).status_code == 404, i
    limited = http.get(url(sandbox, "/ws/orders"), timeout=5)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RateLimited"
    assert limited.json()["requestId"]
    assert "Retry-After" not in limited.headers
    assert http.get(url(sandbox, "/ws/orders"), timeout=5).status_code == 429  # blocked
    sandbox.add_token("other-token")
    other = http.get(url(sandbox, "/ws/orders"), headers={"Authorization": "Basic other-token"}, timeout=5)
    assert other.status_code == 200  # per token


def test_the_block_ends_and_retry_after_is_optional():
    with BackMarketSandbox(token=TOKEN, orders=0, rate_limit=3, rate_block=0.4, retry_after=True) as sb:
        headers = {"Authorization": f"Basic {TOKEN}", "User-Agent": UA}
        codes = [requests.get(sb.base_url + "/ws/orders", headers=headers, timeout=5) for _ in range(4)]
        assert [r.status_code for r in codes] == [200, 200, 200, 429]
        assert codes[-1].headers["Retry-After"] == "1"
        time.sleep(0.5)
        assert requests.get(sb.base_url + "/ws/orders", headers=headers, timeout=5).status_code == 200


# ------------------------------------------------------------------------------------------------ faults
def test_injected_429_and_500(sandbox, http):
    assert sandbox.inject(status_429=2, status_500=1)["status_429"] == 2
    codes = [http.get(url(sandbox, "/ws/orders"), timeout=5).status_code for _ in range(4)]
    assert codes == [429, 429, 500, 200]
    assert [r.faults for r in sandbox.requests[-4:]] == [["status_429"], ["status_429"], ["status_500"], []]


def test_injected_timeout_holds_the_request_then_applies_it(sandbox, http):
    order = sandbox.add_order(lines=[{"listing": "SKU-A"}])
    sandbox.inject(timeout=1)
    with pytest.raises(requests.ReadTimeout):
        http.post(url(sandbox, f"/ws/orders/{order['order_id']}"),
                  json={"order_id": order["order_id"], "new_state": 2, "sku": "SKU-A"}, timeout=0.2)  # fmt: skip
    assert sandbox.order(order["order_id"])["state"] == 1  # still held
    deadline = time.monotonic() + 5
    while sandbox.order(order["order_id"])["state"] != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.order(order["order_id"])["state"] == 3  # the write the client gave up on happened
    assert http.get(url(sandbox, "/ws/orders"), timeout=5).status_code == 200


@pytest.mark.parametrize("kind", ["orderlines_not_list", "missing_order_id", "price_not_number"])
def test_injected_malformed_order_breaks_one_order_of_the_next_page(sandbox, http, kind):
    sandbox.inject(malformed=1, malformed_kind=kind)
    assert http.get(url(sandbox, "/ws/orders/1"), timeout=5).status_code == 404  # not a list page: not consumed
    results = http.get(url(sandbox, "/ws/orders"), timeout=5).json()["results"]
    bad = [o for o in results if not isinstance(o.get("orderlines"), list) or "order_id" not in o
           or o["price"] == "N/A"]  # fmt: skip
    assert len(bad) == 1 and len(results) == 10
    fine = [o for o in results if o is not bad[0]]
    for order in fine:
        assert sandbox.order(order["order_id"]) == order
        Decimal(order["price"])
    assert sandbox.requests[-1].faults[0].startswith(f"malformed:{kind}:")
    assert sandbox.faults["malformed"] == 0
    again = http.get(url(sandbox, "/ws/orders"), timeout=5).json()["results"]
    assert all(isinstance(o["orderlines"], list) and o["price"] != "N/A" for o in again)


def test_injected_cloudflare_html_403(sandbox, http):
    sandbox.inject(cloudflare_403=1)
    response = http.get(url(sandbox, "/ws/orders"), timeout=5)
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Server"] == "cloudflare"
    assert response.headers["cf-ray"] in response.text
    assert "<html" in response.text
    assert http.get(url(sandbox, "/ws/orders"), timeout=5).status_code == 200


# ------------------------------------------------------------------------------------------------ control API
def test_control_api_over_http(sandbox, http):
    control = requests.Session()
    state = control.post(url(sandbox, "/_sandbox/faults"), json={"status_500": 1, "timeout_seconds": 0.3}, timeout=5)
    assert state.json()["faults"]["status_500"] == 1 and sandbox.timeout_seconds == 0.3
    assert http.get(url(sandbox, "/ws/orders"), timeout=5).status_code == 500
    assert control.post(url(sandbox, "/_sandbox/faults"), json={"nope": 1}, timeout=5).status_code == 400

    tokens = control.post(url(sandbox, "/_sandbox/tokens"), json={"revoke": TOKEN, "add": "fresh"}, timeout=5)
    assert tokens.json() == {"tokens": ["fresh"]}
    assert http.get(url(sandbox, "/ws/orders"), timeout=5).status_code == 401
    assert http.get(url(sandbox, "/ws/orders"), headers={"Authorization": "Basic fresh"}, timeout=5).ok
    control.post(url(sandbox, "/_sandbox/tokens"), json={"add": TOKEN}, timeout=5)

    before = len(sandbox.orders())
    created = control.post(url(sandbox, "/_sandbox/orders"), json={"count": 3}, timeout=5).json()["created"]
    assert len(created) == 3 and len(sandbox.orders()) == before + 3
    one = control.post(url(sandbox, "/_sandbox/orders"), json={"order": {"state": 10, "market": "en-us"}}, timeout=5)
    waiting = one.json()["orders"][0]
    assert (waiting["state"], waiting["currency"]) == (10, "USD")
    raw = control.get(url(sandbox, f"/_sandbox/orders/{waiting['order_id']}"), timeout=5).json()
    assert raw == sandbox.order(waiting["order_id"])
    paid = control.post(url(sandbox, f"/_sandbox/orders/{waiting['order_id']}"), json={"state": 1}, timeout=5)
    assert paid.json()["state"] == 1 and {li["state"] for li in paid.json()["orderlines"]} == {1}
    assert paid.json()["date_payment"]
    hidden = next(o for o in sandbox.orders() if o["state"] == 0)
    assert control.get(url(sandbox, f"/_sandbox/orders/{hidden['order_id']}"), timeout=5).json()["state"] == 0
    assert control.get(url(sandbox, "/_sandbox/orders/1"), timeout=5).status_code == 404
    summary = control.get(url(sandbox, "/_sandbox"), timeout=5).json()
    assert summary["orders"] == len(sandbox.orders()) and TOKEN in summary["tokens"]
    log = control.get(url(sandbox, "/_sandbox/requests"), timeout=5).json()
    assert log[-1]["path"] == "/ws/orders" and log[-1]["user_agent"] == UA


def test_delivery_note_is_a_pdf(sandbox, http):
    order = http.get(url(sandbox, "/ws/orders"), timeout=5).json()["results"][0]
    pdf = requests.get(order["delivery_note"], timeout=5)
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4") and str(order["order_id"]).encode() in pdf.content


def test_new_orders_arrive_over_time():
    with BackMarketSandbox(token=TOKEN, orders=0, new_order_every=0.05) as sb:
        deadline = time.monotonic() + 5
        while len(sb.orders()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(sb.orders()) >= 3
        newest = max(sb.orders(), key=lambda o: o["order_id"])
        assert (datetime.now(UTC) - parse_ts(newest["date_modification"])).total_seconds() < 5


def test_concurrent_writes_are_safe(sandbox, http):
    orders = [sandbox.add_order(lines=[{"listing": "SKU-A"}]) for _ in range(12)]
    codes = []

    def accept(order_id):
        with requests.Session() as session:
            session.headers.update(http.headers)
            codes.append(post(session, sandbox, order_id, new_state=2, sku="SKU-A").status_code)

    threads = [threading.Thread(target=accept, args=(o["order_id"],)) for o in orders for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] * 12 + [400] * 12
    assert {sandbox.order(o["order_id"])["state"] for o in orders} == {3}


# ------------------------------------------------------------------------------------------------ generated data
def test_generated_orders_look_like_the_reference():
    sb = BackMarketSandbox(token=TOKEN, seed=3, orders=30)
    orders = sb.orders()
    assert len(orders) == 30
    assert sum(o["shipping_address"] is None for o in orders) == 1
    assert next(o for o in orders if o["shipping_address"] is None)["state"] == 1
    states = [o["state"] for o in orders]
    assert states.count(0) == states.count(8) == 1 and states.count(10) >= 1
    assert states.count(1) > len(orders) / 2
    currency = {"fr-fr": "EUR", "de-de": "EUR", "en-gb": "GBP", "es-es": "EUR", "it-it": "EUR", "en-us": "USD",
                "el-gr": "EUR", "ja-jp": "JPY"}  # fmt: skip
    assert {"fr-fr", "de-de", "en-gb", "ja-jp", "el-gr"} <= {o["country_code"] for o in orders}
    names = " ".join(f"{o['billing_address']['first_name']} {o['billing_address']['last_name']}" for o in orders)
    assert re.search(r"[ąęłńóśźżĄĘŁŃÓŚŹŻ]", names) and re.search(r"[äöüß]", names)
    assert re.search(r"[\u0370-\u03ff]", names) and re.search(r"[\u0400-\u04ff]", names)
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", names)
    lines = [li for o in orders for li in o["orderlines"]]
    assert any(len(o["orderlines"]) > 1 for o in orders)
    assert any(li["quantity"] == 2 for li in lines)
    assert any(li["product"].startswith("MacBook") for li in lines)
    assert {li["brand"] for li in lines} >= {"apple", "samsung"}
    formats = {("." in o["date_modification"], o["date_modification"][-1] == "Z") for o in orders}
    assert len(formats) >= 3
    money = re.compile(r"^\d+\.\d{2}$")
    for order in orders:
        assert order["currency"] == currency[order["country_code"]]
        assert order["payment_method"] in PAYMENT_METHODS
        assert all(money.match(order[k]) for k in ("price", "shipping_price", "sales_taxes"))
        assert Decimal(order["price"]) == sum(Decimal(li["price"]) for li in order["orderlines"])
        assert order["shipper"] and order["shipper_display"]
        for key in ("date_creation", "date_modification"):
            assert parse_ts(order[key]).tzinfo is not None
        address = order["billing_address"]
        assert set(address) >= {"first_name", "last_name", "street", "street2", "postal_code", "city", "country",
                                "phone", "email", "company"}  # fmt: skip
        assert len(address["country"]) == 2
        for line in order["orderlines"]:
            assert line["id"] != order["order_id"]
            assert isinstance(line["listing"], str) and isinstance(line["product_id"], int)
            assert money.match(line["price"]) and line["condition"] in (9, 10, 11, 12)
            assert line["currency"] == order["currency"]
            if order["state"] != 9:
                assert line["imei"] == "" and line["serial_number"] == ""
        if order["state"] == 9:
            assert order["tracking_number"] and order["date_shipping"]
            single = order["orderlines"][0]
            assert is_valid_imei(single["imei"]) or single["serial_number"]
    assert len({li["id"] for li in lines}) == len(lines)
    twin = BackMarketSandbox(token=TOKEN, seed=3, orders=30).orders()
    assert [(o["order_id"], [li["listing"] for li in o["orderlines"]]) for o in twin] == [
        (o["order_id"], [li["listing"] for li in o["orderlines"]]) for o in orders
    ]


def test_quantity_two_line_price_is_the_line_total(sandbox):
    def line(quantity):
        generator = OrderGenerator(seed=11)
        return generator.line(market=MARKETS["en-gb"], product=PRODUCTS[0], condition=10, quantity=quantity,
                              created="2031-01-01T00:00:00Z", shipper="Royal Mail", express=False)  # fmt: skip

    assert Decimal(line(2)["price"]) == 2 * Decimal(line(1)["price"])
    double = sandbox.add_order(lines=[{"listing": "SKU-Q", "quantity": 2}])
    assert double["orderlines"][0]["quantity"] == 2
    assert double["price"] == double["orderlines"][0]["price"]


# ------------------------------------------------------------------------------------------------ the command
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_sandbox_command_starts_and_answers():
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shipping.settings.test", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "manage.py", "run_sandbox", "backmarket", "--port", str(port), "--orders", "12",
               "--seed", "5", "--token", "cli-token"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(60, proc.kill)
    killer.start()
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://\S+) token=(\S+)", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        base, token = match.groups()
        assert (base, token) == (f"http://127.0.0.1:{port}", "cli-token")
        response = requests.get(base + "/ws/orders", headers={"Authorization": f"Basic {token}", "User-Agent": UA},
                                timeout=5)  # fmt: skip
        assert response.status_code == 200
        assert response.json()["count"] == 10  # 12 generated, one in state 0 and one in 8
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
