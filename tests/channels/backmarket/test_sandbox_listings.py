"""The Back Market sandbox's listings, bulk tasks, Backbox and catalog limits, over real HTTP with ``requests``."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from channels.backmarket.sandbox import BackMarketSandbox
from channels.backmarket.sandbox_data import GRADE_STATES, PRODUCTS, product_uuid

TOKEN = "dGVzdC10b2tlbjpzZWNyZXQ="
UA = "BM-Acme-Shipping;ops@acme.example"
ROOT = Path(__file__).resolve().parents[3]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MONEY = re.compile(r"^\d+\.\d{2}$")
HIGH = {"catalog_limit": 10_000, "backbox_limit": 10_000}  # the limits have their own tests


def make(**kwargs):
    options = {"token": TOKEN, "seed": 7, "orders": 0, "task_delay": 0.2, "competitor_moves": False, **HIGH}
    return BackMarketSandbox(**{**options, **kwargs})


@pytest.fixture
def sandbox():
    with make(listings=23) as sb:
        yield sb


def session(market="fr-fr", token=TOKEN):
    s = requests.Session()
    s.headers.update({"Authorization": f"Basic {token}", "User-Agent": UA, "Accept": "application/json"})
    if market:
        s.headers["Accept-Language"] = market
    return s


@pytest.fixture
def http():
    with session() as s:
        yield s


def url(sb, path):
    return sb.base_url + path


def wait_task(http, sb, task_id, deadline=5.0):
    """Poll the task until it is done; returns (statuses seen, last body)."""
    seen, end = [], time.monotonic() + deadline
    while True:
        body = http.get(url(sb, f"/ws/tasks/{task_id}"), timeout=5).json()
        if not seen or seen[-1] != body["action_status"]:
            seen.append(body["action_status"])
        if body["action_status"] in (8, 9) or time.monotonic() > end:
            return seen, body
        time.sleep(0.02)


def bulk(http, sb, catalog, **extra):
    return http.post(url(sb, "/ws/listings"), json={"catalog": catalog, "quotechar": '"', "delimiter": ",",
                                                      "encoding": "utf-8", **extra}, timeout=5)  # fmt: skip


# ------------------------------------------------------------------------------------------------ shape and seeding
def test_seeded_listings_look_like_the_reference(sandbox, http):
    listings = sandbox.listings()
    assert len(listings) == 23
    keys = {"id", "listing_id", "product_id", "backmarket_id", "sku", "title", "quantity", "price", "currency",
            "min_price", "max_price", "state", "grade", "publication_state", "warranty_delay", "comment",
            "shippings"}  # fmt: skip
    known_products = {product_uuid(p): p.product_id for p in PRODUCTS}
    for listing in listings:
        assert keys <= set(listing)
        assert UUID.match(listing["id"]) and isinstance(listing["listing_id"], int)
        assert known_products[listing["product_id"]] == listing["backmarket_id"]
        assert MONEY.match(listing["price"]) and listing["currency"] == "EUR"  # home market fr-fr
        assert listing["min_price"] is None or Decimal(listing["min_price"]) < Decimal(listing["price"])
        assert GRADE_STATES[listing["grade"]] == listing["state"]
        assert listing["publication_state"] == (2 if listing["quantity"] > 0 else 3)
        assert listing["warranty_delay"] >= 12 and listing["shippings"] == []
    assert len({li["sku"].lower() for li in listings}) == 23
    assert {li["publication_state"] for li in listings} == {2, 3}
    with make(listings=23) as twin, make(listings=23, seed=8) as other:
        assert twin.listings() == listings  # the seed decides everything
        assert [li["sku"] for li in other.listings()] != [li["sku"] for li in listings]
    with pytest.raises(ValueError, match="already listed"):
        sandbox.add_listing(sku=listings[0]["sku"].lower())  # SKUs are unique case-insensitively
    with pytest.raises(KeyError):
        sandbox.listing("NOPE")


def test_listing_endpoints_need_the_token_and_user_agent(sandbox, http):
    for path in ("/ws/listings", "/ws/tasks/1", f"/ws/backbox/v1/competitors/{sandbox.listings()[0]['id']}"):
        assert http.get(url(sandbox, path), headers={"Authorization": "Basic nope"}, timeout=5).status_code == 401
        response = http.get(url(sandbox, path), headers={"User-Agent": "python-requests"}, timeout=5)
        assert response.status_code == 403 and response.json()["errors"][0]["code"] == "bot-need-challenge"


# ------------------------------------------------------------------------------------------------ list, filters
def test_list_is_paginated_like_orders(sandbox, http):
    seen, pages, link = [], [], url(sandbox, "/ws/listings") + "?page-size=5"
    while link:
        body = http.get(link, timeout=5).json()
        assert body["count"] == 23
        pages.append(body)
        seen += body["results"]
        link = body["next"]
    assert [li["id"] for li in seen] == [li["id"] for li in sandbox.listings()]
    assert len(pages) == 5 and pages[0]["previous"] is None and pages[-1]["next"] is None
    second = urlsplit(pages[1]["next"])
    assert f"{second.scheme}://{second.netloc}" == sandbox.base_url
    assert parse_qs(second.query) == {"page-size": ["5"], "page": ["3"]}
    assert parse_qs(urlsplit(pages[1]["previous"]).query) == {"page-size": ["5"]}
    assert len(http.get(url(sandbox, "/ws/listings"), timeout=5).json()["results"]) == 10
    assert len(http.get(url(sandbox, "/ws/listings"), params={"page-size": 500}, timeout=5).json()["results"]) == 23
    sandbox.generate_listings(40)
    assert len(http.get(url(sandbox, "/ws/listings"), params={"page-size": 500}, timeout=5).json()["results"]) == 50
    assert http.get(url(sandbox, "/ws/listings"), params={"page": 99}, timeout=5).status_code == 404


def test_filters_publication_state_and_quantity(sandbox, http):
    def ids(**params):
        body = http.get(url(sandbox, "/ws/listings"), params={"page-size": 50, **params}, timeout=5).json()
        assert body["count"] == len(body["results"])
        return {li["id"] for li in body["results"]}

    listings = sandbox.listings()
    assert ids(publication_state=3) == {li["id"] for li in listings if li["publication_state"] == 3} != set()
    assert ids(publication_state=2) == {li["id"] for li in listings if li["quantity"] > 0}
    assert ids(min_quantity=4) == {li["id"] for li in listings if li["quantity"] >= 4}
    assert ids(max_quantity=3) == {li["id"] for li in listings if li["quantity"] <= 3}
    assert ids(min_quantity=2, max_quantity=5) == {li["id"] for li in listings if 2 <= li["quantity"] <= 5}
    for bad in ({"publication_state": "online"}, {"publication_state": 7}, {"min_quantity": "x"}):
        response = http.get(url(sandbox, "/ws/listings"), params=bad, timeout=5)
        assert response.status_code == 400 and response.json()["error"]["code"] == "BadRequest", bad


# ------------------------------------------------------------------------------------------------ one listing
def test_get_by_uuid_legacy_id_or_sku(sandbox, http):
    listing = sandbox.add_listing(sku="My-Sku-1", quantity=4, price="199.00")
    for path in (f"/ws/listings/{listing['id']}", f"/ws/listings/{listing['id'].upper()}",
                 f"/ws/listings/{listing['listing_id']}", "/ws/listings/detail?sku=my-sku-1",
                 f"/ws/listings/detail?listing_id={listing['listing_id']}",
                 f"/ws/listings/detail?id={listing['id']}"):  # fmt: skip
        response = http.get(url(sandbox, path), timeout=5)
        assert response.status_code == 200, path
        assert response.json() == listing == sandbox.listing("MY-SKU-1")
    for path in ("/ws/listings/123", "/ws/listings/0b7c5a52-0000-4000-8000-000000000000",
                 "/ws/listings/detail?sku=unknown", "/ws/listings/My-Sku-1"):  # fmt: skip
        response = http.get(url(sandbox, path), timeout=5)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "NotFound" and response.json()["requestId"]
    assert http.get(url(sandbox, "/ws/listings/detail"), timeout=5).status_code == 400


def test_price_and_currency_are_those_of_the_accept_language_market(sandbox):
    listing = sandbox.add_listing(sku="MKT-1", quantity=3, markets={"fr-fr": "200.00", "en-gb": {"price": "172.00"}})
    path = f"/ws/listings/{listing['id']}"
    for market, expected in (("fr-fr", ("200.00", "EUR")), ("en-gb", ("172.00", "GBP")),
                             ("de-de", ("200.00", "EUR")), (None, ("200.00", "EUR"))):  # fmt: skip
        with session(market) as s:
            body = s.get(url(sandbox, path), timeout=5).json()
            assert (body["price"], body["currency"], body["quantity"]) == (*expected, 3), market
    with session("en-gb") as s:
        listed = s.get(url(sandbox, "/ws/listings"), params={"page-size": 50}, timeout=5).json()["results"]
        assert next(li for li in listed if li["sku"] == "MKT-1")["currency"] == "GBP"


# ------------------------------------------------------------------------------------------------ update
def test_partial_update_changes_only_what_is_sent(sandbox, http):
    markets = {"fr-fr": {"price": "150.00", "comment": "as new"}, "en-gb": "130.00"}
    listing = sandbox.add_listing(sku="UPD-1", quantity=2, markets=markets)
    response = http.post(url(sandbox, f"/ws/listings/{listing['id']}"), json={"quantity": "5", "price": "160.99",
                         "currency": "EUR", "min_price": "150.00", "warranty_delay": "24"}, timeout=5)  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["statuscode"] == 200
    assert (body["quantity"], body["price"], body["currency"], body["min_price"], body["warranty_delay"]) == (
        5, "160.99", "EUR", "150.00", 24)  # fmt: skip
    assert (body["comment"], body["sku"], body["title"], body["publication_state"]) == (
        "as new", "UPD-1", listing["title"], 2)  # fmt: skip
    assert {k: v for k, v in body.items() if k != "statuscode"} == sandbox.listing("UPD-1")
    assert sandbox.listing("UPD-1", "en-gb")["price"] == "130.00"  # other markets keep their price
    only = http.post(url(sandbox, f"/ws/listings/{listing['listing_id']}"), json={"comment": "mint"}, timeout=5)
    assert (only.json()["comment"], only.json()["price"], only.json()["quantity"]) == ("mint", "160.99", 5)
    cleared = http.post(url(sandbox, f"/ws/listings/{listing['id']}"), json={"min_price": None}, timeout=5)
    assert cleared.json()["min_price"] is None


def test_currency_must_match_the_market(sandbox):
    listing = sandbox.add_listing(sku="CUR-1", markets={"fr-fr": "100.00", "en-gb": "86.00"})
    path = f"/ws/listings/{listing['id']}"
    with session("en-gb") as gb:
        wrong = gb.post(url(sandbox, path), json={"price": "90.00", "currency": "EUR"}, timeout=5)
        assert wrong.status_code == 400 and isinstance(wrong.json(), str) and "GBP" in wrong.json()
        missing = gb.post(url(sandbox, path), json={"price": "90.00"}, timeout=5)  # EUR assumed: refused in en-gb
        assert missing.status_code == 400 and "currency" in missing.json()
        ok = gb.post(url(sandbox, path), json={"price": "90.00", "currency": "gbp"}, timeout=5)
        assert ok.status_code == 200 and (ok.json()["price"], ok.json()["currency"]) == ("90.00", "GBP")
    with session("fr-fr") as fr:
        assert fr.post(url(sandbox, path), json={"price": "99.00"}, timeout=5).json()["price"] == "99.00"
    with session("en-us") as us:  # a new market for this listing, USD assumed there
        added = us.post(url(sandbox, path), json={"price": "109.00"}, timeout=5).json()
        assert (added["price"], added["currency"]) == ("109.00", "USD")
    assert set(sandbox.listing("CUR-1", raw=True)["markets"]) == {"fr-fr", "en-gb", "en-us"}


@pytest.mark.parametrize(
    "body",
    [{"quantity": -1}, {"quantity": "two"}, {"price": "abc"}, {"price": "0"}, {"price": "-5"},
     {"warranty_delay": 6}, {"pub_state": 5}, {"comment": "x" * 501}, {"min_price": "cheap"}, {"sku": "OTHER"}],
)  # fmt: skip
def test_invalid_updates_are_400_bare_strings(sandbox, http, body):
    listing = sandbox.add_listing(sku="BAD-1", quantity=2, price="100.00")
    response = http.post(url(sandbox, f"/ws/listings/{listing['id']}"), json=body, timeout=5)
    assert response.status_code == 400 and isinstance(response.json(), str) and response.json()
    assert sandbox.listing("BAD-1") == listing  # nothing changed


def test_update_of_an_unknown_listing_is_404_and_patch_is_405(sandbox, http):
    listing = sandbox.add_listing(sku="M-1", quantity=1)
    missing = http.post(url(sandbox, "/ws/listings/0b7c5a52-0000-4000-8000-000000000000"), json={"quantity": 1},
                        timeout=5)  # fmt: skip
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NotFound"
    patch = http.patch(url(sandbox, f"/ws/listings/{listing['id']}"), json={"quantity": 3}, timeout=5)
    assert patch.status_code == 405
    assert http.put(url(sandbox, f"/ws/listings/{listing['id']}"), json={}, timeout=5).status_code == 405
    assert sandbox.listing("M-1")["quantity"] == 1


def test_publication_follows_stock_max_price_and_pub_state(sandbox, http):
    listing = sandbox.add_listing(sku="PUB-1", quantity=2, price="250.00", max_price=300)
    path = url(sandbox, f"/ws/listings/{listing['id']}")
    assert listing["publication_state"] == 2 and listing["max_price"] == 300
    assert http.post(path, json={"price": "350.00"}, timeout=5).json()["publication_state"] == 3  # above max_price
    assert http.post(path, json={"price": "299.00"}, timeout=5).json()["publication_state"] == 2
    assert http.post(path, json={"quantity": 0}, timeout=5).json()["publication_state"] == 3
    assert http.post(path, json={"quantity": 4}, timeout=5).json()["publication_state"] == 2
    assert http.post(path, json={"pub_state": 3}, timeout=5).json()["publication_state"] == 3
    assert http.post(path, json={"quantity": 6}, timeout=5).json()["publication_state"] == 3  # still taken offline
    assert http.post(path, json={"pub_state": "2"}, timeout=5).json()["publication_state"] == 2


# ------------------------------------------------------------------------------------------------ bulk CSV tasks
def test_csv_task_lifecycle_with_per_row_results():
    with make(listings=3, task_delay=0.8) as sb, session() as http:
        existing = sb.add_listing(sku="EXIST-1", quantity=1, price="100.00")
        iphone, galaxy = PRODUCTS[0], PRODUCTS[4]
        catalog = "\r\n".join([
            "sku,product_id,backmarket_id,quantity,warranty_delay,price,currency,grade,state",
            f"NEW-A,{product_uuid(iphone)},,3,12,312.00,EUR,VERY_GOOD,",
            f"NEW-B,,{galaxy.product_id},0,24,250.00,EUR,,2",
            "exist-1,,,7,,120.00,EUR,,",
            "NEW-C,0b7c5a52-0000-4000-8000-000000000000,,1,12,10.00,EUR,GOOD,",
            f"NEW-D,{product_uuid(iphone)},,1,12,10.00,EUR,SHINY,",
            f"NEW-E,{product_uuid(iphone)},,1,6,10.00,EUR,GOOD,",
            f"NEW-F,{product_uuid(iphone)},,1,12,,EUR,GOOD,",
            f"NEW-A,{product_uuid(iphone)},,9,12,300.00,EUR,GOOD,",
            "NEW-G,,999999,1,12,10.00,EUR,GOOD,",
            f"NEW-H,{product_uuid(iphone)},,1,12,10.00,USD,GOOD,",
        ])  # fmt: skip
        response = bulk(http, sb, catalog)
        assert response.status_code == 200
        task_id = response.json()["bodymessage"]
        assert isinstance(task_id, int) and response.json()["statuscode"] == 200
        statuses, body = wait_task(http, sb, task_id)
        assert statuses[0] == 0 and statuses[-1] == 9 and set(statuses) <= {0, 2, 9}, statuses
        assert (body["task_id"], body["last_action_error"], body["statuscode"]) == (task_id, None, 200)
        success, errors = body["result"]["product_success"], body["result"]["product_errors"]
        assert set(success) == {"NEW-A", "NEW-B", "exist-1"}
        assert set(errors) == {"NEW-C", "NEW-D", "NEW-E", "NEW-F", "NEW-A", "NEW-G", "NEW-H"}
        assert all(e["sku"] == key and e["error"] for key, e in errors.items())
        assert "not found" in errors["NEW-C"]["error"] and "SHINY" in errors["NEW-D"]["error"]
        assert "12" in errors["NEW-E"]["error"] and "price" in errors["NEW-F"]["error"]
        assert "Duplicate" in errors["NEW-A"]["error"] and "999999" in errors["NEW-G"]["error"]
        assert "USD" in errors["NEW-H"]["error"]
        new_a = http.get(url(sb, "/ws/listings/detail"), params={"sku": "NEW-A"}, timeout=5).json()
        assert success["NEW-A"] == {"sku": "NEW-A", "listing_id": new_a["listing_id"], "id": new_a["id"],
                                    "backmarket_id": iphone.product_id, "publication_state": 2}  # fmt: skip
        assert (new_a["quantity"], new_a["price"], new_a["grade"], new_a["state"]) == (3, "312.00", "VERY_GOOD", 1)
        assert new_a["product_id"] == product_uuid(iphone) and new_a["title"].startswith("iPhone 13")
        new_b = sb.listing("NEW-B")
        assert (new_b["grade"], new_b["publication_state"], new_b["warranty_delay"]) == ("GOOD", 3, 24)
        assert success["NEW-B"]["publication_state"] == 3
        updated = sb.listing(existing["id"])
        assert (updated["quantity"], updated["price"], updated["sku"]) == (7, "120.00", "EXIST-1")  # not duplicated
        assert len(sb.listings()) == 3 + 1 + 2
        assert sb.task(task_id) == body


def test_csv_with_other_delimiter_and_quotes():
    with make(task_delay=0) as sb, session("en-gb") as http:
        catalog = f'sku;product_id;quantity;warranty_delay;price;currency;grade;comment\n' \
                  f'Q-1;{product_uuid(PRODUCTS[1])};2;12;"699.00";GBP;FAIR;"Boxed; with charger"\n'  # fmt: skip
        task_id = bulk(http, sb, catalog, delimiter=";").json()["bodymessage"]
        _, body = wait_task(http, sb, task_id)
        assert set(body["result"]["product_success"]) == {"Q-1"}
        listing = http.get(url(sb, "/ws/listings/detail"), params={"sku": "Q-1"}, timeout=5).json()
        assert (listing["price"], listing["currency"], listing["comment"]) == ("699.00", "GBP", "Boxed; with charger")


def test_csv_without_a_sku_column_fails_the_task():
    with make(task_delay=0) as sb, session() as http:
        task_id = bulk(http, sb, "product_id,quantity\nabc,1\n").json()["bodymessage"]
        _, body = wait_task(http, sb, task_id)
        assert body["action_status"] == 8 and "sku" in body["last_action_error"] and body["result"] is None


def test_csv_request_errors_are_400_bare_strings():
    with make(write_lines_per_hour=100_000) as sb, session() as http:
        for payload in ({}, {"catalog": ""}, {"quotechar": '"'}):
            response = http.post(url(sb, "/ws/listings"), json=payload, timeout=5)
            assert (response.status_code, response.json()) == (400, "parameter catalog not found")
        header = "sku,product_id,quantity,warranty_delay,price,currency,grade\n"
        too_long = bulk(http, sb, header + "X,,1,12,1.00,EUR,GOOD\n" * 15_001)
        assert too_long.status_code == 400 and "15000" in too_long.json()
        assert bulk(http, sb, header + "X,,1,12,1.00,EUR,GOOD\n" * 15_000).status_code == 200
        assert bulk(http, sb, header, delimiter=";;").status_code == 400
        assert bulk(http, sb, header, encoding="klingon").status_code == 400
        assert len(sb.tasks()) == 1


def test_unknown_task_is_404(sandbox, http):
    for task_id in ("123", "abc"):
        response = http.get(url(sandbox, f"/ws/tasks/{task_id}"), timeout=5)
        assert response.status_code == 404 and response.json()["error"]["code"] == "NotFound"
    with pytest.raises(KeyError):
        sandbox.task(123)


# ------------------------------------------------------------------------------------------------ Backbox
def test_competitors_take_the_uuid_only(sandbox, http):
    listing = sandbox.add_listing(sku="BB-1", quantity=2, markets={"fr-fr": "249.00", "en-gb": "215.00"})
    response = http.get(url(sandbox, f"/ws/backbox/v1/competitors/{listing['id']}"), timeout=5)
    assert response.status_code == 200
    items = response.json()
    assert [(i["market"], i["is_winning"]) for i in items] == [("FR", True), ("GB", True)]  # alone: winning
    fr = items[0]
    assert (fr["listing_id"], fr["product_id"]) == (listing["id"], listing["product_id"])
    assert fr["price"] == fr["price_to_win"] == fr["winner_price"] == {"amount": "249.00", "currency": "EUR"}
    assert fr["min_price"] is None and items[1]["price"] == {"amount": "215.00", "currency": "GBP"}
    for key in (listing["listing_id"], "0b7c5a52-0000-4000-8000-000000000000", "BB-1"):
        missing = http.get(url(sandbox, f"/ws/backbox/v1/competitors/{key}"), timeout=5)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "NotFound", key


def test_set_competitors_and_follow_our_price(sandbox, http):
    listing = sandbox.add_listing(sku="BB-2", quantity=2, price="249.00", min_price="230.00")
    sandbox.set_competitors("BB-2", [{"market": "FR", "is_winning": False, "price_to_win": "239.00",
                                      "winner_price": "240.00"}])  # fmt: skip
    path = url(sandbox, f"/ws/backbox/v1/competitors/{listing['id']}")
    (item,) = http.get(path, timeout=5).json()
    assert item["is_winning"] is False and item["market"] == "FR"
    assert (item["price"]["amount"], item["min_price"]["amount"]) == ("249.00", "230.00")
    assert (item["price_to_win"]["amount"], item["winner_price"]["amount"]) == ("239.00", "240.00")
    assert http.get(path, timeout=5).json() == [item]  # moves are off: stable
    http.post(url(sandbox, f"/ws/listings/{listing['id']}"), json={"price": "239.00"}, timeout=5)
    (item,) = http.get(path, timeout=5).json()
    assert item["is_winning"] is True and item["winner_price"]["amount"] == "239.00"
    assert item["price_to_win"]["amount"] == "239.99"  # just under the rival's 240.00
    sandbox.set_competitors("BB-2", [])
    assert http.get(path, timeout=5).json()[0]["price_to_win"]["amount"] == "239.00"  # alone again


def test_competitor_prices_move_when_enabled():
    def walk(seed):
        with make(seed=seed, competitor_moves=True) as sb, session() as http:
            listing = sb.add_listing(sku="MOVE-1", quantity=2, price="500.00")
            sb.set_competitors("MOVE-1", [{"market": "fr-fr", "is_winning": False, "winner_price": "480.00"}])
            seen = []
            for _ in range(6):
                (item,) = http.get(url(sb, f"/ws/backbox/v1/competitors/{listing['id']}"), timeout=5).json()
                seen.append((item["price_to_win"]["amount"], item["is_winning"]))
                time.sleep(0.5)  # two requests a second at most
            return seen

    first = walk(3)
    assert len({amount for amount, _ in first}) > 3  # a random walk
    assert all(Decimal("400") < Decimal(amount) < Decimal("560") for amount, _ in first)
    assert walk(3) == first  # seeded


# ------------------------------------------------------------------------------------------------ limits
def test_catalog_limit_blocks_listing_and_task_requests():
    with BackMarketSandbox(token=TOKEN, orders=2, catalog_limit=3, catalog_block=0.5, retry_after=True) as sb, \
            session() as http:  # fmt: skip
        codes = [http.get(url(sb, path), timeout=5).status_code
                 for path in ("/ws/listings", "/ws/tasks/1", "/ws/listings", "/ws/listings")]  # fmt: skip
        assert codes == [200, 404, 200, 429]
        limited = http.get(url(sb, "/ws/listings"), timeout=5)
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "RateLimited"
        assert "catalog" in limited.json()["error"]["message"] and limited.headers["Retry-After"] == "1"
        assert http.get(url(sb, "/ws/orders"), timeout=5).status_code == 200  # not a catalog endpoint
        sb.add_token("other")
        with session(token="other") as other:
            assert other.get(url(sb, "/ws/listings"), timeout=5).status_code == 200  # per token
        time.sleep(0.6)
        assert http.get(url(sb, "/ws/listings"), timeout=5).status_code == 200


def test_default_catalog_limit_is_20_requests_in_10_seconds():
    with BackMarketSandbox(token=TOKEN, orders=0) as sb, session() as http:
        codes = [http.get(url(sb, "/ws/listings"), timeout=5).status_code for _ in range(21)]
        assert codes == [200] * 20 + [429]


def test_backbox_limit_is_per_second():
    with make(backbox_limit=2, backbox_window=0.4) as sb, session() as http:
        listing = sb.add_listing(sku="BB-L", quantity=1)
        path = url(sb, f"/ws/backbox/v1/competitors/{listing['id']}")
        codes = [http.get(path, timeout=5).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert http.get(url(sb, "/ws/listings"), timeout=5).status_code == 200
        time.sleep(0.45)
        assert http.get(path, timeout=5).status_code == 200


def test_listing_writes_are_capped_in_sku_lines_per_hour():
    with make(write_lines_per_hour=5) as sb, session() as http:
        listing = sb.add_listing(sku="W-1", quantity=1)
        path = url(sb, f"/ws/listings/{listing['id']}")
        header = "sku,quantity\n"
        assert bulk(http, sb, header + "W-1,2\nW-2,1\n\nW-3,1\n").status_code == 200  # 3 data lines
        assert [http.post(path, json={"quantity": n}, timeout=5).status_code for n in (4, 5, 6)] == [200, 200, 429]
        assert http.post(path, json={"quantity": -1}, timeout=5).status_code == 429
        assert bulk(http, sb, header + "W-1,9\n").status_code == 429
        limited = bulk(http, sb, header + "W-1,9\n").json()
        assert limited["error"]["code"] == "RateLimited" and "SKU lines" in limited["error"]["message"]
        assert http.get(path, timeout=5).json()["quantity"] == 5  # reads are not writes
    with make(write_lines_per_hour=2, write_window=0.3) as sb, session() as http:
        listing = sb.add_listing(sku="W-1", quantity=1)
        path = url(sb, f"/ws/listings/{listing['id']}")
        assert [http.post(path, json={"quantity": 1}, timeout=5).status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(0.35)
        assert http.post(path, json={"quantity": 1}, timeout=5).status_code == 200  # a sliding window


def test_the_overall_limit_counts_listing_requests_too():
    with BackMarketSandbox(token=TOKEN, orders=0, rate_limit=4) as sb, session() as http:
        codes = [http.get(url(sb, p), timeout=5).status_code for p in ["/ws/listings", "/ws/orders"] * 3]
        assert codes == [200, 200, 200, 200, 429, 429]


# ------------------------------------------------------------------------------------------------ sales
def test_sales_take_stock_off_the_listing(sandbox, http):
    listing = sandbox.add_listing(sku="SOLD-1", quantity=3, markets={"fr-fr": "100.00", "en-gb": "86.00"})
    order = sandbox.add_order(lines=[{"listing": "sold-1", "quantity": 2}], market="en-gb")
    line = order["orderlines"][0]
    assert (line["listing"], line["listing_id"], line["product"]) == ("SOLD-1", listing["listing_id"],
                                                                       listing["title"])  # fmt: skip
    assert (line["price"], line["currency"], line["product_id"]) == ("172.00", "GBP", listing["backmarket_id"])
    assert order["price"] == "172.00"
    assert http.get(url(sandbox, f"/ws/listings/{listing['id']}"), timeout=5).json()["quantity"] == 1
    sandbox.add_order(state=8, lines=[{"listing": "SOLD-1"}])  # not paid: no sale
    assert sandbox.listing("SOLD-1")["quantity"] == 1
    cheap = sandbox.add_order(lines=[{"listing": "SOLD-1", "quantity": 2, "price": "1.00"}])
    after = sandbox.listing("SOLD-1")
    assert (after["quantity"], after["publication_state"]) == (0, 3)  # never below 0; offline
    assert cheap["orderlines"][0]["price"] == "1.00"  # a given price stays


def test_generated_orders_sell_listings_with_stock():
    with make(listings=12) as fresh, make(listings=12, orders=25) as sb:
        before = {li["sku"]: li["quantity"] for li in fresh.listings()}
        after = {li["sku"]: li["quantity"] for li in sb.listings()}
        sold = dict.fromkeys(before, 0)
        lines = [(o, li) for o in sb.orders() for li in o["orderlines"]]
        assert lines and all(li["listing"] in before for _, li in lines)  # stock to spare: every line is listed
        for order, line in lines:
            assert line["listing_id"] == sb.listing(line["listing"])["listing_id"]
            if order["state"] != 8:
                sold[line["listing"]] += line["quantity"]
        assert all(after[sku] == max(0, before[sku] - sold[sku]) for sku in before)
        assert any(sold.values()) and all(n <= before[sku] for sku, n in sold.items())
        offline = {sku for sku, li in before.items() if li == 0}
        assert not offline & {li["listing"] for _, li in lines}  # nothing sold from an offline listing
    with make(listings=0, seed=3, orders=30) as plain:
        assert not plain.listings()  # no listings: orders as before (test_sandbox checks their shape)


# ------------------------------------------------------------------------------------------------ faults
def test_injected_faults_apply_to_listing_endpoints(sandbox, http):
    listing = sandbox.listings()[0]
    sandbox.inject(status_500=1, status_429=1, cloudflare_403=1)
    codes = [http.get(url(sandbox, p), timeout=5).status_code
             for p in ("/ws/listings", f"/ws/listings/{listing['id']}",
                       f"/ws/backbox/v1/competitors/{listing['id']}", "/ws/tasks/1")]  # fmt: skip
    assert codes == [403, 429, 500, 404]
    assert [r.faults for r in sandbox.requests[-4:]] == [["cloudflare_403"], ["status_429"], ["status_500"], []]


def test_injected_timeout_holds_a_listing_update_then_applies_it(sandbox, http):
    listing = sandbox.add_listing(sku="SLOW-1", quantity=1)
    sandbox.inject(timeout=1, timeout_seconds=0.5)
    with pytest.raises(requests.ReadTimeout):
        http.post(url(sandbox, f"/ws/listings/{listing['id']}"), json={"quantity": 9}, timeout=0.2)
    deadline = time.monotonic() + 5
    while sandbox.listing("SLOW-1")["quantity"] != 9 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.listing("SLOW-1")["quantity"] == 9


# ------------------------------------------------------------------------------------------------ control API
def test_control_api_for_listings_competitors_and_tasks(sandbox, http):
    control = requests.Session()
    raw = control.get(url(sandbox, "/_sandbox/listings"), timeout=5).json()
    assert len(raw) == 23 and set(raw[0]) >= {"markets", "offline_by_seller", "competitors"}
    assert {k: v for k, v in raw[0].items() if k not in ("markets", "offline_by_seller", "competitors")} == \
        sandbox.listings()[0]  # fmt: skip
    created = control.post(url(sandbox, "/_sandbox/listings"), json={"listing": {
        "sku": "CTL-1", "quantity": 2, "markets": {"fr-fr": "300.00", "de-de": "301.00"}}}, timeout=5)  # fmt: skip
    assert created.status_code == 201
    uuid_ = created.json()["created"][0]
    assert created.json()["listings"][0]["markets"]["de-de"]["price"] == "301.00"
    generated = control.post(url(sandbox, "/_sandbox/listings"), json={"count": 2}, timeout=5).json()
    assert len(generated["created"]) == 2 and len(sandbox.listings()) == 26
    duplicate = control.post(url(sandbox, "/_sandbox/listings"), json={"listing": {"sku": "ctl-1"}}, timeout=5)
    assert duplicate.status_code == 400

    one = control.get(url(sandbox, "/_sandbox/listings/ctl-1"), timeout=5).json()
    assert one["id"] == uuid_ and one["quantity"] == 2
    changed = control.post(url(sandbox, f"/_sandbox/listings/{uuid_}"),
                           json={"quantity": 0, "market": "de-de", "price": "280.00", "max_price": 500},
                           timeout=5).json()  # fmt: skip
    assert changed["quantity"] == 0 and changed["publication_state"] == 3
    assert changed["markets"]["de-de"] == {"price": "280.00", "currency": "EUR", "min_price": None,
                                           "max_price": 500, "comment": ""}  # fmt: skip
    with session("de-de") as de:
        assert de.get(url(sandbox, f"/ws/listings/{uuid_}"), timeout=5).json()["price"] == "280.00"
    assert control.get(url(sandbox, "/_sandbox/listings/NOPE"), timeout=5).status_code == 404
    unknown_field = control.post(url(sandbox, f"/_sandbox/listings/{uuid_}"), json={"colour": "red"}, timeout=5)
    assert unknown_field.status_code == 400

    rival = {"market": "FR", "is_winning": False, "price_to_win": "289.00", "winner_price": "290.00"}
    set_ = control.post(url(sandbox, f"/_sandbox/competitors/{uuid_}"), json={"competitors": [rival]}, timeout=5)
    assert set_.status_code == 200 and set_.json()[0]["winner_price"] == {"amount": "290.00", "currency": "EUR"}
    assert http.get(url(sandbox, f"/ws/backbox/v1/competitors/{uuid_}"), timeout=5).json() == set_.json()
    assert control.get(url(sandbox, f"/_sandbox/competitors/{uuid_}"), timeout=5).json() == set_.json()
    assert control.post(url(sandbox, "/_sandbox/competitors"), json={"moves": True}, timeout=5).json() == {
        "competitor_moves": True}  # fmt: skip
    assert sandbox.competitor_moves is True

    task_id = bulk(http, sandbox, "sku,quantity\nCTL-1,4\n").json()["bodymessage"]
    wait_task(http, sandbox, task_id)
    tasks = control.get(url(sandbox, "/_sandbox/tasks"), timeout=5).json()
    assert [(t["task_id"], t["action_status"], t["lines"], t["market"]) for t in tasks] == [(task_id, 9, 1, "fr-fr")]
    summary = control.get(url(sandbox, "/_sandbox"), timeout=5).json()
    assert (summary["listings"], summary["tasks"], summary["tasks_by_action_status"]) == (26, 1, {"9": 1})
    assert sum(summary["listings_by_publication_state"].values()) == 26
    assert summary["limits"]["catalog_limit"] == 10_000
    assert any("/_sandbox/listings" in line for line in summary["endpoints"])
    offers = control.get(url(sandbox, "/_sandbox/offers"), timeout=5).json()
    listed = {li["sku"].lower() for li in sandbox.listings()}
    assert offers and all(o["listed"] == (o["sku"].lower() in listed) for o in offers)
    assert any(not o["listed"] for o in offers)


# ------------------------------------------------------------------------------------------------ the command
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_sandbox_command_serves_listings():
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shipping.settings.test", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "manage.py", "run_sandbox", "backmarket", "--port", str(port), "--orders", "5",
               "--listings", "4", "--task-delay", "0", "--token", "cli-token"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(60, proc.kill)
    killer.start()
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line, line + (proc.stderr.read() if proc.poll() is not None else "")
        with session(token="cli-token") as http:
            assert http.get(f"http://127.0.0.1:{port}/ws/listings", timeout=5).json()["count"] == 4
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
    wrong = subprocess.run([sys.executable, "manage.py", "run_sandbox", "listingmirror", "--listings", "3"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert wrong.returncode != 0 and "--listings" in wrong.stderr
